import { describe, expect, it } from 'vitest';
import { NgClient, NgError, parseNgUrl } from '../../src/rtpengine/ng-client.js';
import { FakeTransport, ManualTimers } from './fakes.js';

function setup(opts: { timeoutMs?: number; retransmitMs?: number } = {}) {
  const t = new FakeTransport();
  const timers = new ManualTimers();
  const c = new NgClient('udp:127.0.0.1:2223', {
    transport: t,
    timers,
    timeoutMs: 2000,
    retransmitMs: 250,
    ...opts,
  });
  return { t, timers, c };
}

async function rejection(p: Promise<unknown>): Promise<NgError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NgError);
    return e as NgError;
  }
  throw new Error('expected a rejection');
}

describe('ng client (rtpengine ng control protocol over UDP)', () => {
  it('sends "<cookie> <bencoded dict>" with the command and resolves with the reply of the same cookie', async () => {
    const { t, c } = setup();
    const p = c.request('offer', {
      'call-id': 'c1',
      'from-tag': 'a',
      sdp: 'v=0\r\n',
      flags: ['trust-address'],
    });
    expect(t.sent).toHaveLength(1);
    expect(t.body(0)).toEqual({
      command: 'offer',
      'call-id': 'c1',
      'from-tag': 'a',
      sdp: 'v=0\r\n',
      flags: ['trust-address'],
    });
    t.reply(0, { result: 'ok', sdp: 'v=0\r\nx' });
    await expect(p).resolves.toEqual({ result: 'ok', sdp: 'v=0\r\nx' });
    expect(c.inFlight).toBe(0);
  });

  it('gives each request its own cookie and matches replies out of order', async () => {
    const { t, c } = setup();
    const p1 = c.request('query', { 'call-id': 'one' });
    const p2 = c.request('query', { 'call-id': 'two' });
    expect(t.cookie(0)).not.toBe(t.cookie(1));
    t.reply(1, { result: 'ok', n: 2 });
    t.reply(0, { result: 'ok', n: 1 });
    await expect(p1).resolves.toMatchObject({ n: 1 });
    await expect(p2).resolves.toMatchObject({ n: 2 });
  });

  it('retransmits with the same cookie and the same bytes, doubling the interval, until the reply comes', async () => {
    const { t, c, timers } = setup();
    const p = c.request('offer', { 'call-id': 'c', 'from-tag': 'f', sdp: 'v=0' });
    timers.advance(249);
    expect(t.sent).toHaveLength(1);
    timers.advance(1); // 250
    expect(t.sent).toHaveLength(2);
    timers.advance(500); // 750
    expect(t.sent).toHaveLength(3);
    timers.advance(1000); // 1750
    expect(t.sent).toHaveLength(4);
    for (const m of t.sent) expect(m.equals(t.sent[0] as Buffer)).toBe(true);
    t.reply(3, { result: 'ok', sdp: 'v=0' });
    await expect(p).resolves.toMatchObject({ result: 'ok' });
    expect(c.stats.retransmits).toBe(3);
    timers.advance(10_000);
    expect(t.sent).toHaveLength(4); // nothing after the reply
  });

  it('fails with media-engine-timeout when no reply comes within timeoutMs', async () => {
    const { t, c, timers } = setup();
    const p = c.request('ping');
    timers.advance(2000);
    const e = await rejection(p);
    expect(e.reason).toBe('timeout');
    expect(e.code).toBe('media-engine-timeout');
    expect(e.message).toMatch(/ping to udp:127\.0\.0\.1:2223: no reply within 2000 ms/);
    expect(c.stats.timeouts).toBe(1);
    const n = t.sent.length;
    timers.advance(10_000);
    expect(t.sent).toHaveLength(n);
    // A late reply is a stray, not a crash.
    t.reply(0, { result: 'pong' });
    expect(c.stats.stray).toBe(1);
  });

  it('turns result "error" into an NgError with rtpengine\'s reason, unknown calls into media-session-not-found', async () => {
    const { t, c } = setup();
    const p1 = c.request('delete', { 'call-id': 'x', flags: ['fatal'] });
    t.reply(0, { result: 'error', 'error-reason': 'Unknown call-id' });
    const e1 = await rejection(p1);
    expect(e1.reason).toBe('error');
    expect(e1.code).toBe('media-session-not-found');
    expect(e1.message).toContain('Unknown call-id');
    const p2 = c.request('offer', { 'call-id': 'y' });
    t.reply(1, { result: 'error', 'error-reason': 'Incomplete SDP specification' });
    const e2 = await rejection(p2);
    expect(e2.code).toBe('media-not-acceptable');
    const p3 = c.request('offer', { 'call-id': 'z' });
    t.reply(2, { result: 'load limit', message: 'Parallel session limit reached' });
    expect((await rejection(p3)).code).toBe('media-engine-unavailable');
    const p4 = c.request('offer', { 'call-id': 'w' });
    t.reply(3, { weird: 1 });
    expect((await rejection(p4)).reason).toBe('bad-reply');
  });

  it('counts and drops hostile datagrams; the pending request still completes', async () => {
    const { t, c } = setup();
    const p = c.request('ping');
    const cookie = t.cookie(0);
    t.deliver(''); // empty
    t.deliver('no-space-at-all');
    t.deliver(' d6:result4:ponge'); // empty cookie
    t.deliver(`${'x'.repeat(500)} d6:result4:ponge`); // absurd cookie
    t.deliver(`${cookie} garbage`);
    t.deliver(`${cookie} i42e`); // not a dictionary
    t.deliver(`${cookie} d6:result4:pong`); // truncated
    t.deliver(`someone-else d6:result4:ponge`);
    expect(c.stats.malformed).toBe(7);
    expect(c.stats.stray).toBe(1);
    expect(c.inFlight).toBe(1);
    t.deliver(`${cookie} d6:result4:ponge`);
    await expect(p).resolves.toEqual({ result: 'pong' });
  });

  it('refuses a request it cannot encode without sending anything', async () => {
    const { t, c } = setup();
    const e = await rejection(c.request('offer', { x: 1.5 }));
    expect(e.reason).toBe('send-failed');
    expect(t.sent).toHaveLength(0);
  });

  it('refuses a request longer than one UDP datagram without sending anything', async () => {
    const { t, c } = setup();
    const e = await rejection(c.request('play media', { blob: Buffer.alloc(70_000) }));
    expect(e.reason).toBe('send-failed');
    expect(e.message).toContain('longer than one UDP datagram');
    expect(t.sent).toHaveLength(0);
    expect(c.inFlight).toBe(0);
    // Just under the limit still goes out.
    void c.request('play media', { blob: Buffer.alloc(60_000) }).catch(() => undefined);
    expect(t.sent).toHaveLength(1);
    c.close();
  });

  it('close() fails what is pending, closes the transport once, and refuses new requests', async () => {
    const { t, c } = setup();
    const p = c.request('ping');
    c.close();
    c.close();
    expect((await rejection(p)).reason).toBe('closed');
    expect(t.closed).toBe(1);
    const e = await rejection(c.request('ping'));
    expect(e.reason).toBe('closed');
    expect(e.code).toBe('media-engine-unavailable');
  });

  it.each([
    ['udp:127.0.0.1:2223', { host: '127.0.0.1', port: 2223, family: 4 }],
    ['udp:[::1]:2223', { host: '::1', port: 2223, family: 6 }],
    ['udp6:[::1]:9', { host: '::1', port: 9, family: 6 }],
    ['udp:rtpengine.local:22222', { host: 'rtpengine.local', port: 22222, family: 4 }],
  ])('parses the ng URL %s', (url, want) => {
    expect(parseNgUrl(url)).toEqual(want);
  });

  it.each([
    '127.0.0.1:2223',
    'udp:127.0.0.1',
    'udp:127.0.0.1:0',
    'udp:127.0.0.1:70000',
    'tcp:127.0.0.1:1',
    'udp:[::1:1',
    '',
  ])('refuses the ng URL %j with config-invalid', (url) => {
    try {
      parseNgUrl(url);
      expect.unreachable();
    } catch (e) {
      expect((e as NgError).code).toBe('config-invalid');
    }
  });
});
