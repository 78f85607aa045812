/**
 * The app's own ACK (`deferAck`, RFC 3261 §13.2.2.4 / RFC 3264 §5: an INVITE without an offer
 * gets the offer in the 2xx, the answer goes in the ACK), the UAS seeing the ACK's body, and a
 * UAS answering for several forks with To tags of its own (§12.1.1, a B2BUA relaying a forking
 * far side). Two DialogLayers on the in-memory network with a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../src/syntax/index.js';
import type { DialogSession, ServerInvite } from '../../src/dialog/index.js';
import { call, isReq, only } from './harness.js';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\n';
const ANSWER = 'v=0\r\no=- 2 2 IN IP4 10.0.0.1\r\ns=-\r\n';
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function lateOffer(o: { lossAcks?: number } = {}) {
  let acksLost = 0;
  const c = call({
    onInviteB: (inv) => inv.accept({ body: OFFER, contentType: 'application/sdp' }),
    drop: (from, m) =>
      from === 'a' &&
      m.kind === 'request' &&
      m.method === 'ACK' &&
      acksLost < (o.lossAcks ?? 0) &&
      ++acksLost > 0,
  });
  let accepted: DialogSession | undefined;
  let offer: string | undefined;
  const inv = c.a.invite(
    {
      uri: 'sip:b@10.0.0.2',
      from: '<sip:a@10.0.0.1>',
      to: '<sip:b@10.0.0.2>',
      deferAck: true,
    },
    {
      onAccepted: (s, r) => {
        accepted = s;
        offer = decode(r.body);
      },
    },
  );
  return { c, inv, accepted: () => accepted, offer: () => offer };
}

describe('deferAck: the UAC sends the ACK of the 2xx itself (§13.2.2.4, RFC 3264 §5)', () => {
  it('the 2xx is not ACKed until the app calls ack(); the ACK carries its answer and B sees it in onAck', () => {
    const t = lateOffer();
    t.c.net.clock.advance(100);
    const ua = t.accepted()!;
    expect(ua.state).toBe('confirmed');
    expect(t.offer()).toBe(OFFER);
    expect(t.c.count('a', isReq('ACK'))).toBe(0);
    const ub = only(t.c.b.dialogs);
    const acks: SipRequest[] = [];
    ub.events.onAck = (ack) => acks.push(ack);
    // B keeps retransmitting its 2xx meanwhile; none of the copies is ACKed by the layer.
    t.c.net.clock.advance(1200);
    expect(t.c.b.counters.okRetransmits).toBeGreaterThan(0);
    expect(t.c.count('a', isReq('ACK'))).toBe(0);
    ua.ack({ body: ANSWER, contentType: 'application/sdp' });
    t.c.net.clock.advance(100);
    expect(acks).toHaveLength(1);
    expect(decode(acks[0]!.body)).toBe(ANSWER);
    expect(acks[0]!.headers.get('content-type')).toBe('application/sdp');
    // §13.2.2.4: the ACK's CSeq number is the INVITE's, its method ACK.
    expect(acks[0]!.headers.cseq()?.seq).toBe(t.inv.request.headers.cseq()?.seq);
    expect(ub.pendingAck).toBeUndefined();
    expect(() => ua.ack()).toThrow(/waits for its ACK/);
  });

  it('a retransmitted 2xx after the app ACKed gets the same ACK again (with the answer)', () => {
    const t = lateOffer({ lossAcks: 1 });
    t.c.net.clock.advance(100);
    t.accepted()!.ack({ body: ANSWER, contentType: 'application/sdp' });
    t.c.net.clock.advance(5000);
    const acks = t.c.sent.filter((s) => s.from === 'a' && isReq('ACK')(s.message));
    expect(acks.length).toBeGreaterThanOrEqual(2);
    for (const a of acks) expect(decode((a.message as SipRequest).body)).toBe(ANSWER);
    expect(only(t.c.b.dialogs).pendingAck).toBeUndefined();
  });

  it('without ack() within 64*T1 the layer ACKs without a body and ends the dialog with a BYE', () => {
    const t = lateOffer();
    t.c.net.clock.advance(100);
    const ua = t.accepted()!;
    let why: string | undefined;
    ua.events.onTerminated = (r) => (why = r);
    t.c.net.clock.advance(64 * 500 + 100);
    const acks = t.c.sent.filter((s) => s.from === 'a' && isReq('ACK')(s.message));
    expect(acks.length).toBeGreaterThanOrEqual(1);
    expect((acks[0]!.message as SipRequest).body.length).toBe(0);
    expect(t.c.count('a', isReq('BYE'))).toBe(1);
    expect(why).toBe('no-ack');
  });

  it('a BYE sent while the ACK is held back is preceded by the ACK (every 2xx is ACKed)', () => {
    const t = lateOffer();
    t.c.net.clock.advance(100);
    t.accepted()!.bye();
    const order = t.c.sent
      .filter((s) => s.from === 'a' && s.message.kind === 'request')
      .map((s) => (s.message as SipRequest).method);
    expect(order.slice(-2)).toEqual(['ACK', 'BYE']);
    t.c.net.clock.advance(1000);
    expect(t.c.b.dialogs.size).toBe(0);
  });

  it('a re-INVITE without an offer with deferAck: the app ACKs the 2xx with the answer; a second re-INVITE waits for it', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(100);
    const ua = p.accepted!;
    const ub = only(c.b.dialogs);
    let reoffer: ServerInvite | undefined;
    ub.events.onReinvite = (inv) => {
      reoffer = inv;
      inv.accept({ body: OFFER, contentType: 'application/sdp' });
    };
    const acks: SipRequest[] = [];
    ub.events.onAck = (a) => acks.push(a);
    let status = 0;
    ua.reinvite({}, (r) => (status = r.status), { deferAck: true });
    c.net.clock.advance(100);
    expect(reoffer?.request.body.length).toBe(0);
    expect(status).toBe(200);
    expect(acks).toHaveLength(0);
    // §14.1: no new INVITE transaction before this one is ACKed.
    expect(() => ua.reinvite({})).toThrow(/in progress/);
    ua.ack({ body: ANSWER, contentType: 'application/sdp' });
    c.net.clock.advance(100);
    expect(acks).toHaveLength(1);
    expect(decode(acks[0]!.body)).toBe(ANSWER);
    expect(ub.pendingAck).toBeUndefined();
  });

  it('without deferAck the layer ACKs at once, as before', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(100);
    expect(p.accepted?.state).toBe('confirmed');
    expect(c.count('a', isReq('ACK'))).toBe(1);
    expect(() => p.accepted!.ack()).toThrow();
  });
});

describe('§12.1.1: a UAS answering for several forks, each with its own To tag', () => {
  it('two 180s with app tags make two early dialogs at the UAC; the 200 on one confirms it, the other ends on both sides', () => {
    let invB: ServerInvite | undefined;
    const c = call({ onInviteB: (i) => (invB = i) });
    const p = c.placeCall();
    c.net.clock.advance(100);
    const inv = invB!;
    inv.progress(180);
    inv.progress(180, {}, 'fork-2');
    c.net.clock.advance(100);
    expect(c.b.dialogs.size).toBe(2);
    expect([...p.inv.dialogs.keys()].sort()).toEqual([inv.toTag, 'fork-2'].sort());
    const b1 = inv.forks.get(inv.toTag)!;
    let b1End: string | undefined;
    b1.events.onTerminated = (r) => (b1End = r);
    const s = inv.accept({}, 200, 'fork-2');
    expect(s.dialog.id.localTag).toBe('fork-2');
    expect(s.state).toBe('confirmed');
    expect(b1End).toBe('failed');
    c.net.clock.advance(100);
    expect(p.accepted?.dialog.id.remoteTag).toBe('fork-2');
    expect(c.b.dialogs.size).toBe(1);
  });

  it('RFC 3262: each fork numbers its reliable 18x on its own; a PRACK on the wrong fork gets 481', () => {
    let invB: ServerInvite | undefined;
    const c = call({ supportedB: ['100rel'], onInviteB: (i) => (invB = i) });
    c.a.invite(
      {
        uri: 'sip:b@10.0.0.2',
        from: '<sip:a@10.0.0.1>',
        to: '<sip:b@10.0.0.2>',
        headers: [['Supported', '100rel']],
      },
      {},
    );
    c.net.clock.advance(100);
    const inv = invB!;
    inv.progress(180);
    c.net.clock.advance(100);
    expect(inv.unacked).toBeUndefined(); // our UAC PRACKed it
    inv.progress(183, {}, 'fork-2');
    c.net.clock.advance(100);
    expect(inv.unacked).toBeUndefined();
    inv.progress(180);
    c.net.clock.advance(100);
    expect(inv.unacked).toBeUndefined();
    const pracks = c.sent.filter((s) => s.from === 'a' && isReq('PRACK')(s.message));
    expect(pracks).toHaveLength(3); // the UAC checked RSeq + 1 per tag and PRACKed all three
    const r1 = inv.rseqs.get(inv.toTag)!;
    const rel = c.responses('b', 180).map((r) => Number(r.headers.get('rseq')));
    expect(rel).toContain(r1 - 1);
    expect(rel).toContain(r1);
  });

  it('a re-INVITE cannot be answered with another tag', () => {
    const c = call();
    const p = c.placeCall();
    c.net.clock.advance(100);
    only(c.b.dialogs).events.onReinvite = (inv) => {
      expect(() => inv.accept({}, 200, 'other')).toThrow(/own dialog/);
      inv.accept();
    };
    let status = 0;
    p.accepted!.reinvite({}, (r) => (status = r.status));
    c.net.clock.advance(100);
    expect(status).toBe(200);
  });
});
