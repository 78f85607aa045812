import { describe, expect, it } from 'vitest';
import { decodeWav, encodeStereoWav, renderSource } from '../../src/builtin/sources.js';
import { goertzel } from '../contract/probe.js';

function wav(format: number, channels: number, rate: number, bits: number, data: Buffer): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('playback sources', () => {
  it('a 16 kHz stereo 16-bit WAV becomes 8 kHz mono with its tone kept', () => {
    const n = 16000;
    const data = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 600 * i) / 16000));
      data.writeInt16LE(v, i * 4);
      data.writeInt16LE(v, i * 4 + 2);
    }
    const pcm = decodeWav(wav(1, 2, 16000, 16, data));
    expect(pcm.length).toBe(8000);
    expect(goertzel(pcm, 600)).toBeGreaterThan(0.8);
  });

  it('μ-law and A-law WAVs decode; a stereo WAV written by the recorder reads back per channel', () => {
    expect(decodeWav(wav(7, 1, 8000, 8, Buffer.alloc(160, 0xff)))).toEqual(new Int16Array(160));
    expect(decodeWav(wav(6, 1, 8000, 8, Buffer.alloc(80, 0xd5)))[0]).toBe(8);
    const out = encodeStereoWav(Int16Array.from([1, 2, 3]), Int16Array.from([-1, -2]));
    expect(out.readUInt16LE(22)).toBe(2);
    expect([
      out.readInt16LE(44),
      out.readInt16LE(46),
      out.readInt16LE(52),
      out.readInt16LE(54),
    ]).toEqual([1, -1, 3, 0]);
  });

  it.each([
    ['not RIFF', Buffer.from('hello world, this is not a wav')],
    ['no data chunk', wav(1, 1, 8000, 16, Buffer.alloc(0)).subarray(0, 36)],
    ['32-bit float', wav(3, 1, 8000, 32, Buffer.alloc(64))],
    ['0 channels', wav(1, 0, 8000, 16, Buffer.alloc(64))],
  ])('refuses %s with media-unsupported', (_n, bytes) => {
    expect(() => decodeWav(bytes)).toThrow(expect.objectContaining({ code: 'media-unsupported' }));
  });

  it('tones: a sine at its frequency; ringback is 425 Hz for 1 s then 4 s of silence (E.180)', () => {
    expect(goertzel(renderSource({ tone: 'sine', frequency: 1000 }), 1000)).toBeGreaterThan(0.9);
    const rb = renderSource({ tone: 'ringback' });
    expect(rb.length).toBe(40000);
    expect(goertzel(rb.subarray(0, 8000), 425)).toBeGreaterThan(0.9);
    expect(rb.subarray(8000).every((x) => x === 0)).toBe(true);
    expect(() => renderSource({ tone: 'sine', frequency: 5000 })).toThrow();
  });
});
