/**
 * The SBC statistics sampler (docs/console.md, "SBC statistics"): a sample is the difference of
 * two readings — rates per second, calls ended by class in the interval — and never a negative
 * or non-finite figure (a counter that went back, a zero interval, an engine that changed).
 */
import { describe, expect, it } from 'vitest';
import { SBC_STATS_MAX_TRUNKS, sbcStatsSampleSchema } from '@tfx/protocol';
import { QualityMeter } from '@tfx/sbc';
import { HISTORY, SbcStatsSampler, sampleOf, trunksOf, type Reading } from '../../src/sbc/stats.js';
import { rtpengineTotals } from '../../src/sbc/rtpengine-stats.js';

const reading = (over: Partial<Reading> = {}): Reading => ({
  at: 1_000_000,
  calls: 0,
  started: 0,
  ended: new Map(),
  cpuMicros: 0,
  rssBytes: 80e6,
  heapUsedBytes: 30e6,
  media: { engine: 'builtin', sessions: 0, packets: 0, bytes: 0 },
  ...over,
});

describe('SBC statistics samples', () => {
  it('gives rates per second and the calls ended in the interval by final class', () => {
    const s = sampleOf(
      reading({ ended: new Map([['2xx', 3]]) }),
      reading({
        at: 1_005_000,
        calls: 2,
        started: 10,
        ended: new Map([
          ['2xx', 5],
          ['4xx', 1],
        ]),
        cpuMicros: 250_000, // 250 ms of CPU in 5 s: 5 % of one core
        media: { engine: 'builtin', sessions: 2, packets: 1000, bytes: 172_000, busy: 0.0123 },
      }),
    );
    expect(s).toEqual({
      at: new Date(1_005_000).toISOString(),
      calls: 2,
      callsPerSecond: 2,
      ended: { '2xx': 2, '4xx': 1 },
      cpuPercent: 5,
      rssBytes: 80e6,
      heapUsedBytes: 30e6,
      media: {
        engine: 'builtin',
        sessions: 2,
        packetsPerSecond: 200,
        bytesPerSecond: 34_400,
        busyPercent: 1.2,
      },
    });
  });

  it('never gives a negative or non-finite figure', () => {
    // Counters that went back (a replaced media worker starts from 0), a clock that did not move.
    const back = sampleOf(
      reading({
        started: 10,
        cpuMicros: 5e6,
        ended: new Map([['2xx', 9]]),
        media: { engine: 'builtin', sessions: 1, packets: 900, bytes: 9e5 },
      }),
      reading({ started: 3, cpuMicros: 1e6, ended: new Map([['2xx', 2]]) }),
    );
    expect(back.callsPerSecond).toBe(0);
    expect(back.cpuPercent).toBe(0);
    expect(back.ended).toEqual({});
    expect(back.media).toMatchObject({ packetsPerSecond: 0, bytesPerSecond: 0 });
    const nan = sampleOf(
      reading(),
      reading({
        at: 1_005_000,
        started: NaN,
        media: { engine: 'builtin', sessions: 0, packets: NaN, bytes: Infinity },
      }),
    );
    for (const v of [nan.callsPerSecond, nan.media!.packetsPerSecond, nan.media!.bytesPerSecond])
      expect(v).toBe(0);
  });

  it('starts the media rates again when the engine changes, and leaves media out without one', () => {
    const s = sampleOf(
      reading({ media: { engine: 'rtpengine', sessions: 0, packets: 5, bytes: 5 } }),
      reading({
        at: 1_005_000,
        media: { engine: 'builtin', sessions: 0, packets: 1e6, bytes: 1e9 },
      }),
    );
    expect(s.media).toMatchObject({ engine: 'builtin', packetsPerSecond: 0, bytesPerSecond: 0 });
    const { media: _, ...none } = reading({ at: 1_005_000 });
    expect(sampleOf(reading(), none).media).toBeUndefined();
  });

  it('keeps the last HISTORY samples, the first reading being only the baseline', async () => {
    let now = 0;
    let started = 0;
    const sampler = new SbcStatsSampler({
      sbc: () => ({ callCount: 1, counters: { callsStarted: started }, cdr: undefined }) as never,
      engine: () => undefined,
      now: () => now,
    });
    await sampler.tick();
    expect(sampler.samples()).toEqual([]);
    for (let i = 0; i < HISTORY + 5; i++) {
      now += 5000;
      started += 5;
      await sampler.tick();
    }
    const s = sampler.samples();
    expect(s.length).toBe(HISTORY);
    expect(s.at(-1)).toMatchObject({ calls: 1, callsPerSecond: 1 });
    expect(s.at(-1)!.media).toBeUndefined();
    sampler.close();
    sampler.close();
    await sampler.tick(); // closed: nothing more
    expect(sampler.samples().length).toBe(HISTORY);
  });
});

describe('rtpengine statistics answer', () => {
  it('sums the instances and reads nothing hostile as a figure', () => {
    const answer = (own: unknown, packets: unknown, bytes: unknown, errors: unknown) => ({
      result: 'ok',
      statistics: {
        currentstatistics: { sessionstotal: own, packetrate: 5 },
        totalstatistics: {
          relayedpackets: packets,
          relayedbytes: bytes,
          relayedpacketerrors: errors,
        },
      },
    });
    expect(rtpengineTotals([answer(2, 100, 17_200, 1), answer(1, 50, 8600, 0)])).toEqual({
      instances: 2,
      sessions: 3,
      packets: 150,
      bytes: 25_800,
      errors: 1,
    });
    expect(
      rtpengineTotals([
        answer(-4, 'NaN', Infinity, new Uint8Array(3)),
        { statistics: 'garbage' },
        null,
        [],
        { statistics: { currentstatistics: [1, 2], totalstatistics: { relayedpackets: '12' } } },
      ]),
    ).toEqual({ instances: 5, sessions: 0, packets: 12, bytes: 0, errors: 0 });
    expect(rtpengineTotals([])).toEqual({
      instances: 0,
      sessions: 0,
      packets: 0,
      bytes: 0,
      errors: 0,
    });
  });

  it('gives rtpengine’s error rate per second', () => {
    const s = sampleOf(
      reading({ media: { engine: 'rtpengine', sessions: 1, packets: 0, bytes: 0, errors: 10 } }),
      reading({
        at: 1_005_000,
        media: { engine: 'rtpengine', sessions: 1, packets: 500, bytes: 86_000, errors: 20 },
      }),
    );
    expect(s.media).toEqual({
      engine: 'rtpengine',
      sessions: 1,
      packetsPerSecond: 100,
      bytesPerSecond: 17_200,
      errorsPerSecond: 2,
    });
  });
});

describe('trunks’ live quality in the samples', () => {
  it('reads each configured trunk’s MOS, ASR and PDD from a real QualityMeter', async () => {
    let now = 1_000_000;
    const meter = new QualityMeter({ windowCalls: 100, windowMinutes: 60 }, () => now);
    const sbc = {
      callCount: 0,
      counters: { callsStarted: 0 },
      cdr: undefined,
      trunks: [{ name: 'carrier-a' }, { name: 'idle' }, { name: '<b>x</b>' }],
      quality: { meter },
    };
    const sampler = new SbcStatsSampler({
      sbc: () => sbc as never,
      engine: () => undefined,
      now: () => now,
    });
    await sampler.tick();
    now += 5000;
    await sampler.tick();
    // Nothing measured yet: no trunks in the sample (not a row of zeros).
    expect(sampler.samples()[0]!.trunks).toBeUndefined();
    meter.record('carrier-a', {
      at: now,
      answered: true,
      pddMs: 120,
      durationSeconds: 30,
      mos: 4.3,
    });
    meter.record('carrier-a', { at: now, answered: false, pddMs: 80 });
    meter.record('<b>x</b>', { at: now, answered: false });
    now += 5000;
    await sampler.tick();
    const s = sampler.samples().at(-1)!;
    expect(s.trunks).toEqual([
      { name: 'carrier-a', calls: 2, asr: 0.5, pddMs: 100, mos: 4.3 },
      { name: '<b>x</b>', calls: 1, asr: 0, pddMs: null, mos: null },
    ]);
    expect(sbcStatsSampleSchema.safeParse(s).success).toBe(true);
    sampler.close();
  });

  it('bounds the trunks and never gives NaN, a figure out of range or a false 0', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      name: `t${i}`,
      calls: 1,
      asr: 1,
      pddMs: 10,
      mos: 4,
    }));
    expect(trunksOf(many).length).toBe(SBC_STATS_MAX_TRUNKS);
    expect(trunksOf(many).at(-1)!.name).toBe(`t${SBC_STATS_MAX_TRUNKS - 1}`);
    const hostile = trunksOf([
      { name: 'nan', calls: 3, asr: NaN, pddMs: -5, mos: Infinity },
      { name: 'range', calls: 2.7, asr: 1.5, pddMs: 1e12, mos: 0.2 },
      { name: 'none', calls: 0, asr: 1, pddMs: 1, mos: 4 },
      { name: 'bad calls', calls: NaN, asr: 1, pddMs: 1, mos: 4 },
      { name: 7 as never, calls: 1, asr: 1, pddMs: 1, mos: 4 },
      { name: 'ok', calls: 1, asr: 0.33333, pddMs: 99.6, mos: 3.456 },
    ]);
    expect(hostile).toEqual([
      { name: 'nan', calls: 3, asr: null, pddMs: null, mos: null },
      { name: 'range', calls: 2, asr: null, pddMs: null, mos: null },
      { name: 'ok', calls: 1, asr: 0.333, pddMs: 100, mos: 3.46 },
    ]);
    const s = sampleOf(reading(), reading({ at: 1_005_000, trunks: [...many, ...many] }));
    expect(sbcStatsSampleSchema.safeParse(s).success).toBe(true);
    expect(s.trunks!.length).toBe(SBC_STATS_MAX_TRUNKS);
  });
});
