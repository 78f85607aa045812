/**
 * REFER (RFC 3515) with its implicit subscription and NOTIFYs, Replaces (RFC 3891), and INFO in
 * a dialog, on the lossy in-memory network with a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../src/syntax/index.js';
import {
  formatReplaces,
  parseReferTo,
  parseReplaces,
  referToWithReplaces,
  replacesFor,
  type DialogSession,
  type IncomingRefer,
  type Replaces,
  type ServerInvite,
  type SubscriptionStateValue,
} from '../../src/dialog/index.js';
import { call, isReq, only } from './harness.js';

describe('RFC 3891 §6.1: Replaces parsing', () => {
  const cases: Array<[string, Replaces | undefined]> = [
    ['abc@h;to-tag=1;from-tag=2', { callId: 'abc@h', toTag: '1', fromTag: '2', earlyOnly: false }],
    [
      'x ; from-tag=9 ; to-tag=8 ; early-only',
      { callId: 'x', toTag: '8', fromTag: '9', earlyOnly: true },
    ],
    ['abc;to-tag=1', undefined],
    ['abc;to-tag=1;to-tag=2;from-tag=3', undefined],
    [';to-tag=1;from-tag=2', undefined],
    ['abc;to-tag=;from-tag=2', undefined],
  ];
  for (const [value, expected] of cases) {
    it(`Replaces: ${JSON.stringify(value)} → ${expected ? 'parsed' : 'refused'}`, () => {
      expect(parseReplaces(value)).toEqual(expected);
      if (expected) expect(parseReplaces(formatReplaces(expected))).toEqual(expected);
    });
  }

  it('a Refer-To with an embedded, escaped Replaces gives the target and the Replaces', () => {
    const c = call();
    const req = c.a.invite({
      uri: 'sip:b@10.0.0.2',
      from: '<sip:a@10.0.0.1>',
      to: '<sip:b@10.0.0.2>',
    }).request;
    const r: Replaces = { callId: '12@h', toTag: 't1', fromTag: 'f1', earlyOnly: true };
    req.headers.set('Refer-To', referToWithReplaces('sip:carol@10.0.0.3', r));
    const parsed = parseReferTo(req)!;
    expect(parsed.replaces).toEqual(r);
    expect(parsed.target.uri.kind === 'sip' && parsed.target.uri.host).toBe('10.0.0.3');
    req.headers.set('Refer-To', '<sip:carol@10.0.0.3?Replaces=broken>');
    expect(parseReferTo(req)).toBeUndefined();
    req.headers.remove('Refer-To');
    expect(parseReferTo(req)).toBeUndefined();
  });
});

function connected(o: Parameters<typeof call>[0] = {}) {
  const c = call(o);
  const p = c.placeCall();
  c.net.clock.advance(1000);
  return { ...c, ua: p.accepted!, ub: only(c.b.dialogs) };
}

describe('RFC 3515: REFER and its NOTIFYs', () => {
  it('A refers B: 202, then NOTIFYs "SIP/2.0 100 Trying", "180 Ringing", "200 OK" (terminated;reason=noresource); the call dialog stays up', () => {
    let incoming: IncomingRefer | undefined;
    const c = connected({ b: { onRefer: (r) => (incoming = r) } });
    const progress: Array<[number | undefined, SubscriptionStateValue]> = [];
    let response = 0;
    let ended: string | undefined;
    const sub = c.a.refer(c.ua, '<sip:carol@10.0.0.3>', {
      onResponse: (s) => (response = s),
      onProgress: (status, ss) => progress.push([status, ss]),
      onTerminated: (r) => (ended = r),
    });
    c.net.clock.advance(100);
    expect(incoming?.referTo.target.uri.kind === 'sip' && incoming.referTo.target.uri.user).toBe(
      'carol',
    );
    expect(incoming?.session).toBe(c.ub);
    incoming!.accept();
    c.net.clock.advance(100);
    incoming!.notify(180);
    c.net.clock.advance(100);
    incoming!.notify(200);
    c.net.clock.advance(1000);
    expect(response).toBe(202);
    expect(progress.map(([s, ss]) => [s, ss.state])).toEqual([
      [100, 'active'],
      [180, 'active'],
      [200, 'terminated'],
    ]);
    expect(progress[2]![1].reason).toBe('noresource');
    expect(progress[0]![1].expires).toBeGreaterThan(0);
    expect(ended).toBe('noresource');
    expect(sub.state).toBe('terminated');
    // The NOTIFYs: Event refer with the REFER's CSeq as id, a message/sipfrag body.
    const notifies = c.sent
      .filter((s) => s.from === 'b' && isReq('NOTIFY')(s.message))
      .map((s) => s.message as SipRequest);
    const refer = c.sent.find((s) => s.from === 'a' && isReq('REFER')(s.message))!.message;
    expect(notifies).toHaveLength(3);
    for (const n of notifies) {
      expect(n.headers.get('event')).toBe(`refer;id=${refer.headers.cseq()!.seq}`);
      expect(n.headers.get('content-type')).toMatch(/^message\/sipfrag/);
    }
    expect(new TextDecoder().decode(notifies[0]!.body)).toBe('SIP/2.0 100 Trying\r\n');
    expect(incoming!.subscription.notifyResults).toEqual([200, 200, 200]);
    // The subscription shared the call's dialog and did not end it.
    expect(c.ua.state).toBe('confirmed');
    expect(c.ub.state).toBe('confirmed');
    expect(c.ua.subscriptions.size).toBe(0);
    expect(c.ub.subscriptions.size).toBe(0);
  });

  it('REFER on a lossy network: the NOTIFYs all arrive once each, in order', () => {
    let incoming: IncomingRefer | undefined;
    const c = connected({ b: { onRefer: (r) => (incoming = r) }, loss: 0.25, seed: 9 });
    const statuses: Array<number | undefined> = [];
    c.a.refer(c.ua, '<sip:carol@10.0.0.3>', { onProgress: (s) => statuses.push(s) });
    c.net.clock.advance(20_000);
    incoming!.accept();
    c.net.clock.advance(20_000);
    incoming!.notify(200);
    c.net.clock.advance(40_000);
    expect(statuses).toEqual([100, 200]);
  });

  it('a REFER the peer declines ends the subscription with its status; without a handler the peer answers 501', () => {
    const c = connected({ b: { onRefer: (r) => r.reject(603) } });
    let response = 0;
    let ended: string | undefined;
    c.a.refer(c.ua, '<sip:carol@10.0.0.3>', {
      onResponse: (s) => (response = s),
      onTerminated: (r) => (ended = r),
    });
    c.net.clock.advance(2000);
    expect([response, ended]).toEqual([603, 'rejected']);
    const d = connected();
    let status = 0;
    d.a.refer(d.ua, '<sip:carol@10.0.0.3>', { onResponse: (s) => (status = s) });
    d.net.clock.advance(2000);
    expect(status).toBe(501);
    expect(d.ua.state).toBe('confirmed');
  });

  it('a REFER without Refer-To gets 400 (counted), not a crash', () => {
    const c = connected({ b: { onRefer: () => {} } });
    let status = 0;
    c.ua.request('REFER', {}, (r) => (status = r.status));
    c.net.clock.advance(2000);
    expect(status).toBe(400);
    expect(c.b.counters.badRequests).toBe(1);
  });

  it('a REFER whose NOTIFY never comes ends after Timer N (64*T1)', () => {
    let ended: string | undefined;
    // B accepts, but every NOTIFY is lost.
    const c2 = connected({
      b: { onRefer: (r) => r.accept() },
      drop: (from, m) => from === 'b' && m.kind === 'request' && m.method === 'NOTIFY',
    });
    c2.a.refer(c2.ua, '<sip:carol@10.0.0.3>', { onTerminated: (r) => (ended = r) });
    c2.net.clock.advance(60_000);
    expect(ended).toBe('timeout');
    expect(c2.ua.state).toBe('confirmed');
  });
});

describe('RFC 3891 §3: an INVITE with Replaces', () => {
  function placeWith(c: ReturnType<typeof connected>, replaces: string) {
    const statuses: number[] = [];
    c.a.invite(
      {
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
        headers: [['Replaces', replaces]],
      },
      {
        onFailed: (r) => statuses.push(r?.status ?? 0),
        onAccepted: (_s, r) => statuses.push(r.status),
      },
    );
    c.net.clock.advance(2000);
    return statuses;
  }

  it("matched to the existing dialog (to-tag = the receiver's local tag): the app gets invite.replaces and the new call replaces the old one", () => {
    let replaced: DialogSession | undefined;
    const c = connected({
      supportedB: ['replaces'],
      onInviteB: (inv: ServerInvite) => {
        replaced = inv.replaces;
        inv.accept();
        inv.replaces?.bye();
      },
    });
    // The first call was accepted by the default handler (no Replaces).
    const r = replacesFor(c.ua); // as B sees the dialog
    const statuses = placeWith(c, formatReplaces(r));
    expect(statuses).toEqual([200]);
    expect(replaced).toBe(c.ub);
    expect(c.ub.state).toBe('terminated');
    expect(c.ua.state).toBe('terminated');
    expect(c.b.dialogs.size).toBe(1);
  });

  const refusals: Array<[string, (r: Replaces) => string, number]> = [
    ['no such dialog', (r) => formatReplaces({ ...r, callId: 'nope' }), 481],
    ['tags swapped', (r) => formatReplaces({ ...r, toTag: r.fromTag, fromTag: r.toTag }), 481],
    ['early-only on a confirmed dialog', (r) => formatReplaces({ ...r, earlyOnly: true }), 486],
    ['malformed (no from-tag)', (r) => `${r.callId};to-tag=${r.toTag}`, 400],
  ];
  for (const [name, value, status] of refusals) {
    it(`${name} → ${status}`, () => {
      const c = connected({ supportedB: ['replaces'] });
      expect(placeWith(c, value(replacesFor(c.ua)))).toEqual([status]);
      expect(c.ub.state).toBe('confirmed');
    });
  }
});

describe('INFO in a dialog (RFC 6086)', () => {
  it("INFO sent each way reaches the other side's onRequest with its body; without a handler it gets 200", () => {
    const c = connected();
    const got: string[] = [];
    c.ub.events.onRequest = (req, respond) => {
      got.push(`${req.method} ${new TextDecoder().decode(req.body)}`);
      respond(200);
    };
    const statuses: number[] = [];
    c.ua.request('INFO', { body: 'Signal=5\r\n', contentType: 'application/dtmf-relay' }, (r) =>
      statuses.push(r.status),
    );
    c.ub.request('INFO', { body: 'x', contentType: 'application/x' }, (r) =>
      statuses.push(r.status),
    );
    c.net.clock.advance(2000);
    expect(got).toEqual(['INFO Signal=5\r\n']);
    expect(statuses.sort()).toEqual([200, 200]);
  });

  it('an INFO the peer refuses with 415 leaves the dialog up; one for an ended dialog gets 481 and ends ours', () => {
    const c = connected();
    c.ub.events.onRequest = (_req, respond) => respond(415);
    const statuses: number[] = [];
    c.ua.request('INFO', { body: 'x', contentType: 'application/x' }, (r) =>
      statuses.push(r.status),
    );
    c.net.clock.advance(2000);
    expect(statuses).toEqual([415]);
    expect(c.ua.state).toBe('confirmed');
    c.b.close(); // B forgets the dialog
    const d = connected();
    d.b.dialogs.clear();
    d.ua.request('INFO', {}, (r) => statuses.push(r.status));
    d.net.clock.advance(2000);
    expect(statuses).toEqual([415, 481]);
    expect(d.ua.state).toBe('terminated');
  });
});
