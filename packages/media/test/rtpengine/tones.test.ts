/**
 * The call-progress tones sent in rtpengine's `play media` (`blob`): each is one cadence cycle as a
 * WAV that fits one ng datagram (the 5 s ringback as 16-bit PCM was 80 kB, beyond UDP's 65,507
 * bytes: the command never reached rtpengine and timed out, marking the instance down).
 */
import { describe, expect, it } from 'vitest';
import { decodeG711 } from '../../src/codec/g711.js';
import { MAX_NG_DATAGRAM, toneWav, type Tone } from '../../src/rtpengine/tones.js';

const TONES: Array<[Tone, number]> = [
  ['ringback', 5000],
  ['busy', 1000],
  ['congestion', 500],
  [{ frequency: 440 }, 1000],
];

describe('rtpengine tones', () => {
  for (const [tone, ms] of TONES)
    it(`${JSON.stringify(tone)}: one ${ms} ms cycle of A-law WAV, small enough for one ng datagram`, () => {
      const w = toneWav(tone);
      // Room for the ng envelope (cookie, bencoded keys) around the blob.
      expect(w.length).toBeLessThan(MAX_NG_DATAGRAM - 1024);
      expect(w.toString('latin1', 0, 4)).toBe('RIFF');
      expect(w.readUInt32LE(4)).toBe(w.length - 8);
      expect(w.toString('latin1', 8, 16)).toBe('WAVEfmt ');
      expect(w.readUInt16LE(20)).toBe(6); // WAVE_FORMAT_ALAW
      expect(w.readUInt32LE(24)).toBe(8000);
      expect(w.readUInt16LE(34)).toBe(8);
      expect(w.toString('latin1', 50, 54)).toBe('data');
      const n = w.readUInt32LE(54);
      expect(n).toBe((8000 * ms) / 1000);
      expect(w.length).toBe(58 + n);
      // The tone is audible at first and (for cadenced tones) silent in its off part.
      const pcm = decodeG711(w.subarray(58), 'PCMA');
      const peak = (a: Int16Array): number => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(peak(pcm.subarray(0, 800))).toBeGreaterThan(8000);
      if (typeof tone === 'string') expect(peak(pcm.subarray(pcm.length - 200))).toBeLessThan(16);
    });

  it('refuses a frequency outside 0–4000 Hz', () => {
    expect(() => toneWav({ frequency: 0 })).toThrow(RangeError);
    expect(() => toneWav({ frequency: 5000 })).toThrow(RangeError);
    expect(() => toneWav({ frequency: Number.NaN })).toThrow(RangeError);
  });
});
