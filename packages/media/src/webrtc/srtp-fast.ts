/**
 * SRTP for RTP packets (RFC 3711, RFC 7714) on the relay's hot path, without a node:crypto object
 * per packet. werift's SrtpSession creates a cipher (`createCipheriv`) and an HMAC (`createHmac`)
 * for every packet and re-serialises the header (40–110 µs a packet measured here); this keeps one
 * AES-128-ECB context per direction (the key schedule is done once) and makes the counter-mode
 * keystream with it, one native call per packet, and does the authentication in JavaScript:
 * HMAC-SHA1 with the inner and outer pads' states computed once (RFC 2104 §4 "precomputed"), and
 * GHASH with an 8-bit table of multiples of H (Shoup's method, as in the GCM specification's
 * §4.1 and mbed TLS). The session keys come from werift's key derivation (RFC 3711 §4.3).
 *
 * - AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2.1): IV = (salt·2^16) ⊕ (SSRC·2^64) ⊕ (i·2^16),
 *   i = ROC·2^16 + SEQ; the tag is HMAC-SHA1(auth key, header ‖ encrypted payload ‖ ROC), 80 bits.
 * - AEAD_AES_128_GCM (RFC 7714 §8.1): IV = salt ⊕ (0^16 ‖ SSRC ‖ ROC ‖ SEQ), 96 bits; the header
 *   is the AAD; the tag is 128 bits.
 *
 * The rollover counter follows werift's rule (its peers and the tests rely on it): the counter
 * moves only across a wrap of the sequence number, and a decryption that fails leaves it alone.
 * Pure computation; throws SrtpAuthError on a bad tag or a malformed packet.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

export class SrtpAuthError extends Error {
  override readonly name: string = 'SrtpAuthError';
}

/** RFC 3711 §3.3.2: a packet whose index was already received, or is older than the window. */
export class SrtpReplayError extends SrtpAuthError {
  override readonly name: string = 'SrtpReplayError';
}

/** The replay window's size in packets (RFC 3711 §3.3.2 asks for at least 64; 64 as libsrtp). */
export const REPLAY_WINDOW = 64;

export interface SrtpSessionKeys {
  /** Session encryption key (16 bytes), salt (14 bytes for CM, 12 used by GCM), auth key (20). */
  readonly key: Buffer;
  readonly salt: Buffer;
  readonly authKey: Buffer;
}

export type SrtpProfileName = 'aes-cm-hmac-sha1-80' | 'aead-aes-128-gcm';

const MAX_ROC_DISORDER = 100;
const MAX_SEQ = 65535;

interface RocState {
  roc: number;
  lastSeq: number;
  started: boolean;
}

/**
 * The receiver's replay list for one SSRC (RFC 3711 §3.3.2, Appendix A of RFC 2401's sliding
 * window): the highest authenticated index and a bitmap of the 64 indices below and at it, kept as
 * two 32-bit words (bit 0 of `lo` = the highest index itself).
 */
interface ReplayState {
  started: boolean;
  /** Highest authenticated packet index, ROC·2^16 + SEQ (48 bits fit a double exactly). */
  top: number;
  lo: number;
  hi: number;
}

/** 'ok' (new), 'replay' (seen) or 'old' (left of the window) for `index`; the state is not touched. */
function replayCheck(r: ReplayState, index: number): 'ok' | 'replay' | 'old' {
  if (!r.started || index > r.top) return 'ok';
  const d = r.top - index;
  if (d >= REPLAY_WINDOW) return 'old';
  const bit = d < 32 ? (r.lo >>> d) & 1 : (r.hi >>> (d - 32)) & 1;
  return bit ? 'replay' : 'ok';
}

/** Marks `index` as received (after its tag was verified). */
function replayAccept(r: ReplayState, index: number): void {
  if (!r.started) {
    r.started = true;
    r.top = index;
    r.lo = 1;
    r.hi = 0;
    return;
  }
  if (index > r.top) {
    const shift = index - r.top;
    if (shift >= REPLAY_WINDOW) {
      r.lo = 0;
      r.hi = 0;
    } else if (shift >= 32) {
      r.hi = r.lo << (shift - 32);
      r.lo = 0;
    } else {
      r.hi = (r.hi << shift) | (r.lo >>> (32 - shift)) | 0;
      r.lo = r.lo << shift;
    }
    r.lo |= 1;
    r.top = index;
    return;
  }
  const d = r.top - index;
  if (d < 32) r.lo |= 1 << d;
  else r.hi |= 1 << (d - 32);
}

/** werift's updateRolloverCount, as a pure step: the ROC for `seq` from the state. */
function nextRoc(seq: number, s: RocState): number {
  if (!s.started) return s.roc;
  if (seq === 0) return s.lastSeq > MAX_ROC_DISORDER ? s.roc + 1 : s.roc;
  if (s.lastSeq < MAX_ROC_DISORDER && seq > MAX_SEQ - MAX_ROC_DISORDER)
    return s.roc > 0 ? s.roc - 1 : s.roc;
  if (seq < MAX_ROC_DISORDER && s.lastSeq > MAX_SEQ - MAX_ROC_DISORDER) return s.roc + 1;
  return s.roc;
}

/** The length of the RTP header (fixed part, CSRCs, extension: RFC 3550 §5.1, §5.3.1). */
function headerLength(p: Buffer, end: number): number {
  if (end < 12) return -1;
  let off = 12 + 4 * (p[0]! & 0x0f);
  if (p[0]! & 0x10) {
    if (off + 4 > end) return -1;
    off += 4 + 4 * ((p[off + 2]! << 8) | p[off + 3]!);
  }
  return off <= end ? off : -1;
}

// ---------------------------------------------------------------- SHA-1 (FIPS 180-4 §6.1.2)

const W = new Int32Array(80);

function sha1Compress(h: Int32Array, buf: Uint8Array, off: number, blocks: number): void {
  let h0 = h[0]!;
  let h1 = h[1]!;
  let h2 = h[2]!;
  let h3 = h[3]!;
  let h4 = h[4]!;
  const w = W;
  for (let blk = 0; blk < blocks; blk++, off += 64) {
    for (let t = 0; t < 16; t++) {
      const i = off + 4 * t;
      w[t] = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!;
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  h[0] = h0;
  h[1] = h1;
  h[2] = h2;
  h[3] = h3;
  h[4] = h4;
}

const SHA1_IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

/** HMAC-SHA1 (RFC 2104) with the pads' states computed once; a tag is written, not allocated. */
export class HmacSha1 {
  readonly #inner = new Int32Array(5);
  readonly #outer = new Int32Array(5);
  readonly #h = new Int32Array(5);
  #scratch = Buffer.alloc(2048);
  readonly #outerBlock = Buffer.alloc(64);

  constructor(key: Buffer) {
    if (key.length > 64) throw new RangeError('HMAC key longer than a block');
    const pad = Buffer.alloc(64);
    for (const [state, x] of [
      [this.#inner, 0x36],
      [this.#outer, 0x5c],
    ] as const) {
      pad.fill(x);
      for (let i = 0; i < key.length; i++) pad[i] = key[i]! ^ x;
      state.set(SHA1_IV);
      sha1Compress(state, pad, 0, 1);
    }
    // The outer hash's only block: inner digest (20) ‖ 0x80 ‖ zeros ‖ length (64 + 20 bytes).
    this.#outerBlock[20] = 0x80;
    this.#outerBlock.writeUInt32BE((64 + 20) * 8, 60);
  }

  /**
   * The first `tagLength` bytes of HMAC-SHA1(key, data[from..to) ‖ roc as 32 bits), written
   * to `out` at `at`.
   */
  sign(
    data: Buffer,
    from: number,
    to: number,
    roc: number,
    out: Buffer,
    at: number,
    tagLength: number,
  ): void {
    const len = to - from + 4;
    const blocks = (len + 9 + 63) >>> 6;
    if (blocks * 64 > this.#scratch.length) this.#scratch = Buffer.alloc(blocks * 64);
    const s = this.#scratch;
    data.copy(s, 0, from, to);
    let p = to - from;
    s[p++] = roc >>> 24;
    s[p++] = (roc >>> 16) & 0xff;
    s[p++] = (roc >>> 8) & 0xff;
    s[p++] = roc & 0xff;
    s[p++] = 0x80;
    s.fill(0, p, blocks * 64 - 4);
    s.writeUInt32BE(((64 + len) * 8) >>> 0, blocks * 64 - 4);
    const h = this.#h;
    h.set(this.#inner);
    sha1Compress(h, s, 0, blocks);
    const ob = this.#outerBlock;
    for (let i = 0; i < 5; i++) ob.writeInt32BE(h[i]!, 4 * i);
    h.set(this.#outer);
    sha1Compress(h, ob, 0, 1);
    for (let i = 0; i < tagLength; i++) out[at + i] = (h[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
  }
}

// ---------------------------------------------------------------- GHASH (GCM, NIST SP 800-38D §6.4)

/**
 * The reduction of a right shift by 8 (x^128 = x^7 + x^2 + x + 1, GCM's bit order): the byte
 * shifted out, r, adds ⊕_k (0xe100 >> (7 − k)) for each set bit k of r to the top 16 bits.
 */
const LAST8 = (() => {
  const t = new Int32Array(256);
  for (let r = 0; r < 256; r++) {
    let v = 0;
    for (let k = 0; k < 8; k++) if (r & (1 << k)) v ^= 0xe100 >>> (7 - k);
    t[r] = v << 16;
  }
  return t;
})();

/**
 * GHASH (NIST SP 800-38D §6.4) with an 8-bit table of multiples of H (Shoup's method: 256 entries
 * of 4 big-endian 32-bit words, 4 kB), one table lookup and one 8-bit shift per byte.
 */
export class Ghash {
  readonly #t = new Int32Array(256 * 4);
  /** The running value Y, 4 words. */
  readonly y = new Int32Array(4);

  constructor(h: Buffer) {
    const t = this.#t;
    let v0 = h.readInt32BE(0);
    let v1 = h.readInt32BE(4);
    let v2 = h.readInt32BE(8);
    let v3 = h.readInt32BE(12);
    // t[128] = H; t[128 >> k] = H·x^k (a right shift in GCM's bit order, reduced).
    for (let i = 128; i > 0; i >>= 1) {
      t[i * 4] = v0;
      t[i * 4 + 1] = v1;
      t[i * 4 + 2] = v2;
      t[i * 4 + 3] = v3;
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    for (let i = 2; i <= 128; i *= 2)
      for (let j = 1; j < i; j++)
        for (let k = 0; k < 4; k++) t[(i + j) * 4 + k] = t[i * 4 + k]! ^ t[j * 4 + k]!;
  }

  reset(): void {
    this.y.fill(0);
  }

  /** Y = (Y ⊕ X)·H for each 16-byte block X of data[from..to) (the last one zero-padded). */
  update(data: Uint8Array, from: number, to: number): void {
    const t = this.#t;
    const y = this.y;
    let y0 = y[0]!;
    let y1 = y[1]!;
    let y2 = y[2]!;
    let y3 = y[3]!;
    for (let off = from; off < to; off += 16) {
      const n = to - off;
      if (n >= 16) {
        y0 ^= (data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!;
        y1 ^=
          (data[off + 4]! << 24) | (data[off + 5]! << 16) | (data[off + 6]! << 8) | data[off + 7]!;
        y2 ^=
          (data[off + 8]! << 24) |
          (data[off + 9]! << 16) |
          (data[off + 10]! << 8) |
          data[off + 11]!;
        y3 ^=
          (data[off + 12]! << 24) |
          (data[off + 13]! << 16) |
          (data[off + 14]! << 8) |
          data[off + 15]!;
      } else {
        for (let i = 0; i < n; i++) {
          const v = data[off + i]! << (24 - 8 * (i & 3));
          if (i < 4) y0 ^= v;
          else if (i < 8) y1 ^= v;
          else if (i < 12) y2 ^= v;
          else y3 ^= v;
        }
      }
      // Z = X·H, bytes from the last (x^120..x^127) to the first: word 3's low byte, then one
      // 8-bit shift (reduced through LAST8) and one table entry per byte.
      let e = (y3 & 0xff) * 4;
      let z0 = t[e]!;
      let z1 = t[e + 1]!;
      let z2 = t[e + 2]!;
      let z3 = t[e + 3]!;
      for (let k = 14; k >= 0; k--) {
        const wv = k >= 12 ? y3 : k >= 8 ? y2 : k >= 4 ? y1 : y0;
        e = ((wv >>> ((3 - (k & 3)) << 3)) & 0xff) << 2;
        const rem = z3 & 0xff;
        z3 = ((z3 >>> 8) | (z2 << 24)) ^ t[e + 3]!;
        z2 = ((z2 >>> 8) | (z1 << 24)) ^ t[e + 2]!;
        z1 = ((z1 >>> 8) | (z0 << 24)) ^ t[e + 1]!;
        z0 = (z0 >>> 8) ^ LAST8[rem]! ^ t[e]!;
      }
      y0 = z0;
      y1 = z1;
      y2 = z2;
      y3 = z3;
    }
    y[0] = y0;
    y[1] = y1;
    y[2] = y2;
    y[3] = y3;
  }

  /** The final block: len(A) ‖ len(C) in bits, 64 bits each. */
  lengths(aadBytes: number, textBytes: number): void {
    LENGTHS.fill(0);
    LENGTHS.writeUInt32BE((aadBytes * 8) >>> 0, 4);
    LENGTHS.writeUInt32BE((textBytes * 8) >>> 0, 12);
    this.update(LENGTHS, 0, 16);
  }
}
const LENGTHS = Buffer.alloc(16);

// ---------------------------------------------------------------- one direction's context

/** One SRTP cryptographic context for RTP (one direction: protect or unprotect). */
export class SrtpRtpContext {
  readonly profile: SrtpProfileName;
  readonly tagLength: number;
  readonly #ecb: Cipher;
  readonly #salt: Buffer;
  readonly #hmac: HmacSha1 | undefined;
  readonly #ghash: Ghash | undefined;
  /** Counter blocks for the keystream (grown when a packet needs more). */
  #ctr = Buffer.alloc(16 * 96);
  readonly #iv = Buffer.alloc(16);
  readonly #roc = new Map<number, RocState>();
  /** Receiving side only: the replay list per SSRC (bounded like #roc). */
  readonly #replay = new Map<number, ReplayState>();

  constructor(profile: SrtpProfileName, keys: SrtpSessionKeys) {
    this.profile = profile;
    this.tagLength = profile === 'aead-aes-128-gcm' ? 16 : 10;
    this.#ecb = createCipheriv('aes-128-ecb', keys.key, null);
    this.#ecb.setAutoPadding(false);
    this.#salt = Buffer.from(keys.salt);
    if (profile === 'aead-aes-128-gcm') this.#ghash = new Ghash(this.#ecb.update(Buffer.alloc(16)));
    else this.#hmac = new HmacSha1(keys.authKey);
  }

  #state(ssrc: number): RocState {
    let s = this.#roc.get(ssrc);
    if (!s) {
      s = { roc: 0, lastSeq: 0, started: false };
      // Bounded: a leg has a handful of SSRCs; a flood of new ones must not grow this forever.
      if (this.#roc.size >= 64) this.#roc.clear();
      this.#roc.set(ssrc, s);
    }
    return s;
  }

  /**
   * The keystream for `bytes` bytes: E(K, IV + j) for j from `first` (RFC 3711 §4.1.1: the
   * block counter in the low 16 bits; RFC 7714 / SP 800-38D: a 32-bit counter after a 96-bit IV).
   */
  #keystream(first: number, blocks: number): Buffer {
    const need = blocks * 16;
    if (this.#ctr.length < need) this.#ctr = Buffer.alloc(need);
    const c = this.#ctr;
    const iv = this.#iv;
    const gcm = this.#ghash !== undefined;
    for (let b = 0, o = 0; b < blocks; b++, o += 16) {
      for (let i = 0; i < 12; i++) c[o + i] = iv[i]!;
      const j = first + b;
      if (gcm) {
        c[o + 12] = j >>> 24;
        c[o + 13] = (j >>> 16) & 0xff;
      } else {
        c[o + 12] = iv[12]!;
        c[o + 13] = iv[13]!;
      }
      c[o + 14] = (j >>> 8) & 0xff;
      c[o + 15] = j & 0xff;
    }
    return this.#ecb.update(c.subarray(0, need));
  }

  #setIv(ssrc: number, roc: number, seq: number): void {
    const iv = this.#iv;
    const s = this.#salt;
    if (this.#ghash) {
      // RFC 7714 §8.1: 00 00 ‖ SSRC ‖ ROC ‖ SEQ, XOR the 12-byte salt.
      iv[0] = s[0]!;
      iv[1] = s[1]!;
      iv.writeUInt32BE((ssrc ^ s.readUInt32BE(2)) >>> 0, 2);
      iv.writeUInt32BE((roc ^ s.readUInt32BE(6)) >>> 0, 6);
      iv.writeUInt16BE(seq ^ s.readUInt16BE(10), 10);
    } else {
      // RFC 3711 §4.1.1: 00000000 ‖ SSRC ‖ ROC ‖ SEQ ‖ 0000, XOR salt·2^16.
      iv.writeUInt32BE(s.readUInt32BE(0), 0);
      iv.writeUInt32BE((ssrc ^ s.readUInt32BE(4)) >>> 0, 4);
      iv.writeUInt32BE((roc ^ s.readUInt32BE(8)) >>> 0, 8);
      iv.writeUInt16BE(seq ^ s.readUInt16BE(12), 12);
    }
  }

  /** dst[i] = src[i] ⊕ keystream for i in [from, to); ks[ksStart] is the byte for `from`. */
  static #xor(
    dst: Buffer,
    src: Buffer,
    from: number,
    to: number,
    ks: Buffer,
    ksStart: number,
  ): void {
    for (let i = from, k = ksStart; i < to; i++, k++) dst[i] = src[i]! ^ ks[k]!;
  }

  /** Plain RTP → SRTP (a new buffer: the caller's packet stays as it was). */
  protect(rtp: Buffer): Buffer {
    const hl = headerLength(rtp, rtp.length);
    if (hl < 0) throw new SrtpAuthError('malformed RTP header');
    const ssrc = rtp.readUInt32BE(8);
    const seq = rtp.readUInt16BE(2);
    const st = this.#state(ssrc);
    const roc = nextRoc(seq, st);
    st.roc = roc;
    st.lastSeq = seq;
    st.started = true;
    this.#setIv(ssrc, roc, seq);
    const n = rtp.length - hl;
    const out = Buffer.allocUnsafe(rtp.length + this.tagLength);
    rtp.copy(out, 0, 0, hl);
    if (this.#ghash) {
      const blocks = 1 + ((n + 15) >>> 4);
      const ks = this.#keystream(1, blocks);
      SrtpRtpContext.#xor(out, rtp, hl, rtp.length, ks, 16);
      const g = this.#ghash;
      g.reset();
      g.update(out, 0, hl);
      g.update(out, hl, rtp.length);
      g.lengths(hl, n);
      writeTag(g.y, ks, out, rtp.length);
    } else {
      const ks = this.#keystream(0, (n + 15) >>> 4);
      SrtpRtpContext.#xor(out, rtp, hl, rtp.length, ks, 0);
      this.#hmac!.sign(out, 0, rtp.length, roc, out, rtp.length, this.tagLength);
    }
    return out;
  }

  /**
   * SRTP → plain RTP (a new buffer); throws SrtpAuthError when the tag does not match and
   * SrtpReplayError when the packet's index was already received or is older than the replay
   * window (RFC 3711 §3.3.2: checked before authentication, recorded only after it).
   */
  unprotect(srtp: Buffer): Buffer {
    const end = srtp.length - this.tagLength;
    const hl = end >= 12 ? headerLength(srtp, end) : -1;
    if (hl < 0) throw new SrtpAuthError('Failed to authenticate SRTP packet');
    const ssrc = srtp.readUInt32BE(8);
    const seq = srtp.readUInt16BE(2);
    const st = this.#roc.get(ssrc) ?? { roc: 0, lastSeq: 0, started: false };
    const roc = nextRoc(seq, st);
    const index = roc * 65536 + seq;
    const rp = this.#replay.get(ssrc) ?? { started: false, top: 0, lo: 0, hi: 0 };
    const seen = replayCheck(rp, index);
    if (seen !== 'ok')
      throw new SrtpReplayError(`SRTP packet ${seen === 'old' ? 'too old' : 'replayed'}`);
    this.#setIv(ssrc, roc, seq);
    const n = end - hl;
    const out = Buffer.allocUnsafe(end);
    let ok: boolean;
    if (this.#ghash) {
      const ks = this.#keystream(1, 1 + ((n + 15) >>> 4));
      const g = this.#ghash;
      g.reset();
      g.update(srtp, 0, hl);
      g.update(srtp, hl, end);
      g.lengths(hl, n);
      writeTag(g.y, ks, TAG, 0);
      ok = equal(TAG, 0, srtp, end, 16);
      if (ok) {
        srtp.copy(out, 0, 0, hl);
        SrtpRtpContext.#xor(out, srtp, hl, end, ks, 16);
      }
    } else {
      this.#hmac!.sign(srtp, 0, end, roc, TAG, 0, this.tagLength);
      ok = equal(TAG, 0, srtp, end, this.tagLength);
      if (ok) {
        const ks = this.#keystream(0, (n + 15) >>> 4);
        srtp.copy(out, 0, 0, hl);
        SrtpRtpContext.#xor(out, srtp, hl, end, ks, 0);
      }
    }
    if (!ok) throw new SrtpAuthError('Failed to authenticate SRTP packet');
    // RFC 3550 §5.1: the padding count (last octet) must lie within the payload.
    if (out[0]! & 0x20) {
      const pad = out[end - 1] ?? 0;
      if (end <= hl || pad === 0 || pad > end - hl)
        throw new SrtpAuthError('Failed to authenticate SRTP packet');
    }
    // The ROC state moves only for an authenticated packet.
    st.roc = roc;
    st.lastSeq = seq;
    st.started = true;
    if (!this.#roc.has(ssrc)) {
      if (this.#roc.size >= 64) this.#roc.clear();
      this.#roc.set(ssrc, st);
    }
    replayAccept(rp, index);
    if (!this.#replay.has(ssrc)) {
      if (this.#replay.size >= 64) this.#replay.clear();
      this.#replay.set(ssrc, rp);
    }
    return out;
  }
}

const TAG = Buffer.alloc(16);

/** GCM tag: GHASH ⊕ E(K, J0) (the keystream's first block), written to out[at..at+16). */
function writeTag(y: Int32Array, ks: Buffer, out: Buffer, at: number): void {
  for (let w = 0; w < 4; w++) out.writeInt32BE((y[w]! ^ ks.readInt32BE(4 * w)) | 0, at + 4 * w);
}

/** Constant-time comparison of a[ao..ao+n) and b[bo..bo+n). */
function equal(a: Buffer, ao: number, b: Buffer, bo: number, n: number): boolean {
  let d = 0;
  for (let i = 0; i < n; i++) d |= a[ao + i]! ^ b[bo + i]!;
  return d === 0;
}
