import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/time/index.js';
import { KeepAlive } from '../../src/transport/keepalive.js';

function machine(intervalMs = 1000, pongTimeoutMs = 10_000, random = () => 1) {
  const clock = new ManualClock();
  const log: string[] = [];
  const ka = new KeepAlive(
    { intervalMs, pongTimeoutMs, clock, random },
    { ping: () => log.push('ping'), failed: () => log.push('failed') },
  );
  return { clock, ka, log };
}

describe('client CRLF keep-alives (RFC 5626 §4.4.1), on a ManualClock', () => {
  it('sends a ping once per interval while every ping is answered by a pong', () => {
    const { clock, ka, log } = machine(1000);
    clock.advance(999);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['ping']);
    expect(ka.state).toBe('awaiting-pong');
    ka.pong();
    expect(ka.state).toBe('waiting');
    clock.advance(1000);
    ka.pong();
    clock.advance(1000);
    expect(log).toEqual(['ping', 'ping', 'ping']);
    expect(ka.pings).toBe(3);
    expect(ka.pongs).toBe(2);
  });

  it('RFC 5626 §4.4.1: no pong within 10 seconds of a ping fails the flow, once', () => {
    const { clock, ka, log } = machine(1000);
    clock.advance(1000);
    clock.advance(9_999);
    expect(log).toEqual(['ping']);
    clock.advance(1);
    expect(log).toEqual(['ping', 'failed']);
    expect(ka.state).toBe('failed');
    clock.advance(100_000);
    ka.pong();
    expect(log).toEqual(['ping', 'failed']);
  });

  it('RFC 5626 §4.4.1: the interval is jittered between 80% and 100% of the configured one', () => {
    const low = machine(1000, 10_000, () => 0);
    low.clock.advance(799);
    expect(low.log).toEqual([]);
    low.clock.advance(1);
    expect(low.log).toEqual(['ping']);
    const high = machine(1000, 10_000, () => 0.999_999);
    high.clock.advance(999);
    expect(high.log).toEqual([]);
    high.clock.advance(1);
    expect(high.log).toEqual(['ping']);
  });

  it('an unsolicited pong while waiting changes nothing; stop() cancels every timer and is idempotent', () => {
    const { clock, ka, log } = machine(1000);
    ka.pong();
    expect(ka.state).toBe('waiting');
    clock.advance(1000);
    expect(log).toEqual(['ping']);
    ka.stop();
    ka.stop();
    expect(ka.state).toBe('stopped');
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(log).toEqual(['ping']);
  });

  it('refuses a zero interval or pong timeout', () => {
    const clock = new ManualClock();
    const sink = { ping: () => {}, failed: () => {} };
    expect(() => new KeepAlive({ intervalMs: 0, pongTimeoutMs: 1, clock }, sink)).toThrow(
      RangeError,
    );
    expect(() => new KeepAlive({ intervalMs: 1, pongTimeoutMs: 0, clock }, sink)).toThrow(
      RangeError,
    );
  });
});
