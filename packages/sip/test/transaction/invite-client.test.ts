import { describe, expect, it } from 'vitest';
import { InviteClientState, type InviteClientTransaction } from '../../src/transaction/index.js';
import { ctxFor, isRequest, recordingLayer, request, response, wire } from './harness.js';
import type { SipResponse } from '../../src/syntax/index.js';

function start(transport = 'udp', routes: string[] = []) {
  const h = recordingLayer();
  const got: SipResponse[] = [];
  const errors: string[] = [];
  const invite = request({ transport: transport.toUpperCase(), routes });
  const tx = h.layer.sendRequest(invite, ctxFor(transport, { address: '10.0.0.2', port: 5060 }), {
    onResponse: (r) => got.push(r),
    onError: (e) => errors.push(e.code),
  }) as InviteClientTransaction;
  return { ...h, tx, invite, got, errors };
}

describe('INVITE client transaction (§17.1.1)', () => {
  it('§17.1.1.2: Timer A doubles each retransmission (T1, 2T1, 4T1, …) until Timer B', () => {
    const { clock, sendTimes, tx, errors } = start();
    clock.advance(64 * 500);
    // Sent at 0, then after 500, 1000, 2000, 4000, 8000, 16000 ms: 0, 500, 1500, 3500, 7500, 15500, 31500.
    expect(sendTimes(isRequest('INVITE'))).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(tx.state).toBe(InviteClientState.Terminated);
    expect(errors).toEqual(['sip-transaction-timeout']);
  });

  it('§17.1.1.2: Timer B fires sip-transaction-timeout at exactly 64*T1', () => {
    const { clock, tx, errors, layer } = start();
    clock.advance(64 * 500 - 1);
    expect(tx.state).toBe(InviteClientState.Calling);
    clock.advance(1);
    expect(errors).toEqual(['sip-transaction-timeout']);
    expect(layer.counters.timeouts['invite-client']).toBe(1);
    expect(layer.size).toBe(0);
  });

  it('§17.1.1.2: a reliable transport never retransmits (no Timer A), Timer B still runs', () => {
    const { clock, sendTimes, tx } = start('tcp');
    expect(tx.runningTimers).toEqual(['B']);
    clock.advance(40_000);
    expect(sendTimes(isRequest('INVITE'))).toEqual([0]);
    expect(tx.state).toBe(InviteClientState.Terminated);
  });

  it('§17.1.1.2: a provisional response moves Calling → Proceeding, stops retransmissions and reaches the TU', () => {
    const { clock, sendTimes, tx, invite, layer, got } = start();
    clock.advance(600);
    layer.handleIncoming(wire(response(invite, 180)), ctxFor());
    expect(tx.state).toBe(InviteClientState.Proceeding);
    expect(got.map((r) => r.status)).toEqual([180]);
    clock.advance(60_000);
    expect(sendTimes(isRequest('INVITE'))).toEqual([0, 500]);
    expect(tx.state).toBe(InviteClientState.Proceeding);
  });

  it('§17.1.1.3: a non-2xx final response is ACKed by the transaction with the RFC fields', () => {
    const { tx, invite, layer, sent, got } = start('udp', ['<sip:proxy.example;lr>']);
    const busy = wire(response(invite, 486, 'busytag'));
    layer.handleIncoming(busy, ctxFor());
    expect(tx.state).toBe(InviteClientState.Completed);
    expect(got.map((r) => r.status)).toEqual([486]);
    const ack = sent.at(-1)?.message;
    if (ack?.kind !== 'request') throw new Error('no ACK');
    expect(ack.method).toBe('ACK');
    expect(ack.uriText).toBe(invite.uriText);
    expect(ack.headers.getAll('via')).toEqual([invite.headers.getAll('via')[0]]);
    expect(ack.headers.via()[0]?.branch).toBe(invite.headers.via()[0]?.branch);
    expect(ack.headers.callId()).toBe(invite.headers.callId());
    expect(ack.headers.get('from')).toBe(invite.headers.get('from'));
    expect(ack.headers.to()?.tag).toBe('busytag');
    expect(ack.headers.cseq()).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.headers.getAll('route')).toEqual(['<sip:proxy.example;lr>']);
  });

  it('§17.1.1.2: final response retransmissions in Completed re-send the ACK and are not passed up', () => {
    const { tx, invite, layer, sendTimes, got, clock } = start();
    const busy = response(invite, 486);
    layer.handleIncoming(wire(busy), ctxFor());
    clock.advance(1000);
    layer.handleIncoming(wire(busy), ctxFor());
    layer.handleIncoming(wire(busy), ctxFor());
    expect(got).toHaveLength(1);
    expect(sendTimes(isRequest('ACK'))).toEqual([0, 1000, 1000]);
    expect(tx.state).toBe(InviteClientState.Completed);
  });

  it('§17.1.1.2: Timer D terminates Completed after 32 s on UDP and at once on TCP', () => {
    const udp = start();
    udp.layer.handleIncoming(wire(response(udp.invite, 404)), ctxFor());
    udp.clock.advance(31_999);
    expect(udp.tx.state).toBe(InviteClientState.Completed);
    udp.clock.advance(1);
    expect(udp.tx.state).toBe(InviteClientState.Terminated);
    const tcp = start('tcp');
    tcp.layer.handleIncoming(wire(response(tcp.invite, 404)), ctxFor('tcp'));
    tcp.clock.advance(0);
    expect(tcp.tx.state).toBe(InviteClientState.Terminated);
  });

  it('RFC 6026 §8.4: a 2xx moves to Accepted; 2xx retransmissions go to the TU until Timer M', () => {
    const { tx, invite, layer, got, clock, sendTimes, stray } = start();
    const ok = response(invite, 200);
    layer.handleIncoming(wire(ok), ctxFor());
    expect(tx.state).toBe(InviteClientState.Accepted);
    expect(tx.runningTimers).toEqual(['M']);
    clock.advance(1000);
    layer.handleIncoming(wire(ok), ctxFor());
    expect(got.map((r) => r.status)).toEqual([200, 200]);
    // The transaction never ACKs a 2xx (§17.1.1.3: that is the TU's job).
    expect(sendTimes(isRequest('ACK'))).toEqual([]);
    clock.advance(64 * 500 - 1000);
    expect(tx.state).toBe(InviteClientState.Terminated);
    layer.handleIncoming(wire(ok), ctxFor());
    expect(stray.map((r) => r.status)).toEqual([200]);
  });

  it('§17.1.4: a transport error in Calling informs the TU and terminates', () => {
    let fail = true;
    const h = recordingLayer({ fail: () => fail });
    const errors: string[] = [];
    const tx = h.layer.sendRequest(request(), ctxFor(), {
      onResponse: () => {},
      onError: (e) => errors.push(e.code),
    });
    fail = false;
    expect(errors).toEqual(['sip-transport-error']);
    expect(tx.terminated).toBe(true);
    expect(h.layer.counters.transportErrors['invite-client']).toBe(1);
  });

  it('§17.1.3: a response matches by branch and CSeq method, not by branch alone', () => {
    const { invite, layer, got, stray } = start();
    const cancelResponse = wire(response(invite, 200));
    cancelResponse.headers.set('CSeq', '1 CANCEL');
    layer.handleIncoming(cancelResponse, ctxFor());
    expect(got).toHaveLength(0);
    expect(stray).toHaveLength(1);
  });

  it.each([
    [InviteClientState.Calling, 100, InviteClientState.Proceeding],
    [InviteClientState.Calling, 183, InviteClientState.Proceeding],
    [InviteClientState.Calling, 200, InviteClientState.Accepted],
    [InviteClientState.Calling, 302, InviteClientState.Completed],
    [InviteClientState.Calling, 603, InviteClientState.Completed],
    [InviteClientState.Proceeding, 180, InviteClientState.Proceeding],
    [InviteClientState.Proceeding, 200, InviteClientState.Accepted],
    [InviteClientState.Proceeding, 487, InviteClientState.Completed],
    [InviteClientState.Completed, 200, InviteClientState.Completed],
    [InviteClientState.Completed, 180, InviteClientState.Completed],
    [InviteClientState.Accepted, 486, InviteClientState.Accepted],
    [InviteClientState.Accepted, 180, InviteClientState.Accepted],
  ])('§17.1.1.2 table: in %s a %i response leads to %s', (from, status, to) => {
    const { tx, invite, layer } = start();
    const reach: Record<string, number | undefined> = {
      [InviteClientState.Calling]: undefined,
      [InviteClientState.Proceeding]: 180,
      [InviteClientState.Completed]: 486,
      [InviteClientState.Accepted]: 200,
    };
    const pre = reach[from];
    if (pre !== undefined) layer.handleIncoming(wire(response(invite, pre)), ctxFor());
    expect(tx.state).toBe(from);
    layer.handleIncoming(wire(response(invite, status)), ctxFor());
    expect(tx.state).toBe(to);
  });
});
