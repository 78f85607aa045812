/**
 * G.711 μ-law and A-law (ITU-T G.711), as 256-entry decode tables and arithmetic encoders.
 * Pure. The relay uses them for tones, WAV playback and recording.
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
  a ^= 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude =
    exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = sign ? magnitude : -magnitude;
  return magnitude;
}

export const ULAW_TO_PCM: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulawDecode(i));
export const ALAW_TO_PCM: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawDecode(i));

const BIAS = 0x84;
const CLIP = 32635;

export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
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

export function decodeG711(payload: Uint8Array, law: 'PCMU' | 'PCMA'): Int16Array {
  const t = law === 'PCMU' ? ULAW_TO_PCM : ALAW_TO_PCM;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = t[payload[i]!]!;
  return out;
}

export function encodeG711(pcm: Int16Array, law: 'PCMU' | 'PCMA'): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  const enc = law === 'PCMU' ? linearToUlaw : linearToAlaw;
  for (let i = 0; i < pcm.length; i++) out[i] = enc(pcm[i]!);
  return out;
}
