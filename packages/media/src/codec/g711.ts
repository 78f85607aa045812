/**
 * G.711 μ-law and A-law (ITU-T G.711 (11/88): A-law Table 1, μ-law Table 2), table-driven and pure.
 *
 * Decoding is one lookup in a 256-entry table per law. Encoding is one lookup in a 65,536-entry
 * table indexed by the 16-bit linear sample (two's complement as `sample & 0xffff`), built once
 * at load from the segment arithmetic below (64 KiB per law). Linear samples are 16-bit PCM:
 * G.711's 14-bit (μ-law) and 13-bit (A-law) linear ranges scaled to 16 bits, as is common practice
 * (and as the ITU-T G.191 software tools do).
 *
 * The relay uses them for tones, WAV playback and recording; the transcoder (./transcoder.ts) for
 * Opus ↔ PCMU/PCMA.
 */

function ulawDecode(u: number): number {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

function alawDecode(a: number): number {
  a ^= 0x55; // G.711 §3: even bits inverted on the line
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude =
    exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return sign ? magnitude : -magnitude;
}

/** μ-law code → 16-bit linear (G.711 Table 2: 14-bit values ×4, ±8031 → ±32124). */
export const ULAW_TO_PCM: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulawDecode(i));
/** A-law code → 16-bit linear (G.711 Table 1: 13-bit values ×8, ±4032 → ±32256). */
export const ALAW_TO_PCM: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawDecode(i));

const BIAS = 0x84;
const CLIP = 32635;

function ulawEncode(s: number): number {
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function alawEncode(s: number): number {
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  let out: number;
  if (s < 256) out = s >> 4;
  else {
    let exponent = 1;
    for (let v = s >> 8; v > 1; v >>= 1) exponent++;
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}

function encodeTable(enc: (s: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = enc(i < 32768 ? i : i - 65536);
  return t;
}

/** 16-bit linear (index `sample & 0xffff`) → μ-law code. */
export const PCM_TO_ULAW: Uint8Array = encodeTable(ulawEncode);
/** 16-bit linear (index `sample & 0xffff`) → A-law code. */
export const PCM_TO_ALAW: Uint8Array = encodeTable(alawEncode);

function clamp16(sample: number): number {
  const s = Math.round(sample);
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

/** One sample to μ-law; non-integers are rounded, out-of-range values clipped. NaN → silence. */
export function linearToUlaw(sample: number): number {
  return PCM_TO_ULAW[(Number.isNaN(sample) ? 0 : clamp16(sample)) & 0xffff]!;
}

/** One sample to A-law; non-integers are rounded, out-of-range values clipped. NaN → silence. */
export function linearToAlaw(sample: number): number {
  return PCM_TO_ALAW[(Number.isNaN(sample) ? 0 : clamp16(sample)) & 0xffff]!;
}

export type G711Law = 'PCMU' | 'PCMA';

export function decodeG711(payload: Uint8Array, law: G711Law): Int16Array {
  const t = law === 'PCMU' ? ULAW_TO_PCM : ALAW_TO_PCM;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = t[payload[i]!]!;
  return out;
}

export function encodeG711(pcm: Int16Array, law: G711Law): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  const t = law === 'PCMU' ? PCM_TO_ULAW : PCM_TO_ALAW;
  for (let i = 0; i < pcm.length; i++) out[i] = t[pcm[i]! & 0xffff]!;
  return out;
}

/** The code of digital silence (linear 0): 0xFF in μ-law, 0xD5 in A-law. */
export const G711_SILENCE: Readonly<Record<G711Law, number>> = { PCMU: 0xff, PCMA: 0xd5 };
