/**
 * Prepares a canvas widget's frame: the canvas sized to its box in device pixels, cleared, and
 * transformed so that drawing happens in world units fitted into the box (`fit.ts`).
 */
import { fitBox, type Fit } from './fit.js';

export function prepareCanvas(
  canvas: HTMLCanvasElement,
  ctx: CanvasRenderingContext2D,
  box: HTMLElement,
  worldW: number,
  worldH: number,
): Fit {
  const dpr = window.devicePixelRatio || 1;
  const w = box.clientWidth;
  const h = box.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const view = fitBox(worldW, worldH, w, h);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.ox, dpr * view.oy);
  return view;
}
