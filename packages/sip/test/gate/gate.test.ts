import { describe, expect, it } from 'vitest';
import { Gate, type Ban } from '../../src/index.js';

describe('Gate: per-source rate limits and bans', () => {
  it('admits a burst of twice the rate, then refills with time', () => {
    const g = new Gate({ ratePerSecond: 5, banAfter: 0, banMs: 1000 });
    let admitted = 0;
    for (let i = 0; i < 20; i++) if (g.admit('192.0.2.1', 0)) admitted++;
    expect(admitted).toBe(10);
    expect(g.admit('192.0.2.2', 0)).toBe(true);
    expect(g.admit('192.0.2.1', 1000)).toBe(true);
  });

  it('bans one user from one source after banAfter failures; other users from that source go on', () => {
    const bans: Ban[] = [];
    const g = new Gate({
      ratePerSecond: 0,
      banAfter: 3,
      banMs: 10_000,
      onBan: (b) => bans.push(b),
    });
    for (let i = 0; i < 3; i++) g.recordFailure('192.0.2.1', 'alice', 100);
    expect(g.bannedUser('192.0.2.1', 'alice', 200)?.reason).toBe(
      '3 failed authentications for alice from 192.0.2.1 within 60 s',
    );
    expect(g.bannedUser('192.0.2.1', 'bob', 200)).toBeUndefined();
    expect(g.bannedUser('192.0.2.9', 'alice', 200)).toBeUndefined();
    expect(g.banned('ip', '192.0.2.1', 200)).toBeUndefined();
    expect(bans.map((b) => `${b.kind}:${b.value}@${b.source}`)).toEqual(['user:alice@192.0.2.1']);
    expect(g.bannedUser('192.0.2.1', 'alice', 10_101)).toBeUndefined();
  });

  it("failures during a (source, user) ban keep counting: a cracker's source is banned past 5 × banAfter", () => {
    const bans: Ban[] = [];
    const g = new Gate({
      ratePerSecond: 0,
      banAfter: 3,
      banMs: 10_000,
      onBan: (b) => bans.push(b),
    });
    for (let i = 0; i < 14; i++) g.recordFailure('192.0.2.1', 'alice', 100 + i);
    expect(g.banned('ip', '192.0.2.1', 200)).toBeUndefined();
    g.recordFailure('192.0.2.1', 'alice', 200);
    expect(g.banned('ip', '192.0.2.1', 201)?.reason).toBe(
      '15 failed authentications from this address within 60 s (users: alice)',
    );
    // The pair is banned once, not again for every failure during its ban.
    expect(bans.map((b) => b.kind)).toEqual(['user', 'ip']);
  });

  it('a phone failing at its retry rate never bans the address its neighbours share', () => {
    const g = new Gate({ ratePerSecond: 0, banAfter: 3, banMs: 10_000 });
    // One failure every 30 s for an hour, while others succeed.
    for (let t = 0; t < 3600_000; t += 30_000) {
      g.recordFailure('192.0.2.1', 'broken', t);
      g.recordSuccess('192.0.2.1', 'carol');
    }
    expect(g.banned('ip', '192.0.2.1', 3600_000)).toBeUndefined();
  });

  it('sporadic failures among many successes from one address never ban it (a big NAT under load)', () => {
    const g = new Gate({ ratePerSecond: 0, banAfter: 3, banMs: 10_000 });
    for (let i = 0; i < 1000; i++) {
      g.recordFailure('192.0.2.1', undefined, i);
      if (i % 10 === 0) g.recordFailure('192.0.2.1', `u${i}`, i);
      g.recordSuccess('192.0.2.1', `u${i}`);
    }
    expect(g.banned('ip', '192.0.2.1', 1000)).toBeUndefined();
  });

  it("a cracker's failures during its (source, user) ban are not cleared by others' successes", () => {
    const g = new Gate({ ratePerSecond: 0, banAfter: 3, banMs: 10_000 });
    for (let i = 0; i < 15; i++) {
      g.recordFailure('192.0.2.1', 'alice', i);
      g.recordSuccess('192.0.2.1', 'carol');
    }
    // 3 ordinary failures (cleared by carol's successes), then 12 during alice's ban: 12 < 15.
    expect(g.banned('ip', '192.0.2.1', 20)).toBeUndefined();
    for (let i = 0; i < 3; i++) g.recordFailure('192.0.2.1', 'alice', 20 + i);
    expect(g.banned('ip', '192.0.2.1', 30)).toBeDefined();
  });

  it("a success clears that user's count from that source", () => {
    const g = new Gate({ ratePerSecond: 0, banAfter: 3, banMs: 10_000 });
    g.recordFailure('192.0.2.1', 'alice', 0);
    g.recordFailure('192.0.2.1', 'alice', 1);
    g.recordSuccess('192.0.2.1', 'alice');
    g.recordFailure('192.0.2.1', 'alice', 2);
    expect(g.bannedUser('192.0.2.1', 'alice', 3)).toBeUndefined();
  });

  it('bans can be lifted: a source, or a user from every source', () => {
    const g = new Gate({ ratePerSecond: 0, banAfter: 1, sourceBanAfter: 2, banMs: 10_000 });
    g.recordFailure('192.0.2.1', 'alice', 0);
    g.recordFailure('192.0.2.2', 'alice', 0);
    g.recordFailure('192.0.2.1', undefined, 0);
    expect(g.banned('ip', '192.0.2.1', 1)).toBeDefined();
    expect(g.lift('ip', '192.0.2.1')).toBe(true);
    expect(g.banned('ip', '192.0.2.1', 1)).toBeUndefined();
    expect(g.lift('ip', '192.0.2.1')).toBe(false);
    expect(g.lift('user', 'alice')).toBe(true);
    expect(g.bannedUser('192.0.2.1', 'alice', 1)).toBeUndefined();
    expect(g.bannedUser('192.0.2.2', 'alice', 1)).toBeUndefined();
  });
});
