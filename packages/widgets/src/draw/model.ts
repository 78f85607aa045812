/**
 * The drawing board's pure model: strokes in board coordinates (a fixed 1600 x 1000 board, fitted
 * to any screen), who drew them, undo of one's own strokes, clear, validation of what peers send,
 * and the state a late joiner receives. No DOM.
 */
import { fitBox, type Fit } from '../shared/fit.js';

export type { Fit };
export const BOARD_W = 1600;
export const BOARD_H = 1000;
export const MAX_POINTS = 20_000; // per stroke, flattened x,y pairs count twice
export const MAX_STROKES = 5_000;
export const WIDTHS = [2, 4, 8, 16] as const;

export interface Stroke {
  readonly id: string;
  readonly author: string;
  readonly color: string;
  readonly width: number;
  /** Flattened x,y pairs, integers in board units. */
  readonly points: number[];
}

const COLOR = /^#[0-9a-f]{6}$/i;

export const isColor = (v: unknown): v is string => typeof v === 'string' && COLOR.test(v);
export const isWidth = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 1 && v <= 64;

/** Valid points: an even-length array of finite numbers, clamped to the board and rounded. */
export function cleanPoints(v: unknown): number[] | undefined {
  if (!Array.isArray(v) || v.length % 2 !== 0 || v.length > MAX_POINTS) return undefined;
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const n: unknown = v[i];
    if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
    const max = i % 2 === 0 ? BOARD_W : BOARD_H;
    out.push(Math.round(Math.min(max, Math.max(0, n))));
  }
  return out;
}

export function isStroke(v: unknown): v is Stroke {
  const s = v as Stroke;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.id === 'string' &&
    s.id.length > 0 &&
    s.id.length <= 128 &&
    typeof s.author === 'string' &&
    s.author.length <= 128 &&
    isColor(s.color) &&
    isWidth(s.width) &&
    cleanPoints(s.points) !== undefined
  );
}

export interface BoardState {
  readonly strokes: Stroke[];
  /** Clears seen so far (a stroke begun before a clear it did not see still belongs after it). */
  readonly clears: number;
}

export class Board {
  #strokes = new Map<string, Stroke>();
  #clears = 0;

  get strokes(): readonly Stroke[] {
    return [...this.#strokes.values()];
  }

  get size(): number {
    return this.#strokes.size;
  }

  get clears(): number {
    return this.#clears;
  }

  get(id: string): Stroke | undefined {
    return this.#strokes.get(id);
  }

  /** Starts (or replaces) a stroke. False when the board is full or the stroke invalid. */
  begin(stroke: Stroke): boolean {
    if (!isStroke(stroke)) return false;
    if (!this.#strokes.has(stroke.id) && this.#strokes.size >= MAX_STROKES) return false;
    this.#strokes.set(stroke.id, { ...stroke, points: cleanPoints(stroke.points) ?? [] });
    return true;
  }

  /** Appends points to a stroke; only its author may extend it. */
  extend(id: string, author: string, points: unknown): boolean {
    const s = this.#strokes.get(id);
    const pts = cleanPoints(points);
    if (!s || s.author !== author || !pts || s.points.length + pts.length > MAX_POINTS)
      return false;
    s.points.push(...pts);
    return true;
  }

  /** Removes a stroke; only its author may. */
  remove(id: string, author: string): boolean {
    const s = this.#strokes.get(id);
    if (!s || s.author !== author) return false;
    return this.#strokes.delete(id);
  }

  /** The id of `author`'s most recent stroke (what undo removes), if any. */
  lastOf(author: string): string | undefined {
    let last: string | undefined;
    for (const s of this.#strokes.values()) if (s.author === author) last = s.id;
    return last;
  }

  clear(): void {
    this.#strokes.clear();
    this.#clears++;
  }

  state(): BoardState {
    return {
      strokes: this.strokes.map((s) => ({ ...s, points: [...s.points] })),
      clears: this.#clears,
    };
  }

  /**
   * Merges a late joiner's received state: its strokes come first (they are older), then the
   * ones drawn here meanwhile. Invalid strokes are skipped.
   */
  load(state: unknown): number {
    const st = state as Partial<BoardState> | null;
    if (typeof st !== 'object' || st === null || !Array.isArray(st.strokes)) return 0;
    const mine = this.#strokes;
    this.#strokes = new Map();
    let n = 0;
    for (const s of st.strokes)
      if (isStroke(s) && this.#strokes.size < MAX_STROKES) {
        this.#strokes.set(s.id, { ...s, points: cleanPoints(s.points) ?? [] });
        n++;
      }
    for (const [id, s] of mine) if (!this.#strokes.has(id)) this.#strokes.set(id, s);
    if (typeof st.clears === 'number' && Number.isFinite(st.clears))
      this.#clears = Math.max(this.#clears, st.clears);
    return n;
  }
}

/** Screen ↔ board mapping: the board fitted (letterboxed) into a w x h box. */
export const fit = (w: number, h: number): Fit => fitBox(BOARD_W, BOARD_H, w, h);

export function toBoard(f: Fit, x: number, y: number): [number, number] {
  return [
    Math.round(Math.min(BOARD_W, Math.max(0, (x - f.ox) / f.scale))),
    Math.round(Math.min(BOARD_H, Math.max(0, (y - f.oy) / f.scale))),
  ];
}
