/**
 * Face boxes smoothed over time so overlays do not jitter (Jitsi #11322: "disable face
 * centering", it jittered). Detections arrive at ≤ 2/s; every frame the shown box moves a share
 * of the way toward the last detection (an exponential approach), and a face not seen for
 * `holdMs` fades out. Pure: times are passed in.
 */

/** A box in fractions of the frame (0 … 1). */
export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly score?: number;
}

export interface FaceTrackOptions {
  /** Time constant of the approach toward a new detection, ms. */
  readonly tauMs?: number;
  /** How long a face stays without a new detection, ms. */
  readonly holdMs?: number;
}

export class FaceTrack {
  readonly #tau: number;
  readonly #hold: number;
  #target: FaceBox | null = null;
  #shown: FaceBox | null = null;
  #seenAt = 0;
  #at = 0;

  constructor(o: FaceTrackOptions = {}) {
    this.#tau = o.tauMs ?? 250;
    this.#hold = o.holdMs ?? 2500;
  }

  /** A detection result (the largest face is tracked; `[]` = none seen). */
  detected(boxes: readonly FaceBox[], now: number): void {
    const best = [...boxes].sort((a, b) => b.w * b.h - a.w * a.h)[0];
    if (!best || !isBox(best)) return;
    this.#target = best;
    this.#seenAt = now;
    // A jump across the frame (a new face) snaps instead of sliding.
    if (!this.#shown || distance(this.#shown, best) > 0.5) {
      this.#shown = best;
      this.#at = now;
    }
  }

  /** The box to draw at `now` (or null). */
  at(now: number): FaceBox | null {
    if (!this.#target || !this.#shown) return null;
    if (now - this.#seenAt > this.#hold) {
      this.#target = null;
      this.#shown = null;
      return null;
    }
    const dt = Math.max(0, now - this.#at);
    this.#at = now;
    const k = 1 - Math.exp(-dt / this.#tau);
    const s = this.#shown;
    const t = this.#target;
    this.#shown = {
      x: s.x + (t.x - s.x) * k,
      y: s.y + (t.y - s.y) * k,
      w: s.w + (t.w - s.w) * k,
      h: s.h + (t.h - s.h) * k,
    };
    return this.#shown;
  }
}

function isBox(b: FaceBox): boolean {
  return [b.x, b.y, b.w, b.h].every((v) => Number.isFinite(v)) && b.w > 0 && b.h > 0;
}

function distance(a: FaceBox, b: FaceBox): number {
  return Math.hypot(a.x + a.w / 2 - (b.x + b.w / 2), a.y + a.h / 2 - (b.y + b.h / 2));
}
