import { describe, expect, it } from 'vitest';
import { Decimator48to8, Interpolator8to48, designLowPass } from '../../src/codec/resample.js';
import { goertzelDb, goertzelPower, tone } from '../../src/codec/goertzel.js';

/** Feed `seconds` of a tone through `conv` in 20 ms frames; return the output minus the warm-up. */
function stream(
  conv: { process(x: Int16Array): Int16Array },
  freqs: number[],
  rateIn: number,
  frame: number,
  frames: number,
): Int16Array {
  const parts: Int16Array[] = [];
  for (let f = 0; f < frames; f++)
    parts.push(conv.process(tone(freqs, 10000, frame, rateIn, f * frame)));
  const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all.subarray(Math.floor(all.length / 10)); // skip the filter's warm-up
}

describe('Goertzel', () => {
  it('measures the amplitude of a tone and nothing of an absent one', () => {
    const x = tone([1000], 10000, 8000, 8000);
    expect(Math.sqrt(goertzelPower(x, 1000, 8000))).toBeCloseTo(10000, -2);
    expect(goertzelDb(x, 1000, 8000) - goertzelDb(x, 2000, 8000)).toBeGreaterThan(60);
    expect(goertzelPower([], 1000, 8000)).toBe(0);
  });
});

describe('48 kHz ↔ 8 kHz resampling', () => {
  it('the prototype low-pass has unity DC gain and is symmetric (linear phase)', () => {
    const h = designLowPass();
    expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    for (let i = 0; i < h.length; i++) expect(h[i]).toBeCloseTo(h[h.length - 1 - i]!, 12);
  });

  it('decimation: 960 → 160 per 20 ms frame, odd frame sizes keep the 1-in-6 phase', () => {
    const d = new Decimator48to8();
    expect(d.process(new Int16Array(960)).length).toBe(160);
    const d2 = new Decimator48to8();
    let total = 0;
    for (const n of [7, 1, 500, 452, 13, 947]) total += d2.process(new Int16Array(n)).length;
    expect(total).toBe(320); // 1920 samples in, exactly one in six out
    expect(new Interpolator8to48().process(new Int16Array(160)).length).toBe(960);
  });

  it('a 1 kHz tone survives 48 → 8 kHz with its level (within 0.5 dB)', () => {
    const out = stream(new Decimator48to8(), [1000], 48000, 960, 50);
    expect(out.length).toBeGreaterThan(7000);
    expect(Math.abs(goertzelDb(out, 1000, 8000) - 20 * Math.log10(10000))).toBeLessThan(0.5);
  });

  it('a 6 kHz tone at 48 kHz is attenuated ≥ 30 dB after decimation (no alias at 2 kHz)', () => {
    const ref = 20 * Math.log10(10000);
    const out = stream(new Decimator48to8(), [6000], 48000, 960, 50);
    // 6 kHz folds to 8 − 6 = 2 kHz at 8 kHz sampling; measure there and overall.
    expect(ref - goertzelDb(out, 2000, 8000)).toBeGreaterThanOrEqual(30);
    const rms = Math.sqrt(out.reduce((a, v) => a + v * v, 0) / out.length);
    expect(ref - 20 * Math.log10(rms * Math.SQRT2 + 1e-9)).toBeGreaterThanOrEqual(30);
    // Sample dropping (no filter) would keep it at full level: the test can fail.
    const dropped = tone([6000], 10000, 48000, 48000).filter((_, i) => i % 6 === 0);
    expect(ref - goertzelDb(dropped, 2000, 8000)).toBeLessThan(1);
  });

  it('a 1 kHz tone survives 8 → 48 kHz and the image at 7 kHz is suppressed ≥ 30 dB', () => {
    const out = stream(new Interpolator8to48(), [1000], 8000, 160, 50);
    const ref = 20 * Math.log10(10000);
    expect(Math.abs(goertzelDb(out, 1000, 48000) - ref)).toBeLessThan(0.5);
    expect(ref - goertzelDb(out, 7000, 48000)).toBeGreaterThanOrEqual(30);
    expect(ref - goertzelDb(out, 9000, 48000)).toBeGreaterThanOrEqual(30);
  });

  it('round trip 8 → 48 → 8 keeps a 440 + 1000 Hz mix; full-scale input clips, never wraps', () => {
    const up = new Interpolator8to48();
    const down = new Decimator48to8();
    const out = stream({ process: (x) => down.process(up.process(x)) }, [440, 1000], 8000, 160, 50);
    for (const f of [440, 1000])
      expect(Math.abs(goertzelDb(out, f, 8000) - 20 * Math.log10(10000))).toBeLessThan(0.5);
    const loud = new Decimator48to8().process(
      Int16Array.from({ length: 960 }, (_, i) => (i % 12 < 6 ? 32767 : -32768)),
    );
    expect(loud.every((v) => v >= -32768 && v <= 32767)).toBe(true);
  });
});
