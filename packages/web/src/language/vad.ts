/**
 * Voice-activity detection for captions, pure: frames of samples in, whole speech segments out.
 * Energy-based with hysteresis, as MiroTalk's client VAD: a segment starts after `startFrames`
 * loud frames in a row (with `preRollFrames` of what came before, so the first syllable is kept),
 * ends after `endFrames` quiet frames or at `maxFrames`; shorter than `minFrames` of speech is
 * dropped. While muted nothing is kept and a segment in progress is thrown away: audio of a muted
 * microphone never leaves the page.
 */

export interface VadOptions {
  /** RMS (0 … 1) above which a frame is loud. Default 0.01 (−40 dBFS). */
  readonly threshold?: number;
  readonly startFrames?: number;
  readonly endFrames?: number;
  readonly maxFrames?: number;
  readonly minFrames?: number;
  readonly preRollFrames?: number;
}

export function rms(frame: Float32Array): number {
  let sum = 0;
  for (const x of frame) sum += x * x;
  return frame.length ? Math.sqrt(sum / frame.length) : 0;
}

export class Vad {
  readonly #o: Required<VadOptions>;
  #pre: Float32Array[] = [];
  #seg: Float32Array[] = [];
  #loudRun = 0;
  #quietRun = 0;
  #speech = 0;
  #inSpeech = false;

  constructor(o: VadOptions = {}) {
    this.#o = {
      threshold: o.threshold ?? 0.01,
      startFrames: o.startFrames ?? 2,
      endFrames: o.endFrames ?? 10,
      maxFrames: o.maxFrames ?? 94,
      minFrames: o.minFrames ?? 5,
      preRollFrames: o.preRollFrames ?? 4,
    };
  }

  get speaking(): boolean {
    return this.#inSpeech;
  }

  /** One frame; returns a finished segment (its frames joined) when one ends here. */
  push(frame: Float32Array, muted: boolean): Float32Array | null {
    if (muted) {
      this.reset();
      return null;
    }
    const loud = rms(frame) > this.#o.threshold;
    if (!this.#inSpeech) {
      this.#pre.push(frame);
      this.#loudRun = loud ? this.#loudRun + 1 : 0;
      if (this.#loudRun >= this.#o.startFrames) {
        this.#inSpeech = true;
        this.#seg = this.#pre.slice(-(this.#o.preRollFrames + this.#o.startFrames));
        this.#speech = this.#loudRun;
        this.#quietRun = 0;
        this.#pre = [];
      } else if (this.#pre.length > this.#o.preRollFrames + this.#o.startFrames) this.#pre.shift();
      return null;
    }
    this.#seg.push(frame);
    if (loud) {
      this.#speech++;
      this.#quietRun = 0;
    } else this.#quietRun++;
    if (this.#quietRun >= this.#o.endFrames || this.#seg.length >= this.#o.maxFrames) {
      const enough = this.#speech >= this.#o.minFrames;
      const out = enough ? join(this.#seg) : null;
      this.reset();
      return out;
    }
    return null;
  }

  reset(): void {
    this.#pre = [];
    this.#seg = [];
    this.#loudRun = 0;
    this.#quietRun = 0;
    this.#speech = 0;
    this.#inSpeech = false;
  }
}

function join(frames: Float32Array[]): Float32Array {
  const out = new Float32Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** A WAV file (16-bit PCM, mono) of float samples in −1 … 1. */
export function wavOf(samples: Float32Array, sampleRate: number): ArrayBuffer {
  const b = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(b);
  const str = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  str(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  str(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    v.setInt16(44 + i * 2, Math.round(s * 32767), true);
  }
  return b;
}
