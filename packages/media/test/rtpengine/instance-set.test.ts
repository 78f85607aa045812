import { describe, expect, it } from 'vitest';
import type { BDict } from '../../src/rtpengine/bencode.js';
import { NgError } from '../../src/rtpengine/ng-client.js';
import { RtpengineSet, type RtpengineSetOptions } from '../../src/rtpengine/instance-set.js';
import { FakeTransport, ManualTimers } from './fakes.js';

const A = 'udp:127.0.0.1:2001';
const B = 'udp:127.0.0.1:2002';
const C = 'udp:127.0.0.1:2003';

function answering(req: BDict): BDict {
  if (req.command === 'ping') return { result: 'pong' };
  return { result: 'ok', sdp: 'v=0\r\n' };
}

function setup(
  instances: RtpengineSetOptions['instances'],
  extra: Partial<RtpengineSetOptions> = {},
) {
  const timers = new ManualTimers();
  const t = new Map<string, FakeTransport>();
  const changes: string[] = [];
  const set = new RtpengineSet({
    instances,
    timers,
    pingIntervalMs: 0,
    client: { timeoutMs: 1000, retransmitMs: 200 },
    transportFor: (url) => {
      const f = new FakeTransport();
      f.respond = answering;
      t.set(url, f);
      return f;
    },
    onStateChange: (url, up) => changes.push(`${url} ${up ? 'up' : 'down'}`),
    ...extra,
  });
  return { set, timers, t: (url: string) => t.get(url) as FakeTransport, changes };
}

describe('rtpengine set (weights, stickiness, health, fail-over)', () => {
  it('spreads new calls by weight (1:3 → about 25 % / 75 %)', async () => {
    const { set } = setup([
      { url: A, weight: 1 },
      { url: B, weight: 3 },
    ]);
    for (let i = 0; i < 2000; i++)
      await set.request(`call-${i}`, 'offer', { 'from-tag': 'a', sdp: 'v=0' });
    const [a, b] = set.state().map((s) => s.calls);
    expect(a! + b!).toBe(2000);
    expect(a! / 2000).toBeGreaterThan(0.2);
    expect(a! / 2000).toBeLessThan(0.3);
  });

  it('keeps a call on its instance for every later command, and places the same Call-ID the same way in another process', async () => {
    const one = setup([A, B, C]);
    const two = setup([A, B, C]);
    for (let i = 0; i < 50; i++) {
      const id = `sticky-${i}`;
      await one.set.request(id, 'offer', { 'from-tag': 'a', sdp: 'v=0' });
      await two.set.request(id, 'offer', { 'from-tag': 'a', sdp: 'v=0' });
      expect(two.set.instanceOf(id)).toBe(one.set.instanceOf(id));
    }
    const id = 'sticky-7';
    const home = one.set.instanceOf(id) as string;
    const before = one.t(home).sent.length;
    await one.set.request(id, 'answer', { 'from-tag': 'a', 'to-tag': 'b', sdp: 'v=0' });
    await one.set.request(id, 'query', {});
    await one.set.request(id, 'delete', {});
    expect(one.t(home).sent.length).toBe(before + 3);
    expect(one.t(home).body(before + 2)).toMatchObject({ command: 'delete', 'call-id': id });
    one.set.forget(id);
    expect(one.set.instanceOf(id)).toBeUndefined();
  });

  it('gives a drained instance (weight 0) no new calls but keeps its calls there', async () => {
    const { set, t } = setup([{ url: A, weight: 0 }, B]);
    for (let i = 0; i < 20; i++)
      await set.request(`d-${i}`, 'offer', { 'from-tag': 'a', sdp: 'v=0' });
    expect(t(A).sent).toHaveLength(0);
    expect(set.state()[1]?.calls).toBe(20);
  });

  it('moves a new call to the next instance when the first times out, and marks the first down', async () => {
    const { set, t, timers, changes } = setup([A, B]);
    // find a call whose first choice is A
    let id = '';
    for (let i = 0; ; i++) {
      const probe = setup([A, B]);
      await probe.set.request(`f-${i}`, 'offer', {});
      if (probe.set.instanceOf(`f-${i}`) === A) {
        id = `f-${i}`;
        break;
      }
    }
    t(A).respond = () => undefined; // A is dead
    const p = set.request(id, 'offer', { 'from-tag': 'a', sdp: 'v=0' });
    await Promise.resolve();
    timers.advance(1000);
    await expect(p).resolves.toMatchObject({ result: 'ok' });
    expect(set.instanceOf(id)).toBe(B);
    expect(changes).toEqual([`${A} down`]);
    // later new calls skip A without waiting
    const sentToA = t(A).sent.length;
    for (let i = 0; i < 10; i++) await set.request(`later-${i}`, 'offer', {});
    expect(t(A).sent.length).toBe(sentToA);
  });

  it('fails a call that lives on a dead instance with media-engine-timeout, not by moving it', async () => {
    const { set, t, timers } = setup([A]);
    await set.request('x', 'offer', {});
    t(A).respond = () => undefined;
    const p = set.request('x', 'query', {});
    await Promise.resolve();
    timers.advance(1000);
    const e = (await p.catch((x: unknown) => x)) as NgError;
    expect(e.code).toBe('media-engine-timeout');
    const e2 = (await set.request('y', 'offer', {}).catch((x: unknown) => x)) as NgError;
    expect(e2.reason).toBe('no-instance');
    expect(e2.code).toBe('media-engine-unavailable');
  });

  it('marks an instance down after failed pings and up again after one answered ping', async () => {
    const { set, t, timers, changes } = setup([A, B], { pingIntervalMs: 1000, failuresToDown: 2 });
    t(A).respond = () => undefined;
    for (let i = 0; i < 4; i++) {
      timers.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
    expect(set.state().find((s) => s.url === A)?.up).toBe(false);
    t(A).respond = answering;
    for (let i = 0; i < 3; i++) {
      timers.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
    expect(set.state().find((s) => s.url === A)?.up).toBe(true);
    expect(changes).toEqual([`${A} down`, `${A} up`]);
    set.close();
    set.close();
    expect(t(A).closed).toBe(1);
    await expect(set.request('z', 'offer', {})).rejects.toMatchObject({ reason: 'closed' });
  });

  it('refuses a bad configuration with config-invalid', () => {
    expect(() => new RtpengineSet({ instances: [] })).toThrow(NgError);
    expect(
      () => new RtpengineSet({ instances: [{ url: A, weight: -1 }], pingIntervalMs: 0 }),
    ).toThrow(/weight/);
    expect(() => new RtpengineSet({ instances: [A, A], pingIntervalMs: 0 })).toThrow(/twice/);
    expect(() => new RtpengineSet({ instances: ['tcp:1.2.3.4:5'], pingIntervalMs: 0 })).toThrow(
      expect.objectContaining({ code: 'config-invalid', reason: 'bad-url' }),
    );
  });
});
