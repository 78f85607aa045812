/**
 * Routes: which trunks a call that entered through a zone goes to, in the order they are tried
 * (docs/sbc.md, "Routing on cost and quality"). Pure: the clock, the random source and the live
 * quality of the trunks (quality.ts) are handed in.
 *
 * The first route whose zone (and user pattern, if any) matches — and, with a rate table, whose
 * table prices the called number — gives the candidates:
 *
 * 1. the candidates: the route's `to` trunks, or the trunks priced by the rate table's longest
 *    prefix of the called number (Kamailio `lcr`, OpenSIPS `drouting`), among the entries whose
 *    time window is open now (in the route's `timezone`);
 * 2. the base order: trunks by `priority` (lower first, as DNS SRV, RFC 2782); trunks of one
 *    priority in the route's order, or, when any of them has a `weight`, in a weighted random
 *    order (Kamailio dispatcher's algorithm 9: each pick with probability weight / sum of the
 *    weights left; weight 0 only after the others);
 * 3. the route's policy, a stable sort over the base order: `order` (none), `cost` (cheapest
 *    first), `quality` (trunks meeting the thresholds first, best MOS first, then ASR) or
 *    `cost-quality` (trunks meeting the thresholds first, cheapest first within each group).
 *    A trunk is judged only after `minCalls` calls in the quality window; one that falls below
 *    `minMos` or `minAsr` is demoted behind the others, never dropped (it stays a last resort).
 */
import { compilePattern } from './pattern.js';
import type { TrunkQuality } from './quality.js';
import type { RouteSpec, TrunkSpec } from './types.js';

// --- Routing on cost and quality: the config types (TrunkSpec and RouteSpec extend these) ----

/** Fields of a trunk for routing (`sbc.trunks[]`). */
export interface TrunkRouting {
  /** Lower is tried first; unset 0. */
  readonly priority?: number;
  /** Share among trunks of one priority (weighted random order); unset: the route's order. */
  readonly weight?: number;
}

export type RoutePolicy = 'order' | 'cost' | 'quality' | 'cost-quality';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A time-of-day / day-of-week window, in the route's timezone. Unset fields: always. */
export interface RateWindow {
  /** Local days (`mon`…`sun`) of the call's moment. */
  readonly days?: readonly Weekday[];
  /** `HH:MM`, inclusive (default 00:00). */
  readonly from?: string;
  /** `HH:MM`, exclusive (default 24:00); earlier than `from`: the window wraps midnight. */
  readonly to?: string;
}

/** One row of a rate table: the trunks that carry numbers with this prefix, at these costs. */
export interface RateEntry {
  /** Digits (no `+`); `''` prices every number (the default row). */
  readonly prefix: string;
  /** Trunk name → cost (e.g. per minute, any currency: only compared). */
  readonly costs: Readonly<Record<string, number>>;
  readonly when?: RateWindow;
}

/** The live-quality thresholds of `quality` and `cost-quality` routes. */
export interface QualityThresholds {
  /** A trunk whose MOS is below this is demoted (0: no MOS threshold). */
  readonly minMos?: number;
  /** A trunk whose answer-seizure ratio (0–1) is below this is demoted (0: none). */
  readonly minAsr?: number;
  /** Calls in the window before a trunk's quality counts. */
  readonly minCalls?: number;
}

export const DEFAULT_THRESHOLDS: Required<QualityThresholds> = {
  minMos: 3.5,
  minAsr: 0,
  minCalls: 5,
};

/** Fields of a route for cost and quality (`sbc.routes[]`). */
export interface RouteRouting {
  /** Default `cost` with `rates`, else `order`. */
  readonly policy?: RoutePolicy;
  /** A rate table (instead of `to`): longest prefix of the called number wins. */
  readonly rates?: readonly RateEntry[];
  /** IANA timezone of the rate windows (default `UTC`). */
  readonly timezone?: string;
  readonly quality?: QualityThresholds;
}

/** Most rows in one route's rate table. */
export const MAX_RATES = 100_000;

// --- Compilation and selection -----------------------------------------------------------------

interface CompiledRate {
  readonly prefix: string;
  readonly trunks: ReadonlyArray<{ readonly trunk: TrunkSpec; readonly cost: number }>;
  readonly when: CompiledWindow | undefined;
}

interface CompiledWindow {
  readonly days: ReadonlySet<number> | undefined;
  readonly from: number;
  readonly to: number;
}

export interface CompiledRoute {
  readonly zone: string;
  readonly user: RegExp | undefined;
  readonly trunks: readonly TrunkSpec[];
  readonly policy: RoutePolicy;
  readonly thresholds: Required<QualityThresholds>;
  /** Rows by prefix, each prefix's rows in table order; undefined: no rate table. */
  readonly rates: ReadonlyMap<string, readonly CompiledRate[]> | undefined;
  readonly longest: number;
  readonly clock: LocalClock | undefined;
}

/** What selection is given besides the routes: now (epoch ms), randomness, live quality. */
export interface SelectContext {
  /** Epoch ms: the SBC clock's `now()` (`Date.now()` on the real clock) read in the windows. */
  readonly now: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly quality?: (trunk: string) => TrunkQuality | undefined;
}

/** `HH:MM` (00:00–24:00) → minutes of the day; undefined when malformed. */
export function parseHhMm(s: string): number | undefined {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]) * 60 + Number(m[2]);
  return v > 24 * 60 ? undefined : v;
}

/** Whether `tz` is an IANA timezone this runtime knows. */
export function timezoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown timezone ${JSON.stringify(tz.slice(0, 64))} (an IANA name: Europe/London, UTC)`;
  }
}

/** The local weekday (0 = Sunday) and minute of the day of an instant, in one timezone. */
export class LocalClock {
  readonly #fmt: Intl.DateTimeFormat;

  constructor(readonly timezone: string) {
    this.#fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  at(ms: number): { day: number; minute: number } {
    let day = 0;
    let hour = 0;
    let minute = 0;
    for (const p of this.#fmt.formatToParts(new Date(ms))) {
      if (p.type === 'weekday')
        day = WEEKDAYS.indexOf(p.value.toLowerCase().slice(0, 3) as Weekday);
      else if (p.type === 'hour') hour = Number(p.value) % 24;
      else if (p.type === 'minute') minute = Number(p.value);
    }
    return { day, minute: hour * 60 + minute };
  }
}

function windowOpen(w: CompiledWindow, day: number, minute: number): boolean {
  if (w.days && !w.days.has(day)) return false;
  return w.from <= w.to ? minute >= w.from && minute < w.to : minute >= w.from || minute < w.to;
}

/**
 * The called number as a rate table reads it: the user with one leading `+` dropped, digits only
 * (visual separators `-`, `.`, `(`, `)` and spaces are not accepted: normalize rules remove
 * them). Anything else is not a number: no row prices it.
 */
export function dialedDigits(user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  const d = user.startsWith('+') ? user.slice(1) : user;
  return /^[0-9]{1,64}$/.test(d) ? d : undefined;
}

/** Compiles routes against the trunks; throws naming the route when a trunk or pattern is bad. */
export function compileRoutes(
  routes: readonly RouteSpec[],
  trunks: readonly TrunkSpec[],
): CompiledRoute[] {
  const byName = new Map(trunks.map((t) => [t.name, t]));
  return routes.map((r, i) => {
    const key = `sbc.routes[${i}]`;
    const user =
      r.match.user === undefined ? undefined : compilePattern(r.match.user, `${key}.match.user`);
    const list = r.to.map((name) => {
      const t = byName.get(name);
      if (!t) throw new TypeError(`${key}.to: no trunk named ${name}`);
      return t;
    });
    const policy = r.policy ?? (r.rates ? 'cost' : 'order');
    if (!r.rates && (policy === 'cost' || policy === 'cost-quality'))
      throw new TypeError(`${key}.policy: ${policy} needs a rate table (rates)`);
    if (r.rates && list.length > 0)
      throw new TypeError(`${key}: a route has either to or rates, not both`);
    if (!r.rates && list.length === 0) throw new TypeError(`${key}.to: no trunk`);
    const tz = r.timezone ?? 'UTC';
    const tzProblem = timezoneProblem(tz);
    if (tzProblem) throw new TypeError(`${key}.timezone: ${tzProblem}`);
    const thresholds = { ...DEFAULT_THRESHOLDS, ...definedOnly(r.quality ?? {}) };
    let rates: Map<string, CompiledRate[]> | undefined;
    let longest = 0;
    if (r.rates) {
      if (r.rates.length > MAX_RATES)
        throw new TypeError(`${key}.rates: more than ${MAX_RATES} rows`);
      rates = new Map();
      r.rates.forEach((e, j) => {
        const row = compileRate(e, `${key}.rates[${j}]`, byName);
        longest = Math.max(longest, row.prefix.length);
        const at = rates?.get(row.prefix);
        if (at) at.push(row);
        else rates?.set(row.prefix, [row]);
      });
    }
    return {
      zone: r.match.zone,
      user,
      trunks: list,
      policy,
      thresholds,
      rates,
      longest,
      clock:
        rates && [...rates.values()].some((rs) => rs.some((x) => x.when))
          ? new LocalClock(tz)
          : undefined,
    };
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function compileRate(
  e: RateEntry,
  key: string,
  byName: ReadonlyMap<string, TrunkSpec>,
): CompiledRate {
  if (typeof e.prefix !== 'string' || !/^[0-9]{0,32}$/.test(e.prefix))
    throw new TypeError(`${key}.prefix: digits only, at most 32 ('' prices every number)`);
  const names = Object.keys(e.costs ?? {});
  if (names.length === 0) throw new TypeError(`${key}.costs: no trunk`);
  const trunks = names.map((n) => {
    const t = byName.get(n);
    if (!t) throw new TypeError(`${key}.costs: no trunk named ${n}`);
    const cost = e.costs[n] as number;
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0)
      throw new TypeError(`${key}.costs.${n}: a cost is a finite number ≥ 0`);
    return { trunk: t, cost };
  });
  let when: CompiledWindow | undefined;
  if (e.when) {
    const from = parseHhMm(e.when.from ?? '00:00');
    const to = parseHhMm(e.when.to ?? '24:00');
    if (from === undefined) throw new TypeError(`${key}.when.from: expected HH:MM`);
    if (to === undefined) throw new TypeError(`${key}.when.to: expected HH:MM`);
    if (from === to) throw new TypeError(`${key}.when: from and to are the same time`);
    const days = e.when.days?.map((d) => {
      const n = WEEKDAYS.indexOf(d);
      if (n < 0) throw new TypeError(`${key}.when.days: ${String(d)} is not mon…sun`);
      return n;
    });
    when = { days: days && new Set(days), from, to };
  }
  return { prefix: e.prefix, trunks, when };
}

/** The rate row of the longest prefix of `digits` whose window is open (first in table order). */
export function matchRate(
  route: CompiledRoute,
  digits: string | undefined,
  now: number,
): CompiledRate | undefined {
  const rates = route.rates;
  if (!rates || digits === undefined) return undefined;
  const local = route.clock?.at(now);
  for (let n = Math.min(route.longest, digits.length); n >= 0; n--) {
    const rows = rates.get(digits.slice(0, n));
    if (!rows) continue;
    for (const row of rows)
      if (!row.when || (local && windowOpen(row.when, local.day, local.minute))) return row;
  }
  return undefined;
}

/**
 * Trunks of one priority in a weighted random order (Kamailio dispatcher algorithm 9): each
 * pick among those left with probability weight / sum; weight-0 trunks follow in their order.
 */
export function weightedOrder<T>(
  items: readonly T[],
  weight: (t: T) => number,
  random: () => number,
): T[] {
  const left = items.map((t) => ({ t, w: Math.max(0, weight(t)) }));
  const out: T[] = [];
  while (left.length > 0) {
    const sum = left.reduce((a, x) => a + x.w, 0);
    if (!(sum > 0)) {
      out.push(...left.map((x) => x.t));
      break;
    }
    const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON) * sum;
    let acc = 0;
    let pick = left.length - 1;
    for (let i = 0; i < left.length; i++) {
      acc += (left[i] as { w: number }).w;
      if (r < acc && (left[i] as { w: number }).w > 0) {
        pick = i;
        break;
      }
    }
    out.push((left.splice(pick, 1)[0] as { t: T }).t);
  }
  return out;
}

/** The base order: by priority, and within a priority by weight when any trunk has one. */
export function baseOrder(trunks: readonly TrunkSpec[], random: () => number): TrunkSpec[] {
  const groups = new Map<number, TrunkSpec[]>();
  for (const t of trunks) {
    const p = t.priority ?? 0;
    const g = groups.get(p);
    if (g) g.push(t);
    else groups.set(p, [t]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([, g]) =>
      g.some((t) => t.weight !== undefined) ? weightedOrder(g, (t) => t.weight ?? 1, random) : g,
    );
}

/** Whether a trunk's live quality is judged and falls below a threshold. */
export function belowThresholds(
  q: TrunkQuality | undefined,
  th: Required<QualityThresholds>,
): boolean {
  if (!q || q.calls < Math.max(1, th.minCalls)) return false;
  if (th.minMos > 0 && q.mos !== null && q.mos < th.minMos) return true;
  return th.minAsr > 0 && q.asr !== null && q.asr < th.minAsr;
}

/** One route's trunks for a called number, in the order they are tried (empty: no match). */
export function orderTrunks(
  route: CompiledRoute,
  user: string | undefined,
  ctx: SelectContext,
): TrunkSpec[] {
  let candidates: TrunkSpec[];
  const cost = new Map<string, number>();
  if (route.rates) {
    const row = matchRate(route, dialedDigits(user), ctx.now);
    if (!row) return [];
    for (const x of row.trunks) cost.set(x.trunk.name, x.cost);
    candidates = row.trunks.map((x) => x.trunk);
  } else candidates = [...route.trunks];
  const base = baseOrder(candidates, ctx.random);
  if (route.policy === 'order') return base;
  const th = route.thresholds;
  // Each trunk's quality read once per call (the sort compares many times).
  const live = new Map(base.map((t) => [t.name, ctx.quality?.(t.name)]));
  const q = (t: TrunkSpec): TrunkQuality | undefined => live.get(t.name);
  const tier = (t: TrunkSpec): number => (belowThresholds(q(t), th) ? 1 : 0);
  const judged = (t: TrunkSpec): TrunkQuality | undefined => {
    const x = q(t);
    return x && x.calls >= Math.max(1, th.minCalls) ? x : undefined;
  };
  const costOf = (t: TrunkSpec): number => cost.get(t.name) ?? Number.POSITIVE_INFINITY;
  const rank = base.map((t, i) => ({ t, i }));
  const cmp: Record<Exclude<RoutePolicy, 'order'>, (a: TrunkSpec, b: TrunkSpec) => number> = {
    cost: (a, b) => costOf(a) - costOf(b),
    'cost-quality': (a, b) => tier(a) - tier(b) || costOf(a) - costOf(b),
    quality: (a, b) => {
      const d = tier(a) - tier(b);
      if (d !== 0) return d;
      // Best MOS first; a trunk not judged yet (or without MOS) after the measured ones.
      const ma = judged(a)?.mos ?? -1;
      const mb = judged(b)?.mos ?? -1;
      if (ma !== mb) return mb - ma;
      return (judged(b)?.asr ?? -1) - (judged(a)?.asr ?? -1);
    },
  };
  const by = cmp[route.policy];
  rank.sort((a, b) => by(a.t, b.t) || a.i - b.i);
  return rank.map((x) => x.t);
}

/** The trunks for a call from `zone` to `user` (empty: no route). */
export function selectTrunks(
  routes: readonly CompiledRoute[],
  zone: string,
  user: string | undefined,
  ctx: SelectContext = { now: Date.now(), random: Math.random },
): readonly TrunkSpec[] {
  for (const r of routes) {
    if (r.zone !== zone) continue;
    if (r.user && !r.user.test(user ?? '')) continue;
    const list = orderTrunks(r, user, ctx);
    if (list.length > 0) return list;
  }
  return [];
}
