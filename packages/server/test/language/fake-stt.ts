/**
 * Fake speech-to-text servers on loopback for tests, speaking the real protocols:
 *
 * - OpenAI-compatible `POST /v1/audio/transcriptions` (multipart: file, model, language,
 *   response_format) → `{text}`. Like a real one it refuses what it cannot decode (400
 *   `invalid_request_error`: not WAV, not 16-bit PCM, shorter than 0.1 s) and — like servers
 *   with a VAD filter (faster-whisper `vad_filter`) — audio without speech. It records every
 *   upload (time, bytes, level) so a test can prove nothing was sent while a speaker was muted.
 * - Vosk (alphacep/vosk-server `asr_server.py`): config frame, binary PCM frames each answered
 *   with `partial`, `{"eof": 1}` answered with the final `{"text"}`.
 *
 * Both answer `transcript` for any audio they accept; switches make them misbehave.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { levelDbfs, parseWav } from '../../src/language/wav.js';

export interface Upload {
  readonly at: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly dbfs: number;
  readonly model: string;
  readonly language: string | undefined;
  readonly status: number;
}

export type SttMode = 'ok' | 'hang' | 'garbage' | 'error500';

export interface FakeOpenAiStt {
  readonly url: string;
  transcript: string;
  mode: SttMode;
  readonly uploads: Upload[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const invalid = (message: string) => ({
  error: { message, type: 'invalid_request_error', param: 'file', code: null },
});

/** The parts of a multipart/form-data body (enough for what fetch's FormData sends). */
export function parseMultipart(body: Buffer, contentType: string): Map<string, Buffer> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const out = new Map<string, Buffer>();
  if (!m) return out;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  let at = body.indexOf(boundary);
  while (at >= 0) {
    const start = at + boundary.length + 2; // CRLF
    const next = body.indexOf(boundary, start);
    if (next < 0) break;
    const part = body.subarray(start, next - 2);
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const head = part.subarray(0, headEnd).toString('utf8');
      const name = /name="([^"]+)"/.exec(head)?.[1];
      if (name) out.set(name, part.subarray(headEnd + 4));
    }
    at = next;
  }
  return out;
}

export async function startFakeOpenAiStt(transcript = 'hello world'): Promise<FakeOpenAiStt> {
  const hanging = new Set<ServerResponse>();
  const state: FakeOpenAiStt = {
    url: '',
    transcript,
    mode: 'ok',
    uploads: [],
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions')
        return send(res, 404, { error: { message: 'Not Found' } });
      const parts = parseMultipart(body, req.headers['content-type'] ?? '');
      const file = parts.get('file');
      const model = parts.get('model')?.toString('utf8') ?? '';
      const language = parts.get('language')?.toString('utf8');
      const record = (status: number, durationMs = 0, dbfs = -Infinity) =>
        state.uploads.push({
          at: Date.now(),
          bytes: file?.byteLength ?? 0,
          durationMs,
          dbfs,
          model,
          language,
          status,
        });
      if (!file || !model) {
        record(400);
        return send(res, 400, invalid("you must provide a 'file' and a 'model'"));
      }
      const wav = parseWav(file);
      if (!wav.ok) {
        record(400);
        return send(res, 400, invalid(`Invalid file format. ${wav.error}`));
      }
      const dbfs = levelDbfs(wav.wav.samples);
      if (wav.wav.durationMs < 100) {
        record(400, wav.wav.durationMs, dbfs);
        return send(
          res,
          400,
          invalid('Audio file is too short. Minimum audio length is 0.1 seconds.'),
        );
      }
      if (dbfs < -50) {
        record(400, wav.wav.durationMs, dbfs);
        return send(res, 400, invalid('No speech detected in the audio.'));
      }
      record(state.mode === 'ok' ? 200 : 500, wav.wav.durationMs, dbfs);
      if (state.mode === 'hang') return void hanging.add(res);
      if (state.mode === 'error500') return send(res, 500, { error: { message: 'model crashed' } });
      if (state.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"te');
      }
      send(res, 200, { text: ` ${state.transcript}` });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
}

export type VoskMode = 'ok' | 'no-final' | 'garbage' | 'close-early';

export interface FakeVosk {
  readonly url: string;
  transcript: string;
  mode: VoskMode;
  /** Per connection: the config it got and the PCM bytes it got. */
  readonly sessions: { sampleRate?: number; pcmBytes: number; eof: boolean }[];
  close(): Promise<void>;
}

export async function startFakeVosk(transcript = 'hello world'): Promise<FakeVosk> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const state: FakeVosk = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    transcript,
    mode: 'ok',
    sessions: [],
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
  wss.on('connection', (ws) => {
    const s: FakeVosk['sessions'][number] = { pcmBytes: 0, eof: false };
    state.sessions.push(s);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        s.pcmBytes += (data as Buffer).byteLength;
        if (state.mode === 'garbage') return ws.send('not json');
        if (state.mode === 'close-early') return ws.close(1011, 'recognizer error');
        // asr_server.py: AcceptWaveform → result (a pause) or partial.
        return ws.send(JSON.stringify({ partial: state.transcript.split(' ')[0] ?? '' }));
      }
      const msg = JSON.parse(String(data)) as { config?: { sample_rate?: number }; eof?: number };
      if (msg.config) {
        s.sampleRate = msg.config.sample_rate;
        return; // asr_server.py answers nothing to a config frame
      }
      if (msg.eof) {
        s.eof = true;
        if (state.mode === 'no-final') return;
        ws.send(
          JSON.stringify({
            result: state.transcript
              .split(' ')
              .map((word, i) => ({ conf: 1, start: i, end: i + 1, word })),
            text: state.transcript,
          }),
        );
        ws.close();
      }
    });
  });
  return state;
}
