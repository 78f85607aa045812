/**
 * RTP header codec (RFC 3550 §5.1). Pure: bytes in, a typed header or a typed error out; the
 * writer rewrites the fixed header in place (the relay's hot path allocates nothing).
 *
 *  0                   1                   2                   3
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers  ...        |
 */

export interface RtpHeader {
  readonly padding: boolean;
  readonly extension: boolean;
  readonly csrcCount: number;
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** Offset of the payload (after CSRCs and the extension). */
  readonly payloadOffset: number;
  /** Payload length (without padding). */
  readonly payloadLength: number;
}

export type RtpParseError =
  'too-short' | 'version' | 'csrc-overflow' | 'extension-overflow' | 'padding' | 'rtcp';

export type RtpParseResult =
  | { readonly ok: true; readonly header: RtpHeader }
  | { readonly ok: false; readonly error: RtpParseError };

/**
 * RFC 5761 §4: with RTP and RTCP on one port, packet types 64-95 in the second byte's low
 * seven bits are RTCP (SR=200 … appear as 72-79 after the marker bit is masked).
 */
export function isRtcp(b: Uint8Array): boolean {
  if (b.length < 2) return false;
  const pt = b[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/** A caller-owned header that `parseRtpInto` fills (the relay's hot path reuses one). */
export type MutableRtpHeader = { -readonly [K in keyof RtpHeader]: RtpHeader[K] };

export function newRtpHeader(): MutableRtpHeader {
  return {
    padding: false,
    extension: false,
    csrcCount: 0,
    marker: false,
    payloadType: 0,
    sequence: 0,
    timestamp: 0,
    ssrc: 0,
    payloadOffset: 12,
    payloadLength: 0,
  };
}

export function parseRtp(b: Uint8Array): RtpParseResult {
  const h = newRtpHeader();
  const error = parseRtpInto(b, h);
  return error === undefined ? { ok: true, header: h } : { ok: false, error };
}

/**
 * `parseRtp` without allocation: fills `h` and returns undefined, or returns the error (then `h`
 * holds nothing meaningful). Same checks, same RFC 3550 §5.1 rules.
 */
export function parseRtpInto(b: Uint8Array, h: MutableRtpHeader): RtpParseError | undefined {
  if (b.length < 12) return 'too-short';
  const b0 = b[0]!;
  // RFC 3550 §5.1: "version (V): 2 bits ... The version defined by this specification is two (2)."
  if (b0 >> 6 !== 2) return 'version';
  if (isRtcp(b)) return 'rtcp';
  const cc = b0 & 0x0f;
  let off = 12 + cc * 4;
  if (off > b.length) return 'csrc-overflow';
  const extension = (b0 & 0x10) !== 0;
  if (extension) {
    // §5.3.1: a 16-bit profile field and a 16-bit length in 32-bit words, then the words.
    if (off + 4 > b.length) return 'extension-overflow';
    off += 4 + ((b[off + 2]! << 8) | b[off + 3]!) * 4;
    if (off > b.length) return 'extension-overflow';
  }
  let end = b.length;
  const padding = (b0 & 0x20) !== 0;
  if (padding) {
    // §5.1: "The last octet of the padding contains a count of how many padding octets should
    // be ignored, including itself."
    const n = b[b.length - 1]!;
    if (n === 0 || end - n < off) return 'padding';
    end -= n;
  }
  h.padding = padding;
  h.extension = extension;
  h.csrcCount = cc;
  h.marker = (b[1]! & 0x80) !== 0;
  h.payloadType = b[1]! & 0x7f;
  h.sequence = (b[2]! << 8) | b[3]!;
  h.timestamp = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  h.ssrc = ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0;
  h.payloadOffset = off;
  h.payloadLength = end - off;
  return undefined;
}

export interface RtpFields {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
}

/** Writes a fixed 12-byte header (no CSRC, no extension) followed by `payload`. */
export function buildRtp(f: RtpFields, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(12 + payload.length);
  b[0] = 0x80;
  writeRtpFields(b, f);
  b.set(payload, 12);
  return b;
}

/** Rewrites marker, PT, sequence, timestamp and SSRC of an RTP packet in place. */
export function writeRtpFields(b: Uint8Array, f: RtpFields): void {
  writeRtpHeader(b, f.marker, f.payloadType, f.sequence, f.timestamp, f.ssrc);
}

/** `writeRtpFields` with positional arguments (no object per packet on the relay's hot path). */
export function writeRtpHeader(
  b: Uint8Array,
  marker: boolean,
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
): void {
  b[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  b[2] = (sequence >> 8) & 0xff;
  b[3] = sequence & 0xff;
  const ts = timestamp >>> 0;
  b[4] = ts >>> 24;
  b[5] = (ts >>> 16) & 0xff;
  b[6] = (ts >>> 8) & 0xff;
  b[7] = ts & 0xff;
  const s = ssrc >>> 0;
  b[8] = s >>> 24;
  b[9] = (s >>> 16) & 0xff;
  b[10] = (s >>> 8) & 0xff;
  b[11] = s & 0xff;
}

/** RFC 3550 §A.1: signed distance from sequence `a` to `b` (mod 2^16). */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
