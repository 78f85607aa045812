/**
 * The proxy's CDR tracker (packages/server/src/sip/cdr.ts) on parsed SIP messages and an
 * injected clock: a call answered and ended by the callee's BYE (callee-bye, ring and answer
 * times, the branch as its try), a re-INVITE that is not a new try, a rejected call, an answered
 * call without BYE written as expired by the sweep, an unanswered one forgotten, the `max` bound
 * counted, a sink that throws reported (never thrown to the proxy), nothing tracked without a sink.
 */
import { describe, expect, it } from 'vitest';
import type { CdrRecord } from '@tfx/sbc';
import {
  BranchState,
  parseMessage,
  type Branch,
  type SipRequest,
  type SipResponse,
} from '@tfx/sip';
import { ProxyCdrs } from '../../src/sip/cdr.js';

const enc = new TextEncoder();

function msg(lines: string[]): SipRequest | SipResponse {
  const r = parseMessage(enc.encode(lines.join('\r\n') + '\r\n\r\n'));
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.message as SipRequest | SipResponse;
}

function invite(callId: string, toTag?: string, target = 'sip:bob@127.0.0.1:5070'): SipRequest {
  return msg([
    `INVITE ${target} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1',
    'From: "Alice" <sip:alice@tfx.test>;tag=a1',
    `To: <sip:bob@tfx.test>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`,
    'CSeq: 2 INVITE',
    'Max-Forwards: 70',
    'Content-Length: 0',
  ]) as SipRequest;
}

function bye(callId: string, fromTag: string): SipRequest {
  return msg([
    'BYE sip:alice@127.0.0.1:5061 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2',
    `From: <sip:bob@tfx.test>;tag=${fromTag}`,
    'To: <sip:alice@tfx.test>;tag=a1',
    `Call-ID: ${callId}`,
    'CSeq: 1 BYE',
    'Max-Forwards: 70',
    'Content-Length: 0',
  ]) as SipRequest;
}

function response(status: number, callId: string, toTag?: string): SipResponse {
  return msg([
    `SIP/2.0 ${status} X`,
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1',
    'From: <sip:alice@tfx.test>;tag=a1',
    `To: <sip:bob@tfx.test>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`,
    'CSeq: 2 INVITE',
    'Content-Length: 0',
  ]) as SipResponse;
}

describe('ProxyCdrs', () => {
  it('answered, re-INVITEd and ended by the callee: one record with its times', () => {
    const out: CdrRecord[] = [];
    const cdrs = new ProxyCdrs({ sink: () => ({ write: (r) => out.push(r) }) });
    const inv = invite('c1');
    cdrs.branch(inv, invite('c1', undefined, 'sip:bob@127.0.0.1:5070;transport=udp'), 1000);
    cdrs.forward(inv, 180, response(180, 'c1', 'b1'), 2000);
    cdrs.forward(inv, 200, response(200, 'c1', 'b1'), 3000);
    const re = invite('c1', 'b1');
    cdrs.branch(re, re, 4000);
    cdrs.forward(re, 491, response(491, 'c1', 'b1'), 4100);
    expect(out).toHaveLength(0);
    const b = bye('c1', 'b1');
    cdrs.forward(b, 200, undefined, 9000);
    expect(out).toEqual([
      {
        kind: 'proxy',
        id: expect.stringMatching(/^proxy-/) as string,
        callId: 'c1',
        bCallId: undefined,
        aZone: 'proxy',
        bZone: 'proxy',
        trunk: '127.0.0.1:5070',
        tries: [{ trunk: '127.0.0.1:5070', status: 200, at: new Date(1000).toISOString() }],
        caller: { from: 'alice', to: 'bob', ruri: 'bob' },
        callee: { from: 'alice', to: 'bob', ruri: 'bob' },
        start: new Date(1000).toISOString(),
        ring: new Date(2000).toISOString(),
        answer: new Date(3000).toISOString(),
        end: new Date(9000).toISOString(),
        duration: 6,
        final: 200,
        reason: 'callee-bye',
      },
    ]);
    expect(cdrs.size).toBe(0);
    // A BYE of a call no longer tracked writes nothing more.
    cdrs.forward(b, 200, undefined, 9500);
    expect(out).toHaveLength(1);
  });

  it('a forked call: each branch its try, with its own final status', () => {
    const out: CdrRecord[] = [];
    const cdrs = new ProxyCdrs({ sink: () => ({ write: (r) => out.push(r) }) });
    const inv = invite('f1');
    const mk = (id: number): Branch =>
      ({
        id,
        target: {},
        state: BranchState.Calling,
        tx: undefined,
        final: undefined,
      }) as unknown as Branch;
    const desk = mk(1);
    const mobile = mk(2);
    cdrs.branch(inv, invite('f1', undefined, 'sip:bob@127.0.0.1:5070'), 0, desk);
    cdrs.branch(inv, invite('f1', undefined, 'sip:bob@127.0.0.2:5080'), 0, mobile);
    // The desk phone is busy; the mobile answers (the context marks it Accepted, then forwards).
    desk.state = BranchState.Completed;
    desk.final = response(486, 'f1', 'd');
    mobile.state = BranchState.Accepted;
    cdrs.forward(inv, 200, response(200, 'f1', 'm'), 1000);
    cdrs.forward(bye('f1', 'a1'), 200, undefined, 2000);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ reason: 'caller-bye', trunk: '127.0.0.2:5080' });
    expect(out[0]!.tries.map((t) => [t.trunk, t.status])).toEqual([
      ['127.0.0.1:5070', 486],
      ['127.0.0.2:5080', 200],
    ]);
  });

  it('rejected; expired without BYE; unanswered forgotten; bounded; sink errors reported', () => {
    const out: CdrRecord[] = [];
    const errors: unknown[] = [];
    let throwing = false;
    const cdrs = new ProxyCdrs({
      sink: () => ({
        write: (r) => {
          if (throwing) throw new Error('disk full');
          out.push(r);
        },
      }),
      max: 3,
      maxAgeMs: 10_000,
      earlyMaxAgeMs: 5_000,
      onError: (e) => errors.push(e),
    });
    const i1 = invite('r1');
    cdrs.branch(i1, i1, 0);
    cdrs.forward(i1, 486, response(486, 'r1', 'x'), 100);
    expect(out.at(-1)).toMatchObject({ callId: 'r1', final: 486, reason: 'rejected', duration: 0 });
    expect(out.at(-1)?.tries).toEqual([
      { trunk: '127.0.0.1:5070', status: 486, at: new Date(0).toISOString() },
    ]);

    const i2 = invite('e1');
    cdrs.branch(i2, i2, 0);
    cdrs.forward(i2, 200, response(200, 'e1', 'y'), 1000);
    const i3 = invite('u1');
    cdrs.branch(i3, i3, 0);
    const i4 = invite('u2');
    cdrs.branch(i4, i4, 0);
    const i5 = invite('over');
    cdrs.branch(i5, i5, 0); // over max: not tracked, counted
    expect(cdrs.dropped).toBe(1);
    expect(cdrs.size).toBe(3);
    cdrs.sweep(6000); // the unanswered ones are forgotten
    expect(cdrs.size).toBe(1);
    throwing = true;
    cdrs.sweep(11_001); // the answered one is written as expired — the sink throws
    expect(errors).toHaveLength(1);
    expect(cdrs.size).toBe(0);
    throwing = false;
    const i6 = invite('e2');
    cdrs.branch(i6, i6, 20_000);
    cdrs.forward(i6, 200, response(200, 'e2', 'z'), 20_000);
    cdrs.sweep(30_001);
    expect(out.at(-1)).toMatchObject({
      callId: 'e2',
      reason: 'expired',
      final: 200,
      duration: 10.001,
    });

    const none = new ProxyCdrs({ sink: () => undefined });
    none.branch(i1, i1, 0);
    expect(none.size).toBe(0);
  });
});
