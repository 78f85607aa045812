/**
 * Frame-by-frame transcoding between Opus (48 kHz RTP clock) and G.711 PCMU/PCMA (8 kHz), the
 * gateway's browser ↔ phone media path: RTP payloads in sequence order → jitter/reorder buffer →
 * decode (or conceal a lost frame) → resample → 20 ms frames → encode. Pure apart from the wasm
 * Opus codec; the caller owns RTP headers (it re-sequences per leg, docs/media.md).
 *
 * Never throws on payloads: an undecodable one is counted (`invalid`) and concealed like a lost
 * frame, so the output stays continuous — one output frame per input sequence number.
 */
import { JitterBuffer, type JitterBufferOptions, type JitterStats } from './jitter.js';
import { OPUS_FRAME, OpusCodec, type OpusCodecOptions } from './opus.js';
import { Decimator48to8, Interpolator8to48 } from './resample.js';
import { decodeG711, encodeG711, type G711Law } from './g711.js';

export type TranscodeCodec = 'opus' | G711Law;

export interface TranscoderOptions {
  readonly from: TranscodeCodec;
  readonly to: TranscodeCodec;
  readonly jitter?: JitterBufferOptions;
  readonly opus?: OpusCodecOptions;
}

export interface TranscoderStats extends JitterStats {
  /** Frames produced. */
  frames: number;
  /** Frames made up by concealment (lost or invalid input). */
  concealed: number;
  /** Payloads that could not be decoded (counted drop, concealed). */
  invalid: number;
}

const G711_FRAME = 160;
/** Longest G.711 payload accepted: 60 ms (RFC 3551 §4.5.14 allows any ptime; 60 is plenty). */
const G711_MAX = 480;
/** Concealment gain per consecutive lost G.711 frame (fades to silence, G.711 App. I idea). */
const G711_FADE = 0.5;

export class Transcoder {
  readonly from: TranscodeCodec;
  readonly to: TranscodeCodec;
  private readonly jitter: JitterBuffer<Uint8Array>;
  private opus: OpusCodec | undefined;
  private readonly down: Decimator48to8 | undefined;
  private readonly up: Interpolator8to48 | undefined;
  private readonly outFrame: number;
  /** PCM at the output rate waiting to fill a frame. */
  private fifo = new Int16Array(0);
  private lastG711: Int16Array = new Int16Array(G711_FRAME);
  private lostRun = 0;
  private readonly counts = { frames: 0, concealed: 0, invalid: 0 };
  private closedFlag = false;

  constructor(opts: TranscoderOptions) {
    const ok = ['opus', 'PCMU', 'PCMA'];
    if (!ok.includes(opts.from) || !ok.includes(opts.to) || opts.from === opts.to)
      throw new RangeError(`cannot transcode ${String(opts.from)} → ${String(opts.to)}`);
    this.from = opts.from;
    this.to = opts.to;
    this.jitter = new JitterBuffer(opts.jitter);
    if (opts.from === 'opus' || opts.to === 'opus') this.opus = new OpusCodec(opts.opus);
    if (opts.from === 'opus') this.down = new Decimator48to8();
    if (opts.to === 'opus') this.up = new Interpolator8to48();
    this.outFrame = opts.to === 'opus' ? OPUS_FRAME : G711_FRAME;
  }

  get stats(): TranscoderStats {
    return { ...this.jitter.stats, ...this.counts };
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** One RTP payload with its sequence number → the encoded 20 ms frames now ready (0..n). */
  push(seq: number, payload: Uint8Array): Buffer[] {
    if (this.closedFlag) return [];
    const out: Buffer[] = [];
    for (const slot of this.jitter.push(seq, payload)) this.play(slot.payload, out);
    return out;
  }

  /** Plays out what the jitter buffer holds (end of stream). */
  flush(): Buffer[] {
    if (this.closedFlag) return [];
    const out: Buffer[] = [];
    for (const slot of this.jitter.flush()) this.play(slot.payload, out);
    return out;
  }

  /** Frees the Opus codec's wasm handles. Idempotent. */
  close(): void {
    this.closedFlag = true;
    this.opus?.close();
    this.opus = undefined;
  }

  private play(payload: Uint8Array | null, out: Buffer[]): void {
    let pcm = payload === null ? undefined : this.decode(payload);
    if (payload !== null && pcm === undefined) this.counts.invalid++;
    if (pcm === undefined) {
      this.counts.concealed++;
      pcm = this.conceal();
    } else this.lostRun = 0;
    if (this.down) pcm = this.down.process(pcm);
    else if (this.up) pcm = this.up.process(pcm);
    this.enqueue(pcm, out);
  }

  private decode(payload: Uint8Array): Int16Array | undefined {
    if (this.from === 'opus') return this.opus!.decode(payload);
    if (payload.length === 0 || payload.length > G711_MAX) return undefined;
    const pcm = decodeG711(payload, this.from);
    this.lastG711 = pcm;
    return pcm;
  }

  private conceal(): Int16Array {
    this.lostRun++;
    if (this.from === 'opus') return this.opus!.decode(null)!;
    const gain = G711_FADE ** this.lostRun;
    return Int16Array.from(this.lastG711, (v) => Math.round(v * gain));
  }

  private enqueue(pcm: Int16Array, out: Buffer[]): void {
    const all = new Int16Array(this.fifo.length + pcm.length);
    all.set(this.fifo);
    all.set(pcm, this.fifo.length);
    let o = 0;
    for (; o + this.outFrame <= all.length; o += this.outFrame) {
      const frame = all.subarray(o, o + this.outFrame);
      out.push(this.to === 'opus' ? this.opus!.encode(frame) : encodeG711(frame, this.to));
      this.counts.frames++;
    }
    this.fifo = all.slice(o);
  }
}
