/**
 * The stereo WAV recorder writes to its file while the call runs (bounded memory), keeps both
 * channels aligned by arrival time, fills gaps with silence, bounds a flood, and leaves a valid
 * header at close. The clock is the `nowMs` each packet carries (no timers).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavRecorder } from '../../src/builtin/recorder.js';
import { goertzel, toneUlaw } from '../contract/probe.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tfx-wav-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function read(path: string): { left: number[]; right: number[]; dataBytes: number } {
  const wav = readFileSync(path);
  expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
  expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
  expect(wav.readUInt16LE(22)).toBe(2);
  expect(wav.readUInt32LE(24)).toBe(8000);
  const dataBytes = wav.readUInt32LE(40);
  expect(wav.readUInt32LE(4)).toBe(36 + dataBytes);
  expect(wav.length).toBe(44 + dataBytes);
  const left: number[] = [];
  const right: number[] = [];
  for (let o = 44; o < wav.length; o += 4) {
    left.push(wav.readInt16LE(o));
    right.push(wav.readInt16LE(o + 2));
  }
  return { left, right, dataBytes };
}

/** 20 ms packets of a tone from `fromMs` to `toMs` on one channel. */
function feed(rec: WavRecorder, ch: 0 | 1, hz: number, fromMs: number, toMs: number): void {
  for (let t = fromMs; t < toMs; t += 20)
    rec.audio(ch, 'PCMU', toneUlaw(hz, (t * 8000) / 1000, 160), t);
}

describe('WavRecorder (streamed stereo WAV)', () => {
  it('writes to the file during the call, caller left and callee right, aligned by arrival', () => {
    const path = join(dir, 'a.wav');
    const rec = new WavRecorder(path, 0);
    // A speaks from 0 s, B joins at 1 s; interleave as packets would arrive.
    for (let t = 0; t < 4000; t += 20) {
      rec.audio(0, 'PCMU', toneUlaw(440, (t * 8000) / 1000, 160), t);
      if (t >= 1000) rec.audio(1, 'PCMU', toneUlaw(1000, (t * 8000) / 1000, 160), t);
      if (t === 2500) {
        // Streamed: at 2.5 s most of the audio is on disk already, not held in memory.
        expect(statSync(path).size).toBeGreaterThan(44 + 4 * 8000);
        expect(rec.dataBytes).toBeGreaterThan(4 * 8000);
      }
    }
    rec.close();
    rec.close(); // idempotent
    const { left, right } = read(path);
    expect(left.length).toBe(4 * 8000);
    // First second: A only; B's channel is silent.
    expect(goertzel(left.slice(0, 8000), 440)).toBeGreaterThan(0.3);
    expect(right.slice(0, 7900).every((x) => x === 0)).toBe(true);
    // Later: each tone in its own channel only.
    expect(goertzel(left.slice(16000, 32000), 440)).toBeGreaterThan(0.3);
    expect(goertzel(left.slice(16000, 32000), 1000)).toBeLessThan(0.05);
    expect(goertzel(right.slice(16000, 32000), 1000)).toBeGreaterThan(0.3);
    expect(goertzel(right.slice(16000, 32000), 440)).toBeLessThan(0.05);
  });

  it('a pause (hold) becomes silence of the same length; the audio after it keeps its place', () => {
    const path = join(dir, 'gap.wav');
    const rec = new WavRecorder(path, 1_000_000);
    feed(rec, 0, 440, 1_000_000, 1_001_000);
    feed(rec, 0, 440, 1_003_000, 1_004_000);
    rec.close();
    const { left } = read(path);
    expect(left.length).toBe(4 * 8000);
    expect(left.slice(8800, 23_200).every((x) => x === 0)).toBe(true);
    expect(goertzel(left.slice(24_000), 440)).toBeGreaterThan(0.3);
  });

  it('a party sending faster than real time is bounded (the excess counted), not buffered without end', () => {
    const path = join(dir, 'flood.wav');
    const rec = new WavRecorder(path, 0);
    // 60 s of audio arriving within the same millisecond.
    for (let i = 0; i < 3000; i++) rec.audio(0, 'PCMU', toneUlaw(440, i * 160, 160), 0);
    expect(rec.overflow).toBeGreaterThan(0);
    rec.close();
    const { left } = read(path);
    expect(left.length).toBeLessThanOrEqual(10 * 8000 + 160);
  });

  it('other codecs are not recorded; an unwritable path throws at start', () => {
    const path = join(dir, 'x.wav');
    const rec = new WavRecorder(path, 0);
    rec.audio(0, 'opus', Buffer.alloc(60), 10);
    rec.close();
    expect(read(path).dataBytes).toBe(0);
    expect(() => new WavRecorder(join(dir, 'no', 'such', 'dir.wav'), 0)).toThrow(/ENOENT/);
  });
});
