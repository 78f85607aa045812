/**
 * Session timers (RFC 4028) on the lossy in-memory network with a ManualClock: refresher
 * negotiation, refresh at half the interval (UPDATE or re-INVITE), BYE when a session expires
 * without refresh, 422 with Min-SE and the retry with the larger interval.
 */
import { describe, expect, it } from 'vitest';
import { createResponse, type SipMessage, type SipRequest } from '../../src/syntax/index.js';
import {
  parseSessionExpires,
  type DialogLayerOptions,
  type DialogSession,
  type TerminateReason,
} from '../../src/dialog/index.js';
import { call, isReq, only } from './harness.js';

const TIMER = ['timer'];
const sessionExpires = (m: SipMessage) => m.headers.get('session-expires');

function timedCall(
  o: {
    a?: Partial<DialogLayerOptions>;
    b?: Partial<DialogLayerOptions>;
    drop?: (from: 'a' | 'b', m: SipMessage) => boolean;
    seed?: number;
    loss?: number;
  } = {},
) {
  const c = call({
    a: { supported: TIMER, sessionTimer: { expires: 90 }, ...o.a },
    b: { supported: TIMER, ...o.b },
    ...(o.drop && { drop: o.drop }),
    ...(o.seed !== undefined && { seed: o.seed }),
    ...(o.loss !== undefined && { loss: o.loss }),
  });
  const p = c.placeCall();
  c.net.clock.advance(2000);
  const ua = p.accepted!;
  const ub = only(c.b.dialogs);
  const ended: { a?: TerminateReason; b?: TerminateReason } = {};
  ua.events.onTerminated = (r) => (ended.a ??= r);
  ub.events.onTerminated = (r) => (ended.b ??= r);
  return { ...c, ua, ub, ended };
}

describe('RFC 4028 §4/§5: Session-Expires and Min-SE parsing', () => {
  const cases: Array<[string, ReturnType<typeof parseSessionExpires>]> = [
    ['1800', { seconds: 1800, refresher: undefined }],
    ['90;refresher=uac', { seconds: 90, refresher: 'uac' }],
    ['4000 ; refresher=UAS;x=1', { seconds: 4000, refresher: 'uas' }],
    ['abc', 'invalid'],
    ['90;refresher=proxy', 'invalid'],
    ['0', 'invalid'],
  ];
  for (const [value, expected] of cases) {
    it(`Session-Expires: ${value} → ${JSON.stringify(expected)}`, () => {
      const c = call();
      const req = c.a.invite({
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
      }).request;
      req.headers.set('Session-Expires', value);
      expect(parseSessionExpires(req)).toEqual(expected);
    });
  }
});

describe('RFC 4028 §7–§9: refresher negotiation', () => {
  it('both support timer: the INVITE asks Session-Expires 90 with Min-SE and Supported: timer; the UAS names the UAC refresher and adds Require: timer', () => {
    const c = timedCall();
    const invite = c.sent.find((s) => s.from === 'a' && isReq('INVITE')(s.message))!
      .message as SipRequest;
    expect(sessionExpires(invite)).toBe('90');
    expect(invite.headers.get('min-se')).toBe('90');
    expect(invite.headers.getAll('supported')).toContain('timer');
    const ok = c.responses('b', 200)[0]!;
    expect(sessionExpires(ok)).toBe('90;refresher=uac');
    expect(ok.headers.getAll('require')).toContain('timer');
    expect(c.ua.timer).toMatchObject({ interval: 90, localRefresher: true });
    expect(c.ub.timer).toMatchObject({ interval: 90, localRefresher: false });
  });

  it('the UAC asks refresher=uas: the UAS refreshes and the UAC waits for it', () => {
    const c2 = call({ a: { supported: TIMER }, b: { supported: TIMER } });
    let accepted: DialogSession | undefined;
    c2.a.invite(
      {
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
        headers: [['Session-Expires', '120;refresher=uas']],
      },
      { onAccepted: (s) => (accepted = s) },
    );
    c2.net.clock.advance(2000);
    expect(accepted?.timer).toMatchObject({ interval: 120, localRefresher: false });
    expect(only(c2.b.dialogs).timer).toMatchObject({ interval: 120, localRefresher: true });
    c2.net.clock.advance(10 * 60_000);
    // B refreshed by UPDATE every 60 s; both still up.
    expect(c2.count('b', isReq('UPDATE'))).toBeGreaterThanOrEqual(9);
    expect(accepted?.state).toBe('confirmed');
  });

  it('a UAS without timer support ignores Session-Expires: the 2xx has none and no timer runs', () => {
    const c = call({ a: { supported: TIMER, sessionTimer: { expires: 90 } } });
    const p = c.placeCall();
    c.net.clock.advance(2000);
    expect(p.accepted?.timer).toBeUndefined();
    c.net.clock.advance(10 * 60_000);
    expect(p.accepted?.state).toBe('confirmed');
    expect(c.count('a', isReq('UPDATE')) + c.count('b', isReq('BYE'))).toBe(0);
  });
});

describe('RFC 4028 §10: refresh and expiry', () => {
  for (const method of ['UPDATE', 'INVITE'] as const) {
    it(`the refresher refreshes by ${method} at half the interval, which keeps the session up for 10 minutes on a lossy network`, () => {
      const c = timedCall({
        a: { supported: TIMER, sessionTimer: { expires: 90, method } },
        loss: 0.1,
        seed: 5,
      });
      c.ua.refreshPayload = { body: 'v=0\r\n', contentType: 'application/sdp' };
      const refreshes = () => c.count('a', isReq(method)) - (method === 'INVITE' ? 1 : 0);
      c.net.clock.advance(42_000); // 44 s after the INVITE
      expect(refreshes()).toBe(0);
      c.net.clock.advance(2_000);
      expect(refreshes()).toBeGreaterThanOrEqual(1);
      c.net.clock.advance(10 * 60_000);
      expect(c.ua.state).toBe('confirmed');
      expect(c.ub.state).toBe('confirmed');
      expect(c.ended).toEqual({});
      expect(c.a.counters.sessionRefreshes).toBeGreaterThanOrEqual(13);
      expect(c.b.counters.sessionExpired).toBe(0);
      // Each refresh named the refresher again (§7.4).
      const last = c.sent.filter((s) => s.from === 'a' && isReq(method)(s.message)).at(-1)!;
      expect(sessionExpires(last.message)).toBe('90;refresher=uac');
    });
  }

  it('a session expires without refresh: the non-refresher sends BYE at interval − min(32, interval/3) and both dialogs end', () => {
    // Every refresh A sends is lost (and so are its retransmissions).
    const c = timedCall({
      drop: (from, m) => from === 'a' && m.kind === 'request' && m.method === 'UPDATE',
    });
    const t0 = 0; // the call was set up within the first 20 ms
    c.net.clock.advance(57_000 - c.net.clock.now());
    expect(c.count('b', isReq('BYE'))).toBe(0);
    c.net.clock.advance(4_000);
    expect(c.count('b', isReq('BYE'))).toBe(1);
    const bye = c.sent.find((s) => s.from === 'b' && isReq('BYE')(s.message))!;
    expect(bye.at - t0).toBeGreaterThanOrEqual(58_000);
    expect(bye.at - t0).toBeLessThanOrEqual(60_100);
    c.net.clock.advance(0);
    c.net.clock.advance(5_000);
    expect(c.ended).toEqual({ b: 'expired', a: expect.any(String) });
    expect(c.b.counters.sessionExpired).toBe(1);
    expect(c.a.dialogs.size).toBe(0);
    expect(c.b.dialogs.size).toBe(0);
  });

  it('a re-INVITE from the app (hold) is a refresh too: it resets the expiry timer', () => {
    const c = timedCall({
      drop: (from, m) => from === 'a' && m.kind === 'request' && m.method === 'UPDATE',
    });
    c.net.clock.advance(40_000);
    c.ua.reinvite({ body: 'v=0\r\na=sendonly\r\n', contentType: 'application/sdp' });
    c.net.clock.advance(40_000); // 80 s: past the first expiry point (60 s)
    expect(c.ub.state).toBe('confirmed');
    c.net.clock.advance(30_000); // 110 s: 70 s after the re-INVITE, past 60 s after it
    expect(c.ended.b).toBe('expired');
  });
});

describe('RFC 4028 §5/§8: 422 Session Interval Too Small', () => {
  it('an INVITE asking 90 s of a UAS whose Min-SE is 300 gets 422 with Min-SE: 300; the UAC retries with 300 (CSeq + 1) and the call is set up with a 300 s timer', () => {
    const c = timedCall({ b: { supported: TIMER, sessionTimer: { minSE: 300 } } });
    const invites = c.sent
      .filter((s) => s.from === 'a' && isReq('INVITE')(s.message))
      .map((s) => s.message as SipRequest);
    const rejected = c.responses('b', 422)[0]!;
    expect(rejected.headers.get('min-se')).toBe('300');
    expect(c.b.counters.tooBrief).toBe(1);
    const [first, retry] = [invites[0]!, invites.at(-1)!];
    expect(sessionExpires(first)).toBe('90');
    expect(sessionExpires(retry)).toBe('300');
    expect(retry.headers.get('min-se')).toBe('300');
    expect(retry.headers.cseq()!.seq).toBe(first.headers.cseq()!.seq + 1);
    expect(retry.headers.callId()).toBe(first.headers.callId());
    expect(retry.headers.from()!.tag).toBe(first.headers.from()!.tag);
    expect(c.ua.timer?.interval).toBe(300);
    expect(c.ub.timer?.interval).toBe(300);
  });

  it('a refresh UPDATE that gets 422 is retried with the larger interval and the session stays up', () => {
    // B starts with Min-SE 90, then (a policy change) demands 200 of later requests.
    const c = timedCall();
    let strict = false;
    const orig = c.b.onRequest.bind(c.b);
    c.b.onRequest = (i) => {
      if (strict && i.request.method === 'UPDATE') {
        const se = parseSessionExpires(i.request);
        if (typeof se === 'object' && se.seconds < 200) {
          i.transaction?.respond(
            createResponse(i.request, 422, undefined, { headers: [['Min-SE', '200']] }),
          );
          return;
        }
      }
      orig(i);
    };
    strict = true;
    c.net.clock.advance(5 * 60_000);
    expect(c.ua.minSE).toBe(200);
    expect(c.ua.timer?.interval).toBe(200);
    expect(c.ub.timer?.interval).toBe(200);
    expect(c.ended).toEqual({});
  });
});

describe('RFC 4028: hostile input', () => {
  for (const value of ['abc', '90;refresher=proxy', '0', '99999999999']) {
    it(`an INVITE with Session-Expires: ${value} gets 400 (counted) and never reaches the app`, () => {
      let reached = false;
      const c = call({
        a: { supported: TIMER },
        b: { supported: TIMER },
        onInviteB: (i) => {
          reached = true;
          i.accept();
        },
      });
      let status = 0;
      c.a.invite(
        {
          uri: 'sip:b@10.0.0.2',
          from: '<sip:a@10.0.0.1>',
          to: '<sip:b@10.0.0.2>',
          headers: [['Session-Expires', value]],
        },
        { onFailed: (r) => (status = r?.status ?? -1) },
      );
      c.net.clock.advance(2000);
      expect(status).toBe(400);
      expect(reached).toBe(false);
      expect(c.b.counters.badRequests).toBe(1);
      expect(c.b.dialogs.size).toBe(0);
    });
  }
});
