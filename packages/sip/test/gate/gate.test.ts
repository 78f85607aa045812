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

  it('bans a source after banAfter failures within the window, and the ban ends', () => {
    const bans: Ban[] = [];
    const g = new Gate({
      ratePerSecond: 0,
      banAfter: 3,
      banMs: 10_000,
      onBan: (b) => bans.push(b),
    });
    for (let i = 0; i < 3; i++) g.recordFailure('192.0.2.1', undefined, 100);
    expect(g.banned('ip', '192.0.2.1', 200)?.reason).toMatch(/failed/);
    expect(bans.map((b) => b.kind)).toEqual(['ip']);
    expect(g.banned('ip', '192.0.2.1', 10_101)).toBeUndefined();
  });

  it('a ban can be lifted', () => {
    const g = new Gate({ ratePerSecond: 0, banAfter: 1, banMs: 10_000 });
    g.recordFailure('192.0.2.1', undefined, 0);
    expect(g.lift('ip', '192.0.2.1')).toBe(true);
    expect(g.banned('ip', '192.0.2.1', 1)).toBeUndefined();
    expect(g.lift('ip', '192.0.2.1')).toBe(false);
  });
});
