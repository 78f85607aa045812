import { describe, expect, it } from 'vitest';
import {
  InviteServerTransaction,
  buildCancel,
  clientKey,
  serverKey,
  type InviteClientTransaction,
} from '../../src/transaction/index.js';
import type { SipRequest } from '../../src/syntax/index.js';
import type { InboundHandler, ReceiveContext } from '../../src/transport/index.js';
import { ctxFor, isRequest, isStatus, recordingLayer, request, response, wire } from './harness.js';

function legacy(req: SipRequest): SipRequest {
  const copy = wire(req);
  copy.headers.set('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=1234');
  return wire(copy);
}

function withMethod(req: SipRequest, method: string, toTag?: string): SipRequest {
  const copy = wire(req);
  copy.method = method;
  const cseq = copy.headers.cseq();
  copy.headers.set('CSeq', `${cseq?.seq ?? 1} ${method}`);
  if (toTag) copy.headers.set('To', `<sip:bob@10.0.0.2>;tag=${toTag}`);
  return wire(copy);
}

describe('§17.2.3 server transaction matching', () => {
  it('matches a retransmission by branch, sent-by and method', () => {
    const { layer, requests } = recordingLayer();
    const invite = wire(request());
    layer.handleIncoming(invite, ctxFor());
    layer.handleIncoming(wire(invite), ctxFor());
    expect(requests).toHaveLength(1);
  });

  it('does not match the same branch from another sent-by', () => {
    const { layer, requests } = recordingLayer();
    const invite = wire(request());
    layer.handleIncoming(invite, ctxFor());
    const other = wire(invite);
    other.headers.set('Via', other.headers.get('via')!.replace('10.0.0.1:5060', '10.0.0.9:5060'));
    layer.handleIncoming(wire(other), ctxFor());
    expect(requests).toHaveLength(2);
  });

  it('ACK matches the INVITE transaction; an ACK matching none goes to the TU without a transaction', () => {
    const { layer, requests } = recordingLayer();
    const invite = wire(request());
    layer.handleIncoming(invite, ctxFor());
    expect(serverKey(withMethod(invite, 'ACK'))?.key).toBe(serverKey(invite)?.key);
    const stray = withMethod(wire(request()), 'ACK', 'x');
    layer.handleIncoming(stray, ctxFor());
    expect(requests.map((r) => [r.request.method, r.transaction?.kind])).toEqual([
      ['INVITE', 'invite-server'],
      ['ACK', undefined],
    ]);
  });

  it('§9.2: CANCEL is its own transaction with the same branch, and reports the INVITE it cancels', () => {
    const { layer, requests } = recordingLayer();
    const invite = wire(request());
    layer.handleIncoming(invite, ctxFor());
    const cancel = withMethod(invite, 'CANCEL');
    layer.handleIncoming(cancel, ctxFor());
    const [first, second] = requests;
    expect(second?.transaction?.kind).toBe('non-invite-server');
    expect(second?.transaction).not.toBe(first?.transaction);
    expect(second?.cancels).toBe(first?.transaction);
    expect((first?.transaction as InviteServerTransaction).cancelled).toBe(true);
  });

  it('§9.2: a CANCEL for an unknown INVITE is reported with no transaction to cancel', () => {
    const { layer, requests } = recordingLayer();
    layer.handleIncoming(withMethod(wire(request()), 'CANCEL'), ctxFor());
    expect(requests[0]?.cancels).toBeUndefined();
    expect(requests[0]?.transaction).toBeDefined();
  });

  it('§17.2.3: RFC 2543 requests (no magic cookie) match on Request-URI, tags, Call-ID, CSeq and top Via', () => {
    const { layer, requests, sent } = recordingLayer();
    const invite = legacy(request());
    expect(serverKey(invite)?.legacy).toBe(true);
    layer.handleIncoming(invite, ctxFor());
    layer.handleIncoming(wire(invite), ctxFor());
    expect(requests).toHaveLength(1);
    const tx = requests[0]?.transaction as InviteServerTransaction;
    tx.respond(response(invite, 486, 'srvtag'));
    // ACK: To tag must equal the tag of the response the transaction sent.
    layer.handleIncoming(withMethod(invite, 'ACK', 'wrong'), ctxFor());
    expect(tx.state).toBe('Completed');
    expect(requests).toHaveLength(2); // the mismatching ACK went to the TU
    layer.handleIncoming(withMethod(invite, 'ACK', 'srvtag'), ctxFor());
    expect(tx.state).toBe('Confirmed');
    expect(sent.filter((s) => isStatus(486)(s.message))).toHaveLength(1);
    // A different CSeq is a new transaction.
    const next = wire(invite);
    next.headers.set('CSeq', '2 INVITE');
    layer.handleIncoming(wire(next), ctxFor());
    expect(requests).toHaveLength(3);
  });
});

describe('§17.1.3 client matching and CANCEL (§9.1)', () => {
  it('keys responses by top-Via branch and CSeq method', () => {
    const invite = request();
    const ok = response(invite, 200);
    expect(clientKey(ok)).toBe(clientKey(invite));
    expect(clientKey(buildCancel(invite))).not.toBe(clientKey(invite));
  });

  it('§9.1: builds CANCEL with the INVITE branch, Request-URI, Call-ID, From, To, CSeq number and Route', () => {
    const invite = request({ routes: ['<sip:p1.example;lr>', '<sip:p2.example;lr>'], cseq: 7 });
    const cancel = buildCancel(invite);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uriText).toBe(invite.uriText);
    expect(cancel.headers.getAll('via')).toEqual([invite.headers.getAll('via')[0]]);
    expect(cancel.headers.callId()).toBe(invite.headers.callId());
    expect(cancel.headers.get('from')).toBe(invite.headers.get('from'));
    expect(cancel.headers.get('to')).toBe(invite.headers.get('to'));
    expect(cancel.headers.cseq()).toEqual({ seq: 7, method: 'CANCEL' });
    expect(cancel.headers.getAll('route')).toEqual(['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
  });

  it('§9.1: CANCEL is only sent once a provisional response arrived and before a final one', () => {
    const { layer, sent } = recordingLayer();
    const invite = request();
    const tx = layer.sendRequest(invite, ctxFor(), {
      onResponse: () => {},
    }) as InviteClientTransaction;
    expect(layer.cancel(tx)).toBeUndefined();
    layer.handleIncoming(wire(response(invite, 180)), ctxFor());
    const cancelTx = layer.cancel(tx);
    expect(cancelTx?.kind).toBe('non-invite-client');
    expect(sent.filter((s) => isRequest('CANCEL')(s.message))).toHaveLength(1);
    layer.handleIncoming(wire(response(invite, 487)), ctxFor());
    expect(layer.cancel(tx)).toBeUndefined();
  });
});

describe('TransactionLayer bounds and counters', () => {
  it('answers 503 statelessly when the table is full, drops an overflowing ACK, and counts both', () => {
    const { layer, sent, requests } = recordingLayer({ maxTransactions: 2 });
    layer.handleIncoming(wire(request({ method: 'OPTIONS' })), ctxFor());
    layer.handleIncoming(wire(request()), ctxFor());
    layer.handleIncoming(wire(request({ method: 'REGISTER' })), ctxFor());
    expect(requests).toHaveLength(2);
    expect(sent.map((s) => (s.message.kind === 'response' ? s.message.status : 0))).toEqual([503]);
    expect(sent[0]?.message.headers.get('retry-after')).toBe('5');
    expect(layer.counters.overflow).toBe(1);
    expect(layer.size).toBe(2);
    expect(() => layer.sendRequest(request(), ctxFor(), { onResponse: () => {} })).toThrow(
      /too many/,
    );
    expect(layer.counters.overflow).toBe(2);
  });

  it('counts created and terminated per kind and stray responses', () => {
    const { layer, clock, stray } = recordingLayer();
    const opts = request({ method: 'OPTIONS' });
    layer.sendRequest(opts, ctxFor('tcp'), { onResponse: () => {} });
    layer.handleIncoming(wire(response(opts, 200)), ctxFor('tcp'));
    layer.handleIncoming(wire(response(request(), 200)), ctxFor('tcp'));
    clock.advance(0);
    expect(layer.counters.created['non-invite-client']).toBe(1);
    expect(layer.counters.terminated['non-invite-client']).toBe(1);
    expect(layer.counters.strayResponses).toBe(1);
    expect(stray).toHaveLength(1);
  });

  it('drops messages it cannot match (no Via) and counts them', () => {
    const { layer, requests } = recordingLayer();
    const bad = wire(request());
    bad.headers.remove('via');
    layer.handleIncoming(bad, ctxFor());
    expect(requests).toHaveLength(0);
    expect(layer.counters.unmatchable).toBe(1);
  });

  it('plugs into the transport ingress as its InboundHandler', () => {
    const { layer, requests } = recordingLayer();
    const handler: InboundHandler = layer.handleInbound;
    const ctx: ReceiveContext = {
      transport: 'udp',
      local: { address: '10.0.0.2', port: 5060 },
      remote: { address: '10.0.0.1', port: 5060 },
    };
    handler({ message: wire(request()), ctx });
    expect(requests[0]?.ctx).toBe(ctx);
  });

  it('close() is idempotent and stops delivery', () => {
    const { layer, requests } = recordingLayer();
    layer.close();
    layer.close();
    layer.handleIncoming(wire(request()), ctxFor());
    expect(requests).toHaveLength(0);
    expect(() => layer.sendRequest(request(), ctxFor(), { onResponse: () => {} })).toThrow(
      /closed/,
    );
  });
});

describe('requests the TU answers statelessly (TransactionUser.statelessly)', () => {
  it('get no transaction: the TU sees each copy, nothing lingers; others get one', () => {
    const { layer, requests } = recordingLayer({ statelessly: (r) => r.method === 'OPTIONS' });
    const options = request({ method: 'OPTIONS' });
    layer.handleIncoming(wire(options), ctxFor());
    layer.handleIncoming(wire(options), ctxFor());
    expect(requests.map((i) => i.transaction)).toEqual([undefined, undefined]);
    expect(layer.size).toBe(0);
    expect(layer.counters.stateless).toBe(2);
    layer.handleIncoming(wire(request({ method: 'MESSAGE' })), ctxFor());
    expect(requests[2]!.transaction).toBeDefined();
    expect(layer.size).toBe(1);
  });
});
