import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALAW_TO_PCM,
  G711_SILENCE,
  PCM_TO_ALAW,
  PCM_TO_ULAW,
  ULAW_TO_PCM,
  decodeG711,
  encodeG711,
  linearToAlaw,
  linearToUlaw,
} from '../../src/codec/g711.js';

describe('G.711 (ITU-T G.711)', () => {
  it('encodes the reference points: 0 → 0xFF μ-law, 0xD5 A-law; full scale to the end codes', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(G711_SILENCE).toEqual({ PCMU: 0xff, PCMA: 0xd5 });
    // μ-law: positive full scale 0x80, negative 0x00 (Table 2); A-law: 0xAA / 0x2A (Table 1).
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
    // -1 encodes to μ-law 0x7F (negative zero) and to A-law 0x55.
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToAlaw(-1)).toBe(0x55);
  });

  it('decodes the reference points of both laws', () => {
    expect(ULAW_TO_PCM[0xff]).toBe(0);
    expect(ULAW_TO_PCM[0x7f]).toBe(0);
    expect(ULAW_TO_PCM[0x00]).toBe(-32124);
    expect(ULAW_TO_PCM[0x80]).toBe(32124);
    expect(ALAW_TO_PCM[0xd5]).toBe(8);
    expect(ALAW_TO_PCM[0x55]).toBe(-8);
    expect(ALAW_TO_PCM[0xaa]).toBe(32256);
    expect(ALAW_TO_PCM[0x2a]).toBe(-32256);
  });

  it('decode tables are monotonic per sign and every code survives decode → encode', () => {
    for (let c = 0; c < 256; c++) {
      expect(linearToUlaw(ULAW_TO_PCM[c]!)).toBe(c === 0x7f ? 0xff : c); // ±0 both decode to 0
      expect(linearToAlaw(ALAW_TO_PCM[c]!)).toBe(c);
    }
    const pos = Array.from({ length: 128 }, (_, i) => ULAW_TO_PCM[0xff - i]!);
    for (let i = 1; i < pos.length; i++) expect(pos[i]!).toBeGreaterThan(pos[i - 1]!);
  });

  it('round trip over the whole 16-bit range stays within half a quantisation step (both laws)', () => {
    let worstU = 0;
    let worstA = 0;
    for (let s = -32768; s <= 32767; s++) {
      const u = ULAW_TO_PCM[PCM_TO_ULAW[s & 0xffff]!]!;
      const a = ALAW_TO_PCM[PCM_TO_ALAW[s & 0xffff]!]!;
      // A 4-bit mantissa: half a step is ≤ 1/32 of the magnitude, plus the smallest half step
      // (≤ 8 at 16-bit scale); μ-law clips at 32635 (G.711 Table 2's largest decision value, ×4).
      const mag = Math.min(Math.abs(s), 32635);
      expect(Math.abs(u - s)).toBeLessThanOrEqual(mag / 32 + 8 + (Math.abs(s) - mag));
      expect(Math.abs(a - s)).toBeLessThanOrEqual(Math.max(8, Math.abs(s) / 32 + 8));
      worstU = Math.max(worstU, Math.abs(u - s) / Math.max(1, Math.abs(s)));
      if (Math.abs(s) > 256) worstA = Math.max(worstA, Math.abs(a - s) / Math.abs(s));
    }
    expect(worstA).toBeLessThan(0.035);
    expect(worstU).toBeGreaterThan(0); // the assertion above actually measured something
  });

  it('silence encodes to the silence code and decodes to (near) zero', () => {
    const silence = new Int16Array(160);
    expect([...encodeG711(silence, 'PCMU')].every((b) => b === 0xff)).toBe(true);
    expect([...encodeG711(silence, 'PCMA')].every((b) => b === 0xd5)).toBe(true);
    expect([...decodeG711(encodeG711(silence, 'PCMU'), 'PCMU')].every((v) => v === 0)).toBe(true);
    expect(
      [...decodeG711(encodeG711(silence, 'PCMA'), 'PCMA')].every((v) => Math.abs(v) <= 8),
    ).toBe(true);
  });

  it('frame helpers: 1000 → 988 in μ-law; hostile sample values are clipped, never thrown', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 30000]);
    expect(Array.from(decodeG711(encodeG711(pcm, 'PCMU'), 'PCMU'))).toEqual([0, 988, -988, 30076]);
    expect(linearToUlaw(1e9)).toBe(0x80);
    expect(linearToAlaw(-1e9)).toBe(0x2a);
    expect(linearToUlaw(Number.NaN)).toBe(0xff);
    expect(linearToAlaw(0.4)).toBe(0xd5);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        for (const law of ['PCMU', 'PCMA'] as const) {
          const back = encodeG711(decodeG711(bytes, law), law);
          const norm = (b: number): number => (law === 'PCMU' && b === 0x7f ? 0xff : b);
          expect([...back].map(norm)).toEqual([...bytes].map(norm));
        }
      }),
    );
  });
});
