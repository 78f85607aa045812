/**
 * Shared behaviour suites: two transaction layers over an in-memory network that drops,
 * duplicates and reorders (seeded), on a manual clock.
 */
import { describe, expect, it } from 'vitest';
import { createRequest, type SipRequest, type SipResponse } from '../../src/syntax/index.js';
import {
  type IncomingRequest,
  type InviteClientTransaction,
  type TransactionLayer,
  type TransactionUser,
} from '../../src/transaction/index.js';
import { network, request, response, type NetworkOptions } from './harness.js';

interface CallResult {
  readonly callerGot: number[];
  readonly calleeRequests: string[];
  readonly errors: string[];
  readonly acked: boolean;
  readonly net: ReturnType<typeof network>;
}

/** Builds the ACK for a 2xx (§13.2.2.4): a new transaction branch, sent by the UAC core. */
function ackFor2xx(invite: SipRequest, ok: SipResponse): SipRequest {
  return createRequest({
    method: 'ACK',
    uri: invite.uri,
    from: invite.headers.get('from') ?? '',
    to: ok.headers.get('to') ?? '',
    callId: invite.headers.callId() ?? '',
    cseq: invite.headers.cseq()?.seq ?? 1,
    via: { transport: 'UDP', host: '10.0.0.1', port: 5060 },
  });
}

/**
 * A UAS core: answers INVITE with 180 then (unless `hold`) 200 after 100 ms, retransmitting
 * the 2xx itself until the ACK (§13.3.1.4); answers CANCEL with 200 and the INVITE with 487.
 */
function callee(opts: { hold?: boolean; unreliable: boolean }) {
  const seen: string[] = [];
  let acked = false;
  let layerRef: { clock: { setTimer(ms: number, fn: () => void): unknown } } | undefined;
  const tu: TransactionUser = {
    onRequest: ({ request: req, transaction, cancels }: IncomingRequest) => {
      seen.push(req.method);
      if (req.method === 'ACK') {
        acked = true;
        return;
      }
      if (!transaction) return;
      if (req.method === 'CANCEL') {
        transaction.respond(response(req, 200));
        if (cancels && cancels.state === 'Proceeding')
          cancels.respond(response(cancels.request, 487));
        return;
      }
      if (req.method !== 'INVITE') {
        transaction.respond(response(req, 200));
        return;
      }
      transaction.respond(response(req, 180));
      transaction.listener = { onAck: () => (acked = true) };
      if (opts.hold) return;
      const ok = response(req, 200);
      layerRef?.clock.setTimer(100, () => {
        if (transaction.state !== 'Proceeding') return;
        transaction.respond(ok);
        // §13.3.1.4: the UAS core retransmits the 2xx, T1 doubling up to T2, until the ACK.
        let interval = 500;
        const again = () => {
          if (acked || transaction.terminated || !opts.unreliable) return;
          transaction.respond(ok);
          interval = Math.min(interval * 2, 4000);
          layerRef?.clock.setTimer(interval, again);
        };
        layerRef?.clock.setTimer(interval, again);
      });
    },
  };
  return {
    tu,
    seen,
    get acked() {
      return acked;
    },
    bind(clock: { setTimer(ms: number, fn: () => void): unknown }) {
      layerRef = { clock };
    },
  };
}

function call(o: NetworkOptions & { cancel?: boolean }): CallResult {
  const uas = callee({ hold: o.cancel ?? false, unreliable: (o.transport ?? 'udp') === 'udp' });
  const callerTu: TransactionUser = { onRequest: () => {}, onStrayResponse: () => {} };
  const net = network(callerTu, uas.tu, o);
  uas.bind(net.clock);
  const callerGot: number[] = [];
  const errors: string[] = [];
  const invite = request({ transport: (o.transport ?? 'udp').toUpperCase() });
  let cancelled = false;
  const a: TransactionLayer = net.a;
  const tx = a.sendRequest(invite, net.target, {
    onResponse: (r) => {
      callerGot.push(r.status);
      if (r.status >= 200 && r.status < 300) {
        // The UAC core ACKs every 2xx, retransmissions included (§13.2.2.4), bypassing the layer.
        sendAck(ackFor2xx(invite, r));
      }
      if (o.cancel && r.status === 180 && !cancelled) {
        const c = a.cancel(tx as InviteClientTransaction, {
          onResponse: (cr) => callerGot.push(-cr.status),
          onError: (e) => errors.push(e.code),
        });
        cancelled = c !== undefined;
      }
    },
    onError: (e) => errors.push(e.code),
  });
  // The ACK for a 2xx is sent outside any transaction: straight through the network.
  const sendAck = (ack: SipRequest) => net.sendRaw('a', ack);
  net.clock.runAll();
  return { callerGot, calleeRequests: uas.seen, errors, acked: uas.acked, net };
}

describe('behaviour over a lossy network (§17 end to end)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'an INVITE call completes under 30 percent loss with duplication and reordering (seed %i)',
    (seed) => {
      const r = call({ loss: 0.3, duplicate: 0.2, jitterMs: 300, seed });
      expect(r.errors).toEqual([]);
      expect(r.callerGot).toContain(200);
      expect(r.acked).toBe(true);
      // The TU sees the INVITE once however often it was retransmitted or duplicated.
      expect(r.calleeRequests.filter((m) => m === 'INVITE')).toHaveLength(1);
      expect(r.net.a.size).toBe(0);
      expect(r.net.b.size).toBe(0);
    },
  );

  it('the lossy network really loses, duplicates and retransmits across those seeds', () => {
    const runs = [1, 2, 3, 4, 5, 6, 7, 8].map(
      (seed) => call({ loss: 0.3, duplicate: 0.2, jitterMs: 300, seed }).net,
    );
    expect(runs.reduce((n, r) => n + r.stats.dropped, 0)).toBeGreaterThan(5);
    expect(runs.reduce((n, r) => n + r.stats.duplicated, 0)).toBeGreaterThan(5);
  });

  it.each([11, 12, 13, 14])(
    'CANCEL after 180 ends the INVITE with 487, ACKed by the transaction, under 30 percent loss (seed %i)',
    (seed) => {
      const r = call({ loss: 0.3, duplicate: 0.1, jitterMs: 100, seed, cancel: true });
      expect(r.errors).toEqual([]);
      expect(r.callerGot).toContain(487);
      expect(r.callerGot).toContain(-200); // the CANCEL's own 200
      expect(r.callerGot.filter((s) => s === 487)).toHaveLength(1);
      // §17.2.1: the ACK for the 487 is absorbed by the server transaction, never passed to the TU.
      expect(r.calleeRequests).not.toContain('ACK');
      expect(r.net.b.counters.created['non-invite-server']).toBe(1);
      expect(r.net.a.size + r.net.b.size).toBe(0);
    },
  );

  it('on a reliable transport nothing is ever retransmitted', () => {
    const r = call({ transport: 'tcp', seed: 3, jitterMs: 50 });
    expect(r.callerGot).toEqual([180, 200]);
    expect(r.acked).toBe(true);
    // INVITE, 180, 200, ACK: four messages, no 100 (the TU answered at once), no retransmission.
    expect(r.net.stats.sent).toBe(4);
  });

  it('a non-INVITE request survives 30% loss with duplicates: one delivery to the TU, one final response', () => {
    for (const seed of [21, 22, 23, 24, 25]) {
      const uas = callee({ unreliable: true });
      const net = network({ onRequest: () => {} }, uas.tu, {
        loss: 0.3,
        duplicate: 0.3,
        jitterMs: 400,
        seed,
      });
      uas.bind(net.clock);
      const got: number[] = [];
      const errors: string[] = [];
      net.a.sendRequest(request({ method: 'OPTIONS' }), net.target, {
        onResponse: (r) => got.push(r.status),
        onError: (e) => errors.push(e.code),
      });
      net.clock.runAll();
      expect(errors).toEqual([]);
      expect(got).toEqual([200]);
      expect(uas.seen).toEqual(['OPTIONS']);
    }
  });

  it('§17.1.2.2: with every message lost, Timer F reports sip-transaction-timeout at 64*T1', () => {
    const net = network({ onRequest: () => {} }, { onRequest: () => {} }, { loss: 1, seed: 9 });
    const errors: Array<[string, number]> = [];
    net.a.sendRequest(request({ method: 'OPTIONS' }), net.target, {
      onResponse: () => {},
      onError: (e) => errors.push([e.code, net.clock.now()]),
    });
    net.clock.runAll();
    expect(errors).toEqual([['sip-transaction-timeout', 32_000]]);
    expect(net.stats.sent).toBe(11);
  });
});
