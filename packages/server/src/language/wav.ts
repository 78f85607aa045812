/**
 * A pure reader of the one audio format captions accept: RIFF/WAVE with 16-bit linear PCM,
 * 1 or 2 channels, 8–48 kHz (what the call page records, and what both providers take: Whisper
 * servers read WAV; Vosk wants raw 16-bit PCM with its sample rate). Bytes in, a typed result out.
 */

export interface Wav {
  readonly sampleRate: number;
  readonly channels: number;
  /** Interleaved samples. */
  readonly samples: Int16Array;
  readonly durationMs: number;
}

export type WavResult =
  { readonly ok: true; readonly wav: Wav } | { readonly ok: false; readonly error: string };

const fail = (error: string): WavResult => ({ ok: false, error });

export function parseWav(bytes: Uint8Array): WavResult {
  if (bytes.byteLength < 44) return fail('shorter than a WAV header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) =>
    String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return fail('not a RIFF/WAVE file');
  let at = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  // Bounded: each chunk advances at least 8 bytes.
  while (at + 8 <= bytes.byteLength) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) return fail('fmt chunk too short');
      fmt = {
        format: v.getUint16(body, true),
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        bits: v.getUint16(body + 14, true),
      };
      // WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes are the real format tag.
      if (fmt.format === 0xfffe && size >= 40 && body + 26 <= bytes.byteLength)
        fmt.format = v.getUint16(body + 24, true);
    } else if (id === 'data') {
      if (!fmt) return fail('data before fmt');
      if (fmt.format !== 1) return fail(`not linear PCM (format ${fmt.format})`);
      if (fmt.bits !== 16) return fail(`not 16-bit (${fmt.bits} bits)`);
      if (fmt.channels < 1 || fmt.channels > 2) return fail(`${fmt.channels} channels`);
      if (fmt.rate < 8000 || fmt.rate > 48_000) return fail(`sample rate ${fmt.rate} Hz`);
      // A streaming writer may leave the size as 0 or 0xFFFFFFFF: take what is there.
      const avail = bytes.byteLength - body;
      const len = size === 0 || size > avail ? avail : size;
      const count = Math.floor(len / 2);
      if (count === 0) return fail('no samples');
      const copy = new Int16Array(count);
      for (let i = 0; i < count; i++) copy[i] = v.getInt16(body + i * 2, true);
      return {
        ok: true,
        wav: {
          sampleRate: fmt.rate,
          channels: fmt.channels,
          samples: copy,
          durationMs: (count / fmt.channels / fmt.rate) * 1000,
        },
      };
    }
    at = body + size + (size & 1);
  }
  return fail('no data chunk');
}

/** Root-mean-square level in dBFS (−∞ for digital silence). */
export function levelDbfs(samples: Int16Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / samples.length) / 32768;
  return rms === 0 ? -Infinity : 20 * Math.log10(rms);
}

/** Mono 16-bit little-endian PCM (stereo is averaged), as Vosk reads it. */
export function monoPcm(wav: Wav): Buffer {
  const n = wav.samples.length / wav.channels;
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    let s = wav.samples[i * wav.channels] ?? 0;
    if (wav.channels === 2) s = Math.round((s + (wav.samples[i * 2 + 1] ?? 0)) / 2);
    out.writeInt16LE(s, i * 2);
  }
  return out;
}

/** A WAV file of mono 16-bit PCM samples (tests and fakes make audio with it). */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  const data = samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(samples[i] ?? 0, 44 + i * 2);
  return b;
}
