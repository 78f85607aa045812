import { describe, expect, it } from 'vitest';
import { LruCache, RateLimiter } from '../../src/language/limits.js';

describe('RateLimiter', () => {
  it('allows a burst of perMinute, refuses the next, and refills evenly over the minute', () => {
    let t = 0;
    const r = new RateLimiter(6, () => t);
    for (let i = 0; i < 6; i++) expect(r.take('a')).toBe(true);
    expect(r.take('a')).toBe(false);
    expect(r.retryAfterMs('a')).toBe(10_000);
    expect(r.take('b')).toBe(true); // keys are independent
    t += 10_000;
    expect(r.take('a')).toBe(true);
    expect(r.take('a')).toBe(false);
  });

  it('a cost larger than what is left takes nothing', () => {
    const t = 0;
    const r = new RateLimiter(4, () => t);
    expect(r.take('a', 3)).toBe(true);
    expect(r.take('a', 2)).toBe(false);
    expect(r.take('a', 1)).toBe(true);
  });

  it('holds at most maxKeys keys (idle full ones first, then the oldest)', () => {
    let t = 0;
    const r = new RateLimiter(1, () => t, 3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) r.take(k);
    expect(r.size).toBeLessThanOrEqual(3);
    t += 120_000;
    r.take('f');
    expect(r.size).toBeLessThanOrEqual(3);
  });
});

describe('LruCache', () => {
  it('drops the least recently used entry past its capacity', () => {
    const c = new LruCache<number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now newer than b
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
  });

  it('capacity 0 keeps nothing', () => {
    const c = new LruCache<number>(0);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});
