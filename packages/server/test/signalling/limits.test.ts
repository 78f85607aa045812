import { describe, expect, it } from 'vitest';
import { Counter, KeyedLimiter, TokenBucket } from '../../src/signalling/limits.js';
import { clientIp, originAllowed, trustMatcher } from '../../src/signalling/net.js';
import { ResumeBuffer } from '../../src/signalling/resume-buffer.js';
import { generateRoomName } from '../../src/signalling/room.js';
import { normalizeRoomName } from '@tfx/protocol';

describe('token bucket', () => {
  it('allows a burst of its capacity, then refuses until time refills it', () => {
    const b = new TokenBucket(4, 2, 0);
    expect([1, 2, 3, 4, 5].map(() => b.take(0))).toEqual([true, true, true, true, false]);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.take(500)).toBe(false);
  });

  it('never holds more than its capacity however long it idles', () => {
    const b = new TokenBucket(3, 10, 0);
    expect(b.available(1_000_000)).toBe(3);
    expect(b.isFull(1_000_000)).toBe(true);
  });

  it('ignores a clock that goes backwards', () => {
    const b = new TokenBucket(1, 1, 1000);
    expect(b.take(1000)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(1000)).toBe(false);
    expect(b.take(2000)).toBe(true);
  });
});

describe('keyed limiter', () => {
  it('limits each key on its own', () => {
    const l = new KeyedLimiter(2, 1 / 60);
    expect([l.take('a', 0), l.take('a', 0), l.take('a', 0)]).toEqual([true, true, false]);
    expect(l.take('b', 0)).toBe(true);
    expect(l.take('a', 60_000)).toBe(true);
  });

  it('keeps at most maxKeys keys, dropping idle ones and refusing new keys while all are busy', () => {
    const l = new KeyedLimiter(1, 1, 3);
    for (const k of ['a', 'b', 'c']) expect(l.take(k, 0)).toBe(true);
    expect(l.take('d', 0)).toBe(false);
    expect(l.size).toBe(3);
    expect(l.take('d', 5_000)).toBe(true);
    expect(l.size).toBe(1);
  });
});

describe('counter', () => {
  it('forgets keys that reach zero', () => {
    const c = new Counter();
    c.increment('x');
    c.increment('x');
    expect(c.decrement('x')).toBe(1);
    expect(c.decrement('x')).toBe(0);
    expect(c.decrement('x')).toBe(0);
    expect(c.size).toBe(0);
  });
});

describe('client address', () => {
  const trust = trustMatcher(['10.0.0.0/8', '192.0.2.1']);
  it('uses the socket address when no proxy is trusted', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', undefined)).toBe('203.0.113.9');
    expect(clientIp('::ffff:127.0.0.1', undefined, undefined)).toBe('127.0.0.1');
  });
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', trust)).toBe('203.0.113.9');
  });
  it('walks X-Forwarded-For from the right past trusted proxies', () => {
    expect(clientIp('10.1.2.3', '198.51.100.7, 6.6.6.6, 192.0.2.1', trust)).toBe('6.6.6.6');
    expect(clientIp('10.1.2.3', ['198.51.100.7', '10.9.9.9'], trust)).toBe('198.51.100.7');
  });
  it('skips junk in X-Forwarded-For', () => {
    expect(clientIp('10.1.2.3', 'not-an-ip, 198.51.100.7', trust)).toBe('198.51.100.7');
  });
});

describe('origin check', () => {
  const pub = 'https://tfx.example:8443';
  it('allows requests without an Origin (not from a browser)', () => {
    expect(originAllowed(undefined, 'tfx.example:8443', pub, [])).toBe(true);
  });
  it('allows the server’s own origin by Host header or public URL', () => {
    expect(originAllowed('https://10.0.0.5:8443', '10.0.0.5:8443', pub, [])).toBe(true);
    expect(originAllowed('https://tfx.example:8443', 'internal:8443', pub, [])).toBe(true);
  });
  it('allows listed origins and refuses everything else', () => {
    expect(
      originAllowed('https://partner.example', 'tfx.example:8443', pub, [
        'https://partner.example',
      ]),
    ).toBe(true);
    expect(
      originAllowed('https://evil.example', 'tfx.example:8443', pub, ['https://partner.example']),
    ).toBe(false);
    expect(originAllowed('null', 'tfx.example:8443', pub, [])).toBe(false);
    expect(originAllowed('file://x', 'x', pub, [])).toBe(false);
  });
});

describe('resume buffer', () => {
  const msg = (data: unknown) => ({ event: 'message' as const, payload: { from: 'p', data } });
  it('holds up to its message limit, in order', () => {
    const b = new ResumeBuffer(3, 10_000);
    expect([1, 2, 3, 4].map((i) => b.push(msg(i)))).toEqual([true, true, true, false]);
    expect(b.drain().map((x) => ('payload' in x ? x.payload : x.packet))).toEqual(
      [1, 2, 3].map((data) => ({ from: 'p', data })),
    );
    expect(b.length).toBe(0);
    expect(b.size).toBe(0);
  });
  it('counts an item relayed from another process by its encoded packet and keeps it as it is', () => {
    const b = new ResumeBuffer(100, 60);
    const packet = `2["message",{"from":"p","data":"${'z'.repeat(10)}"}]`;
    expect(b.push({ event: 'message', packet })).toBe(true);
    expect(b.size).toBe(packet.length);
    expect(b.push({ event: 'message', packet })).toBe(false);
    expect(b.drain()).toEqual([{ event: 'message', packet }]);
  });
  it('holds up to its byte limit', () => {
    const b = new ResumeBuffer(100, 120);
    expect(b.push(msg('x'.repeat(60)))).toBe(true);
    expect(b.push(msg('y'.repeat(60)))).toBe(false);
    expect(b.push(msg('z'))).toBe(true);
    expect(b.length).toBe(2);
  });
});

describe('generated room names', () => {
  it('are valid room names with about 51 bits of entropy', () => {
    const names = new Set(Array.from({ length: 1000 }, generateRoomName));
    expect(names.size).toBe(1000);
    for (const n of names) expect(normalizeRoomName(n)).toBe(n);
    expect(10 * Math.log2(36)).toBeGreaterThan(40);
  });
});
