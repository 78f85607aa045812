/**
 * Ping-pong: two players in real time, everyone else watches. Seats, match, ball and judgement
 * live in the pure model (`model.ts`); this file is the DOM, the clocks and the channel: the
 * shared time base (the left player's clock, estimated by everyone else with ping/pong), the
 * paddle (pointer drag and keys, sent at most 30 times a second), the judge's timer at each
 * arrival of the ball, the start once both players are ready, and state sync for late joiners.
 */
import { connect, type WidgetPeer } from '@tfx/widget-sdk';
import {
  BALL_R,
  COURT_H,
  COURT_W,
  ClockSync,
  Game,
  PADDLE_H,
  PADDLE_INSET,
  PADDLE_MAX,
  PADDLE_MIN,
  PADDLE_W,
  SIDES,
  WIN_BY,
  WIN_POINTS,
  arrival,
  ballAt,
  fit,
  other,
  parseMsg,
  toCourtY,
  type Fit,
  type GameState,
  type Msg,
  type Side,
} from './model.js';
import { prepareCanvas } from '../shared/canvas.js';

/** Paddle updates: at most one per this many ms, and only on change. */
const PAD_INTERVAL_MS = 33;
/** Keyboard paddle speed, court units per ms. */
const KEY_SPEED = 0.6;
/** How quickly a remote paddle catches up with its last known position (time constant, ms). */
const SMOOTH_MS = 40;
/** Pings to the time reference: a burst to start, then a steady trickle. */
const PING_BURST = 6;
const PING_BURST_MS = 120;
const PING_EVERY_MS = 2000;
/** Samples needed before a player may press Ready. */
const SYNC_SAMPLES = 3;

const COLORS = { left: '#7c9cff', right: '#f5a524' } as const;
const COURT = '#0b1122';
const LINE = '#26314f';
const TEXT = '#e8ecf8';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('court');
const stage = $<HTMLDivElement>('stage');
const statusEl = $<HTMLParagraphElement>('status');
const playBtn = $<HTMLButtonElement>('play');
const readyBtn = $<HTMLButtonElement>('ready');
const leaveBtn = $<HTMLButtonElement>('leave');
const nameEl = { left: $<HTMLSpanElement>('left-name'), right: $<HTMLSpanElement>('right-name') };
const scoreEl = {
  left: $<HTMLSpanElement>('left-score'),
  right: $<HTMLSpanElement>('right-score'),
};
const ctx = canvas.getContext('2d')!;
const body = document.body;

const tfx = await connect();
let me: WidgetPeer = tfx.self();
const game = new Game(me.id);
const names = new Map<string, string>();
const nameOf = (id: string | null): string => (id ? (names.get(id) ?? 'Player') : 'Free seat');

function send(msg: Msg, to?: string): void {
  tfx.sendMessage(msg, to ? { to } : {}).catch((err: unknown) => {
    if (!to) statusEl.textContent = `Not sent: ${(err as Error).message}`;
  });
}

// ---- the shared time base ----------------------------------------------------------------------
// Shared time is the left player's clock. Everyone else estimates its offset NTP-style from
// ping/pong exchanges with the left player (`ClockSync`: the sample with the smallest round trip).

const local = (): number => performance.timeOrigin + performance.now();
const clock = new ClockSync();
let ref: string | null = null;
let offset = 0;
let pingSeq = 0;
let pingsSent = 0;
let pingTimer: ReturnType<typeof setTimeout> | undefined;
const outstanding = new Map<number, number>();
/** At the reference: the round trips the others report (the start's lead covers the right's). */
const reported = new Map<string, number>();
const lastPing = new Map<string, number>();

const now = (): number => local() + offset;
const synced = (): boolean => ref !== null && (ref === me.id || clock.count >= SYNC_SAMPLES);

function setRef(id: string | null): void {
  if (id === ref) return;
  ref = id;
  clock.reset();
  outstanding.clear();
  offset = 0;
  pingsSent = 0;
  if (pingTimer) clearTimeout(pingTimer);
  pingTimer = undefined;
  if (ref && ref !== me.id) ping();
}

function ping(): void {
  pingTimer = undefined;
  if (!ref || ref === me.id) return;
  const id = ++pingSeq;
  const a = local();
  outstanding.set(id, a);
  if (outstanding.size > 16) outstanding.delete(outstanding.keys().next().value!);
  send({ t: 'ping', id, a, r: Math.round(clock.best?.rtt ?? 0) }, ref);
  pingsSent++;
  pingTimer = setTimeout(ping, pingsSent < PING_BURST ? PING_BURST_MS : PING_EVERY_MS);
}

function onPing(m: Extract<Msg, { t: 'ping' }>, from: string): void {
  if (game.role() !== 'left') return;
  const t = local();
  if (t - (lastPing.get(from) ?? 0) < PING_BURST_MS / 2) return; // a flood gets no answers
  lastPing.set(from, t);
  reported.set(from, m.r);
  send({ t: 'pong', id: m.id, a: m.a, b: t }, from);
}

function onPong(m: Extract<Msg, { t: 'pong' }>, from: string): void {
  if (from !== ref || outstanding.get(m.id) !== m.a) return;
  outstanding.delete(m.id);
  const wasSynced = synced();
  if (!clock.add(m.a, m.b, local())) return;
  offset = clock.best!.offset;
  if (!wasSynced && synced()) update();
}

/** How far ahead the left player starts the countdown: the start must reach the right first. */
function lead(): number {
  const right = game.players.right;
  const rtt = (right && reported.get(right)) || 200;
  return Math.min(2500, Math.max(400, 2 * rtt + 250));
}

// ---- the paddle --------------------------------------------------------------------------------

let myY = COURT_H / 2;
let sentY = Number.NaN;
let lastPadAt = 0;
let padTimer: ReturnType<typeof setTimeout> | undefined;
const keys = { up: false, down: false };
let dragging: number | null = null;
let view: Fit = fit(1, 1);
/** Paddles as drawn (remote ones glide to their last known position). */
const shown = { left: COURT_H / 2, right: COURT_H / 2 };

function sendPad(): void {
  padTimer = undefined;
  const y = Math.round(myY);
  if (y === sentY) return;
  const msg = game.pad(y);
  if (!msg) return;
  sentY = y;
  lastPadAt = performance.now();
  send(msg);
}

function movePaddle(y: number): void {
  const side = game.role();
  if (side === 'watcher') return;
  myY = Math.min(PADDLE_MAX, Math.max(PADDLE_MIN, y));
  shown[side] = myY;
  body.dataset[`${side}Y`] = String(Math.round(myY));
  if (!padTimer) {
    const wait = PAD_INTERVAL_MS - (performance.now() - lastPadAt);
    if (wait <= 0) sendPad();
    else padTimer = setTimeout(sendPad, wait);
  }
  kick();
}

function pointerY(ev: PointerEvent): number {
  return toCourtY(view, ev.clientY - canvas.getBoundingClientRect().top);
}

canvas.addEventListener('pointerdown', (ev) => {
  if (game.role() === 'watcher' || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
  ev.preventDefault();
  canvas.setPointerCapture(ev.pointerId);
  dragging = ev.pointerId;
  movePaddle(pointerY(ev));
});
canvas.addEventListener('pointermove', (ev) => {
  if (ev.pointerId === dragging) movePaddle(pointerY(ev));
});
const endDrag = (ev: PointerEvent): void => {
  if (ev.pointerId === dragging) dragging = null;
};
canvas.addEventListener('pointerup', endDrag);
canvas.addEventListener('pointercancel', endDrag);

const KEYS: Record<string, keyof typeof keys> = {
  ArrowUp: 'up',
  KeyW: 'up',
  ArrowDown: 'down',
  KeyS: 'down',
};
document.addEventListener('keydown', (ev) => {
  const k = KEYS[ev.code];
  if (!k || game.role() === 'watcher' || ev.target instanceof HTMLButtonElement) return;
  ev.preventDefault();
  keys[k] = true;
  kick();
});
document.addEventListener('keyup', (ev) => {
  const k = KEYS[ev.code];
  if (k) keys[k] = false;
});
window.addEventListener('blur', () => {
  keys.up = keys.down = false;
  dragging = null;
});

// ---- judging and starting ----------------------------------------------------------------------

let judgeTimer: ReturnType<typeof setTimeout> | undefined;

/** The player the ball comes to judges it at its arrival time, against their own paddle. */
function scheduleJudge(): void {
  if (judgeTimer) clearTimeout(judgeTimer);
  judgeTimer = undefined;
  const at = game.judgeAt();
  if (at === null || !synced()) return;
  judgeTimer = setTimeout(
    () => {
      judgeTimer = undefined;
      const msg = game.judge(now(), myY);
      if (msg) {
        send(msg);
        update();
      } else scheduleJudge();
    },
    Math.max(0, at - now()),
  );
}

// ---- seats -------------------------------------------------------------------------------------

/** Our last claim, to try the other seat once if we lose a simultaneous claim. */
let myClaim: { seat: Side; gen: number; retried: boolean } | undefined;

playBtn.addEventListener('click', () => {
  const msg = game.claim();
  if (msg?.t !== 'claim') return;
  myClaim = { seat: msg.seat, gen: msg.gen, retried: false };
  send(msg);
  update();
});
leaveBtn.addEventListener('click', () => {
  myClaim = undefined;
  const msg = game.leave();
  if (msg) send(msg);
  update();
});
readyBtn.addEventListener('click', () => {
  const msg = game.ready();
  if (msg) send(msg);
  update();
});

function checkClaim(): void {
  if (!myClaim) return;
  if (game.role() !== 'watcher') return void (myClaim = undefined); // won
  const reg = game.seats[myClaim.seat];
  const lost = reg.gen > myClaim.gen || (reg.claim !== null && reg.claim.id !== me.id);
  if (!lost) return;
  const retried = myClaim.retried;
  myClaim = undefined;
  if (retried) return;
  const msg = game.claim(); // the other seat, if still free
  if (msg?.t === 'claim') {
    myClaim = { seat: msg.seat, gen: msg.gen, retried: true };
    send(msg);
  }
}

// ---- the view ----------------------------------------------------------------------------------

let lastRole: Side | 'watcher' = 'watcher';

/** After any change: reference clock, seat retry, start, judge timer, toolbar, test hooks. */
function update(): void {
  checkClaim();
  setRef(game.players.left);
  const role = game.role();
  if (role !== lastRole) {
    lastRole = role;
    keys.up = keys.down = false;
    dragging = null;
    sentY = Number.NaN;
    if (role !== 'watcher') myY = game.paddles[role];
  }
  if (role === 'left' && synced()) {
    const msg = game.startIfDue(now(), lead());
    if (msg) send(msg);
  }
  scheduleJudge();
  toolbar();
  expose();
  kick();
}

function toolbar(): void {
  const role = game.role();
  const p = game.players;
  const m = game.match;
  const phase = game.phaseAt(now());
  for (const side of SIDES) {
    nameEl[side].textContent = nameOf(p[side]) + (p[side] === me.id ? ' (you)' : '');
    nameEl[side].classList.toggle('seated', p[side] !== null);
    scoreEl[side].textContent = String(m?.score[side] ?? 0);
  }
  playBtn.hidden = role !== 'watcher' || (p.left !== null && p.right !== null);
  leaveBtn.hidden = role === 'watcher';
  readyBtn.hidden = role === 'watcher' || !m || m.phase === 'play' || m.ready[role];
  readyBtn.textContent = m?.phase === 'over' ? 'Play again' : 'Ready';
  readyBtn.disabled = !synced();
  readyBtn.title = synced() ? 'Start when both players are ready' : 'Syncing clocks…';

  const opp = role === 'watcher' ? '' : nameOf(p[other(role)]);
  const rule = `first to ${WIN_POINTS}, win by ${WIN_BY}`;
  const controls = 'drag on the court or use ↑/↓ (W/S)';
  let text: string;
  if (phase === 'waiting')
    text =
      role === 'watcher'
        ? playBtn.hidden
          ? 'Watching.'
          : 'Watching. A seat is free: press Play.'
        : 'Waiting for an opponent to press Play.';
  else if (phase === 'ready' || phase === 'over') {
    const won =
      phase === 'over' && m?.winner
        ? `${nameOf(p[m.winner])} wins ${m.score.left}–${m.score.right}! `
        : '';
    if (role === 'watcher') text = `${won}Watching. Waiting for the players.`;
    else if (!synced()) text = `${won}Syncing clocks…`;
    else if (m?.ready[role]) text = `${won}Waiting for ${opp} to press ${readyBtn.textContent}.`;
    else text = `${won}Press ${readyBtn.textContent} (${rule}).`;
  } else if (role === 'watcher') text = `Watching ${nameOf(p.left)} v ${nameOf(p.right)}.`;
  else text = `You play ${role}: ${controls}.`;
  statusEl.textContent = text;
}

/** Test hooks and styling hooks on <body>. */
function expose(): void {
  const m = game.match;
  const role = game.role();
  const p = game.players;
  const d = body.dataset;
  d.role = role;
  d.phase = game.phaseAt(now());
  d.score = `${m?.score.left ?? 0}-${m?.score.right ?? 0}`;
  d.games = String(m?.games ?? 0);
  d.winner = m?.winner ?? '';
  d.dropped = String(game.dropped);
  d.synced = String(synced());
  d.leftName = p.left ? nameOf(p.left) : '';
  d.rightName = p.right ? nameOf(p.right) : '';
  for (const side of SIDES)
    d[`${side}Y`] = String(Math.round(side === role ? myY : game.paddles[side]));
}

// ---- drawing -----------------------------------------------------------------------------------

let raf = 0;
let lastFrame = 0;

function kick(): void {
  if (raf) return;
  lastFrame = performance.now();
  raf = requestAnimationFrame(frame);
}
new ResizeObserver(kick).observe(stage);

function frame(ts: number): void {
  raf = 0;
  const dt = Math.min(100, Math.max(0, ts - lastFrame));
  lastFrame = ts;
  const role = game.role();
  if (role !== 'watcher' && keys.up !== keys.down)
    movePaddle(myY + (keys.down ? 1 : -1) * KEY_SPEED * dt);
  let gliding = false;
  for (const side of SIDES) {
    const target = side === role ? myY : game.paddles[side];
    shown[side] += (target - shown[side]) * (1 - Math.exp(-dt / SMOOTH_MS));
    if (Math.abs(target - shown[side]) < 0.3) shown[side] = target;
    else gliding = true;
  }
  draw();
  const phase = game.phaseAt(now());
  if (body.dataset.phase !== phase) {
    toolbar();
    expose();
  }
  if (gliding || keys.up !== keys.down || phase === 'countdown' || phase === 'play') kick();
}

function draw(): void {
  view = prepareCanvas(canvas, ctx, stage, COURT_W, COURT_H);
  ctx.fillStyle = COURT;
  ctx.fillRect(0, 0, COURT_W, COURT_H);
  ctx.strokeStyle = LINE;
  ctx.lineWidth = 2;
  ctx.strokeRect(1, 1, COURT_W - 2, COURT_H - 2);
  ctx.setLineDash([12, 12]);
  ctx.beginPath();
  ctx.moveTo(COURT_W / 2, 0);
  ctx.lineTo(COURT_W / 2, COURT_H);
  ctx.stroke();
  ctx.setLineDash([]);

  const p = game.players;
  const role = game.role();
  for (const side of SIDES) {
    if (!p[side]) continue;
    const x = side === 'left' ? PADDLE_INSET : COURT_W - PADDLE_INSET - PADDLE_W;
    ctx.fillStyle = COLORS[side];
    ctx.fillRect(x, shown[side] - PADDLE_H / 2, PADDLE_W, PADDLE_H);
    if (side === role) {
      ctx.strokeStyle = TEXT;
      ctx.lineWidth = 2;
      ctx.strokeRect(x - 1, shown[side] - PADDLE_H / 2 - 1, PADDLE_W + 2, PADDLE_H + 2);
    }
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, COURT_W, COURT_H);
  ctx.clip();
  const m = game.match;
  const t = now();
  let banner = '';
  if (!m) banner = p.left || p.right ? 'Waiting for a second player' : 'Press Play to take a seat';
  else if (m.phase === 'ready')
    banner = !m.ready.left && !m.ready.right ? 'Press Ready' : 'Waiting for Ready';
  else if (m.phase === 'over' && m.winner) banner = `${nameOf(p[m.winner])} wins!`;
  else if (m.phase === 'play' && m.seg && synced()) {
    if (t < m.seg.t) {
      if (m.out) ball(ballAt(m.out, t), 1);
      ball(ballAt(m.seg, t), 0.35);
      if (m.n === 0 && m.score.left + m.score.right === 0)
        banner = t < m.start ? 'Get ready' : String(Math.ceil((m.seg.t - t) / 1000));
      else if (m.out) banner = `Point: ${nameOf(p[m.out.vx < 0 ? 'right' : 'left'])}`;
    } else {
      // Until the judge's verdict arrives the ball waits at the paddle's face.
      const a = arrival(m.seg);
      ball(ballAt(m.seg, Math.min(t, a.t)), 1);
    }
  } else if (m.phase === 'play') banner = 'Syncing clocks…';
  ctx.restore();
  if (banner) {
    ctx.fillStyle = TEXT;
    ctx.globalAlpha = 0.85;
    ctx.font = `600 ${/^\d$/.test(banner) ? 120 : 36}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(banner, COURT_W / 2, COURT_H / 2 - (/^\d$/.test(banner) ? 0 : 80));
    ctx.globalAlpha = 1;
  }
}

function ball(at: { x: number; y: number }, alpha: number): void {
  ctx.globalAlpha = alpha;
  ctx.fillStyle = TEXT;
  ctx.beginPath();
  ctx.arc(at.x, at.y, BALL_R, 0, Math.PI * 2);
  ctx.fill();
  ctx.globalAlpha = 1;
}

// ---- the channel -------------------------------------------------------------------------------

const known = new Set<string>();
function peers(list: readonly WidgetPeer[]): void {
  names.clear();
  names.set(me.id, me.name);
  for (const p of list) names.set(p.id, p.name);
  const present = new Set(list.map((p) => p.id));
  // A player who leaves the call frees the seat (everyone who sees them go applies the same).
  const gone = [...known].filter((id) => !present.has(id));
  known.clear();
  for (const id of present) known.add(id);
  game.departed(gone);
}
peers(tfx.peers());
tfx.onPeers((list) => {
  peers(list);
  update();
});
tfx.onSelf((s) => {
  me = s;
  names.set(me.id, me.name);
  game.setSelf(me.id);
  update();
});

tfx.onMessage((data, from) => {
  const msg = parseMsg(data);
  if (msg?.t === 'ping') onPing(msg, from.id);
  else if (msg?.t === 'pong') onPong(msg, from.id);
  else if (msg ? game.apply(msg, from.id) : game.receive(data, from.id)) update();
  else body.dataset.dropped = String(game.dropped);
});

const sync = tfx.stateSync<GameState>({
  getState: () => game.state(),
  setState: (state) => {
    game.load(state);
    update();
  },
});
statusEl.textContent = 'Loading…';
void sync.ready.then((s) => {
  body.dataset.ready = s;
  update();
});
update();
