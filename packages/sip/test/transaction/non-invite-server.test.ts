import { describe, expect, it } from 'vitest';
import {
  NonInviteServerState,
  type NonInviteServerTransaction,
} from '../../src/transaction/index.js';
import { serializeMessage } from '../../src/syntax/index.js';
import { ctxFor, isStatus, recordingLayer, request, response, wire } from './harness.js';

function receive(transport = 'udp', method = 'REGISTER') {
  const h = recordingLayer();
  const req = wire(request({ method, transport: transport.toUpperCase() }));
  h.layer.handleIncoming(req, ctxFor(transport));
  const tx = h.requests[0]?.transaction as NonInviteServerTransaction;
  return { ...h, req, tx };
}

describe('non-INVITE server transaction (§17.2.2)', () => {
  it('§17.2.2: retransmissions in Trying are discarded; the request reaches the TU once', () => {
    const { layer, req, tx, sent, requests } = receive();
    layer.handleIncoming(wire(req), ctxFor());
    layer.handleIncoming(wire(req), ctxFor());
    expect(tx.state).toBe(NonInviteServerState.Trying);
    expect(requests).toHaveLength(1);
    expect(sent).toHaveLength(0);
  });

  it('§17.2.2: in Proceeding a retransmission re-sends the last provisional', () => {
    const { layer, req, tx, sendTimes } = receive();
    tx.respond(response(req, 100));
    expect(tx.state).toBe(NonInviteServerState.Proceeding);
    layer.handleIncoming(wire(req), ctxFor());
    expect(sendTimes(isStatus(100))).toEqual([0, 0]);
  });

  it('§17.2.2: duplicate requests in Completed re-send the final response; later TU finals are discarded', () => {
    const { layer, req, tx, sendTimes, clock, requests } = receive();
    tx.respond(response(req, 200));
    clock.advance(700);
    layer.handleIncoming(wire(req), ctxFor());
    tx.respond(response(req, 500));
    expect(sendTimes(isStatus(200))).toEqual([0, 700]);
    expect(sendTimes(isStatus(500))).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it('§17.2.2: in Completed it keeps only what matching needs of the request, and still re-sends', () => {
    const { layer, req, tx, sendTimes, clock } = receive();
    req.headers.append('Subject', 'a header nobody matches on');
    expect(tx.request.headers.has('subject')).toBe(true);
    tx.respond(response(req, 200));
    expect(tx.request.method).toBe('REGISTER');
    expect(tx.request.headers.has('subject')).toBe(false);
    expect(tx.request.headers.callId()).toBe(req.headers.callId());
    expect(tx.request.headers.via()[0]?.branch).toBe(req.headers.via()[0]?.branch);
    expect(tx.request.body.length).toBe(0);
    clock.advance(700);
    layer.handleIncoming(wire(req), ctxFor());
    expect(sendTimes(isStatus(200))).toEqual([0, 700]);
  });

  it('§17.2.2: in Completed it keeps the final response as its bytes and re-sends exactly those', () => {
    const { layer, req, tx, sent } = receive();
    const final = response(req, 200);
    final.headers.append('Contact', '<sip:bob@10.0.0.2>');
    tx.respond(final);
    const bytes = new TextDecoder().decode(serializeMessage(final));
    // Changing the TU's object afterwards does not change what is re-sent.
    final.headers.append('Subject', 'changed after sending');
    expect(tx.lastResponse).not.toBe(final);
    expect(tx.lastResponse?.status).toBe(200);
    expect(tx.lastResponse?.headers.to()?.tag).toBe('totag');
    layer.handleIncoming(wire(req), ctxFor());
    expect(sent).toHaveLength(2);
    expect(new TextDecoder().decode(serializeMessage(sent[1]!.message))).toBe(bytes);
  });

  it('§17.2.2: Timer J is 64*T1 on UDP', () => {
    const { req, tx, clock } = receive();
    tx.respond(response(req, 200));
    clock.advance(31_999);
    expect(tx.state).toBe(NonInviteServerState.Completed);
    clock.advance(1);
    expect(tx.state).toBe(NonInviteServerState.Terminated);
  });

  it('§17.2.2: Timer J is zero on a reliable transport', () => {
    const { req, tx, clock, layer } = receive('tls');
    tx.respond(response(req, 200));
    clock.advance(0);
    expect(tx.state).toBe(NonInviteServerState.Terminated);
    expect(layer.size).toBe(0);
    expect(layer.counters.terminated['non-invite-server']).toBe(1);
  });

  it.each([
    [NonInviteServerState.Trying, 100, NonInviteServerState.Proceeding],
    [NonInviteServerState.Trying, 200, NonInviteServerState.Completed],
    [NonInviteServerState.Trying, 401, NonInviteServerState.Completed],
    [NonInviteServerState.Proceeding, 180, NonInviteServerState.Proceeding],
    [NonInviteServerState.Proceeding, 503, NonInviteServerState.Completed],
    [NonInviteServerState.Completed, 200, NonInviteServerState.Completed],
  ])('§17.2.2 table: in %s a TU %i leads to %s', (from, status, to) => {
    const { tx, req } = receive();
    if (from === NonInviteServerState.Proceeding) tx.respond(response(req, 100));
    if (from === NonInviteServerState.Completed) tx.respond(response(req, 200));
    expect(tx.state).toBe(from);
    tx.respond(response(req, status));
    expect(tx.state).toBe(to);
  });
});
