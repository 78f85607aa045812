/**
 * Call-progress tones as WAV blobs for rtpengine's `play media` (`blob` key: the file travels in
 * the ng datagram, so a tone is one cadence cycle, repeated by `repeat-times`).
 * Cadences after ITU-T E.180 Supplement 2 for the European plan: 425 Hz; ringback 1 s on 4 s off,
 * busy 0.5 s on 0.5 s off, congestion 0.25 s on 0.25 s off. 8 kHz, 16-bit mono PCM.
 */
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

/** One cadence cycle of `tone` as a RIFF/WAVE file (PCM, 8000 Hz, 16-bit, mono) at -10 dBFS. */
export function toneWav(tone: Tone): Buffer {
  const { hz, onMs, offMs } = cadence(tone);
  const on = (RATE * onMs) / 1000;
  const n = on + (RATE * offMs) / 1000;
  const amp = 32767 * 10 ** (-10 / 20);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < on; i++)
    data.writeInt16LE(Math.round(amp * Math.sin((2 * Math.PI * hz * i) / RATE)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
