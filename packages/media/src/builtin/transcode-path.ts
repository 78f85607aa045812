/**
 * One direction of a gateway call whose two legs do not share a codec (in the media worker):
 * Opus ↔ PCMU/PCMA through ../codec (jitter buffer, loss concealment, resampling), and RFC 4733
 * telephone-events rescaled between the legs' clocks (48 kHz on the browser leg, 8 kHz on the
 * phone leg: rtpengine#963, #778). The caller owns sockets and the egress sequencer.
 */
import { OPUS_FRAME } from '../codec/opus.js';
import { Transcoder, type TranscodeCodec } from '../codec/transcoder.js';
import { rescaleTelephoneEventPayload } from '../codec/telephone-event.js';
import type { SideTranscode } from './protocol.js';

function codecOf(encoding: string): TranscodeCodec | undefined {
  const e = encoding.toUpperCase();
  if (e === 'OPUS') return 'opus';
  if (e === 'PCMU' || e === 'PCMA') return e;
  return undefined;
}

export class TranscodePath {
  readonly cfg: SideTranscode;
  readonly #tc: Transcoder | undefined;
  /** Samples per output frame at the output clock. */
  readonly frameSamples: number;
  #lastEventIn: number | undefined;
  #lastEventOut = 0;

  constructor(cfg: SideTranscode) {
    this.cfg = cfg;
    const from = codecOf(cfg.from.encoding);
    const to = codecOf(cfg.to.encoding);
    this.#tc =
      from && to && from !== to
        ? new Transcoder({ from, to, jitter: { depth: 3, capacity: 32 } })
        : undefined;
    this.frameSamples = to === 'opus' ? OPUS_FRAME : 160;
  }

  /** Whether this payload type is transcoded audio. */
  isAudio(pt: number): boolean {
    return this.#tc !== undefined && pt === this.cfg.from.pt;
  }

  /** Whether this payload type is a telephone-event to rescale. */
  isEvent(pt: number): boolean {
    const f = this.cfg.teFrom;
    const t = this.cfg.teTo;
    return !!f && !!t && pt === f.pt && f.clockRate !== t.clockRate;
  }

  /** One audio payload → the frames to send now (0..n), in the peer's codec. */
  audio(seq: number, payload: Uint8Array): Buffer[] {
    return this.#tc ? this.#tc.push(seq, payload) : [];
  }

  /**
   * One telephone-event payload rescaled (RFC 4733 §2.3.5 duration in timestamp units), and
   * whether it starts a new event (the caller gives it a new timestamp; every later packet of
   * the event repeats it, RFC 4733 §2.5.1.2). Undefined: not a 4-byte event (counted drop).
   */
  event(
    timestamp: number,
    payload: Uint8Array,
  ): { payload: Buffer; newEvent: boolean } | undefined {
    const out = rescaleTelephoneEventPayload(
      payload,
      this.cfg.teFrom!.clockRate,
      this.cfg.teTo!.clockRate,
    );
    if (!out) return undefined;
    const newEvent = this.#lastEventIn !== timestamp;
    this.#lastEventIn = timestamp;
    return { payload: out, newEvent };
  }

  /** The egress timestamp of the current event (set by the caller on its first packet). */
  get eventTimestamp(): number {
    return this.#lastEventOut;
  }

  set eventTimestamp(ts: number) {
    this.#lastEventOut = ts;
  }

  get stats(): { concealed: number; invalid: number; frames: number } {
    const s = this.#tc?.stats;
    return { concealed: s?.concealed ?? 0, invalid: s?.invalid ?? 0, frames: s?.frames ?? 0 };
  }

  close(): void {
    this.#tc?.close();
  }
}
