import { describe, expect, it } from 'vitest';
import {
  NonInviteClientState,
  type NonInviteClientTransaction,
} from '../../src/transaction/index.js';
import type { SipResponse } from '../../src/syntax/index.js';
import { ctxFor, isRequest, recordingLayer, request, response, wire } from './harness.js';

function start(transport = 'udp', method = 'OPTIONS') {
  const h = recordingLayer();
  const got: SipResponse[] = [];
  const errors: string[] = [];
  const req = request({ method, transport: transport.toUpperCase() });
  const tx = h.layer.sendRequest(req, ctxFor(transport, { address: '10.0.0.2', port: 5060 }), {
    onResponse: (r) => got.push(r),
    onError: (e) => errors.push(e.code),
  }) as NonInviteClientTransaction;
  return { ...h, tx, req, got, errors };
}

describe('non-INVITE client transaction (§17.1.2)', () => {
  it('§17.1.2.2: Timer E doubles from T1 and is capped at T2 (exact sequence), Timer F ends it', () => {
    const { clock, sendTimes, errors, tx } = start();
    clock.advance(64 * 500);
    // Intervals 500, 1000, 2000, 4000, 4000, … : sends at 0, 500, 1500, 3500, 7500, 11500, …, 31500.
    expect(sendTimes(isRequest('OPTIONS'))).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(errors).toEqual(['sip-transaction-timeout']);
    expect(tx.state).toBe(NonInviteClientState.Terminated);
  });

  it('§17.1.2.2: Timer F fires sip-transaction-timeout at exactly 64*T1, in Proceeding too', () => {
    const { clock, errors, layer, req, tx } = start();
    layer.handleIncoming(wire(response(req, 100)), ctxFor());
    expect(tx.state).toBe(NonInviteClientState.Proceeding);
    clock.advance(31_999);
    expect(errors).toEqual([]);
    clock.advance(1);
    expect(errors).toEqual(['sip-transaction-timeout']);
    expect(layer.counters.timeouts['non-invite-client']).toBe(1);
  });

  it('§17.1.2.2: in Proceeding, Timer E is reset to T2', () => {
    const { clock, sendTimes, layer, req } = start();
    clock.advance(600); // sent at 0 and 500; next E due at 1500
    layer.handleIncoming(wire(response(req, 100)), ctxFor());
    clock.advance(20_000 - 600);
    // E fires at 1500 (the running timer), then every T2 = 4000.
    expect(sendTimes(isRequest('OPTIONS'))).toEqual([0, 500, 1500, 5500, 9500, 13500, 17500]);
  });

  it('§17.1.2.2: a reliable transport never retransmits', () => {
    const { clock, sendTimes, tx } = start('tcp');
    expect(tx.runningTimers).toEqual(['F']);
    clock.advance(40_000);
    expect(sendTimes(isRequest('OPTIONS'))).toEqual([0]);
  });

  it('§17.1.2.2: a final response completes; retransmissions of it are absorbed until Timer K (T4)', () => {
    const { clock, layer, req, tx, got, sendTimes } = start();
    const ok = response(req, 200);
    layer.handleIncoming(wire(ok), ctxFor());
    expect(tx.state).toBe(NonInviteClientState.Completed);
    expect(tx.runningTimers).toEqual(['K']);
    layer.handleIncoming(wire(ok), ctxFor());
    expect(got).toHaveLength(1);
    clock.advance(4999);
    expect(tx.state).toBe(NonInviteClientState.Completed);
    clock.advance(1);
    expect(tx.state).toBe(NonInviteClientState.Terminated);
    expect(sendTimes(isRequest('OPTIONS'))).toEqual([0]);
  });

  it('§17.1.2.2: Timer K is zero on a reliable transport', () => {
    const { clock, layer, req, tx } = start('tcp');
    layer.handleIncoming(wire(response(req, 404)), ctxFor('tcp'));
    clock.advance(0);
    expect(tx.state).toBe(NonInviteClientState.Terminated);
  });

  it.each([
    [NonInviteClientState.Trying, 100, NonInviteClientState.Proceeding],
    [NonInviteClientState.Trying, 200, NonInviteClientState.Completed],
    [NonInviteClientState.Trying, 404, NonInviteClientState.Completed],
    [NonInviteClientState.Proceeding, 183, NonInviteClientState.Proceeding],
    [NonInviteClientState.Proceeding, 202, NonInviteClientState.Completed],
    [NonInviteClientState.Completed, 100, NonInviteClientState.Completed],
    [NonInviteClientState.Completed, 500, NonInviteClientState.Completed],
  ])('§17.1.2.2 table: in %s a %i response leads to %s', (from, status, to) => {
    const { tx, req, layer } = start();
    if (from === NonInviteClientState.Proceeding)
      layer.handleIncoming(wire(response(req, 100)), ctxFor());
    if (from === NonInviteClientState.Completed)
      layer.handleIncoming(wire(response(req, 200)), ctxFor());
    expect(tx.state).toBe(from);
    layer.handleIncoming(wire(response(req, status)), ctxFor());
    expect(tx.state).toBe(to);
  });

  it('refuses ACK and requests without an RFC 3261 branch', () => {
    const { layer } = recordingLayer();
    const noop = { onResponse: () => {} };
    expect(() => layer.sendRequest(request({ method: 'ACK' }), ctxFor(), noop)).toThrow(/ACK/);
    expect(() => layer.sendRequest(request({ branch: 'old-branch' }), ctxFor(), noop)).toThrow(
      /z9hG4bK/,
    );
  });
});
