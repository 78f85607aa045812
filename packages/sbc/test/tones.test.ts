/**
 * Tones and announcements (tones.ts), pure parts: which failure gets which tone, the stand-in
 * answer that opens early media toward the caller, and announcement files checked as config
 * (missing, not a WAV, empty, too long: `config-invalid`).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { announcementDurations, announcementMs, failureTone, standInAnswer } from '../src/tones.js';

const dir = mkdtempSync(join(tmpdir(), 'sbc-tones-unit-'));

function wav(samples: number, rate = 8000): string {
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(samples * 2, 40);
  const p = join(dir, `w${samples}-${rate}.wav`);
  writeFileSync(p, b);
  return p;
}

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof TfxError ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
};

describe('failureTone', () => {
  const spec = {
    busySeconds: 2,
    congestionSeconds: 1,
    announcements: { unknownNumber: '/a.wav', unreachable: '/b.wav' },
  };
  const dur = (p: string): number => (p === '/a.wav' ? 1500 : 700);
  it('maps the far side’s failures onto tones and announcements', () => {
    expect(failureTone(486, spec, dur)).toEqual({ source: { tone: 'busy' }, ms: 2000 });
    expect(failureTone(600, spec, dur)).toEqual({ source: { tone: 'busy' }, ms: 2000 });
    expect(failureTone(503, spec, dur)).toEqual({ source: { tone: 'congestion' }, ms: 1000 });
    expect(failureTone(504, spec, dur)).toEqual({ source: { tone: 'congestion' }, ms: 1000 });
    expect(failureTone(404, spec, dur)).toEqual({ source: { wav: '/a.wav' }, ms: 1500 });
    expect(failureTone(484, spec, dur)).toEqual({ source: { wav: '/a.wav' }, ms: 1500 });
    expect(failureTone(480, spec, dur)).toEqual({ source: { wav: '/b.wav' }, ms: 700 });
    expect(failureTone(408, spec, dur)).toEqual({ source: { wav: '/b.wav' }, ms: 700 });
    for (const s of [403, 487, 488, 500, 603]) expect(failureTone(s, spec, dur)).toBeUndefined();
  });
  it('is off when the zone configures nothing (0 seconds, no file, no spec)', () => {
    expect(failureTone(486, undefined, dur)).toBeUndefined();
    expect(failureTone(486, {}, dur)).toBeUndefined();
    expect(failureTone(503, { congestionSeconds: 0 }, dur)).toBeUndefined();
    expect(failureTone(404, { busySeconds: 1 }, dur)).toBeUndefined();
    // Bounded: at most 30 s of tone whatever is configured.
    expect(failureTone(486, { busySeconds: 1e9 }, dur)?.ms).toBe(30_000);
  });
});

describe('standInAnswer', () => {
  const offer = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.10',
    's=-',
    'c=IN IP4 127.0.0.10',
    't=0 0',
    'm=audio 40000 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=sendrecv',
    '',
  ].join('\r\n');
  it('answers every offered codec on the discard port, sendrecv', () => {
    const a = standInAnswer(offer, '127.0.0.10')!;
    expect(a).toContain('c=IN IP4 127.0.0.10');
    expect(a).toContain('m=audio 9 RTP/AVP 0 8 101');
    expect(a).toContain('a=rtpmap:101 telephone-event/8000');
    expect(a).toContain('a=fmtp:101 0-16');
    expect(a).toContain('a=sendrecv');
    expect(standInAnswer(offer, '::1')).toContain('c=IN IP6 ::1');
  });
  it('gives none for a video line or no m= line', () => {
    expect(standInAnswer(`${offer}m=video 40002 RTP/AVP 96\r\n`, '127.0.0.10')).toBeUndefined();
    expect(standInAnswer('v=0\r\n', '127.0.0.10')).toBeUndefined();
    expect(standInAnswer('', '127.0.0.10')).toBeUndefined();
  });
});

describe('announcement files are config', () => {
  it('reads a WAV’s length (8 kHz after resampling)', () => {
    expect(announcementMs(wav(8000))).toBe(1000);
    expect(announcementMs(wav(16000, 16000))).toBe(1000);
  });
  it('refuses a missing file, a non-WAV, an empty or an over-long one with config-invalid', () => {
    expect(code(() => announcementMs(join(dir, 'missing.wav')))).toMatch(
      /^config-invalid: .*missing\.wav/,
    );
    const text = join(dir, 'text.wav');
    writeFileSync(text, 'hello, not a wav');
    expect(code(() => announcementMs(text))).toMatch(/^config-invalid: .*not a RIFF\/WAVE/);
    expect(code(() => announcementMs(wav(0)))).toMatch(/^config-invalid: .*0 ms long/);
    expect(code(() => announcementMs(wav(8000 * 61)))).toMatch(/^config-invalid: .*61000 ms long/);
    expect(
      code(() => announcementDurations([{ tones: { announcements: { unreachable: text } } }])),
    ).toMatch(/^config-invalid/);
    expect(
      announcementDurations([{ tones: { announcements: { unknownNumber: wav(4000) } } }, {}]),
    ).toEqual(new Map([[wav(4000), 500]]));
  });
});
