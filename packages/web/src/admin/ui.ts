/** Small view helpers of the console: tables, badges, times, notices. */
import { h } from '../dom.js';
import { ApiError } from './rest.js';
import type { PageContext, PageView } from './page.js';

export { h };

/** What a page gets (the page API, page.ts). */
export type ViewContext = PageContext;
/** A mounted page. */
export type View = PageView;

/** A page before it is given an icon and a group (the SIP pages, registered in pages.ts). */
export interface Tab {
  readonly id: string;
  readonly title: string;
  mount(ctx: ViewContext, arg: string | undefined): View;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError)
    return err.status ? `${err.message} (${err.status} ${err.code})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function section(title: string, ...children: Array<Node | string>): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

export function badge(text: string, kind = ''): HTMLElement {
  return h('span', { class: `badge ${kind}`.trim() }, text);
}

export function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

export type Cell = Node | string;

/** A table that turns into labelled cards on narrow screens (`data-label` per cell). */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<readonly Cell[]>,
): HTMLElement {
  const thead = h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t))));
  const tbody = h(
    'tbody',
    {},
    ...rows.map((r) =>
      h('tr', {}, ...r.map((c, i) => h('td', { 'data-label': headers[i] ?? '' }, c))),
    ),
  );
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' }, thead, tbody));
}

export function button(
  text: string,
  onClick: (b: HTMLButtonElement) => void | Promise<void>,
  kind: 'primary' | 'danger' | 'ghost' = 'ghost',
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `btn btn-${kind}`, ...attrs }, text);
  b.addEventListener('click', () => {
    b.disabled = true;
    void Promise.resolve(onClick(b)).finally(() => {
      b.disabled = false;
    });
  });
  return b;
}

/** Replaces an element's children (keeps the element, so focus elsewhere is not lost). */
export function fill(el: Element, ...children: Array<Node | string>): void {
  el.replaceChildren(...children);
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return `${d} d ${hh} h ${mm} min`;
  if (hh > 0) return `${hh} h ${mm} min`;
  if (mm > 0) return `${mm} min ${ss} s`;
  return `${ss} s`;
}

/** "in 4 min 10 s" / "12 s ago" relative to now. */
export function relative(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  return t >= now ? `in ${duration(t - now)}` : `${duration(now - t)} ago`;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function count(n: number): string {
  return n.toLocaleString('en');
}
