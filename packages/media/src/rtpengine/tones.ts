/**
 * Call-progress tones as WAV blobs for rtpengine's `play media` (`blob` key: the file travels in
 * the ng datagram, so a tone is one cadence cycle, repeated by `repeat-times`).
 * Cadences after ITU-T E.180 Supplement 2 for the European plan: 425 Hz; ringback 1 s on 4 s off,
 * busy 0.5 s on 0.5 s off, congestion 0.25 s on 0.25 s off. 8 kHz mono G.711 A-law.
 */
import { linearToAlaw } from '../codec/g711.js';

export type Tone = 'ringback' | 'busy' | 'congestion' | { readonly frequency: number };

const RATE = 8000;

function cadence(t: Tone): { hz: number; onMs: number; offMs: number } {
  if (t === 'ringback') return { hz: 425, onMs: 1000, offMs: 4000 };
  if (t === 'busy') return { hz: 425, onMs: 500, offMs: 500 };
  if (t === 'congestion') return { hz: 425, onMs: 250, offMs: 250 };
  if (!(t.frequency > 0 && t.frequency < RATE / 2))
    throw new RangeError(`tone frequency ${t.frequency} Hz is outside 0–4000 Hz`);
  return { hz: t.frequency, onMs: 1000, offMs: 0 };
}

/** UDP's largest payload over IPv4 (65535 − 8 − 20): an ng datagram cannot be longer. */
export const MAX_NG_DATAGRAM = 65_507;

/**
 * One cadence cycle of `tone` as a RIFF/WAVE file of G.711 A-law (WAVE_FORMAT_ALAW, 8000 Hz,
 * 8-bit, mono) at -10 dBFS. A-law, not 16-bit PCM: the ringback cycle (5 s) is then 40 kB and its
 * `play media` fits one ng datagram (as 16-bit PCM it was 80 kB, beyond UDP's 65,507 bytes, so the
 * command never reached rtpengine and timed out).
 */
export function toneWav(tone: Tone): Buffer {
  const { hz, onMs, offMs } = cadence(tone);
  const on = (RATE * onMs) / 1000;
  const n = on + (RATE * offMs) / 1000;
  const amp = 32767 * 10 ** (-10 / 20);
  const data = Buffer.alloc(n, linearToAlaw(0));
  for (let i = 0; i < on; i++)
    data[i] = linearToAlaw(Math.round(amp * Math.sin((2 * Math.PI * hz * i) / RATE)));
  // RIFF header, an 18-byte fmt chunk (non-PCM formats carry cbSize) and a fact chunk.
  const h = Buffer.alloc(58);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(50 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(18, 16);
  h.writeUInt16LE(6, 20); // WAVE_FORMAT_ALAW
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE, 28); // bytes per second
  h.writeUInt16LE(1, 32); // block align
  h.writeUInt16LE(8, 34); // bits per sample
  h.writeUInt16LE(0, 36); // cbSize
  h.write('fact', 38, 'latin1');
  h.writeUInt32LE(4, 42);
  h.writeUInt32LE(n, 46); // samples
  h.write('data', 50, 'latin1');
  h.writeUInt32LE(data.length, 54);
  return Buffer.concat([h, data]);
}
