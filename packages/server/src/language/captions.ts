/**
 * Speech-to-text providers for live captions (`captions.provider`), and the service in front.
 *
 * - `openai-compatible`: `POST <url>/v1/audio/transcriptions` as multipart form data (`file`,
 *   `model`, `language`, `response_format=json`) → `{text}` — OpenAI's API, also served by
 *   faster-whisper-server / speaches, whisper.cpp's server and LocalAI (MiroTalk's setup).
 * - `vosk`: the WebSocket protocol of alphacep/vosk-server (`websocket/asr_server.py`, what
 *   Jigasi uses): a text frame `{"config": {"sample_rate": N}}`, binary frames of 16-bit mono
 *   PCM each answered by `{"partial": "…"}` or `{"result": […], "text": "…"}`, then
 *   `{"eof": 1}` answered by the final `{"text": "…"}`. No Vosk server installs from Debian or
 *   npm here: this adapter is tested against a fake that speaks the protocol (docs/language.md).
 *
 * The service checks, before any byte leaves: size cap → per-peer rate limit → a 16-bit PCM
 * WAV (`audio-refused` otherwise) → not silent (the call page's VAD sends nothing silent; a
 * segment below −60 dBFS is refused here too) → the provider, within `captions.timeoutMs`.
 */
import WebSocket from 'ws';
import { TfxError } from '@tfx/protocol';
import { RateLimiter, type Now } from './limits.js';
import { ProviderFailure, fetchJson, joinUrl, providerMessage, rec } from './http.js';
import { levelDbfs, monoPcm, parseWav, type Wav } from './wav.js';

export class AudioRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudioRefused';
  }
}

export interface CaptionProvider {
  readonly name: 'openai-compatible' | 'vosk';
  /** The words heard in `wav` (the raw file in `bytes`), '' for none. */
  transcribe(bytes: Uint8Array, wav: Wav, lang: string | undefined): Promise<string>;
}

export interface CaptionProviderOptions {
  readonly url: string;
  readonly apiKey?: string | undefined;
  readonly model: string;
  readonly timeoutMs: number;
}

export function openAiCompatibleProvider(o: CaptionProviderOptions): CaptionProvider {
  return {
    name: 'openai-compatible',
    async transcribe(bytes, _wav, lang) {
      const form = new FormData();
      form.append('file', new Blob([Uint8Array.from(bytes)], { type: 'audio/wav' }), 'segment.wav');
      form.append('model', o.model);
      form.append('response_format', 'json');
      if (lang) form.append('language', lang.split('-', 1)[0] ?? lang);
      const { status, body } = await fetchJson(
        joinUrl(o.url, 'v1/audio/transcriptions'),
        {
          method: 'POST',
          headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {},
          body: form,
        },
        o.timeoutMs,
      );
      // OpenAI answers 400 invalid_request_error for a file it cannot decode or one too short.
      if (status === 400 || status === 415)
        throw new AudioRefused(providerMessage(body) ?? `HTTP ${status}`);
      const text = rec(body)?.text;
      if (status !== 200 || typeof text !== 'string')
        throw new ProviderFailure(
          status === 200 ? 'transcription answer without text' : `transcription: HTTP ${status}`,
          status,
          providerMessage(body),
        );
      return text.trim();
    },
  };
}

/** Bytes per binary frame sent to Vosk (vosk-server's own test client sends 8000). */
const VOSK_CHUNK = 8000;

export function voskProvider(o: CaptionProviderOptions): CaptionProvider {
  return {
    name: 'vosk',
    transcribe(_bytes, wav) {
      const pcm = monoPcm(wav);
      return new Promise<string>((resolve, reject) => {
        const texts: string[] = [];
        let sent = 0;
        let eofSent = false;
        let settled = false;
        const ws = new WebSocket(o.url, { handshakeTimeout: o.timeoutMs, maxPayload: 1 << 20 });
        const done = (err: Error | null, text?: string) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          ws.removeAllListeners('message');
          ws.on('error', () => undefined);
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
            ws.terminate();
          if (err) reject(err);
          else resolve(text ?? '');
        };
        const timer = setTimeout(
          () => done(new ProviderFailure(`no final result within ${o.timeoutMs} ms`)),
          o.timeoutMs,
        );
        const next = () => {
          if (sent < pcm.length) {
            ws.send(pcm.subarray(sent, sent + VOSK_CHUNK));
            sent += VOSK_CHUNK;
          } else if (!eofSent) {
            eofSent = true;
            ws.send('{"eof" : 1}');
          }
        };
        ws.on('open', () => {
          ws.send(JSON.stringify({ config: { sample_rate: wav.sampleRate } }));
          next();
        });
        ws.on('message', (data, isBinary) => {
          if (isBinary) return done(new ProviderFailure('vosk: binary answer'));
          let msg: Record<string, unknown> | null;
          try {
            msg = rec(JSON.parse(String(data)));
          } catch {
            return done(
              new ProviderFailure(`vosk: answer is not JSON: ${String(data).slice(0, 80)}`),
            );
          }
          if (!msg) return done(new ProviderFailure('vosk: answer is not an object'));
          if (typeof msg.text === 'string') {
            if (msg.text.trim()) texts.push(msg.text.trim());
            if (eofSent) return done(null, texts.join(' '));
          } else if (typeof msg.partial !== 'string') {
            return done(new ProviderFailure('vosk: answer has neither text nor partial'));
          }
          next();
        });
        ws.on('error', (err) => done(new ProviderFailure(`vosk: ${err.message}`)));
        ws.on('close', (code) => {
          if (!settled)
            done(
              new ProviderFailure(`vosk closed the connection (${code}) before the final result`),
            );
        });
      });
    },
  };
}

export type CaptionOutcome = 'ok' | 'empty' | 'refused' | 'failed' | 'limited' | 'too-large';

export interface CaptionServiceOptions {
  readonly provider: CaptionProvider | null;
  readonly maxSegmentBytes: number;
  readonly perPeerPerMinute: number;
  readonly now: Now;
  /** Segments quieter than this are refused without reaching the provider. Default −60 dBFS. */
  readonly silenceDbfs?: number;
  readonly onOutcome?: (outcome: CaptionOutcome) => void;
}

export class CaptionService {
  private readonly limiter: RateLimiter;

  constructor(private readonly o: CaptionServiceOptions) {
    this.limiter = new RateLimiter(o.perPeerPerMinute, o.now);
  }

  get enabled(): boolean {
    return this.o.provider !== null;
  }

  async transcribe(peerKey: string, bytes: Uint8Array, lang: string | undefined): Promise<string> {
    const p = this.o.provider;
    if (!p) throw new TfxError('language-off', 'captions are not configured on this server');
    if (bytes.byteLength > this.o.maxSegmentBytes) {
      this.o.onOutcome?.('too-large');
      throw new TfxError(
        'payload-too-large',
        `audio segment larger than ${this.o.maxSegmentBytes} bytes`,
      );
    }
    if (!this.limiter.take(peerKey)) {
      this.o.onOutcome?.('limited');
      throw new TfxError('rate-limited', 'too many audio segments from this peer', {
        retryAfterMs: this.limiter.retryAfterMs(peerKey),
      });
    }
    const parsed = parseWav(bytes);
    if (!parsed.ok) {
      this.o.onOutcome?.('refused');
      throw new TfxError('audio-refused', `audio segment refused: ${parsed.error}`);
    }
    if (levelDbfs(parsed.wav.samples) < (this.o.silenceDbfs ?? -60)) {
      this.o.onOutcome?.('refused');
      throw new TfxError('audio-refused', 'audio segment refused: silent');
    }
    try {
      const text = await p.transcribe(bytes, parsed.wav, lang);
      this.o.onOutcome?.(text ? 'ok' : 'empty');
      return text;
    } catch (err) {
      if (err instanceof AudioRefused) {
        this.o.onOutcome?.('refused');
        throw new TfxError('audio-refused', `${p.name} refused the segment: ${err.message}`);
      }
      this.o.onOutcome?.('failed');
      throw new TfxError('captions-unavailable', `${p.name}: ${(err as Error).message}`, {
        provider: p.name,
      });
    }
  }
}
