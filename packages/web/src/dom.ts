/** Tiny DOM helpers: element creation without a framework, icons, announcements. */
import { ICONS, type IconName } from './icons.js';

type Attrs = Record<string, string | number | boolean | undefined | null>;
type Child = Node | string | null | undefined | false;

/** Creates an element: `h('button', { class: 'btn', 'aria-label': 'Mute' }, 'text')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Each icon's SVG, parsed once (the call screen draws ~25 icons; parsing each is ~0.5 ms). */
const parsedIcons = new Map<IconName, Node>();

/** An icon element (static SVG markup from the bundle). */
export function icon(name: IconName, cls = 'icon'): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = cls;
  let svg = parsedIcons.get(name);
  if (!svg) {
    const t = document.createElement('template');
    t.innerHTML = ICONS[name];
    svg = t.content;
    parsedIcons.set(name, svg);
  }
  span.append(document.importNode(svg, true));
  return span;
}

export function $(selector: string, root: ParentNode = document): HTMLElement {
  const el = root.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

/** Polite screen-reader announcement plus a short visual toast. */
export function toast(text: string, kind: 'info' | 'error' = 'info'): void {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(host);
  }
  const t = h('div', { class: `toast toast-${kind}` }, text);
  host.append(t);
  setTimeout(() => t.classList.add('toast-out'), 3200);
  setTimeout(() => t.remove(), 3600);
}

/** Copies text, falling back to a selection when the Clipboard API is unavailable. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'sr-only' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand?.('copy') ?? false;
    ta.remove();
    return ok;
  }
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const s =
    parts.length >= 2
      ? `${parts[0]?.[0] ?? ''}${parts[parts.length - 1]?.[0] ?? ''}`
      : name.slice(0, 2);
  return s.toUpperCase() || '?';
}
