/**
 * The effects governor: a small state machine that watches what each processed frame costs and
 * steps the pipeline down (smaller working size, fewer inferences per second) when the device
 * cannot keep up, then switches processing off. Chime (`filterCPUUtilization`) and Jitsi (device
 * tiers) learnt that a processor that drags the call down must give way by itself.
 *
 * Pure: frame costs in, decisions out; no timers, no clock reads (the caller passes times).
 */

/** One rung of the ladder: the working width (height follows the camera's aspect) and inferences/s. */
export interface EffectLevel {
  readonly maxWidth: number;
  readonly inferFps: number;
}

/** From best to cheapest. Level 0 is ≤ 640×360 (inference never runs above that). */
export const EFFECT_LEVELS: readonly EffectLevel[] = [
  { maxWidth: 640, inferFps: 15 },
  { maxWidth: 480, inferFps: 8 },
  { maxWidth: 320, inferFps: 4 },
];

export type GovernorState = 'running' | 'off';
export type GovernorDecision =
  | { readonly kind: 'keep' }
  | { readonly kind: 'down'; readonly level: number; readonly p50: number }
  | { readonly kind: 'off'; readonly p50: number };

export interface GovernorOptions {
  /** A frame may cost this much main-thread time, ms (p50 over a window). */
  readonly budgetMs: number;
  /** Frames per judgement (a new window starts after each step down). */
  readonly window?: number;
  readonly levels?: readonly EffectLevel[];
}

export class EffectsGovernor {
  readonly budgetMs: number;
  readonly levels: readonly EffectLevel[];
  readonly #window: number;
  #level = 0;
  #state: GovernorState = 'running';
  #costs: number[] = [];

  constructor(o: GovernorOptions) {
    if (!(o.budgetMs > 0)) throw new RangeError('budgetMs must be > 0');
    this.budgetMs = o.budgetMs;
    this.levels = o.levels ?? EFFECT_LEVELS;
    this.#window = Math.max(3, o.window ?? 30);
  }

  get state(): GovernorState {
    return this.#state;
  }
  get level(): number {
    return this.#level;
  }
  get current(): EffectLevel {
    return this.levels[this.#level] as EffectLevel;
  }

  /** Records one frame's cost (ms); says whether to keep going, step down or switch off. */
  record(costMs: number): GovernorDecision {
    if (this.#state === 'off') return { kind: 'keep' };
    if (!Number.isFinite(costMs) || costMs < 0) return { kind: 'keep' };
    this.#costs.push(costMs);
    if (this.#costs.length < this.#window) return { kind: 'keep' };
    const p50 = median(this.#costs);
    this.#costs = [];
    if (p50 <= this.budgetMs) return { kind: 'keep' };
    if (this.#level + 1 < this.levels.length) {
      this.#level++;
      return { kind: 'down', level: this.#level, p50 };
    }
    this.#state = 'off';
    return { kind: 'off', p50 };
  }

  /** Starts again at the best level (a new chain, or the user turned effects back on). */
  reset(): void {
    this.#level = 0;
    this.#state = 'running';
    this.#costs = [];
  }
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Nearest-rank quantile (0 for an empty list). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i] as number;
}

/** Working size for a source of `w`×`h` under `maxWidth` (even numbers, aspect kept, ≤ 360 high at 640). */
export function workingSize(w: number, h: number, maxWidth: number): { w: number; h: number } {
  if (!(w > 0 && h > 0))
    return { w: Math.min(maxWidth, 640), h: Math.round(Math.min(maxWidth, 640) * 0.5625) };
  const scale = Math.min(1, maxWidth / w, (maxWidth * 0.5625) / h);
  const even = (x: number): number => Math.max(2, 2 * Math.round((x * scale) / 2));
  return { w: even(w), h: even(h) };
}
