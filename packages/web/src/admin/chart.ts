/**
 * Small dependency-free SVG charts for the console (served from our origin, no inline script:
 * fine under the CSP). Colours come from CSS classes (`series-0`…`series-5`), so both themes work.
 *
 * - `lineChart` — one or more series over time (rooms and participants, per-process load); a null
 *   value is a gap (not measured), never drawn as 0.
 * - `stackedBars` — a bar per sample, stacked by key (SIP requests by method, responses by class).
 *
 * The scale math is pure (`niceMax`, `ticks`) and unit-tested.
 */
const NS = 'http://www.w3.org/2000/svg';
const W = 420;
const H = 170;
const PAD = { l: 40, r: 10, t: 10, b: 24 };

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The largest value a chart draws (past it a value is drawn at the top: a bad counter, not data). */
export const MAX_VALUE = 1e15;

/** A value a chart can draw: NaN, -Infinity and negatives are 0; huge ones and +Infinity MAX_VALUE. Pure. */
export function clean(v: number): number {
  return typeof v === 'number' && v > 0 ? Math.min(v, MAX_VALUE) : 0;
}

/** A round upper bound ≥ max (1, 2, 2.5, 5 × 10^n); at least `floor` (a bad floor is 1). */
export function niceMax(max: number, floor = 1): number {
  const m = Math.max(clean(max), clean(floor) || 1);
  const p = 10 ** Math.floor(Math.log10(m));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= m) return f * p;
  return 10 * p;
}

/** Evenly spaced ticks from 0 to `max` (a `niceMax`): 4 or 5 steps, whichever is rounder. */
export function ticks(max: number): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0];
  const f = Math.round((max / 10 ** Math.floor(Math.log10(max || 1))) * 10) / 10;
  const n = f === 1 || f === 2.5 || f === 5 ? 5 : 4;
  return Array.from({ length: n + 1 }, (_, i) => (max * i) / n);
}

export interface Series {
  readonly name: string;
  /** One value per sample; null: none measured there (a gap in the line). */
  readonly values: ReadonlyArray<number | null>;
}

export interface ChartOptions {
  readonly label: string;
  /** Formats a y value (axis and legend). */
  readonly format?: (v: number) => string;
  /** Times of the samples (ISO), for the x-axis ends. */
  readonly times?: readonly string[];
  readonly floor?: number;
}

function frame(o: ChartOptions, max: number): SVGSVGElement {
  const svg = el('svg', {
    class: 'chart',
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': o.label,
  });
  const fmt = o.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  for (const t of ticks(max)) {
    const y = PAD.t + (H - PAD.t - PAD.b) * (1 - t / max);
    svg.append(el('line', { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: 'grid-line' }));
    svg.append(el('text', { x: PAD.l - 6, y: y + 4, class: 'axis y' }, fmt(t)));
  }
  const times = o.times ?? [];
  if (times.length > 1) {
    // Seconds too when the window is shorter than 10 minutes (both ends would read the same).
    const span = Date.parse(times.at(-1)!) - Date.parse(times[0]!);
    const hm = (iso: string) =>
      new Date(iso).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
        ...(span < 600_000 && { second: '2-digit' }),
      });
    svg.append(el('text', { x: PAD.l, y: H - 6, class: 'axis x start' }, hm(times[0]!)));
    svg.append(el('text', { x: W - PAD.r, y: H - 6, class: 'axis x end' }, hm(times.at(-1)!)));
  }
  return svg;
}

function legend(names: readonly string[], last: readonly string[]): HTMLElement {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  names.forEach((n, i) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch series-${i % 6}`;
    li.append(sw, `${n} `);
    const v = document.createElement('strong');
    v.textContent = last[i] ?? '';
    li.append(v);
    ul.append(li);
  });
  return ul;
}

/** Lines over time (a null is a gap; a point alone is a dot); the legend shows each series' last value. */
export function lineChart(raw: readonly Series[], o: ChartOptions): HTMLElement {
  const series = raw.map((s) => ({
    name: s.name,
    values: s.values.map((v) => (v === null ? null : clean(v))),
  }));
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const drawn = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...drawn), o.floor ?? 1);
  const svg = frame(o, max);
  const x = (i: number) => PAD.l + ((W - PAD.l - PAD.r) * i) / Math.max(1, n - 1);
  const y = (v: number) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max);
  series.forEach((s, si) => {
    const off = n - s.values.length; // shorter series end at the right edge
    const parts: string[] = [];
    s.values.forEach((v, i) => {
      if (v === null) return;
      const joined = i > 0 && s.values[i - 1] !== null;
      parts.push(`${joined ? 'L' : 'M'}${x(i + off).toFixed(1)},${y(v).toFixed(1)}`);
      // A point with no neighbour would draw nothing: a dot says it was measured.
      if (!joined && (i + 1 >= s.values.length || s.values[i + 1] === null))
        svg.append(
          el('circle', {
            cx: x(i + off).toFixed(1),
            cy: y(v).toFixed(1),
            r: 2.5,
            class: `dot series-${si % 6}`,
          }),
        );
    });
    if (parts.length > 0)
      svg.append(el('path', { d: parts.join(' '), class: `line series-${si % 6}` }));
  });
  const fmt = o.format ?? ((v: number) => String(v));
  const wrap = document.createElement('figure');
  wrap.className = 'chart-box';
  wrap.append(
    svg,
    legend(
      series.map((s) => s.name),
      // The legend tells the truth about a value the chart could not draw; a gap is "–".
      raw.map((s) => {
        const v = s.values.at(-1);
        return v === undefined || v === null ? '–' : Number.isFinite(v) ? fmt(v) : String(v);
      }),
    ),
  );
  return wrap;
}

/** A bar per sample stacked by key; the legend shows each key's total over the window. */
export function stackedBars(
  raw: ReadonlyArray<Readonly<Record<string, number>>>,
  o: ChartOptions & { readonly order?: readonly string[] },
): HTMLElement {
  const samples = raw.map((s) =>
    Object.fromEntries(Object.entries(s).map(([k, v]) => [k, clean(v)])),
  );
  const keys = [...new Set([...(o.order ?? []), ...samples.flatMap((s) => Object.keys(s))])].filter(
    (k) => samples.some((s) => (s[k] ?? 0) > 0),
  );
  const totals = samples.map((s) => keys.reduce((a, k) => a + (s[k] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals), o.floor ?? 1);
  const svg = frame(o, max);
  const slot = (W - PAD.l - PAD.r) / Math.max(1, samples.length);
  const bw = Math.max(1, slot * 0.7);
  const scale = (H - PAD.t - PAD.b) / max;
  samples.forEach((s, i) => {
    let base = H - PAD.b;
    keys.forEach((k, ki) => {
      const v = s[k] ?? 0;
      if (v <= 0) return;
      const h = v * scale;
      base -= h;
      const r = el('rect', {
        x: (PAD.l + i * slot + (slot - bw) / 2).toFixed(1),
        y: base.toFixed(1),
        width: bw.toFixed(1),
        height: h.toFixed(1),
        class: `bar-seg series-${ki % 6}`,
      });
      r.append(el('title', {}, `${k}: ${v}`));
      svg.append(r);
    });
  });
  const wrap = document.createElement('figure');
  wrap.className = 'chart-box';
  if (keys.length === 0) {
    const none = document.createElement('p');
    none.className = 'legend muted';
    none.textContent = 'None in this window.';
    wrap.append(svg, none);
    return wrap;
  }
  wrap.append(
    svg,
    legend(
      keys,
      keys.map((k) => String(samples.reduce((a, s) => a + (s[k] ?? 0), 0))),
    ),
  );
  return wrap;
}
