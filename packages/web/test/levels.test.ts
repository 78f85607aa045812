/**
 * The speaker ring's level (language/levels.ts): the loudest ~5 ms slice of the last ~85 ms, so a
 * short sound anywhere in the window between two 100 ms ticks is seen. A single 256-sample window
 * (what the ring read before) missed Chromium's fake-microphone beep whenever the ticks fell
 * between beeps in phase — the e2e speaker-ring flake.
 */
import { describe, expect, it } from 'vitest';
import { loudestSliceRms } from '../src/language/levels.js';

const silence = (n: number): Uint8Array => new Uint8Array(n).fill(128);

/** A square wave of `amplitude` (0 … 1) over samples [from, to). */
function beep(samples: Uint8Array, from: number, to: number, amplitude: number): Uint8Array {
  for (let i = from; i < to; i++)
    samples[i] = 128 + Math.round((i % 20 < 10 ? 1 : -1) * amplitude * 127);
  return samples;
}

describe('loudestSliceRms', () => {
  it('is 0 for silence', () => {
    expect(loudestSliceRms(silence(4096), 256)).toBe(0);
  });

  it('sees a 10 ms beep at the start, the middle or the end of the window at full strength', () => {
    for (const at of [0, 1900, 4096 - 480]) {
      const level = loudestSliceRms(beep(silence(4096), at, at + 480, 0.5), 256);
      expect(level).toBeGreaterThan(0.45);
      expect(level).toBeLessThanOrEqual(0.5);
    }
  });

  it('a beep that straddles two slices still reads above the speaker threshold (0.02)', () => {
    expect(loudestSliceRms(beep(silence(4096), 250, 262, 0.5), 256)).toBeGreaterThan(0.02);
  });

  it('is at most 1 and ignores a ragged tail shorter than a slice', () => {
    const full = new Uint8Array(4096 + 100).fill(255);
    expect(loudestSliceRms(full, 256)).toBeLessThanOrEqual(1);
    expect(loudestSliceRms(beep(silence(4096 + 100), 4096, 4196, 1), 256)).toBe(0);
  });

  it('is 0 for fewer samples than one slice', () => {
    expect(loudestSliceRms(new Uint8Array(10).fill(0), 256)).toBe(0);
  });
});
