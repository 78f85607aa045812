/**
 * Colour filters: each name maps to a CSS filter list that the 2D canvas applies while drawing
 * (`ctx.filter`, GPU-composited where the browser has a GPU). No model. Pure.
 */
import type { VideoFilterName } from '@tfx/protocol/widgets';

/** The CSS `filter` value for a filter at an intensity (0 … 1). */
export function cssFilter(name: VideoFilterName, intensity = 1): string {
  const i = Math.min(1, Math.max(0, intensity));
  const r = (x: number): string => String(Math.round(x * 1000) / 1000);
  switch (name) {
    case 'grayscale':
      return `grayscale(${r(i)})`;
    case 'sepia':
      return `sepia(${r(i)})`;
    case 'warm':
      return `sepia(${r(0.35 * i)}) saturate(${r(1 + 0.4 * i)}) hue-rotate(${r(-10 * i)}deg)`;
    case 'cool':
      return `sepia(${r(0.3 * i)}) hue-rotate(${r(170 * i)}deg) saturate(${r(1 + 0.2 * i)})`;
    case 'high-contrast':
      return `contrast(${r(1 + 0.8 * i)}) saturate(${r(1 + 0.2 * i)})`;
    case 'vivid':
      return `saturate(${r(1 + 1.2 * i)}) contrast(${r(1 + 0.1 * i)})`;
    case 'invert':
      return `invert(${r(i)})`;
  }
}
