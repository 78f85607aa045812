/**
 * The call page's video effects: the engines and budget given to the local media, the choice
 * remembered per browser (localStorage), an "Effects" control (pre-join and in the call) with its
 * panel, the notices (stepped down, switched off), and the "changed by a widget" chip.
 *
 * Hooks into the page: `setupEffects(media)` once the camera is open (main.ts), `effectsControl`
 * appended to the pre-join screen and the call controls. Nothing here edits those files' markup.
 */
import type { LocalMedia } from '@tfx/sdk';
import {
  BUILTIN_BACKGROUNDS,
  FACE_OVERLAY_STYLES,
  VIDEO_FILTER_NAMES,
  type VideoProcessorChain,
  type VideoProcessorStep,
} from '@tfx/protocol/widgets';
import { h, toast } from '../dom.js';
import { callPageEngines } from './engines.js';
import './effects.css';

const STORE_KEY = 'tfx:effects';
/** The user's own picture is kept in this browser only (never uploaded), up to this size. */
const OWN_PICTURE_MAX = 2 * 1024 * 1024;

/** Budget per frame: `?effectsBudget=MS` (tests and diagnostics), else 40 ms. */
function budgetFromUrl(): number | undefined {
  const v = Number(new URLSearchParams(location.search).get('effectsBudget'));
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

function load(): VideoProcessorStep[] {
  try {
    const raw = localStorage.getItem(STORE_KEY);
    const v: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(v) ? (v as VideoProcessorStep[]) : [];
  } catch {
    return [];
  }
}

function save(chain: VideoProcessorChain): void {
  try {
    if (chain.length) localStorage.setItem(STORE_KEY, JSON.stringify(chain));
    else localStorage.removeItem(STORE_KEY);
  } catch {
    // Storage full (a large own picture) or blocked: the choice just is not remembered.
  }
}

/** Who set the running chain: the user, or a widget (its title, for the chip). */
let setBy: { kind: 'user' } | { kind: 'widget'; id: string; title: string } = { kind: 'user' };
const chipListeners = new Set<() => void>();

/** Gives the local media its engines and applies the remembered choice. Call once. */
export function setupEffects(media: LocalMedia, displayName: () => string): void {
  const budget = budgetFromUrl();
  // `?effectsPath=canvas`: the requestVideoFrameCallback + captureStream path (bench, diagnostics).
  const canvas = new URLSearchParams(location.search).get('effectsPath') === 'canvas';
  media.configureEffects({
    engines: callPageEngines,
    displayName,
    ...(canvas ? { forceCanvas: true } : {}),
    ...(budget !== undefined ? { frameBudgetMs: budget } : {}),
  });
  media.on('effects', (st) => {
    if (st.notice) toast(st.notice.text, st.notice.kind === 'level' ? 'info' : 'error');
    // Remembered per browser, whoever changed it (this panel, a widget, the SDK).
    save(st.chain);
    if (st.chain.length === 0) setBy = { kind: 'user' };
    for (const l of chipListeners) l();
  });
  const saved = load();
  if (saved.length)
    void media.setVideoProcessor(saved).catch(() => {
      save([]);
    });
}

/** A widget changed the effects (media-host.ts): the chip names it until the user takes over. */
export async function setEffectsByWidget(
  media: LocalMedia,
  widget: { id: string; title: string },
  chain: VideoProcessorChain,
): Promise<void> {
  setBy = chain.length ? { kind: 'widget', ...widget } : { kind: 'user' };
  await media.setVideoProcessor(chain);
  for (const l of chipListeners) l();
}

async function setByUser(media: LocalMedia, chain: VideoProcessorChain): Promise<void> {
  setBy = { kind: 'user' };
  await media.setVideoProcessor(chain);
  for (const l of chipListeners) l();
}

const LABELS: Record<string, string> = {
  grayscale: 'Black & white',
  sepia: 'Sepia',
  warm: 'Warm',
  cool: 'Cool',
  'high-contrast': 'High contrast',
  vivid: 'Vivid',
  invert: 'Invert',
  frame: 'Face frame',
  sticker: 'Crown',
  badge: 'Name badge',
  centre: 'Centre my face',
  office: 'Office',
  shelves: 'Bookshelves',
  sunset: 'Sunset',
  plain: 'Plain',
};

/**
 * The "Effects" control and its panel: background (none, blur, built-in pictures, your own
 * picture), colour filter, face overlay. Returns the button (to append to a bar) and a chip
 * that shows while effects run (and who set them).
 */
export function effectsControl(media: LocalMedia): {
  readonly el: HTMLElement;
  readonly chip: HTMLElement;
  destroy(): void;
} {
  const btn = h(
    'button',
    {
      type: 'button',
      class: 'ctl',
      id: 'open-effects',
      'aria-label': 'Video effects',
      title: 'Background, filters and face overlays',
      'aria-haspopup': 'dialog',
    },
    h('span', { class: 'icon effects-icon', 'aria-hidden': 'true' }, '✦'),
    h('span', { class: 'ctl-label' }, 'Effects'),
  );
  const chip = h('div', {
    class: 'effects-chip',
    id: 'effects-chip',
    role: 'status',
    hidden: true,
  });
  const dialog = h('dialog', {
    class: 'effects-dialog',
    id: 'effects-dialog',
    'aria-label': 'Video effects',
  });
  document.body.append(dialog);

  const chain = (): VideoProcessorStep[] => [...media.effects.chain];
  const without = (types: string[]): VideoProcessorStep[] =>
    chain().filter((s) => !types.includes(s.type));
  const apply = (next: VideoProcessorStep[]): void => {
    setByUser(media, next).catch((err: unknown) =>
      toast(err instanceof Error ? err.message : String(err), 'error'),
    );
  };
  const option = (
    group: string,
    value: string,
    label: string,
    pressed: boolean,
    click: () => void,
  ): HTMLButtonElement => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'effects-opt',
        'data-group': group,
        'data-value': value,
        'aria-pressed': String(pressed),
      },
      label,
    );
    b.addEventListener('click', click);
    return b;
  };

  const render = (): void => {
    const c = chain();
    const seg = c.find((s) => s.type === 'blur' || s.type === 'background-image');
    const filter = c.find((s) => s.type === 'filter');
    const face = c.find((s) => s.type === 'face-overlay');
    const file = h('input', {
      type: 'file',
      accept: 'image/png,image/jpeg,image/webp',
      hidden: true,
    });
    file.addEventListener('change', () => {
      const f = file.files?.[0];
      if (!f) return;
      if (f.size > OWN_PICTURE_MAX)
        return toast('That picture is too large (2 MB at most)', 'error');
      const r = new FileReader();
      r.onload = () =>
        apply([
          { type: 'background-image', url: String(r.result) },
          ...without(['blur', 'background-image']),
        ]);
      r.readAsDataURL(f);
    });
    const ownBtn = option(
      'background',
      'own',
      'Your picture…',
      !!(seg?.type === 'background-image' && seg.url),
      () => file.click(),
    );
    dialog.replaceChildren(
      h('h2', {}, 'Video effects'),
      h(
        'p',
        { class: 'muted' },
        'Applied in this browser; others receive the processed video. Your own picture stays here.',
      ),
      h('h3', {}, 'Background'),
      h(
        'div',
        { class: 'effects-row' },
        option('background', 'none', 'None', !seg, () =>
          apply(without(['blur', 'background-image'])),
        ),
        option(
          'background',
          'blur',
          'Blur',
          seg?.type === 'blur' && (seg.strength ?? 10) < 14,
          () => apply([{ type: 'blur', strength: 10 }, ...without(['blur', 'background-image'])]),
        ),
        option(
          'background',
          'blur-strong',
          'Strong blur',
          seg?.type === 'blur' && (seg.strength ?? 10) >= 14,
          () => apply([{ type: 'blur', strength: 18 }, ...without(['blur', 'background-image'])]),
        ),
        ...BUILTIN_BACKGROUNDS.map((b) =>
          option(
            'background',
            b,
            LABELS[b] ?? b,
            seg?.type === 'background-image' && seg.background === b,
            () =>
              apply([
                { type: 'background-image', background: b },
                ...without(['blur', 'background-image']),
              ]),
          ),
        ),
        ownBtn,
        file,
      ),
      h('h3', {}, 'Colour'),
      h(
        'div',
        { class: 'effects-row' },
        option('filter', 'none', 'None', !filter, () => apply(without(['filter']))),
        ...VIDEO_FILTER_NAMES.map((n) =>
          option('filter', n, LABELS[n] ?? n, filter?.name === n, () =>
            apply([
              ...without(['filter', 'face-overlay']),
              { type: 'filter', name: n },
              ...c.filter((s) => s.type === 'face-overlay'),
            ]),
          ),
        ),
      ),
      h('h3', {}, 'Face'),
      h(
        'div',
        { class: 'effects-row' },
        option('face', 'none', 'None', !face, () => apply(without(['face-overlay']))),
        ...FACE_OVERLAY_STYLES.map((st) =>
          option('face', st, LABELS[st] ?? st, face?.style === st, () =>
            apply([
              ...without(['face-overlay']),
              {
                type: 'face-overlay',
                style: st,
                ...(st === 'sticker' ? { sticker: 'crown' as const } : {}),
              },
            ]),
          ),
        ),
      ),
      h('div', { class: 'effects-actions' }, closeBtn),
    );
  };
  const closeBtn = h(
    'button',
    { type: 'button', class: 'btn btn-primary', id: 'effects-done' },
    'Done',
  );
  closeBtn.addEventListener('click', () => dialog.close());
  btn.addEventListener('click', () => {
    render();
    dialog.showModal();
  });

  const renderChip = (): void => {
    const c = media.effects.chain;
    btn.setAttribute('aria-pressed', String(c.length > 0));
    if (!c.length) {
      chip.hidden = true;
      chip.replaceChildren();
      return;
    }
    const what = c
      .map((s) =>
        s.type === 'filter'
          ? (LABELS[s.name] ?? s.name)
          : s.type === 'face-overlay'
            ? (LABELS[s.style] ?? s.style)
            : s.type === 'blur'
              ? 'Blur'
              : 'Background',
      )
      .join(', ');
    const stop = h(
      'button',
      { type: 'button', class: 'effects-chip-off', id: 'effects-off' },
      'Turn off',
    );
    stop.addEventListener('click', () => apply([]));
    chip.hidden = false;
    chip.replaceChildren(
      h(
        'span',
        {},
        setBy.kind === 'widget' ? `Effects by “${setBy.title}”: ${what}` : `Effects: ${what}`,
      ),
      stop,
    );
    chip.dataset.by = setBy.kind === 'widget' ? setBy.id : 'user';
    if (dialog.open) render();
  };
  chipListeners.add(renderChip);
  const off = media.on('effects', renderChip);
  renderChip();
  return {
    el: btn,
    chip,
    destroy: () => {
      chipListeners.delete(renderChip);
      off();
      dialog.remove();
    },
  };
}

/** The effects control in the call's controls bar (before "Leave") and its chip on the stage. */
export function mountEffectsInCall(media: LocalMedia, call: HTMLElement): { destroy(): void } {
  const fx = effectsControl(media);
  const controls = call.querySelector('.controls');
  const leave = controls?.querySelector('#leave') ?? null;
  controls?.insertBefore(fx.el, leave);
  call.querySelector('.stage')?.append(fx.chip);
  return {
    destroy: () => {
      fx.destroy();
      fx.el.remove();
      fx.chip.remove();
    },
  };
}
