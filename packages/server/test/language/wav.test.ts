import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeWav, levelDbfs, monoPcm, parseWav } from '../../src/language/wav.js';

const tone = (n: number, amp: number, rate = 16_000) =>
  Int16Array.from({ length: n }, (_, i) =>
    Math.round(amp * Math.sin((2 * Math.PI * 440 * i) / rate)),
  );

describe('parseWav', () => {
  it('reads back what encodeWav wrote: rate, channels, samples, duration', () => {
    const s = tone(1600, 8000);
    const r = parseWav(encodeWav(s, 16_000));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.wav.sampleRate).toBe(16_000);
    expect(r.wav.channels).toBe(1);
    expect(Array.from(r.wav.samples)).toEqual(Array.from(s));
    expect(r.wav.durationMs).toBe(100);
  });

  it.each([
    ['empty', Buffer.alloc(0), /shorter/],
    ['not RIFF', Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60)]), /RIFF/],
  ])('refuses %s', (_name, bytes, msg) => {
    const r = parseWav(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(msg);
  });

  it('refuses 8-bit, float, 6-channel, 96 kHz and sample-less files with the reason', () => {
    const base = encodeWav(tone(100, 1000), 16_000);
    const patch = (at: number, v: number, bytes = 2) => {
      const b = Buffer.from(base);
      if (bytes === 2) b.writeUInt16LE(v, at);
      else b.writeUInt32LE(v, at);
      return parseWav(b);
    };
    expect(patch(34, 8)).toMatchObject({ ok: false, error: /16-bit/ });
    expect(patch(20, 3)).toMatchObject({ ok: false, error: /linear PCM/ });
    expect(patch(22, 6)).toMatchObject({ ok: false, error: /channels/ });
    expect(patch(24, 96_000, 4)).toMatchObject({ ok: false, error: /sample rate/ });
    expect(parseWav(encodeWav(new Int16Array(0), 16_000))).toMatchObject({ ok: false });
  });

  it('never throws on arbitrary bytes, also behind a valid RIFF/WAVE start', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (tail, prefix) => {
        const bytes = prefix
          ? Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), tail])
          : Buffer.from(tail);
        const r = parseWav(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('measures silence as -Infinity dBFS and a half-scale tone near -9 dBFS', () => {
    expect(levelDbfs(new Int16Array(100))).toBe(-Infinity);
    const db = levelDbfs(tone(16_000, 16_384));
    expect(db).toBeGreaterThan(-10);
    expect(db).toBeLessThan(-8);
  });

  it('averages stereo to mono PCM for Vosk', () => {
    const b = encodeWav(new Int16Array([100, 300, -200, 0]), 8000);
    b.writeUInt16LE(2, 22); // 2 channels: two frames
    const r = parseWav(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const pcm = monoPcm(r.wav);
    expect([pcm.readInt16LE(0), pcm.readInt16LE(2)]).toEqual([200, -100]);
  });
});
