/**
 * What `playMedia` plays, as 8 kHz 16-bit PCM frames of 20 ms: tones (a sine, or the ITU-T E.180
 * cadences at 425 Hz as most of Europe uses) and WAV files (PCM 8/16-bit, μ-law, A-law; any rate,
 * resampled linearly to 8 kHz, stereo mixed down). Pure except `readWav`, which reads the file.
 */
import { readFileSync } from 'node:fs';
import { TfxError } from '@tfx/protocol';
import { ALAW_TO_PCM, ULAW_TO_PCM } from '../codec/g711.js';
import type { PlaySource } from '../engine/types.js';

export const FRAME = 160;
const RATE = 8000;

/** One play of a source as PCM at 8 kHz. */
export function renderSource(src: PlaySource): Int16Array {
  if ('wav' in src) return readWav(src.wav);
  const tone = (freq: number, ms: number, amp = 8000): number[] => {
    const out: number[] = [];
    for (let i = 0; i < (ms * RATE) / 1000; i++)
      out.push(Math.round(amp * Math.sin((2 * Math.PI * freq * i) / RATE)));
    return out;
  };
  const silence = (ms: number): number[] => new Array<number>((ms * RATE) / 1000).fill(0);
  switch (src.tone) {
    case 'sine': {
      if (!(src.frequency > 0 && src.frequency < RATE / 2))
        throw new TfxError('bad-request', `a sine tone needs 0 < frequency < 4000 Hz`);
      return Int16Array.from(tone(src.frequency, 1000));
    }
    case 'ringback': // E.180: 425 Hz, 1 s on, 4 s off
      return Int16Array.from([...tone(425, 1000), ...silence(4000)]);
    case 'busy': // 425 Hz, 0.5 s on, 0.5 s off
      return Int16Array.from([...tone(425, 500), ...silence(500)]);
    case 'congestion': // 425 Hz, 0.25 s on, 0.25 s off
      return Int16Array.from([...tone(425, 250), ...silence(250)]);
    default:
      throw new TfxError('bad-request', 'unknown tone');
  }
}

/** RIFF/WAVE (PCM format 1, A-law 6, μ-law 7) to 8 kHz mono PCM. */
export function decodeWav(buf: Buffer): Int16Array {
  if (
    buf.length < 12 ||
    buf.toString('ascii', 0, 4) !== 'RIFF' ||
    buf.toString('ascii', 8, 12) !== 'WAVE'
  )
    throw new TfxError('media-unsupported', 'not a RIFF/WAVE file');
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = buf.subarray(off + 8, Math.min(buf.length, off + 8 + size));
    if (id === 'fmt ' && body.length >= 16)
      fmt = {
        format: body.readUInt16LE(0),
        channels: body.readUInt16LE(2),
        rate: body.readUInt32LE(4),
        bits: body.readUInt16LE(14),
      };
    else if (id === 'data') data = body;
    off += 8 + size + (size & 1);
  }
  if (!fmt || !data) throw new TfxError('media-unsupported', 'WAV without fmt or data chunk');
  const { format, channels, rate, bits } = fmt;
  if (channels < 1 || channels > 8 || rate < 1000 || rate > 192000)
    throw new TfxError('media-unsupported', `WAV with ${channels} channels at ${rate} Hz`);
  const bytesPer = format === 1 ? bits / 8 : 1;
  if (!(
    (format === 1 && (bits === 16 || bits === 8)) ||
    ((format === 6 || format === 7) && bits === 8)
  ))
    throw new TfxError('media-unsupported', `WAV format ${format} with ${bits} bits`);
  const frames = Math.floor(data.length / (bytesPer * channels));
  const mono = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const o = (i * channels + c) * bytesPer;
      sum +=
        format === 7
          ? ULAW_TO_PCM[data[o]!]!
          : format === 6
            ? ALAW_TO_PCM[data[o]!]!
            : bits === 16
              ? data.readInt16LE(o)
              : (data[o]! - 128) << 8;
    }
    mono[i] = sum / channels;
  }
  if (rate === RATE) return Int16Array.from(mono, (v) => Math.round(v));
  const outLen = Math.floor((frames * RATE) / rate);
  const out = new Int16Array(outLen);
  for (let i = 0; i < outLen; i++) {
    const x = (i * rate) / RATE;
    const i0 = Math.floor(x);
    const f = x - i0;
    out[i] = Math.round((mono[i0] ?? 0) * (1 - f) + (mono[i0 + 1] ?? mono[i0] ?? 0) * f);
  }
  return out;
}

export function readWav(path: string): Int16Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new TfxError('not-found', `cannot read ${path}: ${(err as Error).message}`);
  }
  return decodeWav(buf);
}

/** A stereo 16-bit PCM WAV file's bytes (left, right interleaved), 8 kHz. */
export function encodeStereoWav(left: Int16Array, right: Int16Array): Buffer {
  const n = Math.max(left.length, right.length);
  const b = Buffer.alloc(44 + n * 4);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + n * 4, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(2, 22);
  b.writeUInt32LE(RATE, 24);
  b.writeUInt32LE(RATE * 4, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(n * 4, 40);
  for (let i = 0; i < n; i++) {
    b.writeInt16LE(left[i] ?? 0, 44 + i * 4);
    b.writeInt16LE(right[i] ?? 0, 46 + i * 4);
  }
  return b;
}
