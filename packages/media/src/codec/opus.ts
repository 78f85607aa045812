/**
 * Opus (RFC 6716) through opusscript: libopus compiled to WebAssembly, so it installs on Node 20
 * with no native build. One `OpusCodec` owns one encoder and one decoder (48 kHz, mono, 20 ms
 * frames — the RTP clock of Opus is always 48 kHz, RFC 7587 §4.1) and frees both wasm handles in
 * close(), once.
 *
 * Bad input never throws out of decode(): an invalid or oversized packet returns `undefined` and
 * is counted. Loss concealment: decode(null) runs libopus' PLC. opusscript passes a fixed 60 ms
 * frame size to opus_decode, so one PLC call yields 60 ms; the first 20 ms are returned (the
 * decoder's state moves on by 60 ms, which libopus smooths at the next real packet).
 */
import OpusScript from 'opusscript';

export const OPUS_RATE = 48000;
/** Samples in a 20 ms frame at 48 kHz. */
export const OPUS_FRAME = 960;
/** The largest packet libopus accepts for decoding (RFC 6716 §3.4: 1275 bytes × 3 frames). */
export const OPUS_MAX_PACKET = 3828;

export interface OpusCodecOptions {
  /** Encoder bitrate in bit/s (default 32,000: wideband speech). */
  readonly bitrate?: number;
  /** 'voip' (default) tunes for speech; 'audio' for music. */
  readonly application?: 'voip' | 'audio';
}

export interface OpusCodecStats {
  encoded: number;
  decoded: number;
  concealed: number;
  /** Packets libopus refused (invalid TOC/lengths) or that were empty or too large. */
  invalid: number;
}

function toInt16(b: Buffer): Int16Array {
  const out = new Int16Array(b.length >> 1);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 2));
  return out;
}

export class OpusCodec {
  readonly stats: OpusCodecStats = { encoded: 0, decoded: 0, concealed: 0, invalid: 0 };
  private enc: OpusScript | undefined;
  private dec: OpusScript | undefined;

  constructor(opts: OpusCodecOptions = {}) {
    const app =
      opts.application === 'audio' ? OpusScript.Application.AUDIO : OpusScript.Application.VOIP;
    const bitrate = opts.bitrate ?? 32000;
    if (!Number.isInteger(bitrate) || bitrate < 6000 || bitrate > 510000)
      throw new RangeError(`opus bitrate must be an integer in 6000..510000, got ${bitrate}`);
    this.enc = new OpusScript(OPUS_RATE, 1, app);
    this.dec = new OpusScript(OPUS_RATE, 1, app);
    this.enc.setBitrate(bitrate);
  }

  get closed(): boolean {
    return this.enc === undefined;
  }

  /** One 20 ms frame (960 samples, 48 kHz mono) → one Opus packet. */
  encode(pcm: Int16Array): Buffer {
    if (!this.enc) throw new Error('OpusCodec is closed');
    if (pcm.length !== OPUS_FRAME)
      throw new RangeError(`opus encode takes ${OPUS_FRAME} samples (20 ms), got ${pcm.length}`);
    const out = this.enc.encode(
      Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
      OPUS_FRAME,
    );
    this.stats.encoded++;
    return out;
  }

  /**
   * An Opus packet → 48 kHz PCM (usually 960 samples; longer packets give more). `null` = the
   * packet was lost: 20 ms of concealment. `undefined` = the packet was invalid (counted).
   */
  decode(payload: Uint8Array | null): Int16Array | undefined {
    if (!this.dec) throw new Error('OpusCodec is closed');
    if (payload === null) {
      const plc = this.decodeRaw(Buffer.alloc(0));
      if (!plc) return new Int16Array(OPUS_FRAME);
      this.stats.concealed++;
      return plc.subarray(0, OPUS_FRAME);
    }
    if (payload.length === 0 || payload.length > OPUS_MAX_PACKET) {
      this.stats.invalid++;
      return undefined;
    }
    const pcm = this.decodeRaw(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    if (!pcm || pcm.length === 0) {
      this.stats.invalid++;
      return undefined;
    }
    this.stats.decoded++;
    return pcm;
  }

  private decodeRaw(b: Buffer): Int16Array | undefined {
    try {
      return toInt16(this.dec!.decode(b));
    } catch {
      return undefined; // libopus: "Invalid packet", "Buffer too small", …
    }
  }

  /** Frees both wasm handles. Idempotent: opusscript itself would free twice. */
  close(): void {
    const { enc, dec } = this;
    this.enc = undefined;
    this.dec = undefined;
    enc?.delete();
    dec?.delete();
  }
}
