/**
 * Ping-pong's pure model: the court, the seats (who plays), the match (ready, countdown, score,
 * game over), the ball between events, hit judgement, message validation, the clock-offset
 * estimate and the state a late joiner receives. No DOM, no timers: times are passed in, in the
 * *shared time base* (the left player's clock, which the others estimate with `ClockSync`).
 *
 * Fairness model. The ball's path between two events is a closed-form function of a `Segment`
 * (position, velocity, start time), walls bounce by reflection, so every screen computes the same
 * path. The player on whose side the ball arrives judges it against their own paddle — the one
 * that moves without latency on their screen — at the arrival time, and broadcasts `hit` (with
 * the paddle's centre; everyone derives the new velocity from it with `bounce`) or `miss` (a point
 * to the opponent; the next serve is scheduled `POINT_PAUSE_MS` after the arrival time).
 */
import { fitBox, type Fit } from '../shared/fit.js';

export type { Fit };

export const COURT_W = 800;
export const COURT_H = 500;
export const PADDLE_W = 12;
export const PADDLE_H = 90;
/** Gap between a paddle and its end of the court. */
export const PADDLE_INSET = 20;
export const BALL_R = 8;
/** Inner faces of the paddles (where the ball is judged). */
export const LEFT_FACE = PADDLE_INSET + PADDLE_W;
export const RIGHT_FACE = COURT_W - PADDLE_INSET - PADDLE_W;
/** How far from the paddle's centre the ball's centre may be and still hit it. */
export const REACH = PADDLE_H / 2 + BALL_R;
export const PADDLE_MIN = PADDLE_H / 2;
export const PADDLE_MAX = COURT_H - PADDLE_H / 2;
/** Ball speeds, court units per ms. */
export const SERVE_SPEED = 0.36;
export const MAX_SPEED = 1.1;
/** Each hit speeds the ball up by this factor (up to `MAX_SPEED`). */
export const SPEEDUP = 1.05;
/** Largest angle off horizontal after a hit at the paddle's very end; serves stay within ±20°. */
export const MAX_BOUNCE_ANGLE = (55 * Math.PI) / 180;
export const MAX_SERVE_ANGLE = (20 * Math.PI) / 180;
export const COUNTDOWN_MS = 3000;
export const POINT_PAUSE_MS = 1500;
/** A game is won at 11 points with a lead of 2 (so 10-10 goes on to 12-10, 13-11, …). */
export const WIN_POINTS = 11;
export const WIN_BY = 2;
/** Bounds on what peers may send. */
export const MAX_ID = 128;
export const MAX_GEN_AHEAD = 8;
export const MAX_CLOCK = 1e12;
export const MAX_TIME = 1e15;
export const MAX_PENDING = 32;

export type Side = 'left' | 'right';
export const SIDES: readonly Side[] = ['left', 'right'];
export const other = (s: Side): Side => (s === 'left' ? 'right' : 'left');

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isId = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;
const isSide = (v: unknown): v is Side => v === 'left' || v === 'right';
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

// ---- seats -----------------------------------------------------------------------------------

/**
 * One seat as a join-semilattice register, so concurrent claims converge whatever the order of
 * arrival: the highest generation wins; within a generation the earliest claim (lowest Lamport
 * clock, then lowest peer id) wins; `gone` lists the peers who left this generation (a seat whose
 * winning claimer is gone is free, and the next claim goes to the next generation). A claim that
 * loses a race is simply not the winner: it is never queued.
 */
export interface SeatReg {
  readonly gen: number;
  readonly claim: { readonly id: string; readonly clock: number } | null;
  readonly gone: readonly string[];
}
export interface Seats {
  readonly left: SeatReg;
  readonly right: SeatReg;
}
export const EMPTY_SEAT: SeatReg = { gen: 0, claim: null, gone: [] };
const MAX_GONE = 16;

/** The seat's holder, or null when free. */
export function holder(r: SeatReg): string | null {
  return r.claim && !r.gone.includes(r.claim.id) ? r.claim.id : null;
}

/** The generation a claim of this (free) seat carries. */
export const claimGen = (r: SeatReg): number => (r.claim ? r.gen + 1 : r.gen);

const earlier = (a: { id: string; clock: number }, b: { id: string; clock: number }): boolean =>
  a.clock < b.clock || (a.clock === b.clock && a.id < b.id);

/** The join of two registers: commutative, associative, idempotent. */
export function mergeSeat(a: SeatReg, b: SeatReg): SeatReg {
  if (a.gen !== b.gen) return a.gen > b.gen ? a : b;
  const claim = !a.claim
    ? b.claim
    : !b.claim
      ? a.claim
      : earlier(b.claim, a.claim)
        ? b.claim
        : a.claim;
  const gone = [...new Set([...a.gone, ...b.gone])].sort().slice(0, MAX_GONE);
  return { gen: a.gen, claim, gone };
}

export function isSeatReg(v: unknown): v is SeatReg {
  const r = v as SeatReg;
  return (
    typeof r === 'object' &&
    r !== null &&
    isInt(r.gen, 0, MAX_CLOCK) &&
    (r.claim === null ||
      (typeof r.claim === 'object' && isId(r.claim.id) && isInt(r.claim.clock, 1, MAX_CLOCK))) &&
    Array.isArray(r.gone) &&
    r.gone.length <= MAX_GONE &&
    r.gone.every(isId)
  );
}

/** Who plays: one person holds one seat (the right seat of someone holding both counts empty). */
export function players(s: Seats): { readonly left: string | null; readonly right: string | null } {
  const left = holder(s.left);
  const right = holder(s.right);
  return { left, right: right === left ? null : right };
}

export function roleOf(s: Seats, id: string): Side | 'watcher' {
  const p = players(s);
  return p.left === id ? 'left' : p.right === id ? 'right' : 'watcher';
}

/** A match is one pair of seat tenures: its key names both generations and both players. */
export function matchKey(s: Seats): string | null {
  const p = players(s);
  if (!p.left || !p.right) return null;
  return JSON.stringify([s.left.gen, p.left, s.right.gen, p.right]);
}

/** The players a match key names (validated), or null. */
export function matchPlayers(key: unknown): { left: string; right: string } | null {
  if (typeof key !== 'string' || key.length > 4 * MAX_ID) return null;
  let v: unknown;
  try {
    v = JSON.parse(key);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 4) return null;
  const [lg, l, rg, r] = v as unknown[];
  if (!isInt(lg, 0, MAX_CLOCK) || !isInt(rg, 0, MAX_CLOCK) || !isId(l) || !isId(r) || l === r)
    return null;
  return { left: l, right: r };
}

// ---- messages --------------------------------------------------------------------------------

/**
 * Everything instances send each other (JSON). The sender is always `from.id` as the host
 * reports it, never a field of the message. `m` is the match key, `g` the number of games the
 * sender has seen started, `n` the ball events (hits and misses) applied in the current game.
 */
export type Msg =
  | { t: 'claim'; seat: Side; gen: number; clock: number }
  | { t: 'leave'; seat: Side; gen: number }
  | { t: 'pad'; y: number }
  | { t: 'ready'; m: string; g: number }
  | { t: 'start'; m: string; g: number; at: number }
  | { t: 'hit'; m: string; g: number; n: number; py: number }
  | { t: 'miss'; m: string; g: number; n: number }
  | { t: 'ping'; id: number; a: number; r: number }
  | { t: 'pong'; id: number; a: number; b: number };

/** A peer's message, validated (types, finite numbers, ranges), or null. */
export function parseMsg(data: unknown): Msg | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  if (data instanceof ArrayBuffer) return null;
  const m = data as Record<string, unknown>;
  const key = (): boolean => matchPlayers(m.m) !== null;
  switch (m.t) {
    case 'claim':
      return isSide(m.seat) && isInt(m.gen, 0, MAX_CLOCK) && isInt(m.clock, 1, MAX_CLOCK)
        ? { t: 'claim', seat: m.seat, gen: m.gen, clock: m.clock }
        : null;
    case 'leave':
      return isSide(m.seat) && isInt(m.gen, 0, MAX_CLOCK)
        ? { t: 'leave', seat: m.seat, gen: m.gen }
        : null;
    case 'pad':
      return isNum(m.y, 0, COURT_H) ? { t: 'pad', y: clamp(m.y, PADDLE_MIN, PADDLE_MAX) } : null;
    case 'ready':
      return key() && isInt(m.g, 0, 1e6) ? { t: 'ready', m: m.m as string, g: m.g } : null;
    case 'start':
      return key() && isInt(m.g, 0, 1e6) && isNum(m.at, 0, MAX_TIME)
        ? { t: 'start', m: m.m as string, g: m.g, at: m.at }
        : null;
    case 'hit':
      return key() && isInt(m.g, 1, 1e6) && isInt(m.n, 0, 1e7) && isNum(m.py, 0, COURT_H)
        ? { t: 'hit', m: m.m as string, g: m.g, n: m.n, py: m.py }
        : null;
    case 'miss':
      return key() && isInt(m.g, 1, 1e6) && isInt(m.n, 0, 1e7)
        ? { t: 'miss', m: m.m as string, g: m.g, n: m.n }
        : null;
    case 'ping':
      return isInt(m.id, 0, 1e9) && isNum(m.a, 0, MAX_TIME) && isNum(m.r, 0, 60_000)
        ? { t: 'ping', id: m.id, a: m.a, r: m.r }
        : null;
    case 'pong':
      return isInt(m.id, 0, 1e9) && isNum(m.a, 0, MAX_TIME) && isNum(m.b, 0, MAX_TIME)
        ? { t: 'pong', id: m.id, a: m.a, b: m.b }
        : null;
    default:
      return null;
  }
}

// ---- the ball --------------------------------------------------------------------------------

/** The ball from time `t` on (shared ms): at (x, y), moving (vx, vy) units/ms. */
export interface Segment {
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
  readonly t: number;
}

export function isSegment(v: unknown): v is Segment {
  const s = v as Segment;
  return (
    typeof s === 'object' &&
    s !== null &&
    isNum(s.x, 0, COURT_W) &&
    isNum(s.y, BALL_R, COURT_H - BALL_R) &&
    isNum(s.vx, -MAX_SPEED, MAX_SPEED) &&
    Math.abs(s.vx) >= 0.05 &&
    isNum(s.vy, -MAX_SPEED, MAX_SPEED) &&
    isNum(s.t, 0, MAX_TIME)
  );
}

/** Where the ball is at time `t` (it waits at its start before `t0`); walls reflect it. */
export function ballAt(s: Segment, t: number): { x: number; y: number } {
  const dt = Math.max(0, t - s.t);
  const span = COURT_H - 2 * BALL_R;
  const u = (((s.y - BALL_R + s.vy * dt) % (2 * span)) + 2 * span) % (2 * span);
  return { x: s.x + s.vx * dt, y: BALL_R + (u <= span ? u : 2 * span - u) };
}

/** When and where the ball reaches a paddle's face, and whose. */
export function arrival(s: Segment): { side: Side; t: number; y: number } {
  const side: Side = s.vx < 0 ? 'left' : 'right';
  const x = side === 'left' ? LEFT_FACE + BALL_R : RIGHT_FACE - BALL_R;
  const t = s.t + Math.max(0, (x - s.x) / s.vx);
  return { side, t, y: ballAt(s, t).y };
}

/** Does a paddle centred at `py` meet the ball when it arrives? */
export const isHit = (s: Segment, py: number): boolean => Math.abs(arrival(s).y - py) <= REACH;

/**
 * The ball after a hit by the paddle centred at `py`: it leaves at an angle proportional to where
 * it met the paddle (the centre sends it straight, an end up to `MAX_BOUNCE_ANGLE`), a little
 * faster than it came (× `SPEEDUP`, up to `MAX_SPEED`).
 */
export function bounce(s: Segment, py: number): Segment {
  const a = arrival(s);
  const off = clamp((a.y - py) / REACH, -1, 1);
  const angle = off * MAX_BOUNCE_ANGLE;
  const speed = Math.min(MAX_SPEED, Math.hypot(s.vx, s.vy) * SPEEDUP);
  const dir = a.side === 'left' ? 1 : -1;
  return {
    x: a.side === 'left' ? LEFT_FACE + BALL_R : RIGHT_FACE - BALL_R,
    y: a.y,
    vx: dir * speed * Math.cos(angle),
    vy: speed * Math.sin(angle),
    t: a.t,
  };
}

/** FNV-1a, to [0, 1): the serve angle is a function of the match, not anyone's choice. */
function unit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

/**
 * The serve rule: the ball starts at the centre at time `t`. Serve `point` (points played so far)
 * of game `game` (0 for the match's first) goes toward the right player when `point + game` is
 * even, else toward the left: serves alternate every point, and each game's first serve goes
 * the other way from the previous game's. Its angle (within ±20°) is derived from the match key,
 * game and point, so neither player picks it.
 */
export function serveSegment(key: string, game: number, point: number, t: number): Segment {
  const toward: Side = (point + game) % 2 === 0 ? 'right' : 'left';
  const angle = (unit(`${key}|${game}|${point}`) * 2 - 1) * MAX_SERVE_ANGLE;
  const dir = toward === 'right' ? 1 : -1;
  return {
    x: COURT_W / 2,
    y: COURT_H / 2,
    vx: dir * SERVE_SPEED * Math.cos(angle),
    vy: SERVE_SPEED * Math.sin(angle),
    t,
  };
}

export interface Score {
  readonly left: number;
  readonly right: number;
}

/** First to `WIN_POINTS` with a lead of `WIN_BY`. */
export function winnerOf(s: Score): Side | null {
  if (Math.max(s.left, s.right) < WIN_POINTS || Math.abs(s.left - s.right) < WIN_BY) return null;
  return s.left > s.right ? 'left' : 'right';
}

// ---- clock offset ----------------------------------------------------------------------------

export interface ClockSample {
  readonly rtt: number;
  /** Add to the local clock to get the reference clock. */
  readonly offset: number;
}

/**
 * NTP-style offset to a reference clock from ping/pong exchanges: a ping leaves at local `a`,
 * the reference stamps `b` when it answers, the pong lands at local `c`. Assuming symmetric
 * delays, offset = b − (a + c) / 2 and the error is at most rtt / 2, so the sample with the
 * smallest round trip among the last `keep` is the estimate (queuing only ever adds delay).
 */
export class ClockSync {
  readonly #samples: ClockSample[] = [];
  constructor(readonly keep = 8) {}

  add(a: number, b: number, c: number): ClockSample | null {
    const rtt = c - a;
    if (![a, b, c].every(Number.isFinite) || rtt < 0 || rtt > 60_000) return null;
    const s = { rtt, offset: b - (a + c) / 2 };
    this.#samples.push(s);
    if (this.#samples.length > this.keep) this.#samples.shift();
    return s;
  }

  get count(): number {
    return this.#samples.length;
  }

  /** The best sample (smallest rtt), if any. */
  get best(): ClockSample | null {
    let best: ClockSample | null = null;
    for (const s of this.#samples) if (!best || s.rtt < best.rtt) best = s;
    return best;
  }

  reset(): void {
    this.#samples.length = 0;
  }
}

// ---- the game --------------------------------------------------------------------------------

/** `ready`: waiting for both players' Ready; `play`: a game is on; `over`: it has a winner. */
export type MatchPhase = 'ready' | 'play' | 'over';
/** What the widget shows: `waiting` for a second player, and the countdown before the serve. */
export type Phase = 'waiting' | 'ready' | 'countdown' | 'play' | 'over';

export interface Match {
  readonly key: string;
  /** Games started in this match (the current one included). */
  games: number;
  phase: MatchPhase;
  ready: { left: boolean; right: boolean };
  score: { left: number; right: number };
  /** Shared time the current game's countdown began. */
  start: number;
  /** Ball events (hits, misses) in the current game. */
  n: number;
  /** The ball (a serve waits at the centre until its `t`). */
  seg: Segment | null;
  /** The last missed ball, flying out during the pause. */
  out: Segment | null;
  winner: Side | null;
}

export interface GameState {
  readonly v: 1;
  readonly seats: Seats;
  readonly match: Match | null;
  readonly paddles: { readonly left: number; readonly right: number };
}

const newMatch = (key: string): Match => ({
  key,
  games: 0,
  phase: 'ready',
  ready: { left: false, right: false },
  score: { left: 0, right: 0 },
  start: 0,
  n: 0,
  seg: null,
  out: null,
  winner: null,
});

type Verdict = 'ok' | 'later' | 'stale' | 'bad';
type MatchMsg = Extract<Msg, { t: 'ready' | 'start' | 'hit' | 'miss' }>;

/**
 * Seats, match and paddles as one replica. Local actions return the message to broadcast and
 * are applied through the same rules as peers' messages, so every replica computes the same
 * thing from the same messages. Messages that fail validation, or that come from someone not
 * allowed to send them, are ignored and counted in `dropped`.
 */
export class Game {
  #me: string;
  #seats: Seats = { left: EMPTY_SEAT, right: EMPTY_SEAT };
  #match: Match | null = null;
  #paddles = { left: COURT_H / 2, right: COURT_H / 2 };
  #lamport = 0;
  #dropped = 0;
  /** Match messages that may apply later (they outran the seat or event they follow). */
  #pending: { msg: MatchMsg; from: string }[] = [];

  constructor(me: string) {
    this.#me = me;
  }

  setSelf(id: string): void {
    this.#me = id;
  }

  get seats(): Seats {
    return this.#seats;
  }
  get match(): Readonly<Match> | null {
    return this.#match;
  }
  get dropped(): number {
    return this.#dropped;
  }
  get lamport(): number {
    return this.#lamport;
  }
  get paddles(): { readonly left: number; readonly right: number } {
    return this.#paddles;
  }
  get players(): { readonly left: string | null; readonly right: string | null } {
    return players(this.#seats);
  }
  role(id = this.#me): Side | 'watcher' {
    return roleOf(this.#seats, id);
  }

  phaseAt(now: number): Phase {
    const m = this.#match;
    if (!m) return 'waiting';
    if (m.phase !== 'play') return m.phase;
    if (m.n === 0 && m.score.left + m.score.right === 0 && m.seg && now < m.seg.t)
      return 'countdown';
    return 'play';
  }

  /** A message from a peer (or from us): validated, authorized, applied. True when it changed. */
  receive(data: unknown, from: string): boolean {
    const msg = parseMsg(data);
    if (!msg) {
      this.#dropped++;
      return false;
    }
    return this.apply(msg, from);
  }

  apply(msg: Msg, from: string): boolean {
    switch (msg.t) {
      case 'claim':
      case 'leave':
        return this.#seat(msg, from);
      case 'pad': {
        const side = this.role(from);
        if (side === 'watcher') {
          this.#dropped++;
          return false;
        }
        this.#paddles = { ...this.#paddles, [side]: msg.y };
        return true;
      }
      case 'ping':
      case 'pong':
        return false; // the clock exchange lives outside the replica
      default: {
        const v = this.#matchMsg(msg, from);
        if (v === 'bad') this.#dropped++;
        if (v === 'later') {
          this.#pending.push({ msg, from });
          if (this.#pending.length > MAX_PENDING) this.#pending.shift();
        }
        if (v !== 'ok') return false;
        this.#drain();
        return true;
      }
    }
  }

  // -- local actions: each returns the message to broadcast (already applied here)

  /** Takes the left seat if free, else the right one; null when seated or both are taken. */
  claim(): Msg | null {
    if (this.role() !== 'watcher') return null;
    const p = this.players;
    const seat: Side | null = !p.left ? 'left' : !p.right ? 'right' : null;
    if (!seat) return null;
    const msg: Msg = {
      t: 'claim',
      seat,
      gen: claimGen(this.#seats[seat]),
      clock: this.#lamport + 1,
    };
    this.apply(msg, this.#me);
    return msg;
  }

  leave(): Msg | null {
    const side = this.role();
    if (side === 'watcher') return null;
    const msg: Msg = { t: 'leave', seat: side, gen: this.#seats[side].gen };
    this.apply(msg, this.#me);
    return msg;
  }

  /** Our paddle's centre (clamped); the message to send when we play. */
  pad(y: number): Msg | null {
    const side = this.role();
    if (side === 'watcher' || !Number.isFinite(y)) return null;
    const msg: Msg = { t: 'pad', y: clamp(y, PADDLE_MIN, PADDLE_MAX) };
    this.apply(msg, this.#me);
    return msg;
  }

  ready(): Msg | null {
    const m = this.#match;
    const side = this.role();
    if (!m || side === 'watcher' || m.phase === 'play' || m.ready[side]) return null;
    const msg: Msg = { t: 'ready', m: m.key, g: m.games };
    this.apply(msg, this.#me);
    return msg;
  }

  /**
   * The left player (the time reference) starts the game once both are ready: the countdown
   * begins at `now + lead` on everyone's shared clock, `lead` covering the start message's trip.
   */
  startIfDue(now: number, lead: number): Msg | null {
    const m = this.#match;
    if (!m || this.role() !== 'left' || m.phase === 'play' || !m.ready.left || !m.ready.right)
      return null;
    const msg: Msg = { t: 'start', m: m.key, g: m.games, at: now + lead };
    this.apply(msg, this.#me);
    return msg;
  }

  /** When we must judge the ball (shared time), or null when it is not coming to our paddle. */
  judgeAt(): number | null {
    const m = this.#match;
    if (!m || m.phase !== 'play' || !m.seg) return null;
    const a = arrival(m.seg);
    return a.side === this.role() ? a.t : null;
  }

  /** Judges the arriving ball against our paddle at `py`, once `now` has reached its arrival. */
  judge(now: number, py: number): Msg | null {
    const m = this.#match;
    const at = this.judgeAt();
    if (!m || at === null || now < at || !m.seg) return null;
    const msg: Msg = isHit(m.seg, py)
      ? { t: 'hit', m: m.key, g: m.games, n: m.n, py }
      : { t: 'miss', m: m.key, g: m.games, n: m.n };
    this.apply(msg, this.#me);
    return msg;
  }

  /** Peers who left the call free their seats (everyone applies the same `gone`). */
  departed(ids: Iterable<string>): boolean {
    let changed = false;
    for (const id of ids)
      for (const side of SIDES)
        if (holder(this.#seats[side]) === id)
          changed =
            this.apply({ t: 'leave', seat: side, gen: this.#seats[side].gen }, id) || changed;
    return changed;
  }

  state(): GameState {
    return structuredClone({
      v: 1,
      seats: this.#seats,
      match: this.#match,
      paddles: this.#paddles,
    });
  }

  /** Merges a state a peer offered (validated); false when it is not a valid state. */
  load(state: unknown): boolean {
    const st = state as Partial<GameState> | null;
    if (typeof st !== 'object' || st === null || st.v !== 1) return false;
    const seats = st.seats as Partial<Seats> | undefined;
    if (!seats || !isSeatReg(seats.left) || !isSeatReg(seats.right)) return false;
    this.#lamport = Math.max(
      this.#lamport,
      seats.left.claim?.clock ?? 0,
      seats.right.claim?.clock ?? 0,
    );
    this.#setSeats({
      left: mergeSeat(this.#seats.left, seats.left),
      right: mergeSeat(this.#seats.right, seats.right),
    });
    const m = st.match;
    const mine = this.#match;
    if (isMatch(m) && mine && m.key === mine.key && progress(m) > progress(mine))
      this.#match = structuredClone(m);
    // The paddles of the players we agree on (ours is ours).
    const theirs = players({ left: seats.left, right: seats.right });
    const now = this.players;
    const p = st.paddles as { left?: unknown; right?: unknown } | undefined;
    for (const side of SIDES) {
      const y = p?.[side];
      if (isNum(y, PADDLE_MIN, PADDLE_MAX) && now[side] && theirs[side] === now[side])
        if (now[side] !== this.#me) this.#paddles = { ...this.#paddles, [side]: y };
    }
    this.#drain();
    return true;
  }

  // -- rules

  #seat(msg: Extract<Msg, { t: 'claim' | 'leave' }>, from: string): boolean {
    const cur = this.#seats[msg.seat];
    if (msg.gen > cur.gen + MAX_GEN_AHEAD) {
      this.#dropped++;
      return false;
    }
    let reg: SeatReg;
    if (msg.t === 'claim') {
      // Lamport clock: a claim made after seeing this one carries a larger clock, so it loses.
      this.#lamport = Math.max(this.#lamport, msg.clock);
      reg = { gen: msg.gen, claim: { id: from, clock: msg.clock }, gone: [] };
    } else reg = { gen: msg.gen, claim: null, gone: [from] };
    const next = mergeSeat(cur, reg);
    if (sameSeat(next, cur)) return false;
    this.#setSeats({ ...this.#seats, [msg.seat]: next });
    return true;
  }

  #setSeats(seats: Seats): void {
    const before = players(this.#seats);
    this.#seats = seats;
    const after = players(seats);
    for (const side of SIDES)
      if (before[side] !== after[side]) this.#paddles = { ...this.#paddles, [side]: COURT_H / 2 };
    const key = matchKey(seats);
    if (key !== (this.#match?.key ?? null)) {
      this.#match = key ? newMatch(key) : null;
      this.#drain();
    }
  }

  #matchMsg(msg: MatchMsg, from: string): Verdict {
    const named = matchPlayers(msg.m);
    const side: Side | null = !named
      ? null
      : named.left === from
        ? 'left'
        : named.right === from
          ? 'right'
          : null;
    // Only the two players of the match named may send its messages; only the left one starts.
    if (!side || (msg.t === 'start' && side !== 'left')) return 'bad';
    const m = this.#match;
    // Another match: a player's message may have outrun the seat change it follows; anyone else's
    // cannot be legitimate.
    if (!m || m.key !== msg.m) return this.role(from) === 'watcher' ? 'bad' : 'later';
    const between = m.phase !== 'play';
    switch (msg.t) {
      case 'ready':
      case 'start':
        if (msg.g > m.games) return 'later';
        if (msg.g < m.games || !between) return 'stale';
        if (msg.t === 'ready') m.ready[side] = true;
        else {
          m.games++;
          m.phase = 'play';
          m.ready = { left: false, right: false };
          m.score = { left: 0, right: 0 };
          m.winner = null;
          m.start = msg.at;
          m.n = 0;
          m.out = null;
          m.seg = serveSegment(m.key, m.games - 1, 0, msg.at + COUNTDOWN_MS);
        }
        return 'ok';
      case 'hit':
      case 'miss': {
        if (msg.g > m.games) return 'later';
        if (msg.g < m.games || between) return 'stale';
        if (msg.n > m.n) return 'later';
        if (msg.n < m.n || !m.seg) return 'stale';
        const a = arrival(m.seg);
        // Only the player the ball is coming to judges it; a hit must meet the ball.
        if (a.side !== side) return 'bad';
        if (msg.t === 'hit') {
          if (!isHit(m.seg, msg.py)) return 'bad';
          m.out = null;
          m.seg = bounce(m.seg, msg.py);
        } else {
          const scorer = other(side);
          m.score = { ...m.score, [scorer]: m.score[scorer] + 1 };
          m.out = m.seg;
          m.winner = winnerOf(m.score);
          if (m.winner) {
            m.phase = 'over';
            m.seg = null;
          } else {
            const point = m.score.left + m.score.right;
            m.seg = serveSegment(m.key, m.games - 1, point, a.t + POINT_PAUSE_MS);
          }
        }
        m.n++;
        return 'ok';
      }
    }
  }

  /** Applies what waited for an earlier message, until nothing more applies. */
  #drain(): void {
    for (let progressed = true; progressed && this.#pending.length;) {
      progressed = false;
      for (const p of [...this.#pending]) {
        const v = this.#matchMsg(p.msg, p.from);
        if (v === 'later') continue;
        this.#pending.splice(this.#pending.indexOf(p), 1);
        if (v === 'ok') progressed = true;
      }
    }
  }
}

const sameSeat = (a: SeatReg, b: SeatReg): boolean =>
  a.gen === b.gen &&
  a.claim?.id === b.claim?.id &&
  a.claim?.clock === b.claim?.clock &&
  a.gone.length === b.gone.length &&
  a.gone.every((g, i) => g === b.gone[i]);

const progress = (m: Match): number =>
  m.games * 1e8 + m.n * 10 + (m.phase === 'over' ? 4 : 0) + +m.ready.left + +m.ready.right;

function isMatch(v: unknown): v is Match {
  const m = v as Match;
  const score = (s: unknown): boolean =>
    typeof s === 'object' &&
    s !== null &&
    isInt((s as Score).left, 0, 10_000) &&
    isInt((s as Score).right, 0, 10_000);
  return (
    typeof m === 'object' &&
    m !== null &&
    matchPlayers(m.key) !== null &&
    isInt(m.games, 0, 1e6) &&
    (m.phase === 'ready' || m.phase === 'play' || m.phase === 'over') &&
    typeof m.ready === 'object' &&
    m.ready !== null &&
    typeof m.ready.left === 'boolean' &&
    typeof m.ready.right === 'boolean' &&
    score(m.score) &&
    isNum(m.start, 0, MAX_TIME) &&
    isInt(m.n, 0, 1e7) &&
    (m.seg === null || isSegment(m.seg)) &&
    (m.out === null || isSegment(m.out)) &&
    (m.winner === null || isSide(m.winner)) &&
    (m.phase !== 'play' || m.seg !== null)
  );
}

// ---- screen ----------------------------------------------------------------------------------

/** Screen ↔ court mapping: the court fitted (letterboxed) into a w x h box. */
export const fit = (w: number, h: number): Fit => fitBox(COURT_W, COURT_H, w, h);

/** A screen y (relative to the box) as a court y, clamped to the court. */
export const toCourtY = (f: Fit, y: number): number => clamp((y - f.oy) / f.scale, 0, COURT_H);
