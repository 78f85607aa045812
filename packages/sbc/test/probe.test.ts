/**
 * probe.ts on a ManualClock: the up/down state machine (failures in a row take a trunk down,
 * successes in a row bring it back), which answers count, and the driver (one probe per interval,
 * an unanswered probe is a failure when the next is due, late answers ignored, close() stops it).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@tfx/sip';
import { TrunkHealth, TrunkProbes, noTrunkLeft, probeAnswered } from '../src/probe.js';

describe('probeAnswered', () => {
  it('counts every final answer but 408 and 503 as up; a timeout or 1xx as a failure', () => {
    for (const s of [200, 202, 302, 404, 405, 481, 500, 502, 600, 603])
      expect(probeAnswered(s)).toBe(true);
    for (const s of [undefined, 100, 180, 408, 503]) expect(probeAnswered(s)).toBe(false);
  });
});

describe('TrunkHealth', () => {
  it('goes down after `failures` in a row and back up after `successes` in a row', () => {
    const h = new TrunkHealth({ intervalSeconds: 1, failures: 3, successes: 2 });
    expect(h.state).toBe('up');
    expect(h.record(false)).toBe(false);
    expect(h.record(false)).toBe(false);
    expect(h.record(true)).toBe(false); // an answer resets the failures
    expect(h.record(false)).toBe(false);
    expect(h.record(false)).toBe(false);
    expect(h.record(false)).toBe(true);
    expect(h.state).toBe('down');
    expect(h.record(false)).toBe(false);
    expect(h.record(true)).toBe(false);
    expect(h.record(false)).toBe(false); // a failure resets the successes
    expect(h.record(true)).toBe(false);
    expect(h.record(true)).toBe(true);
    expect(h.state).toBe('up');
  });

  it('treats counts below 1 as 1', () => {
    const h = new TrunkHealth({ intervalSeconds: 1, failures: 0, successes: 0 });
    expect(h.record(false)).toBe(true);
    expect(h.record(true)).toBe(true);
  });
});

describe('TrunkProbes', () => {
  type Pending = { trunk: string; done: (s: number | undefined) => void };
  function rig(failures = 2, successes = 2) {
    const clock = new ManualClock(1000);
    const sent: Pending[] = [];
    const changes: string[] = [];
    const probes = new TrunkProbes({
      clock,
      trunks: [
        { name: 'a', probe: { intervalSeconds: 1, failures, successes } },
        { name: 'off', probe: { intervalSeconds: 0, failures, successes } },
      ],
      send: (trunk, done) => sent.push({ trunk, done }),
      onChange: (t, s) => changes.push(`${t}:${s}`),
    });
    return { clock, sent, changes, probes };
  }

  it('probes each interval; silence takes the trunk down, answers bring it back', () => {
    const { clock, sent, changes, probes } = rig();
    probes.start();
    expect(sent.map((p) => p.trunk)).toEqual(['a']); // `off` is never probed
    sent[0]!.done(200);
    expect(probes.isUp('a')).toBe(true);
    clock.advance(1000); // probe 2 sent, unanswered
    clock.advance(1000); // probe 2 timed out (failure 1), probe 3 sent
    expect(probes.isUp('a')).toBe(true);
    sent[2]!.done(undefined); // transport error: failure 2
    expect(probes.isUp('a')).toBe(false);
    expect(changes).toEqual(['a:down']);
    sent[1]!.done(200); // late answer of a timed-out probe: ignored
    expect(probes.isUp('a')).toBe(false);
    clock.advance(1000);
    sent[3]!.done(404); // any final but 408/503 is an answer
    clock.advance(1000);
    sent[4]!.done(503); // resets the successes
    clock.advance(1000);
    sent[5]!.done(200);
    expect(probes.isUp('a')).toBe(false);
    clock.advance(1000);
    sent[6]!.done(200);
    expect(probes.isUp('a')).toBe(true);
    expect(changes).toEqual(['a:down', 'a:up']);
    const a = probes.list().find((s) => s.name === 'a')!;
    expect(a).toMatchObject({ state: 'up', probing: true, lastStatus: 200, probesSent: 7 });
    expect(a.probesFailed).toBe(3);
    expect(probes.list().find((s) => s.name === 'off')).toMatchObject({
      state: 'up',
      probing: false,
    });
    expect(probes.isUp('unknown')).toBe(true);
  });

  it('counts a send that throws as a failure, ignores duplicate answers, stops on close()', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const probes = new TrunkProbes({
      clock,
      trunks: [{ name: 'a', probe: { intervalSeconds: 2, failures: 2, successes: 1 } }],
      send: (_t, done) => {
        n++;
        if (n <= 2) throw new Error('no socket');
        done(200);
        done(503); // a second call for the same probe changes nothing
      },
    });
    probes.start();
    clock.advance(2000);
    expect(probes.isUp('a')).toBe(false);
    clock.advance(2000);
    expect(probes.isUp('a')).toBe(true);
    probes.close();
    probes.close();
    expect(clock.pending).toBe(0);
    clock.advance(10_000);
    expect(n).toBe(3);
  });

  it('names the 504 reason as RFC 3326 writes it', () => {
    expect(noTrunkLeft()).toEqual([['Reason', 'SIP;cause=504;text="no trunk available"']]);
  });
});
