/**
 * The security stages of an untrusted zone, on a manual clock: their fixed order, the flood ban
 * (silent, per source, timed), the scanner drop, and the size and Max-Forwards limits with their
 * stateless answers. Every decision is counted.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  parseMessage,
  silentLogger,
  type ReceiveContext,
  type SipRequest,
  type SipResponse,
} from '@tfx/sip';
import { Blacklist, DEFAULT_SECURITY, ZoneSecurityRoute } from '../src/index.js';

function request(o: { from?: string; ua?: string; maxForwards?: number; pad?: number } = {}): {
  req: SipRequest;
  ctx: ReceiveContext;
} {
  const text = [
    'INVITE sip:1000@127.0.0.20:5080 SIP/2.0',
    `Via: SIP/2.0/UDP ${o.from ?? '127.0.0.21'}:5060;branch=z9hG4bK-${Math.random()}`,
    `Max-Forwards: ${o.maxForwards ?? 70}`,
    'From: <sip:a@x>;tag=1',
    'To: <sip:1000@127.0.0.20>',
    `Call-ID: ${Math.random()}@x`,
    'CSeq: 1 INVITE',
    'Contact: <sip:a@127.0.0.21:5060>',
    ...(o.ua ? [`User-Agent: ${o.ua}`] : []),
    ...(o.pad ? [`X-Pad: ${'x'.repeat(o.pad)}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(new TextEncoder().encode(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad test message');
  return {
    req: r.message,
    ctx: {
      transport: 'udp',
      local: { address: '127.0.0.20', port: 5080 },
      remote: { address: o.from ?? '127.0.0.21', port: 5060 },
    },
  };
}

function route(settings: Partial<typeof DEFAULT_SECURITY> = {}) {
  const clock = new ManualClock(1_000_000);
  const answers: SipResponse[] = [];
  const sec = new ZoneSecurityRoute({
    zone: 'public',
    settings: { ...DEFAULT_SECURITY, ...settings },
    clock,
    logger: silentLogger,
    respond: (r) => answers.push(r),
  });
  const screen = (o: Parameters<typeof request>[0] = {}): boolean => {
    const { req, ctx } = request(o);
    return sec.screen(req, ctx);
  };
  return { sec, clock, answers, screen };
}

describe('security stages of an untrusted zone', () => {
  it('run in a fixed order: flood, scanner, limits', () => {
    expect(route().sec.route.names).toEqual(['flood', 'scanner', 'limits', 'pass']);
  });

  it('bans a source over N requests in the window and drops it silently until the ban ends; other sources pass', () => {
    const { sec, clock, answers, screen } = route({
      floodRequests: 5,
      floodWindowMs: 1000,
      banMs: 60_000,
    });
    for (let i = 0; i < 5; i++) expect(screen({ from: '127.0.0.22' })).toBe(true);
    expect(screen({ from: '127.0.0.22' })).toBe(false);
    expect(sec.counters.flood).toEqual({ banned: 1, dropped: 1 });
    clock.advance(30_000);
    expect(screen({ from: '127.0.0.22' })).toBe(false);
    expect(screen({ from: '127.0.0.21' })).toBe(true);
    expect(sec.bans().map((b) => b.source)).toEqual(['127.0.0.22']);
    clock.advance(30_001);
    expect(screen({ from: '127.0.0.22' })).toBe(true);
    expect(sec.bans()).toEqual([]);
    expect(answers).toEqual([]); // silent
  });

  it('does not ban a source that stays under the limit window after window', () => {
    const { clock, screen } = route({ floodRequests: 5, floodWindowMs: 1000 });
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 5; i++) expect(screen()).toBe(true);
      clock.advance(1000);
    }
  });

  it.each(['friendly-scanner', 'sipvicious 0.3.3', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1'])(
    'drops the scanner %s silently and counts it',
    (ua) => {
      const { sec, answers, screen } = route();
      expect(screen({ ua })).toBe(false);
      expect(screen({ ua: 'Linphone/5.1' })).toBe(true);
      expect(sec.counters.scanner.dropped).toBe(1);
      expect(answers).toEqual([]);
    },
  );

  it('answers 483 to Max-Forwards 0 and 513 to an oversized request, statelessly (§16.3, §21.4.26)', () => {
    const { sec, answers, screen } = route({ maxBytes: 2000 });
    expect(screen({ maxForwards: 0 })).toBe(false);
    expect(screen({ pad: 3000 })).toBe(false);
    expect(answers.map((r) => r.status)).toEqual([483, 513]);
    expect(sec.counters.limits).toEqual({ tooLarge: 1, tooManyHops: 1 });
    expect(screen({ maxForwards: 1 })).toBe(true);
  });
});

describe('bans land on the blacklist (manual clock)', () => {
  it('a flood ban and an auth-failure ban of a source are blacklisted with zone, reason and expiry; lift clears both', () => {
    const clock = new ManualClock(5_000);
    const blacklist = new Blacklist(clock);
    const sec = new ZoneSecurityRoute({
      zone: 'public',
      settings: {
        ...DEFAULT_SECURITY,
        floodRequests: 3,
        floodWindowMs: 1000,
        banMs: 60_000,
        authBanAfter: 2,
      },
      clock,
      logger: silentLogger,
      respond: () => undefined,
      blacklist,
    });
    for (let i = 0; i < 4; i++) {
      const { req, ctx } = request({ from: '127.0.0.66' });
      sec.screen(req, ctx);
    }
    expect(blacklist.match('127.0.0.66', 'public')).toEqual({
      cidr: '127.0.0.66/32',
      zone: 'public',
      origin: 'flood',
      reason: '4 requests within 1 s',
      since: 5_000,
      until: 65_000,
    });
    // 2 × 5 failures from one source (any users) ban it: the Gate's rule.
    for (let i = 0; i < 10; i++) sec.authGate.recordFailure('127.0.0.77', `u${i}`, clock.now());
    expect(blacklist.match('127.0.0.77', 'public')).toMatchObject({
      origin: 'auth',
      until: 65_000,
      reason: expect.stringMatching(/^10 failed authentications from this address/),
    });
    expect(sec.lift('127.0.0.77')).toBe(true);
    expect(sec.authGate.banned('ip', '127.0.0.77', clock.now())).toBeUndefined();
    clock.advance(60_000);
    expect(blacklist.list()).toEqual([]);
  });
});
