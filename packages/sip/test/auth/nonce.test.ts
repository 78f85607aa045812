import { describe, expect, it } from 'vitest';
import { NonceManager, nodeNonceCrypto } from '../../src/auth/index.js';

const SECRET = 'a-test-secret-of-enough-length';

function setup(opts: { maxTracked?: number; ttlMs?: number } = {}) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const nonces = new NonceManager({ secret: SECRET, crypto: nodeNonceCrypto, clock, ...opts });
  return { nonces, advance: (ms: number) => (now += ms), clock };
}

describe('NonceManager', () => {
  it('issues distinct nonces that validate without any stored state', () => {
    const { nonces } = setup();
    const a = nonces.issue();
    const b = nonces.issue();
    expect(a).not.toBe(b);
    expect(nonces.inspect(a)).toBe('valid');
    expect(nonces.trackedCount).toBe(0);
  });

  it('validates nonces issued by an earlier instance with the same secret (restart)', () => {
    const first = setup();
    const nonce = first.nonces.issue();
    const second = new NonceManager({
      secret: SECRET,
      crypto: nodeNonceCrypto,
      clock: first.clock,
    });
    expect(second.inspect(nonce)).toBe('valid');
    const other = new NonceManager({
      secret: 'another-secret-long-enough',
      crypto: nodeNonceCrypto,
      clock: first.clock,
    });
    expect(other.inspect(nonce)).toBe('invalid');
  });

  it('refuses a tampered nonce (any changed digit)', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    for (const at of [0, 13, 30, 59]) {
      const flipped = nonce.slice(0, at) + (nonce[at] === '0' ? '1' : '0') + nonce.slice(at + 1);
      expect(nonces.inspect(flipped)).toBe('invalid');
    }
    expect(nonces.inspect('')).toBe('invalid');
    expect(nonces.inspect(nonce.toUpperCase())).toBe('invalid');
    expect(nonces.inspect(nonce + '0')).toBe('invalid');
  });

  it('answers stale after the 300 s default lifetime, not invalid', () => {
    const { nonces, advance } = setup();
    const nonce = nonces.issue();
    advance(300_000);
    expect(nonces.inspect(nonce)).toBe('valid');
    advance(1);
    expect(nonces.inspect(nonce)).toBe('stale');
    expect(nonces.consume(nonce, '00000001')).toBe('stale');
  });

  it('refuses a replayed (nonce, nc) and accepts increasing counts', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    expect(nonces.consume(nonce, '00000001')).toBe('ok');
    expect(nonces.consume(nonce, '00000001')).toBe('replay');
    expect(nonces.consume(nonce, '00000002')).toBe('ok');
    expect(nonces.consume(nonce, '00000002')).toBe('replay');
    expect(nonces.counters.replays).toBe(2);
  });

  it('accepts counts arriving out of order within the window, once each', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    expect(nonces.consume(nonce, '00000003')).toBe('ok');
    expect(nonces.consume(nonce, '00000001')).toBe('ok');
    expect(nonces.consume(nonce, '00000002')).toBe('ok');
    expect(nonces.consume(nonce, '00000001')).toBe('replay');
    expect(nonces.consume(nonce, '00000030')).toBe('ok');
    // 0x30 - 0x03 = 45 > window of 32: count 3's neighbourhood is forgotten, so refused.
    expect(nonces.consume(nonce, '00000004')).toBe('replay');
  });

  it('refuses nc=00000000 and malformed counts', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    expect(nonces.consume(nonce, '00000000')).toBe('invalid');
    expect(nonces.consume(nonce, 'zz')).toBe('invalid');
  });

  it('bounds tracked nonces; an evicted nonce answers stale instead of allowing a replay', () => {
    const { nonces, advance } = setup({ maxTracked: 100 });
    const first = nonces.issue();
    expect(nonces.consume(first, '00000001')).toBe('ok');
    for (let k = 0; k < 1000; k++) {
      advance(1);
      expect(nonces.consume(nonces.issue(), '00000001')).toBe('ok');
      expect(nonces.trackedCount).toBeLessThanOrEqual(100);
    }
    expect(nonces.counters.evicted).toBe(901);
    // The first nonce is forgotten: its count 1 cannot be trusted again.
    expect(nonces.consume(first, '00000001')).toBe('stale');
    // A nonce issued after the evictions and never used is still fine.
    advance(1);
    expect(nonces.consume(nonces.issue(), '00000001')).toBe('ok');
  });

  it('keeps recently used nonces (LRU) when evicting', () => {
    const { nonces, advance } = setup({ maxTracked: 3 });
    const hot = nonces.issue();
    advance(1);
    expect(nonces.consume(hot, '00000001')).toBe('ok');
    for (let k = 2; k < 10; k++) {
      advance(1);
      nonces.consume(nonces.issue(), '00000001');
      expect(nonces.consume(hot, k.toString(16).padStart(8, '0'))).toBe('ok');
    }
  });

  it('drops expired entries from the table on later use', () => {
    const { nonces, advance } = setup({ maxTracked: 1000 });
    for (let k = 0; k < 50; k++) nonces.consume(nonces.issue(), '00000001');
    expect(nonces.trackedCount).toBe(50);
    advance(301_000);
    nonces.consume(nonces.issue(), '00000001');
    expect(nonces.trackedCount).toBe(1);
  });

  it('refuses nonces from the far future (forged clock)', () => {
    const { nonces, advance, clock } = setup();
    advance(120_000);
    const future = nonces.issue();
    const past = new NonceManager({
      secret: SECRET,
      crypto: nodeNonceCrypto,
      clock: { now: () => clock.now() - 120_000 },
    });
    expect(past.inspect(future)).toBe('invalid');
  });

  it('requires a secret of at least 16 characters', () => {
    expect(() => new NonceManager({ secret: 'short', crypto: nodeNonceCrypto })).toThrow(
      RangeError,
    );
  });
});
