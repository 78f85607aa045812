/** The dial pad's ring and ringback tones (src/phone/ring.ts): their cadence and when they play. */
import { describe, expect, it } from 'vitest';
import { TONES, cadenceSteps, toneFor } from '../src/phone/ring.js';

describe('cadenceSteps', () => {
  it('repeats a 2 s on / 4 s off ringback until the horizon', () => {
    expect(cadenceSteps(TONES.ringback.cadence, 13)).toEqual([
      [0, true],
      [2, false],
      [6, true],
      [8, false],
      [12, true],
    ]);
  });

  it('plays the double ring: 0.4 on, 0.2 off, 0.4 on, 2 off', () => {
    const steps = cadenceSteps(TONES.ring.cadence, 3.1);
    expect(steps.map(([t, on]) => [Number(t.toFixed(1)), on])).toEqual([
      [0, true],
      [0.4, false],
      [0.6, true],
      [1, false],
      [3, true],
    ]);
  });

  it('refuses a cadence that never advances or goes back', () => {
    expect(() => cadenceSteps([0, 0], 10)).toThrow('bad cadence');
    expect(() => cadenceSteps([1, -2], 10)).toThrow('bad cadence');
    expect(() => cadenceSteps([Number.NaN], 10)).toThrow('bad cadence');
    expect(() => cadenceSteps([], 10)).toThrow('bad cadence');
  });

  it('uses two distinct tone pairs, so a ringback is never taken for a ring', () => {
    expect(TONES.ring.freqs).toEqual([400, 450]);
    expect(TONES.ringback.freqs).toEqual([440, 480]);
  });
});

describe('toneFor', () => {
  it('rings an incoming call only while it rings', () => {
    expect(toneFor('incoming', 'incoming', false)).toBe('ring');
    for (const s of ['connecting', 'connected', 'ended', 'failed'])
      expect(toneFor('incoming', s, false)).toBeNull();
  });

  it('plays ringback for an outgoing call ringing without early media, never over early media', () => {
    expect(toneFor('outgoing', 'ringing', false)).toBe('ringback');
    // Through the SBC a 180 arrives as a 183 with the SBC's own ringback: no second one.
    expect(toneFor('outgoing', 'ringing', true)).toBeNull();
    for (const s of ['dialling', 'connected', 'ended', 'failed'])
      expect(toneFor('outgoing', s, false)).toBeNull();
  });
});
