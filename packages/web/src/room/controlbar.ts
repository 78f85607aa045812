/**
 * The call's control bar and its overflow menu ("More"), priority+ style: every control sits in
 * the bar while they all fit; when they do not (a phone, a narrow window), the least important
 * ones move, as the same elements (same ids, handlers and state), into the More sheet, a bottom
 * sheet `<dialog>`, in bar order. Nothing is duplicated, so a test or a feature that finds a
 * control by id or role finds it in the bar or in the sheet.
 *
 * Adding a control is one entry (docs/browsers.md, "Phones"): a `.ctl` button with an icon, a
 * `.ctl-label` and an aria-label, inserted into the bar before `#leave` — `bar.add(el, 4)`, or
 * `controls.insertBefore(el, leave)` with `data-priority` set (the bar notices insertions).
 * Priority: 0 never leaves the bar, 1 is kept longest, higher numbers move first;
 * DEFAULT_PRIORITY when unset.
 *
 * Sections (`section(id, title)`) hold things that live elsewhere on a large screen and in the
 * sheet on a phone (the widget bar); the More button shows whenever the sheet has a button.
 */
import { h, icon } from '../dom.js';

export const DEFAULT_PRIORITY = 6;

export interface ControlBar {
  /** The `<nav class="controls">`. */
  readonly el: HTMLElement;
  /** The More button (hidden while everything fits). */
  readonly more: HTMLButtonElement;
  /** The More sheet (a modal `<dialog>`, to be placed in the page by the caller). */
  readonly sheet: HTMLDialogElement;
  /** Adds a control before `#leave` (or at the end) with this priority. */
  add(control: HTMLElement, priority?: number): void;
  /** A titled section of the sheet; what is put in it shows in the sheet only. */
  section(id: string, title: string): HTMLElement;
  /** Controls now in the sheet (for tests and the debug handle). */
  overflowed(): HTMLElement[];
  /** Re-measures (done by itself on resize and on insertion). */
  refit(): void;
  destroy(): void;
}

const priorityOf = (el: HTMLElement): number => {
  const p = Number(el.dataset.priority);
  return Number.isFinite(p) && el.dataset.priority !== '' ? p : DEFAULT_PRIORITY;
};

export function createControlBar(controls: readonly HTMLElement[]): ControlBar {
  const el = h('nav', { class: 'controls', 'aria-label': 'Call controls' });
  const more = h(
    'button',
    {
      type: 'button',
      class: 'ctl ctl-more',
      id: 'more-controls',
      'aria-label': 'More',
      title: 'More',
      'aria-haspopup': 'dialog',
      'aria-controls': 'more-sheet',
      'aria-expanded': 'false',
      'data-priority': 0,
      hidden: true,
    },
    icon('more'),
    h('span', { class: 'ctl-label' }, 'More'),
  );
  const grid = h('div', { class: 'more-grid', role: 'group', 'aria-label': 'More controls' });
  const done = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Close menu', title: 'Close' },
    icon('close'),
  );
  const inner = h(
    'div',
    { class: 'more-inner' },
    h('header', { class: 'more-head' }, h('h2', { id: 'more-title' }, 'More'), done),
    grid,
  );
  const sheet = h(
    'dialog',
    { class: 'more-sheet', id: 'more-sheet', 'aria-labelledby': 'more-title' },
    inner,
  );
  const sections: HTMLElement[] = [];

  /** The controls in bar order, wherever each is now. */
  const order: HTMLElement[] = [...controls];
  el.append(...controls);

  const leaveOf = (): HTMLElement | null => order.find((c) => c.id === 'leave') ?? null;
  const placeMore = (): void => {
    const leave = leaveOf();
    if (leave && leave.parentElement === el) el.insertBefore(more, leave);
    else el.append(more);
  };
  placeMore();

  let moving = false;
  const fits = (): boolean => {
    const cs = getComputedStyle(el);
    const gap = parseFloat(cs.columnGap) || 0;
    const kids = [...el.children].filter((c) => (c as HTMLElement).offsetWidth > 0);
    const needed =
      kids.reduce((a, c) => a + (c as HTMLElement).offsetWidth, 0) +
      gap * Math.max(0, kids.length - 1);
    const avail =
      el.clientWidth - (parseFloat(cs.paddingLeft) || 0) - (parseFloat(cs.paddingRight) || 0);
    return needed <= avail + 0.5;
  };
  const sectionsUsed = (): boolean => sections.some((s) => s.querySelector('button') !== null);

  const refit = (): void => {
    if (el.clientWidth === 0) return; // not laid out (the call is starting)
    moving = true;
    try {
      for (const c of order) el.insertBefore(c, leaveOf() === c ? null : more);
      placeMore();
      more.hidden = true;
      if (!fits()) {
        more.hidden = false;
        const candidates = order
          .map((c, i) => ({ c, i, p: priorityOf(c) }))
          .filter((x) => x.p > 0)
          .sort((a, b) => b.p - a.p || b.i - a.i);
        const out = new Set<HTMLElement>();
        for (const { c } of candidates) {
          if (fits()) break;
          out.add(c);
          c.remove();
        }
        grid.replaceChildren(...order.filter((c) => out.has(c)));
      } else grid.replaceChildren();
      more.hidden = grid.childElementCount === 0 && !sectionsUsed();
      grid.hidden = grid.childElementCount === 0;
      el.dataset.overflow = String(grid.childElementCount);
    } finally {
      observer.takeRecords();
      moving = false;
    }
  };

  // Controls inserted into the bar by other modules join the order where they were put.
  const observer = new MutationObserver((records) => {
    if (moving) return;
    let changed = false;
    for (const r of records) {
      if (r.target !== el) {
        changed = true; // a section's content changed
        continue;
      }
      for (const n of r.addedNodes) {
        if (!(n instanceof HTMLElement) || n === more || order.includes(n)) continue;
        let next = n.nextElementSibling as HTMLElement | null;
        if (next === more) next = leaveOf();
        const at = next ? order.indexOf(next) : -1;
        order.splice(at < 0 ? order.length : at, 0, n);
        changed = true;
      }
      for (const n of r.removedNodes) {
        const i = order.indexOf(n as HTMLElement);
        if (i >= 0 && !n.isConnected) {
          order.splice(i, 1);
          changed = true;
        }
      }
    }
    if (changed) refit();
  });
  observer.observe(el, { childList: true });
  observer.observe(inner, { childList: true, subtree: true });

  let width = 0;
  const ro = new ResizeObserver(() => {
    if (el.clientWidth === width) return;
    width = el.clientWidth;
    refit();
  });
  ro.observe(el);

  // --- the sheet ------------------------------------------------------------------------------
  const setOpen = (open: boolean): void => {
    if (open && !sheet.open) sheet.showModal();
    else if (!open && sheet.open) sheet.close();
  };
  more.addEventListener('click', () => setOpen(!sheet.open));
  done.addEventListener('click', () => setOpen(false));
  sheet.addEventListener('close', () => more.setAttribute('aria-expanded', 'false'));
  const onToggle = (): void => more.setAttribute('aria-expanded', String(sheet.open));
  sheet.addEventListener('toggle', onToggle);
  // A tap on the backdrop (the dialog itself, outside the inner box) closes the sheet.
  sheet.addEventListener('click', (ev) => {
    if (ev.target === sheet) setOpen(false);
  });
  // Using a control closes the sheet first (capture phase), so what the control opens (the
  // chat, a dialog, a widget) gets the focus, not the More button the sheet returns it to.
  inner.addEventListener(
    'click',
    (ev) => {
      const b = (ev.target as Element).closest('button');
      if (b && b !== done && inner.contains(b)) setOpen(false);
    },
    true,
  );

  return {
    el,
    more,
    sheet,
    add(control, priority) {
      if (priority !== undefined) control.dataset.priority = String(priority);
      const leave = leaveOf();
      el.insertBefore(control, leave?.parentElement === el ? (more.hidden ? leave : more) : null);
    },
    section(id, title) {
      const body = h('div', { class: 'more-section-body' });
      const s = h(
        'section',
        { class: 'more-section', id, 'aria-label': title },
        h('h3', { class: 'more-title' }, title),
        body,
      );
      sections.push(s);
      inner.append(s);
      return body;
    },
    overflowed: () => [...grid.children] as HTMLElement[],
    refit,
    destroy() {
      observer.disconnect();
      ro.disconnect();
      if (sheet.open) sheet.close();
    },
  };
}
