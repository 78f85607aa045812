/**
 * Screen ↔ world mapping shared by the canvas widgets (drawing board, ping-pong): a fixed world
 * (the board, the court) fitted — letterboxed — into a box of any size, so every screen shows the
 * same picture. Pure; `canvas.ts` applies it to a canvas.
 */
export interface Fit {
  readonly scale: number;
  readonly ox: number;
  readonly oy: number;
}

/** A `worldW` x `worldH` world fitted into a `w` x `h` box (the scale never reaches 0). */
export function fitBox(worldW: number, worldH: number, w: number, h: number): Fit {
  const scale = Math.max(1e-6, Math.min(w / worldW, h / worldH));
  return { scale, ox: (w - worldW * scale) / 2, oy: (h - worldH * scale) / 2 };
}
