/**
 * Live quality per trunk (quality.ts): ASR, post-dial delay, average call duration and MOS over
 * a sliding window of the last N attempts and the last T minutes, on an injected clock; a call's
 * events (trying, progress, answered, failed, stats, ended) become samples. Hostile input: NaN,
 * negative and out-of-range figures are dropped, unknown calls ignored, windows bounded.
 */
import { describe, expect, it } from 'vitest';
import type { LegStats } from '@tfx/media';
import { QualityMeter, QualityTracker, type QualityCall } from '../src/index.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const leg = (tag: string, mos?: number): LegStats =>
  ({
    tag,
    local: { address: '127.0.41.1', port: 1 },
    latched: true,
    direction: 'sendrecv',
    packetsIn: 100,
    bytesIn: 100,
    packetsOut: 100,
    bytesOut: 100,
    dropped: 0,
    packetsLost: 0,
    jitterMs: 0,
    ...(mos !== undefined && { mos }),
  }) as LegStats;

describe('QualityMeter', () => {
  it('no attempt yet: zero calls and every figure null', () => {
    const c = clock();
    expect(new QualityMeter({ windowCalls: 10, windowMinutes: 5 }, c.now).of('x')).toEqual({
      calls: 0,
      asr: null,
      pddMs: null,
      acdSeconds: null,
      mos: null,
    });
  });

  it('ASR, PDD, ACD and MOS over the attempts; only answered calls count toward ACD', () => {
    const c = clock();
    const m = new QualityMeter({ windowCalls: 10, windowMinutes: 0 }, c.now);
    m.record('t', { at: c.now(), answered: true, pddMs: 100, durationSeconds: 30, mos: 4.2 });
    m.record('t', { at: c.now(), answered: true, pddMs: 300, durationSeconds: 90, mos: 3.8 });
    m.record('t', { at: c.now(), answered: false, pddMs: 200, durationSeconds: 500 });
    m.record('t', { at: c.now(), answered: false });
    const q = m.of('t');
    expect(q.calls).toBe(4);
    expect(q.asr).toBe(0.5);
    expect(q.pddMs).toBe(200);
    expect(q.acdSeconds).toBe(60);
    expect(q.mos).toBeCloseTo(4.0, 5);
  });

  it('keeps the last N attempts only', () => {
    const c = clock();
    const m = new QualityMeter({ windowCalls: 3, windowMinutes: 0 }, c.now);
    for (let i = 0; i < 5; i++) m.record('t', { at: c.now(), answered: i >= 2 });
    expect(m.of('t')).toMatchObject({ calls: 3, asr: 1 });
  });

  it('forgets attempts older than the window on the injected clock', () => {
    const c = clock();
    const m = new QualityMeter({ windowCalls: 100, windowMinutes: 1 }, c.now);
    m.record('t', { at: c.now(), answered: false, mos: 1.5 });
    c.advance(45_000);
    m.record('t', { at: c.now(), answered: true, mos: 4.5 });
    expect(m.of('t')).toMatchObject({ calls: 2, asr: 0.5, mos: 3 });
    c.advance(30_000); // the first is 75 s old
    expect(m.of('t')).toMatchObject({ calls: 1, asr: 1, mos: 4.5 });
    c.advance(60_000);
    expect(m.of('t').calls).toBe(0);
  });

  it('drops hostile figures instead of poisoning the means', () => {
    const c = clock();
    const m = new QualityMeter({ windowCalls: 10, windowMinutes: 0 }, c.now);
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY])
      m.record('t', { at: c.now(), answered: true, pddMs: bad, durationSeconds: bad, mos: bad });
    m.record('t', { at: c.now(), answered: true, pddMs: -5, durationSeconds: -3, mos: 7 });
    m.record('t', { at: c.now(), answered: false, mos: 0.5 });
    expect(m.of('t')).toEqual({ calls: 5, asr: 0.8, pddMs: null, acdSeconds: null, mos: null });
  });

  it('a window larger than the cap is bounded; a reload shrinks it; retain forgets trunks', () => {
    const c = clock();
    const m = new QualityMeter({ windowCalls: 1e9, windowMinutes: 0 }, c.now);
    for (let i = 0; i < 10_050; i++) m.record('t', { at: c.now(), answered: true });
    expect(m.of('t').calls).toBe(10_000);
    m.setWindow({ windowCalls: 5, windowMinutes: 0 });
    expect(m.of('t').calls).toBe(5);
    m.retain(new Set(['other']));
    expect(m.of('t').calls).toBe(0);
  });
});

describe('QualityTracker: a call’s events become samples', () => {
  const call = (id: string): QualityCall => ({ mediaId: id });

  it('an answered call: PDD to the first 18x, duration to its end, the trunk leg’s last MOS', () => {
    const c = clock();
    const t = new QualityTracker(
      new QualityMeter({ windowCalls: 10, windowMinutes: 0 }, c.now),
      c.now,
    );
    const k = call('m1');
    t.trying(k, 'carrier');
    c.advance(100);
    t.progress(k, 100); // 100 Trying is not a post-dial answer
    c.advance(150);
    t.progress(k, 180);
    c.advance(1000);
    t.progress(k, 183);
    t.answered(k);
    t.stats('m1', [leg('a', 4.4), leg('b', 3.1)]);
    t.stats('m1', [leg('a', 4.4), leg('b', 2.2)]);
    t.stats('m1', [leg('a', 4.4), leg('b')]); // no MOS this time: the last one stays
    c.advance(12_000);
    t.ended(k);
    t.ended(k); // twice: harmless
    expect(t.meter.of('carrier')).toEqual({
      calls: 1,
      asr: 1,
      pddMs: 250,
      acdSeconds: 12,
      mos: 2.2,
    });
  });

  it('failover: the failed trunk gets an unanswered attempt, the next one the call', () => {
    const c = clock();
    const t = new QualityTracker(
      new QualityMeter({ windowCalls: 10, windowMinutes: 0 }, c.now),
      c.now,
    );
    const k = call('m2');
    t.trying(k, 'first');
    c.advance(50);
    t.failed(k); // 503
    t.trying(k, 'second');
    c.advance(70);
    t.answered(k); // a 200 without 18x: PDD to the 200
    c.advance(3000);
    t.ended(k);
    expect(t.meter.of('first')).toMatchObject({ calls: 1, asr: 0, pddMs: null });
    expect(t.meter.of('second')).toMatchObject({ calls: 1, asr: 1, pddMs: 70, acdSeconds: 3 });
  });

  it('a call that ends unanswered, a timeout, and destinations that are not trunks', () => {
    const c = clock();
    const t = new QualityTracker(
      new QualityMeter({ windowCalls: 10, windowMinutes: 0 }, c.now),
      c.now,
    );
    const a = call('m3');
    t.trying(a, 'x');
    t.progress(a, 180);
    t.ended(a); // the caller hung up while it rang
    const b = call('m4');
    t.trying(b, 'local:alice');
    t.answered(b);
    t.ended(b);
    t.failed(call('never-tried'));
    t.answered(call('never-tried'));
    t.ended(call('never-tried'));
    expect(t.meter.of('x')).toMatchObject({ calls: 1, asr: 0 });
    expect(t.meter.of('local:alice').calls).toBe(0);
  });
});
