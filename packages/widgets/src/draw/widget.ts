/**
 * The drawing board: shared strokes with colours and widths (pointer events: mouse, pen and touch,
 * coalesced points, batched per frame), undo of one's own strokes, clear for everyone (confirmed),
 * export as PNG, and the board for late joiners and late openers through the SDK's state sync.
 * Strokes live on a fixed 1600 x 1000 board fitted to the frame (`model.ts`).
 */
import { connect, type WidgetPeer } from '@tfx/widget-sdk';
import {
  BOARD_H,
  BOARD_W,
  Board,
  WIDTHS,
  fit,
  isColor,
  isWidth,
  toBoard,
  type BoardState,
  type Fit,
  type Stroke,
} from './model.js';
import { prepareCanvas } from '../shared/canvas.js';

const COLORS = ['#1d1d1f', '#e5484d', '#f5a524', '#30a46c', '#0091ff', '#8e4ec6', '#ffffff'];
const PAPER = '#ffffff';
const FLUSH_MS = 40;

const canvas = document.getElementById('board') as HTMLCanvasElement;
const stage = document.getElementById('stage') as HTMLDivElement;
const status = document.getElementById('status') as HTMLParagraphElement;
const colorsEl = document.getElementById('colors') as HTMLDivElement;
const widthsEl = document.getElementById('widths') as HTMLDivElement;
const undoBtn = document.getElementById('undo') as HTMLButtonElement;
const clearBtn = document.getElementById('clear') as HTMLButtonElement;
const confirmEl = document.getElementById('confirm') as HTMLSpanElement;
const exportBtn = document.getElementById('export') as HTMLButtonElement;
const ctx = canvas.getContext('2d')!;

const board = new Board();
let color = COLORS[0]!;
let width: number = WIDTHS[1];
let view: Fit = fit(1, 1);
let me: WidgetPeer = { id: '', name: '' };

// ---- toolbar ---------------------------------------------------------------------------------

function radio(
  parent: HTMLElement,
  values: readonly (string | number)[],
  make: (v: string | number, b: HTMLButtonElement) => void,
  pick: (v: string | number) => void,
): void {
  for (const v of values) {
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('role', 'radio');
    make(v, b);
    b.addEventListener('click', () => {
      for (const o of parent.children) o.setAttribute('aria-checked', String(o === b));
      pick(v);
    });
    parent.append(b);
  }
  parent.firstElementChild?.setAttribute('aria-checked', 'true');
}

radio(
  colorsEl,
  COLORS,
  (v, b) => {
    b.className = 'swatch';
    b.style.background = String(v);
    b.dataset.color = String(v);
    b.setAttribute('aria-label', `Colour ${v}`);
  },
  (v) => (color = String(v)),
);
radio(
  widthsEl,
  WIDTHS,
  (v, b) => {
    b.className = 'width';
    b.dataset.w = String(v);
    b.setAttribute('aria-label', `Width ${v}`);
    b.append(document.createElement('span'));
  },
  (v) => (width = Number(v)),
);
widthsEl.children[1]?.dispatchEvent(new Event('click'));

// ---- rendering -------------------------------------------------------------------------------

function tracePath(c: CanvasRenderingContext2D, p: readonly number[]): void {
  c.beginPath();
  if (p.length === 2) {
    c.arc(p[0]!, p[1]!, 0.01, 0, Math.PI * 2);
    return;
  }
  c.moveTo(p[0]!, p[1]!);
  // Quadratic curves through the midpoints: smooth lines from sparse (phone) samples.
  for (let i = 2; i < p.length - 2; i += 2) {
    const mx = (p[i]! + p[i + 2]!) / 2;
    const my = (p[i + 1]! + p[i + 3]!) / 2;
    c.quadraticCurveTo(p[i]!, p[i + 1]!, mx, my);
  }
  c.lineTo(p[p.length - 2]!, p[p.length - 1]!);
}

function drawStrokes(c: CanvasRenderingContext2D, strokes: readonly Stroke[]): void {
  c.lineCap = 'round';
  c.lineJoin = 'round';
  for (const s of strokes) {
    if (s.points.length < 2) continue;
    c.strokeStyle = s.color;
    c.lineWidth = s.width;
    tracePath(c, s.points);
    c.stroke();
  }
}

let scheduled = false;
function render(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    view = prepareCanvas(canvas, ctx, stage, BOARD_W, BOARD_H);
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, BOARD_W, BOARD_H);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, BOARD_W, BOARD_H);
    ctx.clip();
    drawStrokes(ctx, board.strokes);
    ctx.restore();
    document.body.dataset.strokes = String(board.size);
    undoBtn.disabled = board.lastOf(me.id) === undefined;
  });
}
new ResizeObserver(render).observe(stage);

// ---- the channel -----------------------------------------------------------------------------

type Msg =
  | { t: 'begin'; id: string; color: string; width: number; points: number[] }
  | { t: 'pts'; id: string; points: number[] }
  | { t: 'undo'; id: string }
  | { t: 'clear' };

const tfx = await connect();
me = tfx.self();
tfx.onSelf((s) => {
  me = s;
});

function send(m: Msg): void {
  tfx.sendMessage(m).catch((err: unknown) => {
    status.textContent = `Not sent: ${(err as Error).message}`;
  });
}

tfx.onMessage((data, from) => {
  const m = data as Partial<Record<string, unknown>> | null;
  if (typeof m !== 'object' || m === null || m instanceof ArrayBuffer) return;
  const id = typeof m.id === 'string' && m.id.length <= 64 ? `${from.id}:${m.id}` : undefined;
  let changed = false;
  if (m.t === 'begin' && id && isColor(m.color) && isWidth(m.width) && Array.isArray(m.points))
    changed = board.begin({
      id,
      author: from.id,
      color: m.color,
      width: m.width,
      points: m.points as number[],
    });
  else if (m.t === 'pts' && id) changed = board.extend(id, from.id, m.points);
  else if (m.t === 'undo' && id) changed = board.remove(id, from.id);
  else if (m.t === 'clear') {
    board.clear();
    changed = true;
  }
  if (changed) render();
});

const sync = tfx.stateSync<BoardState>({
  getState: () => board.state(),
  setState: (state) => {
    board.load(state);
    render();
  },
});
status.textContent = 'Loading board…';
void sync.ready.then(() => {
  status.textContent = '';
  document.body.dataset.ready = sync.status;
});

// ---- drawing ---------------------------------------------------------------------------------

interface Active {
  readonly pointer: number;
  readonly local: string;
  readonly full: string;
  pending: number[];
  lastX: number;
  lastY: number;
}
let active: Active | undefined;
let counter = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;

function point(ev: PointerEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return toBoard(view, ev.clientX - r.left, ev.clientY - r.top);
}

function flush(): void {
  flushTimer = undefined;
  if (!active || active.pending.length === 0) return;
  send({ t: 'pts', id: active.local, points: active.pending });
  active.pending = [];
}

canvas.addEventListener('pointerdown', (ev) => {
  if (active || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
  ev.preventDefault();
  canvas.setPointerCapture(ev.pointerId);
  const [x, y] = point(ev);
  const local = `${Date.now().toString(36)}-${++counter}`;
  active = {
    pointer: ev.pointerId,
    local,
    full: `${me.id}:${local}`,
    pending: [],
    lastX: x,
    lastY: y,
  };
  board.begin({ id: active.full, author: me.id, color, width, points: [x, y] });
  send({ t: 'begin', id: local, color, width, points: [x, y] });
  render();
});

canvas.addEventListener('pointermove', (ev) => {
  if (!active || ev.pointerId !== active.pointer) return;
  const events = typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : [];
  const added: number[] = [];
  for (const e of events.length ? events : [ev]) {
    const [x, y] = point(e);
    if (Math.abs(x - active.lastX) + Math.abs(y - active.lastY) < 2) continue;
    active.lastX = x;
    active.lastY = y;
    added.push(x, y);
  }
  if (added.length === 0) return;
  board.extend(active.full, me.id, added);
  active.pending.push(...added);
  flushTimer ??= setTimeout(flush, FLUSH_MS);
  render();
});

function end(ev: PointerEvent): void {
  if (!active || ev.pointerId !== active.pointer) return;
  if (flushTimer) clearTimeout(flushTimer);
  flush();
  active = undefined;
  render();
}
canvas.addEventListener('pointerup', end);
canvas.addEventListener('pointercancel', end);

// ---- undo, clear, export ---------------------------------------------------------------------

function undo(): void {
  if (active) return;
  const id = board.lastOf(me.id);
  if (!id) return;
  board.remove(id, me.id);
  send({ t: 'undo', id: id.slice(me.id.length + 1) });
  render();
}
undoBtn.addEventListener('click', undo);
document.addEventListener('keydown', (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'z' && !ev.shiftKey) {
    ev.preventDefault();
    undo();
  }
});

// The sandbox has no allow-modals (no window.confirm): confirm in the toolbar.
clearBtn.addEventListener('click', () => {
  confirmEl.hidden = false;
  clearBtn.hidden = true;
});
const closeConfirm = (): void => {
  confirmEl.hidden = true;
  clearBtn.hidden = false;
};
document.getElementById('clear-no')!.addEventListener('click', closeConfirm);
document.getElementById('clear-yes')!.addEventListener('click', () => {
  closeConfirm();
  board.clear();
  send({ t: 'clear' });
  render();
});

exportBtn.addEventListener('click', () => {
  const out = document.createElement('canvas');
  out.width = BOARD_W;
  out.height = BOARD_H;
  const c = out.getContext('2d')!;
  c.fillStyle = PAPER;
  c.fillRect(0, 0, BOARD_W, BOARD_H);
  drawStrokes(c, board.strokes);
  out.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `board-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
});

render();
