/**
 * The dialog layer (RFC 3261 §12–§15) on the in-memory lossy network of the transaction tests,
 * with a ManualClock: two DialogLayers (a = 10.0.0.1, b = 10.0.0.2) over two TransactionLayers.
 */
import { describe, expect, it } from 'vitest';
import {
  createResponse,
  parseMessage,
  serializeMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/syntax/index.js';
import { Dialog, type DialogSession, type ServerInvite } from '../../src/dialog/index.js';
import { A, B } from '../transaction/harness.js';
import { call, isReq, only, type Side } from './harness.js';

describe('a call set up and torn down (§13, §15)', () => {
  for (const transport of ['udp', 'tcp']) {
    it(`over ${transport}: INVITE/200/ACK confirm a dialog on both sides with mirrored ids; BYE ends both`, () => {
      const c = call({ transport });
      const p = c.placeCall();
      c.net.clock.advance(1000);
      const ua = p.accepted!;
      const ub = only(c.b.dialogs);
      expect(ua.state).toBe('confirmed');
      expect(ub.state).toBe('confirmed');
      // §12: the dialog id at each UA is the mirror of the other's.
      expect(ua.dialog.id.localTag).toBe(ub.dialog.id.remoteTag);
      expect(ua.dialog.id.remoteTag).toBe(ub.dialog.id.localTag);
      expect(ua.dialog.id.callId).toBe(ub.dialog.id.callId);
      expect(ub.pendingAck).toBeUndefined();
      let bEnded: string | undefined;
      ub.events.onTerminated = (r) => (bEnded = r);
      let byeStatus = 0;
      ua.bye({}, (r) => (byeStatus = r.status));
      c.net.clock.advance(1000);
      expect(byeStatus).toBe(200);
      expect(bEnded).toBe('remote-bye');
      expect(c.a.dialogs.size).toBe(0);
      expect(c.b.dialogs.size).toBe(0);
    });
  }
});

describe('§13.3.1.4 / §13.2.2.4: 2xx retransmitted until the ACK; ACK resent for each 2xx retransmit', () => {
  it('when the first two ACKs are lost, B retransmits the 200 and A answers each copy with the same ACK', () => {
    const c = call();
    let dropAcks = 2;
    const orig = c.net.sendRaw;
    // Drop the first two ACKs A sends (outside transactions).
    (c.net as { sendRaw: typeof orig }).sendRaw = (from, m) => {
      if (from === 'a' && m.kind === 'request' && m.method === 'ACK' && dropAcks-- > 0) return;
      orig(from, m);
    };
    const p = c.placeCall();
    c.net.clock.advance(10_000);
    expect(p.accepted?.state).toBe('confirmed');
    const ub = only(c.b.dialogs);
    expect(ub.pendingAck).toBeUndefined();
    expect(c.b.counters.okRetransmits).toBeGreaterThanOrEqual(2);
    expect(c.a.counters.ackRetransmits).toBeGreaterThanOrEqual(2);
    // Every ACK A sent for this 2xx is the same message (same branch, same CSeq).
    const acks = c.sent
      .filter((s) => s.from === 'a' && isReq('ACK')(s.message))
      .map((s) => s.message as SipRequest);
    expect(new Set(acks.map((a) => a.headers.via()[0]?.branch)).size).toBe(1);
  });

  it('when every ACK is lost, B stops after 64*T1 and ends the session with a BYE', () => {
    const c = call();
    const orig = c.net.sendRaw;
    (c.net as { sendRaw: typeof orig }).sendRaw = (from, m) => {
      if (from === 'a' && m.kind === 'request' && m.method === 'ACK') return;
      orig(from, m);
    };
    c.placeCall();
    c.net.clock.advance(100);
    const ub = only(c.b.dialogs);
    let reason: string | undefined;
    ub.events.onTerminated = (r) => (reason ??= r);
    c.net.clock.advance(64 * 500 + 5000);
    expect(reason).toBe('no-ack');
    expect(c.count('b', isReq('BYE'))).toBe(1);
    // Retransmissions: T1, 2T1, 4T1, then every T2 until 64*T1: about 10 copies, never unbounded.
    const n = c.b.counters.okRetransmits;
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(15);
    expect(c.b.dialogs.size).toBe(0);
  });
});

describe('§14: re-INVITE and glare', () => {
  it('a re-INVITE refreshes the remote target and increments the local CSeq by one', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(1000);
    const ua = p.accepted!;
    const ub = only(c.b.dialogs);
    const before = ua.dialog.localSeq!;
    let status = 0;
    ua.reinvite(
      { headers: [], body: 'v=0\r\n', contentType: 'application/sdp' },
      (r) => (status = r.status),
    );
    c.net.clock.advance(2000);
    expect(status).toBe(200);
    expect(ua.dialog.localSeq).toBe(before + 1);
    expect(ub.dialog.remoteSeq).toBe(before + 1);
  });

  for (const seed of [1, 2, 3]) {
    it(`both sides re-INVITE in the same tick: each gets 491, both retry after the §14.1 timers and both succeed (seed ${seed})`, () => {
      const c = call({ seed });
      const p = c.placeCall();
      c.net.clock.advance(1000);
      const ua = p.accepted!;
      const ub = only(c.b.dialogs);
      const done: Record<Side, number> = { a: 0, b: 0 };
      ua.reinvite({}, (r) => (done.a = r.status));
      ub.reinvite({}, (r) => (done.b = r.status));
      c.net.clock.advance(20_000);
      expect(ua.reinviteResults[0]).toBe(491);
      expect(ub.reinviteResults[0]).toBe(491);
      expect(done).toEqual({ a: 200, b: 200 });
      expect(c.a.counters.glare + c.b.counters.glare).toBeGreaterThanOrEqual(2);
      expect(ua.state).toBe('confirmed');
      expect(ub.state).toBe('confirmed');
    });
  }

  it('§14.1 retry timers: the Call-ID owner waits 2.1–4 s, the other side 0–2 s', () => {
    const c = call({ latencyMs: 1 });
    const p = c.placeCall();
    c.net.clock.advance(1000);
    const ua = p.accepted!;
    const ub = only(c.b.dialogs);
    const t0 = c.net.clock.now();
    ua.reinvite();
    ub.reinvite();
    c.net.clock.advance(20_000);
    const inviteTimes = (from: Side) =>
      c.sent.filter((s) => s.from === from && isReq('INVITE')(s.message)).map((s) => s.at);
    const a = inviteTimes('a'); // initial INVITE, re-INVITE, retry
    const b = inviteTimes('b'); // re-INVITE, retry
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(2);
    // A generated the Call-ID: 2.1–4 s after the 491 (which took a few ms to arrive).
    expect(a[2]! - t0).toBeGreaterThanOrEqual(2100);
    expect(a[2]! - t0).toBeLessThanOrEqual(4100);
    // B did not: 0–2 s.
    expect(b[1]! - t0).toBeLessThanOrEqual(2100);
  });
});

describe('§12.2: route set and CSeq rules', () => {
  const invite = (recordRoute: string[]) => {
    const c = call();
    const req = c.a.invite({
      uri: 'sip:b@10.0.0.2',
      from: '<sip:a@10.0.0.1>',
      to: '<sip:b@10.0.0.2>',
    }).request;
    const resp = createResponse(req, 200, undefined, {
      toTag: 'bt',
      headers: [
        ['Contact', '<sip:b@10.0.0.2:5070>'],
        ...recordRoute.map((r) => ['Record-Route', r] as const),
      ],
    });
    return { req, dialog: Dialog.uac(req, resp) };
  };
  const local = {
    via: { transport: 'UDP', host: '10.0.0.1', port: 5060 },
    contact: '<sip:a@10.0.0.1>',
  };
  const cases: Array<{ name: string; rr: string[]; uri: string; routes: string[] }> = [
    {
      name: 'no route set: Request-URI is the remote target, no Route',
      rr: [],
      uri: 'sip:b@10.0.0.2:5070',
      routes: [],
    },
    {
      name: 'loose routing (lr): Request-URI is the remote target; Route is the Record-Route reversed',
      rr: ['<sip:p2.example;lr>', '<sip:p1.example;lr>'],
      uri: 'sip:b@10.0.0.2:5070',
      routes: ['<sip:p1.example;lr>', '<sip:p2.example;lr>'],
    },
    {
      name: 'strict routing (no lr): Request-URI is the first route, the remote target is the last Route',
      rr: ['<sip:p1.example>'],
      uri: 'sip:p1.example',
      routes: ['<sip:b@10.0.0.2:5070>'],
    },
  ];
  for (const k of cases) {
    it(`§12.2.1.1 ${k.name}`, () => {
      const { dialog } = invite(k.rr);
      const bye = dialog.createRequest('BYE', local);
      expect(bye.uriText).toBe(k.uri);
      expect(bye.headers.getAll('route')).toEqual(k.routes);
    });
  }

  it('§12.2.1.1: CSeq increases by one per request; ACK reuses the INVITE CSeq', () => {
    const { req, dialog } = invite([]);
    const seq = req.headers.cseq()!.seq;
    expect(dialog.createRequest('INFO', local).headers.cseq()).toEqual({
      seq: seq + 1,
      method: 'INFO',
    });
    expect(dialog.createRequest('ACK', local, { cseq: seq }).headers.cseq()).toEqual({
      seq,
      method: 'ACK',
    });
    expect(dialog.createRequest('BYE', local).headers.cseq()).toEqual({
      seq: seq + 2,
      method: 'BYE',
    });
  });

  it('§12.2.2: a request with a lower CSeq than the remote CSeq gets 500; an unknown dialog gets 481', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(1000);
    const ua = p.accepted!;
    const info = ua.dialog.createRequest('INFO', {
      via: { transport: 'UDP', host: '10.0.0.1', port: 5060 },
      contact: '<sip:a@10.0.0.1>',
    });
    const statuses: number[] = [];
    c.net.a.sendRequest(info, c.net.target, { onResponse: (r) => statuses.push(r.status) });
    c.net.clock.advance(1000);
    // Same CSeq again in a new transaction: out of order.
    const again = ua.dialog.createRequest(
      'INFO',
      { via: { transport: 'UDP', host: '10.0.0.1', port: 5060 }, contact: '<sip:a@10.0.0.1>' },
      { cseq: info.headers.cseq()!.seq },
    );
    c.net.a.sendRequest(again, c.net.target, { onResponse: (r) => statuses.push(r.status) });
    c.net.clock.advance(1000);
    expect(statuses).toEqual([200, 500]);
    expect(c.b.counters.outOfOrder).toBe(1);
    ua.bye();
    c.net.clock.advance(1000);
    const late = parseMessage(serializeMessage(info));
    expect(late.ok).toBe(true);
    const stale = ua.dialog; // terminated: build by hand from the old INFO with a new branch
    expect(stale.state).toBe('terminated');
    const raw = new TextDecoder()
      .decode(serializeMessage(info))
      .replace(/branch=[^;\r\n]+/, 'branch=z9hG4bKlate')
      .replace(/CSeq: \d+/, 'CSeq: 99999');
    const p2 = parseMessage(new TextEncoder().encode(raw));
    if (!p2.ok) throw new Error('parse');
    const late481: number[] = [];
    c.net.a.sendRequest(p2.message as SipRequest, c.net.target, {
      onResponse: (r) => late481.push(r.status),
    });
    c.net.clock.advance(1000);
    expect(late481).toEqual([481]);
  });
});

describe('§12.1.2 / §13.2.2.4: forking', () => {
  it('two 180s with different To tags make two early dialogs; the 200 confirms one, the other ends with the INVITE', () => {
    const c = call({ onInviteB: () => {} });
    const p = c.placeCall();
    c.net.clock.advance(100);
    const req = p.inv.request;
    const at = { transport: 'udp', remote: B, local: A };
    for (const tag of ['f1', 'f2']) {
      c.net.a.handleIncoming(
        createResponse(req, 180, undefined, {
          toTag: tag,
          headers: [['Contact', `<sip:${tag}@10.0.0.2>`]],
        }),
        at,
      );
    }
    expect(p.inv.dialogs.size).toBe(2);
    expect([...p.inv.dialogs.values()].map((s) => s.state)).toEqual(['early', 'early']);
    expect(c.a.dialogs.size).toBe(2);
    c.net.a.handleIncoming(
      createResponse(req, 200, undefined, {
        toTag: 'f2',
        headers: [['Contact', '<sip:f2@10.0.0.2>']],
      }),
      at,
    );
    expect(p.accepted?.dialog.id.remoteTag).toBe('f2');
    expect(p.accepted?.state).toBe('confirmed');
    expect(p.inv.dialogs.get('f1')?.state).toBe('early');
    c.net.clock.advance(64 * 500 + 1000); // Timer M ends the INVITE client transaction
    expect(p.inv.dialogs.get('f1')?.state).toBe('terminated');
    expect(p.accepted?.state).toBe('confirmed');
  });

  it("§13.2.2.4: a second fork's 2xx is ACKed and then ended with a BYE", () => {
    const c = call({ onInviteB: () => {} });
    const p = c.placeCall();
    c.net.clock.advance(100);
    const req = p.inv.request;
    const at = { transport: 'udp', remote: B, local: A };
    for (const tag of ['f1', 'f2']) {
      c.net.a.handleIncoming(
        createResponse(req, 200, undefined, {
          toTag: tag,
          headers: [['Contact', `<sip:${tag}@10.0.0.2>`]],
        }),
        at,
      );
    }
    expect(p.accepted?.dialog.id.remoteTag).toBe('f1');
    expect(c.count('a', isReq('ACK'))).toBe(2);
    const byes = c.sent.filter((s) => s.from === 'a' && isReq('BYE')(s.message));
    expect(byes).toHaveLength(1);
    expect((byes[0]!.message as SipRequest).headers.to()?.tag).toBe('f2');
  });
});

describe('§8.2.2.3: Require of an unsupported extension', () => {
  const table: Array<{
    require: string;
    supported: string[];
    status: number;
    unsupported?: string;
  }> = [
    { require: 'foo', supported: [], status: 420, unsupported: 'foo' },
    { require: '100rel, timer', supported: ['timer'], status: 420, unsupported: '100rel' },
    { require: 'timer', supported: ['timer'], status: 200 },
  ];
  for (const k of table) {
    it(`Require: ${k.require} with Supported [${k.supported.join(',')}] → ${k.status}`, () => {
      const c = call({ supportedB: k.supported });
      let final: { status: number; unsupported?: string | undefined } | undefined;
      c.a.invite(
        {
          uri: 'sip:b@10.0.0.2',
          from: '<sip:a@10.0.0.1>',
          to: '<sip:b@10.0.0.2>',
          headers: [['Require', k.require]],
        },
        {
          onAccepted: (_s, r) => (final = { status: r.status }),
          onFailed: (r) =>
            (final = { status: r?.status ?? 0, unsupported: r?.headers.get('unsupported') }),
        },
      );
      c.net.clock.advance(2000);
      expect(final?.status).toBe(k.status);
      if (k.unsupported !== undefined) expect(final?.unsupported).toBe(k.unsupported);
    });
  }
});

describe('lossy network', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`a call with 20% loss and jitter still sets up and tears down (seed ${seed})`, () => {
      const c = call({ loss: 0.2, jitterMs: 50, seed });
      const p = c.placeCall();
      c.net.clock.advance(40_000);
      expect(p.accepted?.state).toBe('confirmed');
      const ub = only(c.b.dialogs);
      expect(ub.pendingAck).toBeUndefined();
      p.accepted!.bye();
      c.net.clock.advance(40_000);
      expect(c.b.dialogs.size).toBe(0);
    });
  }
});

describe('DialogLayer.close', () => {
  it('ends every dialog without sending and is idempotent; invite() after close throws', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(1000);
    const n = c.sent.length;
    let reason: string | undefined;
    p.accepted!.events.onTerminated = (r) => (reason = r);
    c.a.close();
    c.a.close();
    expect(reason).toBe('closed');
    expect(c.sent.length).toBe(n);
    expect(() => c.placeCall()).toThrow(/closed/);
  });
});

describe('§9.1 / §9.2: CANCEL', () => {
  it('a CANCEL asked for before any provisional response waits for the 100, then the INVITE ends with 487', () => {
    let invB: ServerInvite | undefined;
    const c = call({ onInviteB: (i) => (invB = i) });
    let failed = 0;
    const inv = c.a.invite(
      { uri: 'sip:b@10.0.0.2', from: '<sip:a@10.0.0.1>', to: '<sip:b@10.0.0.2>' },
      { onFailed: (r) => (failed = r?.status ?? -1) },
    );
    inv.cancel();
    c.net.clock.advance(50); // B has the INVITE, its 100 Trying is not due yet (200 ms)
    expect(c.count('a', isReq('CANCEL'))).toBe(0);
    c.net.clock.advance(2000);
    expect(c.count('a', isReq('CANCEL'))).toBe(1);
    expect(failed).toBe(487);
    expect(invB?.answered).toBe(true);
    expect(c.a.dialogs.size + c.b.dialogs.size).toBe(0);
  });

  it('a CANCEL after a 180 is sent at once and ends the early dialog on both sides', () => {
    const c = call({ onInviteB: (i) => i.progress(180) });
    let failed = 0;
    const inv = c.a.invite(
      { uri: 'sip:b@10.0.0.2', from: '<sip:a@10.0.0.1>', to: '<sip:b@10.0.0.2>' },
      { onFailed: (r) => (failed = r?.status ?? -1) },
    );
    c.net.clock.advance(100);
    expect(c.a.dialogs.size).toBe(1);
    expect(c.b.dialogs.size).toBe(1);
    inv.cancel();
    inv.cancel();
    expect(c.count('a', isReq('CANCEL'))).toBe(1);
    c.net.clock.advance(2000);
    expect(failed).toBe(487);
    expect(c.a.dialogs.size).toBe(0);
    expect(c.b.dialogs.size).toBe(0);
  });
});

describe('RFC 3311: UPDATE', () => {
  const sdp = { body: 'v=0\r\n', contentType: 'application/sdp' };
  const answerUpdates = (s: DialogSession) => {
    s.events.onRequest = (req, respond) => respond(req.method === 'UPDATE' ? 200 : 501, sdp);
  };

  it('§5.1: an UPDATE in an early dialog (after a 180) is answered 200 and the dialog stays early', () => {
    const c = call({ onInviteB: (i) => i.progress(180) });
    const p = c.placeCall();
    c.net.clock.advance(100);
    const early = only(p.inv.dialogs);
    answerUpdates(only(c.b.dialogs));
    let status = 0;
    early.update(sdp, (r) => (status = r.status));
    c.net.clock.advance(1000);
    expect(status).toBe(200);
    expect(early.state).toBe('early');
  });

  for (const seed of [1, 2]) {
    it(`§5.2: both sides UPDATE with an offer in the same tick, both get 491, both retry and succeed (seed ${seed})`, () => {
      const c = call({ seed });
      const p = c.placeCall();
      c.net.clock.advance(1000);
      const ua = p.accepted!;
      const ub = only(c.b.dialogs);
      answerUpdates(ua);
      answerUpdates(ub);
      const done: Record<Side, number> = { a: 0, b: 0 };
      ua.update(sdp, (r) => (done.a = r.status));
      ub.update(sdp, (r) => (done.b = r.status));
      c.net.clock.advance(20_000);
      expect(ua.updateResults[0]).toBe(491);
      expect(ub.updateResults[0]).toBe(491);
      expect(done).toEqual({ a: 200, b: 200 });
    });
  }

  it('§5.2: an UPDATE offer while our re-INVITE offer is unanswered gets 491; while theirs is unanswered, 500 with Retry-After', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(1000);
    const ua = p.accepted!;
    const ub = only(c.b.dialogs);
    ub.events.onReinvite = () => {}; // B holds A's re-INVITE offer unanswered
    ua.reinvite(sdp);
    c.net.clock.advance(100);
    let statusB: SipResponse | undefined;
    ub.update(sdp, (r) => (statusB = r)); // A has an offer out: 491 (then B retries later)
    c.net.clock.advance(100);
    expect(ub.updateResults[0]).toBe(491);
    const updateA: number[] = [];
    // A's own UPDATE offer reaches B, which has A's re-INVITE offer unanswered: 500.
    const upd = ua.dialog.createRequest(
      'UPDATE',
      { via: { transport: 'UDP', host: '10.0.0.1', port: 5060 }, contact: '<sip:a@10.0.0.1>' },
      sdp,
    );
    let retryAfter: string | undefined;
    c.net.a.sendRequest(upd, c.net.target, {
      onResponse: (r) => {
        updateA.push(r.status);
        retryAfter = r.headers.get('retry-after');
      },
    });
    c.net.clock.advance(100);
    expect(updateA).toEqual([500]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(10);
    void statusB;
  });
});

describe('RFC 3262: reliable provisional responses (PRACK)', () => {
  const setup = (dropFirst183: boolean) => {
    let dropped = 0;
    let invB: ServerInvite | undefined;
    const c = call({
      supportedB: ['100rel'],
      onInviteB: (i) => {
        invB = i;
        i.progress(183, { body: 'v=0\r\n', contentType: 'application/sdp' });
      },
      drop: (from, m) => {
        if (!dropFirst183 || dropped > 0 || from !== 'b' || m.kind !== 'response') return false;
        if (m.status !== 183) return false;
        dropped++;
        return true;
      },
    });
    return { c, invB: () => invB, dropped: () => dropped };
  };

  for (const lost of [false, true]) {
    it(`§3/§4: a reliable 183${lost ? ' whose first copy is lost' : ''} is retransmitted until the PRACK, which gets 200; then the call is answered`, () => {
      const { c, invB, dropped } = setup(lost);
      const progress: number[] = [];
      let accepted: DialogSession | undefined;
      c.a.invite(
        {
          uri: 'sip:b@10.0.0.2',
          from: '<sip:a@10.0.0.1>',
          to: '<sip:b@10.0.0.2>',
          headers: [['Supported', '100rel']],
        },
        { onProgress: (r) => progress.push(r.status), onAccepted: (s) => (accepted = s) },
      );
      c.net.clock.advance(3000);
      expect(dropped()).toBe(lost ? 1 : 0);
      const inv = invB()!;
      expect(inv.unacked).toBeUndefined(); // the PRACK arrived
      expect(progress.filter((s) => s === 183)).toHaveLength(1); // passed up once
      const pracks = c.sent.filter((s) => s.from === 'a' && isReq('PRACK')(s.message));
      expect(pracks).toHaveLength(1); // one PRACK per reliable response, retransmissions dropped
      const rack = (pracks[0]!.message as SipRequest).headers.get('rack');
      expect(rack).toMatch(/^\d+ \d+ INVITE$/);
      inv.accept();
      c.net.clock.advance(2000);
      expect(accepted?.state).toBe('confirmed');
    });
  }

  it('§3: a PRACK matching no unacknowledged reliable response gets 481', () => {
    const { c } = setup(false);
    const p = c.a.invite(
      {
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
        headers: [['Supported', '100rel']],
      },
      {},
    );
    c.net.clock.advance(1000);
    const early = only(p.dialogs);
    let status = 0;
    early.request('PRACK', { headers: [['RAck', '999999 1 INVITE']] }, (r) => (status = r.status));
    c.net.clock.advance(1000);
    expect(status).toBe(481);
  });

  it('§3: a late PRACK answered 481 (its provisional already settled by the 2xx) leaves the call up', () => {
    // What a UAS does when it sends its 2xx before our PRACK arrives (legal without an offer in
    // the provisional, §3): the late PRACK matches nothing and gets 481 — found by a UA core
    // callee behind the SBC. §12.2.1.2's "481 ends the dialog" does not apply to PRACK.
    const { c, invB } = setup(false);
    let accepted: DialogSession | undefined;
    c.a.invite(
      {
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
        headers: [['Supported', '100rel']],
      },
      { onAccepted: (s) => (accepted = s) },
    );
    c.net.clock.advance(1000);
    invB()!.accept();
    c.net.clock.advance(1000);
    expect(accepted?.state).toBe('confirmed');
    let status = 0;
    accepted!.request(
      'PRACK',
      { headers: [['RAck', '999999 1 INVITE']] },
      (r) => (status = r.status),
    );
    c.net.clock.advance(1000);
    expect(status).toBe(481);
    expect(accepted!.state).toBe('confirmed');
    // and a BYE afterwards still ends it normally
    accepted!.bye();
    c.net.clock.advance(1000);
    expect(accepted!.state).toBe('terminated');
  });

  it('§3: without a PRACK for 64*T1 the UAS rejects the INVITE with a 5xx', () => {
    let invB: ServerInvite | undefined;
    const c = call({
      supportedB: ['100rel'],
      onInviteB: (i) => {
        invB = i;
        i.progress(180);
      },
      drop: (from, m) => from === 'a' && m.kind === 'request' && m.method === 'PRACK',
    });
    let failed = 0;
    c.a.invite(
      {
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
        headers: [['Require', '100rel']],
      },
      { onFailed: (r) => (failed = r?.status ?? -1) },
    );
    c.net.clock.advance(64 * 500 + 5000);
    expect(invB?.answered).toBe(true);
    expect(failed).toBe(504);
  });
});

describe('hostile input at the dialog layer', () => {
  const bad: Array<{ name: string; edit: (t: string) => string }> = [
    { name: 'no Contact', edit: (t) => t.replace(/Contact: [^\r\n]*\r\n/, '') },
    { name: 'Contact: *', edit: (t) => t.replace(/Contact: [^\r\n]*/, 'Contact: *') },
    { name: 'no From tag', edit: (t) => t.replace(/(From: [^\r\n]*?);tag=[^\r\n;]*/, '$1') },
  ];
  for (const k of bad) {
    it(`an initial INVITE with ${k.name} gets 400 and never reaches the app`, () => {
      let reached = 0;
      const c = call({ onInviteB: () => reached++ });
      const req = c.a.invite({
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
      }).request;
      const text = k
        .edit(new TextDecoder().decode(serializeMessage(req)))
        .replace(/branch=[^;\r\n]+/, 'branch=z9hG4bKhostile');
      const parsed = parseMessage(new TextEncoder().encode(text));
      if (!parsed.ok) throw new Error(parsed.error.reason);
      const statuses: number[] = [];
      c.net.a.sendRequest(parsed.message as SipRequest, c.net.target, {
        onResponse: (r) => statuses.push(r.status),
      });
      c.net.clock.advance(2000);
      expect(statuses).toContain(400);
      expect(c.b.counters.badRequests).toBe(1);
      expect(reached).toBe(1); // only the well-formed original INVITE
    });
  }

  it('a PRACK with a malformed RAck gets 481, not a crash', () => {
    const c = call({ onInviteB: (i) => i.progress(180) });
    const p = c.placeCall();
    c.net.clock.advance(100);
    let status = 0;
    only(p.inv.dialogs).request(
      'PRACK',
      { headers: [['RAck', 'x y']] },
      (r) => (status = r.status),
    );
    c.net.clock.advance(1000);
    expect(status).toBe(481);
  });
});
