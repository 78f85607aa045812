/**
 * SUBSCRIBE/NOTIFY dialogs (RFC 6665) on the lossy in-memory network with a ManualClock:
 * subscribe, NOTIFY creating the dialog (also before the 2xx), refresh, unsubscribe, 489 Bad
 * Event, Subscription-State handling and the subscription timeouts.
 */
import { describe, expect, it } from 'vitest';
import type { SipMessage } from '../../src/syntax/index.js';
import {
  parseSubscriptionState,
  type ServerSubscription,
  type SubscriptionStateValue,
} from '../../src/dialog/index.js';
import { call, isReq } from './harness.js';

function presence(
  o: {
    accept?: (s: ServerSubscription) => void;
    drop?: (from: 'a' | 'b', m: SipMessage) => boolean;
    loss?: number;
    seed?: number;
  } = {},
) {
  const served: ServerSubscription[] = [];
  const c = call({
    b: {
      events: ['presence'],
      onSubscribe: (s) => {
        served.push(s);
        (o.accept ?? ((x) => x.accept({ notify: { body: 'open', contentType: 'text/plain' } })))(s);
      },
    },
    ...(o.drop && { drop: o.drop }),
    ...(o.loss !== undefined && { loss: o.loss }),
    ...(o.seed !== undefined && { seed: o.seed }),
  });
  const notes: Array<{ body: string; ss: SubscriptionStateValue }> = [];
  let ended: string | undefined;
  let status: number | undefined;
  const sub = c.a.subscribe(
    {
      uri: 'sip:b@10.0.0.2',
      from: '<sip:a@10.0.0.1>',
      to: '<sip:b@10.0.0.2>',
      event: 'presence',
      expires: 600,
    },
    {
      onNotify: (n, ss) => notes.push({ body: new TextDecoder().decode(n.body), ss }),
      onTerminated: (r, resp) => {
        ended = r;
        status = resp?.status;
      },
    },
  );
  return {
    ...c,
    sub,
    served,
    notes,
    get ended() {
      return ended;
    },
    get status() {
      return status;
    },
  };
}

describe('RFC 6665 §8.2.3: Subscription-State parsing', () => {
  const cases: Array<[string, SubscriptionStateValue | undefined]> = [
    ['active;expires=600', { state: 'active', expires: 600 }],
    ['terminated;reason=timeout', { state: 'terminated', reason: 'timeout' }],
    [
      'terminated;reason=probation;retry-after=30',
      { state: 'terminated', reason: 'probation', retryAfter: 30 },
    ],
    ['pending', { state: 'pending' }],
    ['', undefined],
    ['act ive', undefined],
  ];
  for (const [v, expected] of cases) {
    it(`Subscription-State: ${JSON.stringify(v)}`, () => {
      const c = call();
      const req = c.a.invite({
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
      }).request;
      req.headers.set('Subscription-State', v);
      expect(parseSubscriptionState(req)).toEqual(expected);
    });
  }
});

describe('RFC 6665: a subscription', () => {
  it('§4.1.2.1/§4.2.1.2: SUBSCRIBE → 200 with Expires and a dialog; the first NOTIFY comes at once (active); the notifier NOTIFYs a change', () => {
    const c = presence();
    c.net.clock.advance(1000);
    expect(c.sub.state).toBe('active');
    expect(c.sub.session?.state).toBe('confirmed');
    expect(c.sub.session?.usage).toBe('subscription');
    expect(c.notes.map((n) => n.body)).toEqual(['open']);
    expect(c.notes[0]!.ss).toMatchObject({ state: 'active' });
    expect(c.notes[0]!.ss.expires).toBeGreaterThan(590);
    c.served[0]!.notify({ body: 'closed', contentType: 'text/plain' });
    c.net.clock.advance(1000);
    expect(c.notes.map((n) => n.body)).toEqual(['open', 'closed']);
    expect(c.a.dialogs.size).toBe(1);
    expect(c.b.dialogs.size).toBe(1);
  });

  it('§4.1.2.4: a NOTIFY that arrives before the 2xx (the first 200 is lost) creates the dialog, and the 200 joins it', () => {
    let dropped = 0;
    const c = presence({
      drop: (from, m) =>
        from === 'b' && m.kind === 'response' && m.status === 200 && dropped++ === 0,
    });
    c.net.clock.advance(200);
    expect(c.notes).toHaveLength(1); // NOTIFY before any 2xx
    expect(c.sub.session?.state).toBe('confirmed');
    c.net.clock.advance(5000);
    expect(c.a.dialogs.size).toBe(1);
    expect(c.sub.state).toBe('active');
  });

  it('§4.1.2.2: the subscriber refreshes before expiry (SUBSCRIBE in the dialog), the notifier re-NOTIFYs, and it stays up for an hour on a lossy network', () => {
    const c = presence({ loss: 0.1, seed: 3 });
    c.net.clock.advance(60 * 60_000);
    expect(c.sub.state).toBe('active');
    expect(c.served[0]!.state).toBe('active');
    expect(c.count('a', isReq('SUBSCRIBE'))).toBeGreaterThanOrEqual(7);
    expect(c.notes.length).toBeGreaterThanOrEqual(7);
    expect(c.ended).toBeUndefined();
  });

  it('§4.1.2.3: unsubscribe (Expires: 0) → 200, a final NOTIFY terminated, both dialogs end', () => {
    const c = presence();
    c.net.clock.advance(1000);
    let serverEnd: string | undefined;
    c.served[0]!.onTerminated = (r) => (serverEnd = r);
    c.sub.unsubscribe();
    c.net.clock.advance(2000);
    const last = c.sent.filter((s) => s.from === 'a' && isReq('SUBSCRIBE')(s.message)).at(-1)!;
    expect(last.message.headers.get('expires')).toBe('0');
    expect(c.notes.at(-1)!.ss.state).toBe('terminated');
    expect(c.ended).toBe('timeout');
    expect(serverEnd).toBe('timeout');
    expect(c.a.dialogs.size).toBe(0);
    expect(c.b.dialogs.size).toBe(0);
  });

  it('§4.2.2: the notifier ends a subscription that was not refreshed: NOTIFY terminated;reason=timeout', () => {
    // Every refresh from A is lost.
    let subscribes = 0;
    const c = presence({
      drop: (from, m) =>
        from === 'a' && m.kind === 'request' && m.method === 'SUBSCRIBE' && subscribes++ > 0,
    });
    c.net.clock.advance(599_000);
    expect(c.sub.state).toBe('active');
    c.net.clock.advance(2_000);
    expect(c.notes.at(-1)!.ss).toMatchObject({ state: 'terminated', reason: 'timeout' });
    expect(c.sub.state).toBe('terminated');
    expect(c.served[0]!.state).toBe('terminated');
    expect(c.a.dialogs.size + c.b.dialogs.size).toBe(0);
  });

  it('§4.1.2.4 Timer N: a 2xx without any NOTIFY within 64*T1 ends the subscription', () => {
    const c = presence({
      accept: (s) => s.accept({ notify: {} }),
      drop: (from, m) => from === 'b' && m.kind === 'request' && m.method === 'NOTIFY',
    });
    c.net.clock.advance(40_000);
    expect(c.ended).toBe('timeout');
    expect(c.a.dialogs.size).toBe(0);
  });

  it('§4.2.1.1: a SUBSCRIBE for an unknown event gets 489 Bad Event with Allow-Events; a notifier that rejects gives the subscriber its status', () => {
    const c = call({ b: { events: ['presence'], onSubscribe: (s) => s.reject(403) } });
    const ends: Array<[string, number | undefined]> = [];
    for (const event of ['dialog', 'presence']) {
      c.a.subscribe(
        { uri: 'sip:b@10.0.0.2', from: '<sip:a@10.0.0.1>', to: '<sip:b@10.0.0.2>', event },
        { onTerminated: (r, resp) => ends.push([r, resp?.status]) },
      );
    }
    c.net.clock.advance(2000);
    expect(ends.sort()).toEqual([
      ['rejected', 403],
      ['rejected', 489],
    ]);
    expect(c.responses('b', 489)[0]!.headers.get('allow-events')).toBe('presence');
    expect(c.b.counters.badEvent).toBe(1);
    expect(c.a.dialogs.size + c.b.dialogs.size).toBe(0);
  });

  it('hostile NOTIFYs: no Subscription-State → 400; an unknown event in the dialog → 481; the subscription survives', () => {
    const c = presence();
    c.net.clock.advance(1000);
    const session = c.served[0]!.session!;
    const statuses: number[] = [];
    session.request('NOTIFY', { headers: [['Event', 'presence']] }, (r) => statuses.push(r.status));
    session.request(
      'NOTIFY',
      {
        headers: [
          ['Event', 'dialog'],
          ['Subscription-State', 'active'],
        ],
      },
      (r) => statuses.push(r.status),
    );
    c.net.clock.advance(2000);
    expect(statuses.sort()).toEqual([400, 481]);
    expect(c.sub.state).toBe('active');
  });
});
