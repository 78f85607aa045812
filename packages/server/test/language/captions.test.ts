/** The captions service and both providers against fakes that speak their protocols on loopback. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import {
  AudioRefused,
  CaptionService,
  openAiCompatibleProvider,
  voskProvider,
  type CaptionProvider,
} from '../../src/language/captions.js';
import { encodeWav, parseWav } from '../../src/language/wav.js';
import {
  startFakeOpenAiStt,
  startFakeVosk,
  type FakeOpenAiStt,
  type FakeVosk,
} from './fake-stt.js';

const speechLike = (ms: number, rate = 16_000) =>
  encodeWav(
    Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) =>
      Math.round((6000 * Math.sin((2 * Math.PI * 220 * i) / rate) * (1 + Math.sin(i / 400))) / 2),
    ),
    rate,
  );
const silence = (ms: number) => encodeWav(new Int16Array((16 * ms) | 0), 16_000);

let openai: FakeOpenAiStt;
let vosk: FakeVosk;
beforeAll(async () => {
  openai = await startFakeOpenAiStt('hello world');
  vosk = await startFakeVosk('hello world');
});
afterAll(async () => {
  await openai.close();
  await vosk.close();
});
beforeEach(() => {
  openai.mode = 'ok';
  vosk.mode = 'ok';
  openai.uploads.length = 0;
  vosk.sessions.length = 0;
});

function service(provider: CaptionProvider, perPeerPerMinute = 10) {
  const outcomes: string[] = [];
  const s = new CaptionService({
    provider,
    maxSegmentBytes: 200_000,
    perPeerPerMinute,
    now: () => 0,
    onOutcome: (o) => outcomes.push(o),
  });
  return { s, outcomes };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(TfxError);
    return (err as TfxError).code;
  }
}

const oa = (timeoutMs = 2000) =>
  openAiCompatibleProvider({ url: openai.url, model: 'whisper-1', timeoutMs, apiKey: 'k' });
const vk = (timeoutMs = 2000) => voskProvider({ url: vosk.url, model: 'x', timeoutMs });

describe('captions: openai-compatible', () => {
  it('sends the WAV as multipart with model and language, and returns the trimmed text', async () => {
    const { s } = service(oa());
    expect(await s.transcribe('r/p', speechLike(1000), 'en-US')).toBe('hello world');
    expect(openai.uploads).toHaveLength(1);
    expect(openai.uploads[0]).toMatchObject({ model: 'whisper-1', language: 'en', status: 200 });
  });

  it('silence, a non-WAV, 8-bit and oversize segments are refused before anything is uploaded', async () => {
    const { s, outcomes } = service(oa());
    expect(await code(s.transcribe('r/p', silence(1000), 'en'))).toBe('audio-refused');
    expect(
      await code(
        s.transcribe('r/p', Buffer.from('OggS....not audio at all......................'), 'en'),
      ),
    ).toBe('audio-refused');
    const eight = speechLike(500);
    eight.writeUInt16LE(8, 34);
    expect(await code(s.transcribe('r/p', eight, 'en'))).toBe('audio-refused');
    expect(await code(s.transcribe('r/p', speechLike(7000), 'en'))).toBe('payload-too-large');
    expect(openai.uploads).toHaveLength(0);
    expect(outcomes).toEqual(['refused', 'refused', 'refused', 'too-large']);
  });

  it("the provider's own refusal (too short) is audio-refused with its message", async () => {
    const { s } = service(oa());
    const err = await s.transcribe('r/p', speechLike(50), 'en').catch((e: TfxError) => e);
    expect((err as TfxError).code).toBe('audio-refused');
    expect((err as TfxError).message).toMatch(/too short/);
    expect(openai.uploads.map((u) => u.status)).toEqual([400]);
  });

  it('the fake refuses silence and undecodable audio like a real server (400 invalid_request_error)', async () => {
    const provider = oa();
    const quiet = silence(1000);
    const parsed = parseWav(quiet);
    if (!parsed.ok) throw new Error('bad fixture');
    await expect(provider.transcribe(quiet, parsed.wav, 'en')).rejects.toBeInstanceOf(AudioRefused);
    await expect(
      provider.transcribe(
        Buffer.from('ID3 an mp3, not a wav file at all...........'),
        parsed.wav,
        'en',
      ),
    ).rejects.toThrow(/Invalid file format/);
    expect(openai.uploads.map((u) => u.status)).toEqual([400, 400]);
  });

  it.each(['hang', 'garbage', 'error500'] as const)(
    'a provider that %s: captions-unavailable',
    async (mode) => {
      openai.mode = mode;
      const { s } = service(oa(400));
      expect(await code(s.transcribe('r/p', speechLike(500), 'en'))).toBe('captions-unavailable');
    },
  );

  it('rate-limits segments per peer', async () => {
    const { s } = service(oa(), 2);
    expect(await code(s.transcribe('r/p', speechLike(300), 'en'))).toBe('ok');
    expect(await code(s.transcribe('r/p', speechLike(300), 'en'))).toBe('ok');
    expect(await code(s.transcribe('r/p', speechLike(300), 'en'))).toBe('rate-limited');
    expect(await code(s.transcribe('r/q', speechLike(300), 'en'))).toBe('ok');
  });
});

describe('captions: vosk (a fake speaking the vosk-server WebSocket protocol)', () => {
  it('sends the config with the sample rate, every PCM byte in frames, eof, and returns the final text', async () => {
    const { s } = service(vk());
    const wav = speechLike(1000, 8000);
    expect(await s.transcribe('r/p', wav, 'en')).toBe('hello world');
    expect(vosk.sessions).toEqual([{ sampleRate: 8000, pcmBytes: wav.byteLength - 44, eof: true }]);
  });

  it.each([
    ['never sends the final result', 'no-final' as const],
    ['answers garbage', 'garbage' as const],
    ['closes before the final result', 'close-early' as const],
  ])('a server that %s: captions-unavailable', async (_n, mode) => {
    vosk.mode = mode;
    const { s } = service(vk(500));
    expect(await code(s.transcribe('r/p', speechLike(500), 'en'))).toBe('captions-unavailable');
  });

  it('an unreachable server: captions-unavailable', async () => {
    const { s } = service(voskProvider({ url: 'ws://127.0.0.1:1', model: 'x', timeoutMs: 500 }));
    expect(await code(s.transcribe('r/p', speechLike(500), 'en'))).toBe('captions-unavailable');
  });
});
