/** The captions VAD: whole speech segments out, nothing while silent or muted. */
import { describe, expect, it } from 'vitest';
import { Vad, rms, wavOf } from '../src/language/vad.js';

const FRAME = 1024;
const tone = (amp: number) =>
  Float32Array.from({ length: FRAME }, (_, i) => amp * Math.sin((2 * Math.PI * 300 * i) / 16_000));
const quiet = () => new Float32Array(FRAME);

function feed(vad: Vad, frames: Float32Array[], muted = false): Float32Array[] {
  const out: Float32Array[] = [];
  for (const f of frames) {
    const s = vad.push(f, muted);
    if (s) out.push(s);
  }
  return out;
}

describe('Vad', () => {
  it('silence never makes a segment', () => {
    expect(feed(new Vad(), Array.from({ length: 500 }, quiet))).toEqual([]);
  });

  it('speech then silence: one segment with the pre-roll, ended after endFrames of quiet', () => {
    const vad = new Vad({ endFrames: 10, preRollFrames: 4, startFrames: 2 });
    const frames = [
      ...Array.from({ length: 6 }, quiet),
      ...Array.from({ length: 20 }, () => tone(0.3)),
      ...Array.from({ length: 12 }, quiet),
    ];
    const segs = feed(vad, frames);
    expect(segs).toHaveLength(1);
    // 4 pre-roll + 20 speech + 10 quiet frames.
    expect(segs[0]!.length).toBe((4 + 20 + 10) * FRAME);
  });

  it('a click shorter than minFrames is dropped', () => {
    const frames = [tone(0.3), tone(0.3), tone(0.3), ...Array.from({ length: 20 }, quiet)];
    expect(feed(new Vad({ minFrames: 5 }), frames)).toEqual([]);
  });

  it('long speech is cut at maxFrames', () => {
    const segs = feed(
      new Vad({ maxFrames: 30 }),
      Array.from({ length: 100 }, () => tone(0.3)),
    );
    expect(segs.length).toBe(3);
    for (const s of segs) expect(s.length).toBeLessThanOrEqual(30 * FRAME);
  });

  it('muted: nothing is kept, and a segment in progress is thrown away', () => {
    const vad = new Vad();
    feed(
      vad,
      Array.from({ length: 10 }, () => tone(0.3)),
    );
    expect(vad.speaking).toBe(true);
    expect(
      feed(
        vad,
        Array.from({ length: 50 }, () => tone(0.3)),
        true,
      ),
    ).toEqual([]);
    expect(vad.speaking).toBe(false);
    expect(feed(vad, Array.from({ length: 20 }, quiet))).toEqual([]);
  });

  it('wavOf writes 16-bit PCM mono with the right header and clipped samples', () => {
    const b = new DataView(wavOf(Float32Array.from([0, 0.5, -1, 2]), 16_000));
    expect(String.fromCharCode(b.getUint8(0), b.getUint8(1), b.getUint8(2), b.getUint8(3))).toBe(
      'RIFF',
    );
    expect(b.getUint16(20, true)).toBe(1);
    expect(b.getUint16(22, true)).toBe(1);
    expect(b.getUint32(24, true)).toBe(16_000);
    expect(b.getUint16(34, true)).toBe(16);
    expect(b.getUint32(40, true)).toBe(8);
    expect([
      b.getInt16(44, true),
      b.getInt16(46, true),
      b.getInt16(48, true),
      b.getInt16(50, true),
    ]).toEqual([0, 16384, -32767, 32767]);
    expect(rms(Float32Array.from([1, -1]))).toBe(1);
  });
});
