/**
 * The video filters widget (the original product's "video filters"): a panel that picks and
 * tunes the host's built-in processors through `media.processor.set` — it never sees the video.
 * Needs `permissions.media.processor` in the manifest. Applies to its own user only.
 */
import { connect, type VideoProcessorChain, type VideoProcessorStep } from '@tfx/widget-sdk';

const COLOURS = [
  ['none', 'None'],
  ['grayscale', 'Black & white'],
  ['sepia', 'Sepia'],
  ['warm', 'Warm'],
  ['cool', 'Cool'],
  ['high-contrast', 'High contrast'],
  ['vivid', 'Vivid'],
  ['invert', 'Invert'],
] as const;
const BACKGROUNDS = [
  ['none', 'None'],
  ['blur', 'Blur'],
  ['office', 'Office'],
  ['shelves', 'Bookshelves'],
  ['sunset', 'Sunset'],
] as const;
const FACES = [
  ['none', 'None'],
  ['frame', 'Frame'],
  ['sticker', 'Crown'],
  ['badge', 'Name badge'],
  ['centre', 'Centre my face'],
] as const;

const status = document.getElementById('status') as HTMLParagraphElement;
const intensity = document.getElementById('intensity') as HTMLInputElement;
let chain: VideoProcessorChain = [];

function pick(group: 'colour' | 'background' | 'face'): string {
  for (const s of chain) {
    if (group === 'colour' && s.type === 'filter') return s.name;
    if (group === 'background' && s.type === 'blur') return 'blur';
    if (group === 'background' && s.type === 'background-image') return s.background ?? 'own';
    if (group === 'face' && s.type === 'face-overlay') return s.style;
  }
  return 'none';
}

function build(colour: string, bg: string, face: string): VideoProcessorStep[] {
  const out: VideoProcessorStep[] = [];
  if (bg === 'blur') out.push({ type: 'blur', strength: 10 });
  else if (bg !== 'none' && bg !== 'own')
    out.push({ type: 'background-image', background: bg as 'office' });
  else if (bg === 'own') {
    const keep = chain.find((s) => s.type === 'background-image');
    if (keep) out.push(keep);
  }
  if (colour !== 'none')
    out.push({ type: 'filter', name: colour as 'sepia', intensity: Number(intensity.value) });
  if (face !== 'none')
    out.push({
      type: 'face-overlay',
      style: face as 'frame',
      ...(face === 'sticker' ? { sticker: 'crown' as const } : {}),
    });
  return out;
}

function render(): void {
  const groups = [
    ['colour', COLOURS],
    ['background', BACKGROUNDS],
    ['face', FACES],
  ] as const;
  for (const [group, opts] of groups) {
    const box = document.getElementById(group) as HTMLDivElement;
    const current = pick(group);
    box.replaceChildren(
      ...opts.map(([value, label]) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        b.dataset.value = value;
        b.setAttribute('aria-pressed', String(current === value));
        b.addEventListener('click', () => void choose(group, value));
        return b;
      }),
    );
  }
}

const tfx = await connect();

async function choose(group: 'colour' | 'background' | 'face', value: string): Promise<void> {
  const next = {
    colour: group === 'colour' ? value : pick('colour'),
    background: group === 'background' ? value : pick('background'),
    face: group === 'face' ? value : pick('face'),
  };
  const spec = build(next.colour, next.background, next.face);
  try {
    await tfx.setVideoProcessor(spec.length ? spec : null);
    status.textContent = spec.length ? 'Your video is filtered.' : 'No filter.';
  } catch (err) {
    status.textContent = `Could not apply: ${err instanceof Error ? err.message : String(err)}`;
  }
}

intensity.addEventListener('change', () => void choose('colour', pick('colour')));
tfx.onProcessor((info) => {
  chain = info.chain;
  if (info.notice) status.textContent = info.notice;
  render();
});
status.textContent = 'Pick a filter for your video.';
render();
