/**
 * Routing on cost and quality (routing.ts; docs/sbc.md, "Routing on cost and quality"): rate
 * tables with the longest prefix, time windows on an injected instant, priority and weight with a
 * seeded random source, and the `cost`, `quality` and `cost-quality` policies over given live
 * quality. Pure: no sockets. Hostile input: empty prefixes, non-digits, huge tables, bad windows.
 */
import { describe, expect, it } from 'vitest';
import {
  baseOrder,
  compileRoutes,
  dialedDigits,
  parseHhMm,
  selectTrunks,
  weightedOrder,
  type RateEntry,
  type RouteSpec,
  type SelectContext,
  type TrunkQuality,
  type TrunkSpec,
} from '../src/index.js';

const trunk = (name: string, extra: Partial<TrunkSpec> = {}): TrunkSpec => ({
  name,
  zone: 'core',
  uri: `sip:127.0.41.1:${5000 + name.length}`,
  ...extra,
});
const T = [trunk('a'), trunk('b'), trunk('c')];

/** A seeded PRNG (mulberry32): the same seed, the same sequence. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const at = (iso: string): SelectContext => ({ now: Date.parse(iso), random: () => 0 });
const names = (ts: readonly TrunkSpec[]): string[] => ts.map((t) => t.name);

describe('rate tables: longest prefix of the called number', () => {
  const routes = compileRoutes(
    [
      {
        match: { zone: 'public' },
        to: [],
        rates: [
          { prefix: '44', costs: { a: 0.01, b: 0.02, c: 0.03 } },
          { prefix: '4420', costs: { b: 0.05, c: 0.04 } },
          { prefix: '', costs: { c: 0.1 } },
        ],
      },
    ],
    T,
  );

  it('the cheapest trunk of the longest matching prefix first, even when a shorter prefix is cheaper', () => {
    expect(names(selectTrunks(routes, 'public', '+442071234567', at('2026-01-01T00:00Z')))).toEqual(
      ['c', 'b'],
    );
    expect(names(selectTrunks(routes, 'public', '441611234567', at('2026-01-01T00:00Z')))).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('the empty prefix prices every number no longer prefix matches', () => {
    expect(names(selectTrunks(routes, 'public', '3312345', at('2026-01-01T00:00Z')))).toEqual([
      'c',
    ]);
  });

  it('a user that is not a number matches no row, so no route (404)', () => {
    for (const u of ['alice', '+', '', '44 20', '44-20', '++44', '4420x', undefined, '٤٤٢٠'])
      expect(selectTrunks(routes, 'public', u, at('2026-01-01T00:00Z'))).toEqual([]);
  });

  it('a number no row prices falls through to the next route', () => {
    const r = compileRoutes(
      [
        { match: { zone: 'public' }, to: [], rates: [{ prefix: '44', costs: { a: 1 } }] },
        { match: { zone: 'public' }, to: ['b'] },
      ],
      T,
    );
    expect(names(selectTrunks(r, 'public', '331', at('2026-01-01T00:00Z')))).toEqual(['b']);
    expect(names(selectTrunks(r, 'public', '441', at('2026-01-01T00:00Z')))).toEqual(['a']);
  });

  it('a table of 100 000 rows (the most) compiles and answers the longest prefix', () => {
    const rates: RateEntry[] = Array.from({ length: 99_999 }, (_, i) => ({
      prefix: String(1_000_000 + i),
      costs: { a: i % 7, b: (i + 3) % 7 },
    }));
    rates.push({ prefix: '1', costs: { c: 0 } });
    const r = compileRoutes([{ match: { zone: 'public' }, to: [], rates }], T);
    expect(names(selectTrunks(r, 'public', '1000005999', at('2026-01-01T00:00Z')))).toEqual([
      'b', // 5 % 7 = 5 for a, 8 % 7 = 1 for b
      'a',
    ]);
    expect(names(selectTrunks(r, 'public', '19', at('2026-01-01T00:00Z')))).toEqual(['c']);
    expect(dialedDigits('9'.repeat(65))).toBeUndefined();
    rates.push({ prefix: '2', costs: { c: 0 } });
    expect(() => compileRoutes([{ match: { zone: 'public' }, to: [], rates }], T)).toThrow(
      'sbc.routes[0].rates: more than 100000 rows',
    );
  });

  it('refuses bad tables with the key that is wrong', () => {
    const bad =
      (rates: unknown, extra: Partial<RouteSpec> = {}): (() => unknown) =>
      () =>
        compileRoutes(
          [{ match: { zone: 'public' }, to: [], rates: rates as RouteSpec['rates'], ...extra }],
          T,
        );
    expect(bad([{ prefix: '+44', costs: { a: 1 } }])).toThrow('sbc.routes[0].rates[0].prefix');
    expect(bad([{ prefix: '44', costs: {} }])).toThrow('sbc.routes[0].rates[0].costs: no trunk');
    expect(bad([{ prefix: '44', costs: { zz: 1 } }])).toThrow('no trunk named zz');
    expect(bad([{ prefix: '44', costs: { a: -1 } }])).toThrow('costs.a');
    expect(bad([{ prefix: '44', costs: { a: Number.NaN } }])).toThrow('costs.a');
    expect(bad([{ prefix: '44', costs: { a: 1 }, when: { from: '25:00' } }])).toThrow(
      'when.from: expected HH:MM',
    );
    expect(bad([{ prefix: '44', costs: { a: 1 }, when: { from: '08:00', to: '08:00' } }])).toThrow(
      'same time',
    );
    expect(bad([{ prefix: '44', costs: { a: 1 }, when: { days: ['funday'] } }])).toThrow(
      'not mon…sun',
    );
    expect(bad([{ prefix: '44', costs: { a: 1 } }], { timezone: 'Mars/Olympus' })).toThrow(
      'sbc.routes[0].timezone: unknown timezone',
    );
    expect(() =>
      compileRoutes([{ match: { zone: 'public' }, to: ['a'], policy: 'cost' }], T),
    ).toThrow('policy: cost needs a rate table');
    expect(() =>
      compileRoutes(
        [{ match: { zone: 'public' }, to: ['a'], rates: [{ prefix: '1', costs: { a: 1 } }] }],
        T,
      ),
    ).toThrow('either to or rates');
    expect(parseHhMm('24:00')).toBe(1440);
    expect(parseHhMm('24:01')).toBeUndefined();
    expect(parseHhMm('7:00')).toBeUndefined();
  });
});

describe('time-of-day and day-of-week windows (in the route’s timezone)', () => {
  const routes = compileRoutes(
    [
      {
        match: { zone: 'public' },
        to: [],
        timezone: 'Europe/London',
        rates: [
          // Evenings (wrapping midnight) and weekends b is cheaper: windowed rows first.
          { prefix: '44', costs: { b: 0.005, a: 0.02 }, when: { from: '19:00', to: '07:00' } },
          { prefix: '44', costs: { b: 0.005, a: 0.02 }, when: { days: ['sat', 'sun'] } },
          { prefix: '44', costs: { a: 0.01, b: 0.03 } },
        ],
      },
    ],
    T,
  );
  const pick = (iso: string): string[] => names(selectTrunks(routes, 'public', '4420', at(iso)));

  it('the window open at the call’s moment decides the cheapest trunk', () => {
    expect(pick('2026-01-14T12:00:00Z')).toEqual(['a', 'b']); // Wednesday noon
    expect(pick('2026-01-14T19:30:00Z')).toEqual(['b', 'a']); // Wednesday evening
    expect(pick('2026-01-15T06:59:00Z')).toEqual(['b', 'a']); // before 07:00, wrapped
    expect(pick('2026-01-15T07:00:00Z')).toEqual(['a', 'b']); // to is exclusive
    expect(pick('2026-01-17T12:00:00Z')).toEqual(['b', 'a']); // Saturday
  });

  it('reads the clock in the route’s timezone (British Summer Time is UTC+1)', () => {
    // 18:30 UTC on a July Wednesday is 19:30 in London: the evening rate.
    expect(pick('2026-07-15T18:30:00Z')).toEqual(['b', 'a']);
    expect(pick('2026-01-14T18:30:00Z')).toEqual(['a', 'b']);
  });
});

describe('priority and weight', () => {
  it('lower priority first; one priority keeps the route order when nobody has a weight', () => {
    const ts = [trunk('a', { priority: 2 }), trunk('b', { priority: 1 }), trunk('c')];
    expect(names(baseOrder(ts, () => 0.99))).toEqual(['c', 'b', 'a']);
  });

  it('weights share the first pick in proportion (seeded random, 10 000 picks)', () => {
    const ts = [trunk('a', { weight: 1 }), trunk('b', { weight: 3 }), trunk('c', { weight: 0 })];
    const random = seeded(42);
    const first = new Map<string, number>();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const order = names(baseOrder(ts, random));
      expect(order).toHaveLength(3);
      expect(order[2]).toBe('c'); // weight 0: only after the others
      first.set(order[0] as string, (first.get(order[0] as string) ?? 0) + 1);
    }
    expect(first.get('c')).toBeUndefined();
    // Expected 1/4 and 3/4; a seeded run is deterministic, the bound is wide all the same.
    expect((first.get('a') ?? 0) / n).toBeGreaterThan(0.22);
    expect((first.get('a') ?? 0) / n).toBeLessThan(0.28);
    expect((first.get('b') ?? 0) / n).toBeGreaterThan(0.72);
  });

  it('a random source out of range or NaN still gives every trunk once', () => {
    const ts = ['a', 'b', 'c'];
    for (const r of [-1, 1, 2, Number.NaN, Number.POSITIVE_INFINITY])
      expect(
        weightedOrder(
          ts,
          () => 1,
          () => r,
        ).sort(),
      ).toEqual(['a', 'b', 'c']);
    expect(
      weightedOrder(
        ts,
        () => Number.NaN,
        () => 0.5,
      ),
    ).toEqual(['a', 'b', 'c']);
  });

  it('a route without rates orders its trunks by priority and weight too', () => {
    const ts = [trunk('a', { priority: 5 }), trunk('b', { priority: 0 })];
    const r = compileRoutes([{ match: { zone: 'public' }, to: ['a', 'b'] }], ts);
    expect(names(selectTrunks(r, 'public', 'x', at('2026-01-01T00:00Z')))).toEqual(['b', 'a']);
  });
});

describe('policies over live quality', () => {
  const q = (calls: number, mos: number | null, asr: number | null = 1): TrunkQuality => ({
    calls,
    asr,
    mos,
    pddMs: 100,
    acdSeconds: 10,
  });
  const rates = [{ prefix: '1', costs: { a: 0.01, b: 0.02, c: 0.03 } }];
  const route = (policy: RouteSpec['policy'], quality?: RouteSpec['quality']) =>
    compileRoutes(
      [{ match: { zone: 'public' }, to: [], rates, policy, ...(quality && { quality }) }],
      T,
    );
  const live: Record<string, TrunkQuality> = { a: q(10, 2.2), b: q(10, 4.3), c: q(10, 4.1) };
  const ctx: SelectContext = { now: 0, random: () => 0, quality: (n) => live[n] };

  it('cost keeps the cheapest trunk first whatever its quality', () => {
    expect(names(selectTrunks(route('cost'), 'public', '1', ctx))).toEqual(['a', 'b', 'c']);
  });

  it('quality puts the best MOS first and a trunk below minMos last', () => {
    expect(names(selectTrunks(route('quality'), 'public', '1', ctx))).toEqual(['b', 'c', 'a']);
  });

  it('cost-quality: cheapest among the trunks above the thresholds, the others after', () => {
    expect(names(selectTrunks(route('cost-quality'), 'public', '1', ctx))).toEqual(['b', 'c', 'a']);
  });

  it('quality counts only after minCalls attempts', () => {
    const few: SelectContext = {
      ...ctx,
      quality: (n) => ({ ...(live[n] as TrunkQuality), calls: 2 }),
    };
    expect(names(selectTrunks(route('cost-quality'), 'public', '1', few))).toEqual(['a', 'b', 'c']);
    expect(names(selectTrunks(route('cost-quality', { minCalls: 2 }), 'public', '1', few))).toEqual(
      ['b', 'c', 'a'],
    );
  });

  it('a quality route without rates orders its to trunks by quality', () => {
    const r = compileRoutes(
      [{ match: { zone: 'public' }, to: ['a', 'b', 'c'], policy: 'quality' }],
      T,
    );
    expect(names(selectTrunks(r, 'public', 'alice', ctx))).toEqual(['b', 'c', 'a']);
    // Without any quality source: the route's order.
    expect(names(selectTrunks(r, 'public', 'alice', { now: 0, random: () => 0 }))).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('minAsr demotes a trunk that answers too few calls', () => {
    const asr: SelectContext = {
      ...ctx,
      quality: (n) => (n === 'b' ? q(10, 4.4, 0.1) : q(10, null, 0.9)),
    };
    expect(
      names(selectTrunks(route('quality', { minAsr: 0.5, minMos: 0 }), 'public', '1', asr)),
    ).toEqual(['a', 'c', 'b']);
  });
});
