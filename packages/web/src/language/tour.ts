/**
 * The first-visit tour of the call: a few steps over the call controls and the widget bar,
 * non-modal (the call stays usable under it), dismissible at any step, and remembered in this
 * browser so it shows once.
 */
import { h } from '../dom.js';

const DONE_KEY = 'tfx.tour.done';

const STEPS: ReadonlyArray<{
  readonly target: string;
  readonly title: string;
  readonly text: string;
}> = [
  { target: '#toggle-mic', title: 'Microphone', text: 'Mute and unmute yourself here.' },
  { target: '#toggle-camera', title: 'Camera', text: 'Turn your camera on or off.' },
  { target: '#toggle-screen', title: 'Share', text: 'Present your screen or a window.' },
  {
    target: '#widget-bar',
    title: 'Widgets',
    text: 'Open a widget for everyone: messages, multilingual chat, drawing, introductions, a visualizer…',
  },
  { target: '#leave', title: 'Leave', text: 'Leave the call when you are done.' },
];

function done(): boolean {
  try {
    return localStorage.getItem(DONE_KEY) === '1';
  } catch {
    return true; // no storage: never nag
  }
}

/**
 * Shows the tour unless this browser has seen it. Automated browsers (`navigator.webdriver`:
 * Playwright, Selenium) skip it unless the page URL says `tour=1`, so it does not sit over the
 * controls that other tests click.
 */
export function mountTour(root: HTMLElement): () => void {
  const forced = new URLSearchParams(location.search).get('tour') === '1';
  if (done() || (navigator.webdriver && !forced)) return () => undefined;
  let i = 0;
  const title = h('strong', { class: 'tour-title' });
  const text = h('p', { class: 'tour-text' });
  const count = h('span', { class: 'tour-count' });
  const next = h('button', { type: 'button', class: 'tour-next', id: 'tour-next' }, 'Next');
  const skip = h(
    'button',
    { type: 'button', class: 'tour-skip', id: 'tour-skip' },
    'Got it, hide the tour',
  );
  const card = h(
    'aside',
    {
      class: 'tour',
      id: 'tour',
      role: 'dialog',
      'aria-label': 'Tour of the call',
      'aria-modal': 'false',
    },
    title,
    text,
    h('div', { class: 'tour-actions' }, count, skip, next),
  );
  let marked: Element | null = null;
  const show = (): void => {
    const s = STEPS[i];
    if (!s) return finish();
    title.textContent = s.title;
    text.textContent = s.text;
    count.textContent = `${i + 1} / ${STEPS.length}`;
    next.textContent = i === STEPS.length - 1 ? 'Done' : 'Next';
    marked?.classList.remove('tour-target');
    marked = root.querySelector(s.target);
    marked?.classList.add('tour-target');
  };
  const finish = (): void => {
    try {
      localStorage.setItem(DONE_KEY, '1');
    } catch {
      /* shown again next time */
    }
    close();
  };
  const close = (): void => {
    marked?.classList.remove('tour-target');
    card.remove();
  };
  next.addEventListener('click', () => {
    i++;
    show();
  });
  skip.addEventListener('click', finish);
  root.append(card);
  show();
  return close;
}
