/**
 * The console's SBC views, pure parts: the ladder of both legs (columns, arrows, order), the
 * trunks' state, quality and registration texts (with the fields other branches add, as a
 * fixture), the statistics series, and chart scaling with hostile values.
 */
import { describe, expect, it } from 'vitest';
import {
  SBC_STATS_MAX_TRUNKS,
  type SbcLadderMessage,
  type SbcStatsSample,
  type SbcTrunk,
} from '@tfx/protocol';
import { clean, lineChart, MAX_VALUE, niceMax, ticks } from '../src/admin/chart.js';
import { kindOf, ladderLayout, offsetText } from '../src/admin/sbc-ladder.js';
import {
  probeText,
  qualityText,
  registrationKind,
  registrationText,
  type TrunkView,
} from '../src/admin/pages/sbc-trunks.js';
import { statsSeries, trunkSeries } from '../src/admin/pages/sbc-stats.js';

const CALLER = '127.0.46.21:5070';
const TRUNK = '127.0.46.11:5080';
const SBC_A = '127.0.46.20:40000';
const SBC_B = '127.0.46.10:40001';
let seq = 0;
const msg = (
  leg: 'a' | 'b',
  direction: 'in' | 'out',
  summary: string,
  ms: number,
  over: Partial<SbcLadderMessage> = {},
): SbcLadderMessage => ({
  seq: seq++,
  at: new Date(Date.UTC(2026, 11, 6, 22, 0, 0, ms)).toISOString(),
  leg,
  direction,
  transport: 'udp',
  local: leg === 'a' ? SBC_A : SBC_B,
  remote: leg === 'a' ? CALLER : TRUNK,
  callId: leg === 'a' ? 'caller-call-id' : 'sbc-own-call-id',
  summary,
  cseq: `1 ${/^\d/.test(summary) ? 'INVITE' : summary}`,
  text: `${summary}\r\n`,
  ...over,
});

/** A basic call: INVITE in on A, out on B, 100s, 180, 200 both ways, ACKs. */
function basicCall(): SbcLadderMessage[] {
  seq = 0;
  return [
    msg('a', 'in', 'INVITE', 0),
    msg('a', 'out', '100 Trying', 1),
    msg('b', 'out', 'INVITE', 3),
    msg('b', 'out', 'INVITE', 503), // a UDP retransmission (Timer A): an arrow of its own
    msg('b', 'in', '100 Trying', 510),
    msg('b', 'in', '180 Ringing', 600),
    msg('a', 'out', '180 Ringing', 601),
    msg('b', 'in', '200 OK', 1700),
    msg('a', 'out', '200 OK', 1702),
    msg('a', 'in', 'ACK', 1710),
    msg('b', 'out', 'ACK', 1711),
  ];
}

describe('SBC ladder layout (both legs side by side)', () => {
  it('puts the caller left of the SBC and the callee right of it, named by zone and trunk', () => {
    const l = ladderLayout(basicCall(), { aZone: 'public', bZone: 'core', trunk: 'carrier-a' });
    expect(l.columns.map((c) => [c.side, c.title])).toEqual([
      ['a', 'Caller'],
      ['sbc', 'SBC'],
      ['b', 'Callee · carrier-a'],
    ]);
    expect(l.columns[0]!.subtitle).toBe(`UDP ${CALLER} · public`);
    expect(l.columns[1]!.subtitle).toBe(`${SBC_A} | ${SBC_B}`);
    expect(l.columns[2]!.subtitle).toBe(`UDP ${TRUNK} · core`);
  });

  it('draws leg A between caller and SBC and leg B between SBC and callee, in the order seen', () => {
    const l = ladderLayout(basicCall());
    expect(l.rows.map((r) => [r.message.leg, r.from, r.to, r.label])).toEqual([
      ['a', 0, 1, 'INVITE'],
      ['a', 1, 0, '100 Trying'],
      ['b', 1, 2, 'INVITE'],
      ['b', 1, 2, 'INVITE'],
      ['b', 2, 1, '100 Trying'],
      ['b', 2, 1, '180 Ringing'],
      ['a', 1, 0, '180 Ringing'],
      ['b', 2, 1, '200 OK'],
      ['a', 1, 0, '200 OK'],
      ['a', 0, 1, 'ACK'],
      ['b', 1, 2, 'ACK'],
    ]);
    expect(l.rows.map((r) => r.kind)).toEqual([
      'req',
      'r1xx',
      'req',
      'req',
      'r1xx',
      'r1xx',
      'r1xx',
      'r2xx',
      'r2xx',
      'req',
      'req',
    ]);
    expect(l.rows.map((r) => r.offsetMs)).toEqual([
      0, 1, 3, 503, 510, 600, 601, 1700, 1702, 1710, 1711,
    ]);
  });

  it('gives a second peer of a leg its own column on its side (a trunk answering from elsewhere)', () => {
    const m = basicCall();
    m.push(msg('b', 'in', 'BYE', 5000, { remote: '127.0.46.13:5080' }));
    const l = ladderLayout(m);
    expect(l.columns.map((c) => c.title)).toEqual(['Caller', 'SBC', 'Callee', 'Callee (2)']);
    expect(l.rows.at(-1)!).toMatchObject({ from: 3, to: 1 });
  });

  it('survives hostile input: no messages, unparsable times, a time going back, long reasons', () => {
    expect(ladderLayout([])).toEqual({
      columns: [{ key: 'sbc', side: 'sbc', title: 'SBC', subtitle: '' }],
      rows: [],
    });
    seq = 0;
    const l = ladderLayout([
      msg('a', 'in', 'INVITE', 500),
      msg('a', 'out', '100 Trying', 0), // the clock went back
      msg('a', 'out', '480 Temporarily Unavailable Because Of A Very Long Reason', 0, {
        at: 'not a time',
      }),
    ]);
    expect(l.rows.map((r) => r.offsetMs)).toEqual([0, 0, undefined]);
    expect(l.rows[2]!.label).toBe('480 Temporarily Unavail…');
    expect(l.rows[2]!.label.length).toBe(24);
    expect(offsetText(undefined)).toBe('');
    expect(offsetText(12)).toBe('+12 ms');
    expect(offsetText(1500)).toBe('+1.50 s');
  });

  it.each([
    ['INVITE', 'req'],
    ['100 Trying', 'r1xx'],
    ['183 Session Progress', 'r1xx'],
    ['200 OK', 'r2xx'],
    ['302 Moved', 'r3xx'],
    ['486 Busy Here', 'rerr'],
    ['504 Server Time-out', 'rerr'],
    ['603', 'rerr'],
    ['1000 Bogus', 'req'],
  ])('%s is drawn as %s', (summary, kind) => {
    expect(kindOf(summary)).toBe(kind);
  });
});

const trunk = (over: Partial<TrunkView> = {}): TrunkView => ({
  name: 'carrier-a',
  zone: 'core',
  uri: 'sip:192.0.2.7:5060',
  state: 'up',
  probing: true,
  lastStatus: 200,
  since: '2026-12-06T22:00:00.000Z',
  probesSent: 10,
  probesFailed: 1,
  ...(over as Partial<SbcTrunk>),
  ...over,
});

describe('SBC trunks: state, quality and registration', () => {
  it('says what the last probe got', () => {
    expect(probeText(trunk())).toBe('OPTIONS → 200');
    expect(probeText(trunk({ lastStatus: 0 }))).toBe('timeout / transport error');
    expect(probeText(trunk({ probing: false }))).toBe('not probed');
    const { lastStatus: _, ...none } = trunk();
    expect(probeText(none)).toBe('none yet');
  });

  it('renders the quality fields when present (asr a ratio, MOS 1–5)', () => {
    expect(qualityText(undefined)).toBe('—');
    expect(qualityText(null)).toBe('—');
    expect(qualityText({ calls: 12, asr: 0.667, pddMs: 120.4, acdSeconds: 42.2, mos: 4.31 })).toBe(
      '12 calls · ASR 67 % · PDD 120 ms · ACD 42 s · MOS 4.3',
    );
    // No call yet: the server sends nulls.
    expect(qualityText({ calls: 0, asr: null, pddMs: null, acdSeconds: null, mos: null })).toBe(
      '0 calls',
    );
  });

  it('never shows hostile quality values as data', () => {
    expect(
      qualityText({ calls: NaN, asr: Infinity, pddMs: -5, acdSeconds: -1, mos: 17 } as never),
    ).toBe('PDD 0 ms · ACD 0 s · MOS 5.0');
    expect(qualityText({ asr: 3, mos: -2 })).toBe('ASR 100 % · MOS 1.0');
    expect(qualityText({ calls: '7', asr: '0.5' } as never)).toBe('—');
  });

  it('renders the registration when present', () => {
    const now = Date.parse('2026-12-06T22:00:00.000Z');
    expect(registrationText(undefined, now)).toBe('—');
    expect(
      registrationText(
        { state: 'registered', expiresAt: '2026-12-06T22:04:10.000Z', lastStatus: 200 },
        now,
      ),
    ).toBe('registered · expires in 4 min 10 s · last 200');
    expect(
      registrationText(
        { state: 'failed', expiresAt: '2026-12-06T21:00:00.000Z', lastStatus: 403 },
        now,
      ),
    ).toBe('failed · expired · last 403');
    expect(registrationText({ state: '', expiresAt: 'garbage', lastStatus: NaN }, now)).toBe('—');
    expect(registrationKind({ state: 'registered' })).toBe('ok');
    expect(registrationKind({ state: 'failed' })).toBe('danger');
    expect(registrationKind({ state: 'registering' })).toBe('warn');
    expect(registrationKind(undefined)).toBe('warn');
  });
});

const sample = (over: Partial<SbcStatsSample> = {}): SbcStatsSample => ({
  at: '2026-12-06T22:00:00.000Z',
  calls: 1,
  callsPerSecond: 0.2,
  ended: { '2xx': 1 },
  cpuPercent: 3.5,
  rssBytes: 100 * 1024 * 1024,
  heapUsedBytes: 50 * 1024 * 1024,
  media: {
    engine: 'builtin',
    sessions: 1,
    packetsPerSecond: 100,
    bytesPerSecond: 17_200,
    busyPercent: 1.5,
  },
  ...over,
});

describe('SBC statistics series', () => {
  it('maps samples to the charts’ series (MB, kbit/s; the workers’ line only when reported)', () => {
    const s = statsSeries([sample(), sample({ calls: 2 })]);
    expect(s.calls[0]!.values).toEqual([1, 2]);
    expect(s.memory.map((x) => [x.name, x.values])).toEqual([
      ['RSS MB', [100, 100]],
      ['Heap MB', [50, 50]],
    ]);
    expect(s.bandwidth[0]!.values).toEqual([137.6, 137.6]);
    expect(s.cpu.map((x) => x.name)).toEqual(['Process %', 'Media workers busy %']);
    const rtp = statsSeries([
      sample({
        media: { engine: 'rtpengine', sessions: 0, packetsPerSecond: 0, bytesPerSecond: 0 },
      }),
    ]);
    expect(rtp.cpu.map((x) => x.name)).toEqual(['Process %']);
    const errs = statsSeries([
      sample({
        media: {
          engine: 'rtpengine',
          sessions: 1,
          packetsPerSecond: 50,
          bytesPerSecond: 8600,
          errorsPerSecond: 0.4,
        },
      }),
    ]);
    expect(errs.packets.map((x) => [x.name, x.values])).toEqual([
      ['Packets/s', [50]],
      ['Errors/s', [0.4]],
    ]);
    expect(s.packets.map((x) => x.name)).toEqual(['Packets/s']);
  });

  it('draws no media point for a sample without the engine’s figures (not a false 0)', () => {
    const { media: _, ...noMedia } = sample();
    const s = statsSeries([sample(), noMedia, sample()]);
    expect(s.packets[0]!.values).toEqual([100, 100]);
    expect(s.calls[0]!.values).toEqual([1, 1, 1]);
    expect(statsSeries([]).times).toEqual([]);
  });
});

describe('chart scaling with hostile values', () => {
  it('cleans NaN, negatives and infinities', () => {
    expect(clean(NaN)).toBe(0);
    expect(clean(-3)).toBe(0);
    expect(clean(-Infinity)).toBe(0);
    expect(clean(Infinity)).toBe(MAX_VALUE);
    expect(clean(1e300)).toBe(MAX_VALUE);
    expect(clean(2.5)).toBe(2.5);
    expect(clean('7' as never)).toBe(0);
  });

  it.each([
    [NaN, 1, 1],
    [-50, 1, 1],
    [Infinity, 1, MAX_VALUE],
    [1e300, 1, MAX_VALUE],
    [3, NaN, 5],
    [3, -4, 5],
    [0, 0, 1],
  ])('niceMax(%d, floor %d) = %d: finite and positive', (max, floor, want) => {
    const m = niceMax(max, floor);
    expect(m).toBe(want);
    expect(Number.isFinite(m)).toBe(true);
  });

  it('gives finite ticks for any max, and one tick for a bad one', () => {
    for (const max of [1, 5, 2.5e14, MAX_VALUE]) {
      const t = ticks(max);
      expect(t.length).toBeGreaterThan(3);
      expect(t.every(Number.isFinite)).toBe(true);
      expect(t.at(-1)).toBe(max);
    }
    expect(ticks(NaN)).toEqual([0]);
    expect(ticks(-1)).toEqual([0]);
    expect(ticks(Infinity)).toEqual([0]);
  });
});

describe('SBC trunk quality series', () => {
  const q = (name: unknown, mos: unknown, asr: unknown, pddMs: unknown) =>
    ({ name, calls: 1, mos, asr, pddMs }) as never;

  it('gives a line per trunk, named as given, with gaps where a trunk was not measured', () => {
    const s = trunkSeries([
      sample(),
      sample({ trunks: [q('carrier-a', null, 1, 120)] }),
      sample({
        trunks: [q('carrier-a', 4.2, 0.5, 100), q('<img src=x onerror=alert(1)>', null, 0, null)],
      }),
    ]);
    expect(s.mos).toEqual([{ name: 'carrier-a', values: [null, null, 4.2] }]);
    expect(s.asr).toEqual([
      { name: 'carrier-a', values: [null, 100, 50] },
      { name: '<img src=x onerror=alert(1)>', values: [null, null, 0] },
    ]);
    // A trunk never measured in a figure has no series for it (not a line at 0).
    expect(s.pdd.map((x) => x.name)).toEqual(['carrier-a']);
    expect(trunkSeries([])).toEqual({ mos: [], asr: [], pdd: [] });
  });

  it('survives hostile samples: NaN, out of range, bad entries, duplicates, 60 trunks', () => {
    const many = Array.from({ length: 60 }, (_, i) => q(`t${i}`, 4, 1, 10));
    const s = trunkSeries([
      sample({ trunks: many }),
      sample({
        trunks: [
          q('t0', NaN, Infinity, -1),
          q('t0', 4, 1, 10), // a duplicate: the first one counts
          null as never,
          'x' as never,
          q(42, 4, 1, 10),
          q('t1', 9, -0.5, '12'),
        ],
      }),
      sample({ trunks: 'garbage' as never }),
    ]);
    expect(s.mos.length).toBe(SBC_STATS_MAX_TRUNKS);
    expect(s.asr.length).toBe(SBC_STATS_MAX_TRUNKS);
    expect(s.mos[0]).toEqual({ name: 't0', values: [4, null, null] });
    expect(s.asr[1]).toEqual({ name: 't1', values: [100, null, null] });
    expect(s.pdd[1]).toEqual({ name: 't1', values: [10, null, null] });
    for (const x of [...s.mos, ...s.asr, ...s.pdd])
      for (const v of x.values) expect(v === null || Number.isFinite(v)).toBe(true);
  });
});

/** Just enough of a DOM for chart.ts: text is kept apart from markup, innerHTML is refused. */
class FakeNode {
  readonly children: Array<FakeNode | string> = [];
  readonly attrs: Record<string, string> = {};
  className = '';
  #text = '';
  constructor(readonly tag: string) {}
  setAttribute(k: string, v: string): void {
    this.attrs[k] = v;
  }
  append(...nodes: Array<FakeNode | string>): void {
    this.children.push(...nodes);
  }
  set textContent(t: string) {
    this.#text = t;
  }
  get textContent(): string {
    return (
      this.#text + this.children.map((c) => (typeof c === 'string' ? c : c.textContent)).join('')
    );
  }
  set innerHTML(_: string) {
    throw new Error('innerHTML used');
  }
  all(tag: string): FakeNode[] {
    const own = this.children.filter((c): c is FakeNode => typeof c !== 'string');
    return [...own.filter((c) => c.tag === tag), ...own.flatMap((c) => c.all(tag))];
  }
}

describe('chart legend and gaps', () => {
  const withDom = <T>(f: () => T): T => {
    const g = globalThis as { document?: unknown };
    const before = g.document;
    g.document = {
      createElement: (t: string) => new FakeNode(t),
      createElementNS: (_: string, t: string) => new FakeNode(t),
    };
    try {
      return f();
    } finally {
      g.document = before;
    }
  };

  it('writes trunk names into the legend as text, never as markup', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const fig = withDom(() =>
      lineChart([{ name: evil, values: [1, 2] }], { label: '<script>' }),
    ) as unknown as FakeNode;
    const li = fig.all('li');
    expect(li.length).toBe(1);
    expect(li[0]!.textContent).toBe(`${evil} 2`);
    expect(fig.all('img')).toEqual([]);
    expect(li[0]!.children.some((c) => c === `${evil} `)).toBe(true);
  });

  it('draws a gap for null (two sub-paths), a dot for a lone point, and "–" for a last gap', () => {
    const fig = withDom(() =>
      lineChart(
        [
          { name: 'a', values: [1, 2, null, 3, 4] },
          { name: 'b', values: [null, 5, null, null] },
          { name: 'c', values: [null, null] },
        ],
        { label: 'x' },
      ),
    ) as unknown as FakeNode;
    const paths = fig.all('path');
    expect(paths.length).toBe(2);
    expect((paths[0]!.attrs.d!.match(/M/g) ?? []).length).toBe(2);
    expect(paths[1]!.attrs.d).toMatch(/^M[\d.]+,[\d.]+$/);
    expect(fig.all('circle').length).toBe(1);
    expect(fig.all('li').map((l) => l.textContent)).toEqual(['a 4', 'b –', 'c –']);
  });
});
