/**
 * Sparklines: a series of numbers scaled into an SVG polyline. `sparklinePoints` is pure (unit
 * tested); `Sparkline` keeps the last N values and redraws one `<svg>`.
 */

/**
 * Points of a polyline for `values` in a `width`×`height` box: x spread evenly over `slots`
 * (so a short series starts at the left and grows right), y scaled from 0 (bottom) to the
 * largest value, or `max` when given and larger. Non-finite values count as 0. A flat series of
 * zeros lies on the bottom edge.
 */
export function sparklinePoints(
  values: readonly number[],
  width: number,
  height: number,
  slots = values.length,
  max?: number,
): string {
  if (values.length === 0 || width <= 0 || height <= 0) return '';
  const clean = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const top = Math.max(max ?? 0, ...clean);
  const n = Math.max(slots, clean.length);
  const step = n > 1 ? width / (n - 1) : 0;
  const round = (x: number): number => Math.round(x * 10) / 10;
  return clean
    .map((v, i) => {
      const y = top > 0 ? height - (v / top) * height : height;
      return `${round(i * step)},${round(y)}`;
    })
    .join(' ');
}

const SVG = 'http://www.w3.org/2000/svg';

export class Sparkline {
  readonly el: SVGSVGElement;
  readonly #line: SVGPolylineElement;
  readonly #values: number[] = [];

  constructor(
    readonly label: string,
    readonly slots = 30,
    readonly width = 120,
    readonly height = 28,
  ) {
    this.el = document.createElementNS(SVG, 'svg');
    this.el.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.el.setAttribute('width', String(width));
    this.el.setAttribute('height', String(height));
    this.el.setAttribute('class', 'spark');
    this.el.setAttribute('role', 'img');
    this.el.setAttribute('aria-label', label);
    this.#line = document.createElementNS(SVG, 'polyline');
    this.#line.setAttribute('fill', 'none');
    this.#line.setAttribute('stroke-width', '1.5');
    this.#line.setAttribute('vector-effect', 'non-scaling-stroke');
    this.el.append(this.#line);
  }

  push(value: number): void {
    this.#values.push(value);
    if (this.#values.length > this.slots) this.#values.shift();
    this.#line.setAttribute(
      'points',
      sparklinePoints(this.#values, this.width, this.height - 2, this.slots),
    );
  }

  get values(): readonly number[] {
    return this.#values;
  }
}
