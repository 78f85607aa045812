/**
 * SbcCall at a peer's BYE (call.ts `#endOnBye`): the engine's stats are queried first (bounded
 * on the injected clock), handed on for the CDR, then the call ends (`onEnding`: the CDR line),
 * then the BYE is answered. Two in-memory dialog-layer pairs of the SIP tests (ManualClock): the
 * phone ↔ the SBC's leg A, the SBC's leg B ↔ the trunk; a fake engine whose `query` the test
 * answers. The real-peer proof is packages/server/test/sbc/cdr-media.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CallStats, LegProfile } from '@tfx/media';
// The SIP tests' harness runs the dialog layer from its sources; the SBC's types name the built
// package's classes (the same code), hence the casts where the two meet.
import type { DialogSession, ServerInvite } from '../../sip/src/dialog/index.js';
import { SbcCall, type EndReason, type ZoneAgent } from '../src/index.js';
import { call as pair, only } from '../../sip/test/dialog/harness.js';

const SDP = { body: 'v=0\r\n', contentType: 'application/sdp' };
const settle = () => new Promise<void>((r) => setImmediate(r));

async function confirmedCall(query: () => Promise<CallStats>) {
  let invite: ServerInvite | undefined;
  const aSide = pair({ onInviteB: (inv) => (invite = inv) });
  const bSide = pair();
  let phone: DialogSession | undefined;
  aSide.a.invite(
    { uri: 'sip:b@10.0.0.2', from: '<sip:a@10.0.0.1>', to: '<sip:b@10.0.0.2>', ...SDP },
    { onAccepted: (s) => (phone = s) },
  );
  aSide.net.clock.advance(100);
  const events: string[] = [];
  const stats: CallStats[] = [];
  const zoneOf = (name: string) => ({ name }) as unknown as ZoneAgent;
  const profile = {} as LegProfile;
  const sbcCall = new SbcCall(
    'c1',
    invite as unknown as SbcCall['incoming'],
    { zone: zoneOf('public'), mediaTag: 'a', profile },
    { zone: zoneOf('core'), mediaTag: 'b', profile },
    {
      engine: {
        offer: (r) => Promise.resolve({ sdp: r.sdp }),
        answer: (r) => Promise.resolve({ sdp: r.sdp }),
        delete: () => {
          events.push('delete');
          return Promise.resolve(undefined);
        },
        query: () => {
          events.push('query');
          return query();
        },
      },
      onEnding: (_c, reason: EndReason) => events.push(`cdr:${reason}`),
      onEnded: () => undefined,
      finalStats: {
        clock: aSide.net.clock,
        timeoutMs: 500,
        onStats: (_c, s) => stats.push(s),
      },
      log: () => undefined,
    },
    0,
  );
  await sbcCall.offerFromA();
  bSide.a.invite(
    { uri: 'sip:b@10.0.0.2', from: '<sip:a@10.0.0.1>', to: '<sip:b@10.0.0.2>', ...SDP },
    {
      onAccepted: (s, r) => {
        type Accepted = Parameters<SbcCall['onAccepted']>;
        void sbcCall.onAccepted(s as unknown as Accepted[0], r as unknown as Accepted[1]);
      },
    },
  );
  bSide.net.clock.advance(100);
  await settle();
  aSide.net.clock.advance(100);
  expect(sbcCall.state).toBe('confirmed');
  expect(phone?.state).toBe('confirmed');
  const trunk = only(bSide.b.dialogs);
  /** BYE 2xx the SBC sent: leg A's dialog is side b of the phone's pair, leg B's side a. */
  const byeOk = (side: typeof aSide) =>
    side
      .responses(side === aSide ? 'b' : 'a', 200)
      .filter((r) => r.headers.cseq()?.method === 'BYE').length;
  return { aSide, bSide, phone: phone!, trunk, sbcCall, events, stats, byeOk };
}

const STATS: CallStats = {
  callId: 'c1',
  createdAt: 0,
  legs: [
    {
      tag: 'a',
      local: { address: '127.0.0.1', port: 1 },
      latched: true,
      direction: 'sendrecv',
      codec: 'PCMA/8000',
      packetsIn: 50,
      bytesIn: 0,
      packetsOut: 50,
      bytesOut: 0,
      dropped: 0,
      packetsLost: 0,
      jitterMs: 0,
    },
  ],
};

describe("SbcCall: a peer's BYE waits for the engine's stats, then the CDR, then its 200", () => {
  it('query → stats → CDR → the BYE answered; the other leg BYEs meanwhile: one CDR, both answered', async () => {
    let answer!: (s: CallStats) => void;
    const c = await confirmedCall(() => new Promise((r) => (answer = r)));
    c.phone.bye();
    c.aSide.net.clock.advance(100);
    await settle();
    expect(c.events).toEqual(['query']);
    // The trunk hangs up too while the query is out: it shares the wait.
    c.trunk.bye();
    c.bSide.net.clock.advance(100);
    await settle();
    c.aSide.net.clock.advance(100);
    c.bSide.net.clock.advance(100);
    expect(c.events).toEqual(['query']);
    expect(c.byeOk(c.aSide)).toBe(0);
    expect(c.byeOk(c.bSide)).toBe(0);
    answer(STATS);
    await settle();
    c.aSide.net.clock.advance(100);
    c.bSide.net.clock.advance(100);
    expect(c.stats).toEqual([STATS]);
    expect(c.events).toEqual(['query', 'cdr:caller-bye', 'delete']);
    expect(c.byeOk(c.aSide)).toBe(1);
    expect(c.byeOk(c.bSide)).toBe(1);
    expect(c.sbcCall.state).toBe('ended');
  });

  it('a query that never answers: after the timeout on the clock the call ends without stats', async () => {
    const c = await confirmedCall(() => new Promise(() => undefined));
    c.phone.bye();
    c.aSide.net.clock.advance(100);
    await settle();
    expect(c.byeOk(c.aSide)).toBe(0);
    c.aSide.net.clock.advance(500); // the 500 ms bound
    await settle();
    c.aSide.net.clock.advance(100);
    c.bSide.net.clock.advance(100);
    expect(c.stats).toEqual([]);
    expect(c.events).toEqual(['query', 'cdr:caller-bye', 'delete']);
    expect(c.byeOk(c.aSide)).toBe(1);
    expect(c.trunk.state).toBe('terminated'); // the SBC BYEd the trunk
  });

  it('the call ends another way during the wait (shutdown): its CDR, then the BYE answered at once', async () => {
    const c = await confirmedCall(() => new Promise(() => undefined));
    c.phone.bye();
    c.aSide.net.clock.advance(100);
    await settle();
    c.sbcCall.end('shutdown', 503);
    await settle();
    c.aSide.net.clock.advance(100);
    expect(c.events).toEqual(['query', 'cdr:shutdown', 'delete']);
    expect(c.byeOk(c.aSide)).toBe(1);
    // The late timeout changes nothing.
    c.aSide.net.clock.advance(1000);
    await settle();
    expect(c.events).toEqual(['query', 'cdr:shutdown', 'delete']);
    expect(c.stats).toEqual([]);
  });
});
