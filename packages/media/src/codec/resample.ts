/**
 * 48 kHz ↔ 8 kHz sample-rate conversion for the Opus ↔ G.711 transcoder. Pure and streaming: each
 * converter keeps its filter history across frames, so 20 ms frames join without clicks.
 *
 * One linear-phase low-pass FIR (Kaiser-windowed sinc, 240 taps at 48 kHz, cutoff 3.8 kHz,
 * β = 8 → about 80 dB stop-band from ~4.3 kHz) serves both directions:
 *  - decimation by 6: filter, keep every 6th output (polyphase: only the kept outputs are computed),
 *    so what lies above 4 kHz is removed before it can alias into the telephone band;
 *  - interpolation by 6: zero-stuff, filter with gain 6 (polyphase: 40 taps per output sample),
 *    so the images of the 8 kHz spectrum at 8, 16, 24 kHz are removed.
 * Group delay: 119.5 samples at 48 kHz (≈ 2.5 ms) per conversion.
 */

export const RESAMPLE_FACTOR = 6;
const TAPS = 240;
const CUTOFF_HZ = 3800;
const BETA = 8;

/** Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/** The low-pass prototype at 48 kHz, unity DC gain. */
export function designLowPass(
  taps = TAPS,
  cutoffHz = CUTOFF_HZ,
  fs = 48000,
  beta = BETA,
): Float64Array {
  const h = new Float64Array(taps);
  const fc = cutoffHz / fs;
  const mid = (taps - 1) / 2;
  const i0b = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < taps; n++) {
    const t = n - mid;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const r = (2 * n) / (taps - 1) - 1;
    const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[n] = sinc * w;
    sum += h[n]!;
  }
  for (let n = 0; n < taps; n++) h[n] = h[n]! / sum;
  return h;
}

const LOW_PASS = designLowPass();

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** 48 kHz → 8 kHz. Feed any frame length; a 960-sample frame yields 160 samples. */
export class Decimator48to8 {
  private readonly h = LOW_PASS;
  /** The last TAPS-1 input samples, oldest first. */
  private hist = new Float64Array(TAPS - 1);
  /** Input samples to skip before the next kept output (0 ≤ phase < 6). */
  private phase = 0;

  process(input: Int16Array): Int16Array {
    const n = this.h.length;
    const ext = new Float64Array(n - 1 + input.length);
    ext.set(this.hist);
    for (let i = 0; i < input.length; i++) ext[n - 1 + i] = input[i]!;
    const count = Math.max(0, Math.ceil((input.length - this.phase) / RESAMPLE_FACTOR));
    const out = new Int16Array(count);
    let k = 0;
    for (let i = this.phase; i < input.length; i += RESAMPLE_FACTOR) {
      // y = Σ h[j]·x[i − j]; ext index of x[i] is i + n − 1.
      let acc = 0;
      const base = i + n - 1;
      for (let j = 0; j < n; j++) acc += this.h[j]! * ext[base - j]!;
      out[k++] = clamp16(acc);
    }
    this.phase = (this.phase - input.length) % RESAMPLE_FACTOR;
    if (this.phase < 0) this.phase += RESAMPLE_FACTOR;
    this.hist = ext.slice(ext.length - (n - 1));
    return out;
  }
}

/** 8 kHz → 48 kHz. Every input sample yields 6 output samples; 160 in → 960 out. */
export class Interpolator8to48 {
  /** Polyphase branches: phases[p][m] = 6·h[p + 6m]. */
  private readonly phases: Float64Array[];
  private readonly perPhase: number;
  /** The last perPhase-1 input samples, oldest first. */
  private hist: Float64Array;

  constructor() {
    this.perPhase = LOW_PASS.length / RESAMPLE_FACTOR;
    this.phases = Array.from({ length: RESAMPLE_FACTOR }, (_, p) =>
      Float64Array.from(
        { length: this.perPhase },
        (_, m) => RESAMPLE_FACTOR * LOW_PASS[p + m * RESAMPLE_FACTOR]!,
      ),
    );
    this.hist = new Float64Array(this.perPhase - 1);
  }

  process(input: Int16Array): Int16Array {
    const m = this.perPhase;
    const ext = new Float64Array(m - 1 + input.length);
    ext.set(this.hist);
    for (let i = 0; i < input.length; i++) ext[m - 1 + i] = input[i]!;
    const out = new Int16Array(input.length * RESAMPLE_FACTOR);
    for (let k = 0; k < input.length; k++) {
      const base = k + m - 1;
      for (let p = 0; p < RESAMPLE_FACTOR; p++) {
        const ph = this.phases[p]!;
        let acc = 0;
        for (let j = 0; j < m; j++) acc += ph[j]! * ext[base - j]!;
        out[k * RESAMPLE_FACTOR + p] = clamp16(acc);
      }
    }
    this.hist = ext.slice(ext.length - (m - 1));
    return out;
  }
}
