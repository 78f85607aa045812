import { describe, expect, it } from 'vitest';
import { InviteServerState, type InviteServerTransaction } from '../../src/transaction/index.js';
import type { SipRequest } from '../../src/syntax/index.js';
import { ctxFor, isStatus, recordingLayer, request, response, wire } from './harness.js';

function receive(transport = 'udp') {
  const h = recordingLayer();
  const invite = wire(request({ transport: transport.toUpperCase() }));
  h.layer.handleIncoming(invite, ctxFor(transport));
  const tx = h.requests[0]?.transaction as InviteServerTransaction;
  const errors: string[] = [];
  const acks: SipRequest[] = [];
  tx.listener = { onError: (e) => errors.push(e.code), onAck: (a) => acks.push(a) };
  return { ...h, invite, tx, errors, acks };
}

function ackFor(invite: SipRequest, toTag = 'totag'): SipRequest {
  const ack = wire(invite);
  ack.method = 'ACK';
  ack.headers.set('CSeq', '1 ACK');
  ack.headers.set('To', `<sip:bob@10.0.0.2>;tag=${toTag}`);
  return wire(ack);
}

describe('INVITE server transaction (§17.2.1)', () => {
  it('§17.2.1: sends 100 Trying after 200 ms when the TU has not answered', () => {
    const { clock, sendTimes, tx } = receive();
    expect(tx.state).toBe(InviteServerState.Proceeding);
    clock.advance(199);
    expect(sendTimes(isStatus(100))).toEqual([]);
    clock.advance(1);
    expect(sendTimes(isStatus(100))).toEqual([200]);
  });

  it('§17.2.1: sends no 100 Trying when the TU answers within 200 ms', () => {
    const { clock, sendTimes, tx, invite } = receive();
    clock.advance(50);
    tx.respond(response(invite, 180));
    clock.advance(1000);
    expect(sendTimes(isStatus(100))).toEqual([]);
    expect(sendTimes(isStatus(180))).toEqual([50]);
  });

  it('§17.2.1: a retransmitted INVITE in Proceeding re-sends the last provisional and is not passed up', () => {
    const { layer, tx, invite, sendTimes, requests, clock } = receive();
    layer.handleIncoming(wire(invite), ctxFor()); // before any response: absorbed silently
    tx.respond(response(invite, 180));
    clock.advance(500);
    layer.handleIncoming(wire(invite), ctxFor());
    expect(sendTimes(isStatus(180))).toEqual([0, 500]);
    expect(requests).toHaveLength(1);
    expect(tx.absorbed).toBe(2);
  });

  it('§17.2.1: Timer G re-sends a non-2xx final response, doubling to T2 (exact sequence), until Timer H', () => {
    const { clock, tx, invite, sendTimes, errors, layer } = receive();
    tx.respond(response(invite, 486));
    expect(tx.state).toBe(InviteServerState.Completed);
    clock.advance(64 * 500);
    expect(sendTimes(isStatus(486))).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    // §17.2.1: Timer H (64*T1) means the ACK never came.
    expect(errors).toEqual(['sip-transaction-timeout']);
    expect(tx.state).toBe(InviteServerState.Terminated);
    expect(layer.counters.timeouts['invite-server']).toBe(1);
  });

  it('§17.2.1: an ACK for the non-2xx moves Completed → Confirmed, is absorbed (not passed to the TU), Timer I ends it', () => {
    const { clock, tx, invite, layer, requests, sendTimes, acks } = receive();
    tx.respond(response(invite, 486));
    clock.advance(600);
    layer.handleIncoming(ackFor(invite), ctxFor());
    expect(tx.state).toBe(InviteServerState.Confirmed);
    expect(tx.runningTimers).toEqual(['I']);
    layer.handleIncoming(ackFor(invite), ctxFor());
    expect(requests).toHaveLength(1);
    expect(acks).toHaveLength(0);
    clock.advance(10_000);
    expect(sendTimes(isStatus(486))).toEqual([0, 500]);
    expect(tx.state).toBe(InviteServerState.Terminated);
  });

  it('§17.2.1: Timer I is T4 on UDP and zero on TCP', () => {
    const udp = receive();
    udp.tx.respond(response(udp.invite, 603));
    udp.layer.handleIncoming(ackFor(udp.invite), ctxFor());
    udp.clock.advance(4999);
    expect(udp.tx.state).toBe(InviteServerState.Confirmed);
    udp.clock.advance(1);
    expect(udp.tx.state).toBe(InviteServerState.Terminated);
    const tcp = receive('tcp');
    tcp.tx.respond(response(tcp.invite, 603));
    expect(tcp.tx.runningTimers).toEqual(['H']);
    tcp.layer.handleIncoming(ackFor(tcp.invite), ctxFor('tcp'));
    tcp.clock.advance(0);
    expect(tcp.tx.state).toBe(InviteServerState.Terminated);
  });

  it('§17.2.1: a retransmitted INVITE in Completed re-sends the final response', () => {
    const { tx, invite, layer, sendTimes, clock } = receive('tcp');
    tx.respond(response(invite, 480));
    clock.advance(100);
    layer.handleIncoming(wire(invite), ctxFor('tcp'));
    expect(sendTimes(isStatus(480))).toEqual([0, 100]);
  });

  it('RFC 6026 §8.7: in Accepted a 2xx the TU passes again is sent, and is the last response from then on', () => {
    const h = recordingLayer();
    const req = wire(request());
    h.layer.handleIncoming(req, ctxFor());
    const tx = h.requests[0]!.transaction as InviteServerTransaction;
    tx.respond(response(req, 200, 'first'));
    expect(tx.lastResponse?.headers.to()?.tag).toBe('first');
    tx.respond(response(req, 200, 'second'));
    expect(tx.state).toBe(InviteServerState.Accepted);
    expect(tx.lastResponse?.headers.to()?.tag).toBe('second');
    expect(h.sendTimes(isStatus(200))).toEqual([0, 0]);
  });

  it('RFC 6026 §7.1: a 2xx moves to Accepted; INVITE retransmissions are absorbed, TU 2xx retransmissions sent, ACK passed to the TU, Timer L ends it', () => {
    const { tx, invite, layer, sendTimes, clock, acks } = receive();
    const ok = response(invite, 200);
    tx.respond(ok);
    expect(tx.state).toBe(InviteServerState.Accepted);
    expect(tx.runningTimers).toEqual(['L']);
    layer.handleIncoming(wire(invite), ctxFor());
    clock.advance(500);
    tx.respond(ok); // the UAS core's own 2xx retransmission (§13.3.1.4)
    const ack = ackFor(invite);
    layer.handleIncoming(ack, ctxFor());
    expect(acks).toHaveLength(1);
    expect(sendTimes(isStatus(200))).toEqual([0, 500]);
    clock.advance(64 * 500);
    expect(tx.state).toBe(InviteServerState.Terminated);
    expect(() => tx.respond(ok)).toThrow(/terminated/);
  });

  it('§17.2.4: a transport error informs the TU and terminates', () => {
    let fail = false;
    const h = recordingLayer({ fail: () => fail });
    h.layer.handleIncoming(wire(request()), ctxFor());
    const tx = h.requests[0]?.transaction as InviteServerTransaction;
    const errors: string[] = [];
    tx.listener = { onError: (e) => errors.push(e.code) };
    fail = true;
    tx.respond(response(tx.request, 500));
    expect(errors).toEqual(['sip-transport-error']);
    expect(tx.terminated).toBe(true);
  });

  it.each([
    [InviteServerState.Proceeding, 180, InviteServerState.Proceeding],
    [InviteServerState.Proceeding, 200, InviteServerState.Accepted],
    [InviteServerState.Proceeding, 300, InviteServerState.Completed],
    [InviteServerState.Proceeding, 699, InviteServerState.Completed],
    [InviteServerState.Completed, 200, InviteServerState.Completed],
    [InviteServerState.Accepted, 486, InviteServerState.Accepted],
    [InviteServerState.Accepted, 200, InviteServerState.Accepted],
  ])('§17.2.1 table: in %s a TU %i leads to %s', (from, status, to) => {
    const { tx, invite } = receive();
    if (from === InviteServerState.Completed) tx.respond(response(invite, 404));
    if (from === InviteServerState.Accepted) tx.respond(response(invite, 200));
    expect(tx.state).toBe(from);
    tx.respond(response(invite, status));
    expect(tx.state).toBe(to);
  });
});
