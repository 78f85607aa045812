/**
 * The Goertzel algorithm: the power of one frequency in a block of samples, O(N) per frequency.
 * Pure. Tests and the gateway's RTP probe use it to prove a tone crossed a transcoding path.
 */

/** Power of `freq` in `samples` (squared magnitude of that DFT bin, normalised by N²/4). */
export function goertzelPower(
  samples: ArrayLike<number>,
  freq: number,
  sampleRate: number,
): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A full-scale sine of amplitude A gives A² here.
  return (4 * power) / (n * n);
}

/** The same as a level in dB relative to an amplitude of 1 (a sine of amplitude A → 20·log10 A). */
export function goertzelDb(samples: ArrayLike<number>, freq: number, sampleRate: number): number {
  return 10 * Math.log10(goertzelPower(samples, freq, sampleRate) + 1e-20);
}

/** A sine tone (sum of tones) as 16-bit PCM. `startSample` continues a phase across frames. */
export function tone(
  freqs: readonly number[],
  amplitude: number,
  length: number,
  sampleRate: number,
  startSample = 0,
): Int16Array {
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    let v = 0;
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * (startSample + i)) / sampleRate);
    out[i] = Math.round(amplitude * v);
  }
  return out;
}
