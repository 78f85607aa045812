/**
 * Layout helpers for the call screen on any screen size (docs/browsers.md, "Phones"):
 * - the self-view moved by touch, pen or mouse (pointer events), snapping to the nearest corner;
 * - the visual viewport (what the on-screen keyboard leaves visible) as CSS variables, so the
 *   call and its chat fit above the keyboard;
 * - the widget bar, in the stage on a large screen and in the More sheet on a phone, and the
 *   widget panels' "Back to call" on a phone (the widget stays open for everyone).
 */
import { h, icon } from '../dom.js';

/** Phones: narrow in portrait, or short in landscape. The same query is in mobile.css. */
export const PHONE_QUERY = '(max-width: 720px), (max-height: 500px)';

export type Corner = 'tl' | 'tr' | 'bl' | 'br';

/**
 * Lets the self-view be dragged inside its container; on release it settles in the nearest
 * corner (`data-corner`), which CSS positions with the safe-area insets.
 */
export function draggableSelfView(self: HTMLElement, area: HTMLElement): () => void {
  self.dataset.corner ??= 'br';
  let drag: { id: number; x: number; y: number; moved: boolean } | null = null;
  const down = (ev: PointerEvent): void => {
    if (drag || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
    drag = { id: ev.pointerId, x: ev.clientX, y: ev.clientY, moved: false };
    self.setPointerCapture(ev.pointerId);
    self.classList.add('dragging');
  };
  const move = (ev: PointerEvent): void => {
    if (!drag || ev.pointerId !== drag.id) return;
    const a = area.getBoundingClientRect();
    const s = self.getBoundingClientRect();
    // Keep the whole view inside the area while it follows the finger.
    const base = { x: s.left - currentShift.x, y: s.top - currentShift.y };
    let dx = ev.clientX - drag.x;
    let dy = ev.clientY - drag.y;
    dx = Math.min(Math.max(dx, a.left - base.x), a.right - (base.x + s.width));
    dy = Math.min(Math.max(dy, a.top - base.y), a.bottom - (base.y + s.height));
    currentShift = { x: dx, y: dy };
    drag.moved ||= Math.abs(dx) + Math.abs(dy) > 4;
    self.style.transform = `translate(${dx}px, ${dy}px)`;
  };
  const up = (ev: PointerEvent): void => {
    if (!drag || ev.pointerId !== drag.id) return;
    const moved = drag.moved;
    drag = null;
    self.classList.remove('dragging');
    if (moved) {
      const a = area.getBoundingClientRect();
      const s = self.getBoundingClientRect();
      const cx = s.left + s.width / 2 - a.left;
      const cy = s.top + s.height / 2 - a.top;
      const corner: Corner = `${cy < a.height / 2 ? 't' : 'b'}${cx < a.width / 2 ? 'l' : 'r'}`;
      self.dataset.corner = corner;
    }
    currentShift = { x: 0, y: 0 };
    self.style.transform = '';
  };
  let currentShift = { x: 0, y: 0 };
  self.addEventListener('pointerdown', down);
  self.addEventListener('pointermove', move);
  self.addEventListener('pointerup', up);
  self.addEventListener('pointercancel', up);
  return () => {
    self.removeEventListener('pointerdown', down);
    self.removeEventListener('pointermove', move);
    self.removeEventListener('pointerup', up);
    self.removeEventListener('pointercancel', up);
  };
}

/**
 * Mirrors `visualViewport` into `--app-h` and `--app-top` on the root element: with the
 * on-screen keyboard open, the call (and the chat input at its bottom) stays in the part of the
 * screen the keyboard leaves visible (iOS keeps the layout viewport and scrolls it instead).
 */
export function trackVisualViewport(): () => void {
  const vv = window.visualViewport;
  if (!vv) return () => undefined;
  const root = document.documentElement;
  const sync = (): void => {
    root.style.setProperty('--app-h', `${Math.round(vv.height)}px`);
    root.style.setProperty('--app-top', `${Math.round(vv.offsetTop)}px`);
  };
  sync();
  vv.addEventListener('resize', sync);
  vv.addEventListener('scroll', sync);
  return () => {
    vv.removeEventListener('resize', sync);
    vv.removeEventListener('scroll', sync);
    root.style.removeProperty('--app-h');
    root.style.removeProperty('--app-top');
  };
}

/**
 * On a phone the widget bar moves into the More sheet's "Widgets" section and open widgets
 * fill the screen, with "Back to call" (the widget stays open for everyone; a chip on the call
 * and the widget's button bring it back). On a large screen the bar goes back to the stage.
 */
export function responsiveWidgets(stage: HTMLElement, section: HTMLElement): () => void {
  const bar = stage.querySelector<HTMLElement>('#widget-bar');
  const area = stage.querySelector<HTMLElement>('#widget-area');
  if (!bar || !area) return () => undefined;
  const back = h(
    'button',
    { type: 'button', class: 'widget-back', id: 'widget-back', 'aria-label': 'Back to call' },
    icon('back'),
    h('span', {}, 'Back to call'),
  );
  const chip = h(
    'button',
    { type: 'button', class: 'widget-return', id: 'widget-return', 'aria-label': 'Show widgets' },
    icon('arrow', 'icon icon-sm'),
    h('span', {}, 'Widgets open'),
  );
  area.prepend(back);
  stage.append(chip);
  const minimize = (on: boolean): void => void stage.classList.toggle('widgets-minimized', on);
  back.addEventListener('click', () => minimize(true));
  chip.addEventListener('click', () => minimize(false));
  // A minimized widget's button brings it back instead of closing it for everyone.
  const onBar = (ev: MouseEvent): void => {
    const b = (ev.target as Element).closest<HTMLElement>('.widget-btn');
    if (!b || !stage.classList.contains('widgets-minimized')) return;
    if (b.getAttribute('aria-pressed') === 'true') {
      ev.stopPropagation();
      minimize(false);
    }
  };
  bar.addEventListener('click', onBar, true);
  // A widget opened (by anyone) shows itself; none open, nothing is minimized.
  let count = Number(area.dataset.count ?? 0);
  const counted = new MutationObserver(() => {
    const n = Number(area.dataset.count ?? 0);
    if (n > count || n === 0) minimize(false);
    count = n;
  });
  counted.observe(area, { attributes: true, attributeFilter: ['data-count'] });
  const mq = window.matchMedia(PHONE_QUERY);
  const place = (): void => {
    if (mq.matches) section.append(bar);
    else if (bar.parentElement !== stage) stage.prepend(bar);
    stage.classList.toggle('widget-bar-away', mq.matches);
  };
  place();
  mq.addEventListener('change', place);
  return () => {
    mq.removeEventListener('change', place);
    counted.disconnect();
    bar.removeEventListener('click', onBar, true);
    counted.disconnect();
    back.remove();
    chip.remove();
  };
}
