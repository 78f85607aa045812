/**
 * Test harness for transactions: message builders, a recording transport, and an in-memory
 * network between two transaction layers that can drop, duplicate and reorder (seeded).
 */
import {
  createRequest,
  createResponse,
  parseMessage,
  serializeMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/syntax/index.js';
import { ManualClock } from '../../src/time/index.js';
import type { Endpoint } from '../../src/index.js';
import { Net, seeded } from '../support/net.js';
import {
  TransactionLayer,
  type IncomingRequest,
  type TimerConfig,
  type TransactionContext,
  type TransactionUser,
} from '../../src/transaction/index.js';

export const A = { address: '10.0.0.1', port: 5060 };
export const B = { address: '10.0.0.2', port: 5060 };

let counter = 0;

export interface RequestOpts {
  method?: string;
  branch?: string;
  transport?: string;
  callId?: string;
  cseq?: number;
  toTag?: string;
  routes?: string[];
  host?: string;
}

export function request(o: RequestOpts = {}): SipRequest {
  const n = ++counter;
  const method = o.method ?? 'INVITE';
  const routes = (o.routes ?? []).map((r) => ['Route', r] as const);
  return createRequest({
    method,
    uri: 'sip:bob@10.0.0.2',
    from: `"Alice" <sip:alice@10.0.0.1>;tag=from${n}`,
    to: `<sip:bob@10.0.0.2>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    callId: o.callId ?? `call-${n}@10.0.0.1`,
    cseq: o.cseq ?? 1,
    via: {
      transport: o.transport ?? 'UDP',
      host: o.host ?? '10.0.0.1',
      port: 5060,
      branch: o.branch ?? `z9hG4bK-test-${n}`,
    },
    headers: routes,
  });
}

/** Re-parses a message, as the wire would (a fresh object with raw bytes). */
export function wire<T extends SipMessage>(m: T): T {
  const p = parseMessage(serializeMessage(m));
  if (!p.ok) throw new Error(`wire: ${p.error.reason}`);
  return p.message as T;
}

export function response(req: SipRequest, status: number, toTag = 'totag'): SipResponse {
  return createResponse(req, status, undefined, { toTag });
}

export function ctxFor(transport = 'udp', remote = A): TransactionContext {
  return { transport, remote, local: remote === A ? B : A };
}

export interface Sent {
  readonly at: number;
  readonly message: SipMessage;
  readonly target: TransactionContext;
}

/** A transaction layer whose sends are recorded, with a manual clock and a recording TU. */
export function recordingLayer(
  opts: {
    timers?: Partial<TimerConfig>;
    maxTransactions?: number;
    fail?: () => boolean;
    statelessly?: (r: SipRequest) => boolean;
  } = {},
) {
  const clock = new ManualClock(0);
  const sent: Sent[] = [];
  const requests: IncomingRequest[] = [];
  const stray: SipResponse[] = [];
  const tu: TransactionUser = {
    onRequest: (i) => requests.push(i),
    onStrayResponse: (r) => stray.push(r),
    ...(opts.statelessly && { statelessly: opts.statelessly }),
  };
  const layer = new TransactionLayer({
    clock,
    tu,
    send: (message, target) => {
      if (opts.fail?.()) throw new Error('EHOSTUNREACH');
      sent.push({ at: clock.now(), message, target });
    },
    ...(opts.timers && { timers: opts.timers }),
    ...(opts.maxTransactions !== undefined && { maxTransactions: opts.maxTransactions }),
  });
  /** Times at which a message satisfying `pred` was sent. */
  const sendTimes = (pred: (m: SipMessage) => boolean) =>
    sent.filter((s) => pred(s.message)).map((s) => s.at);
  return { clock, sent, requests, stray, layer, sendTimes };
}

export function isRequest(method: string) {
  return (m: SipMessage) => m.kind === 'request' && m.method === method;
}

export function isStatus(status: number) {
  return (m: SipMessage) => m.kind === 'response' && m.status === status;
}

export { seeded };

export interface NetworkOptions {
  loss?: number;
  duplicate?: number;
  /** Random extra delay up to this many ms, which reorders messages. */
  jitterMs?: number;
  latencyMs?: number;
  seed?: number;
  transport?: string;
  /** Drops the messages it returns true for (a targeted loss, e.g. the first 183). */
  drop?: (from: 'a' | 'b', message: SipMessage) => boolean;
}

/**
 * Two transaction layers, `a` (10.0.0.1) and `b` (10.0.0.2), joined by the lossy in-memory
 * network (test/support/net.ts) on one manual clock.
 */
export function network(tuA: TransactionUser, tuB: TransactionUser, o: NetworkOptions = {}) {
  const transport = o.transport ?? 'udp';
  const net = new Net({
    ...(o.loss !== undefined && { loss: o.loss }),
    ...(o.duplicate !== undefined && { duplicate: o.duplicate }),
    ...(o.jitterMs !== undefined && { jitterMs: o.jitterMs }),
    ...(o.latencyMs !== undefined && { latencyMs: o.latencyMs }),
    ...(o.seed !== undefined && { seed: o.seed }),
    ...(o.drop && {
      drop: (from: Endpoint, _to: Endpoint, m: SipMessage) =>
        o.drop!(from.address === A.address ? 'a' : 'b', m),
    }),
  });
  const sendFrom = (from: 'a' | 'b') => (message: SipMessage) => {
    net.send(from === 'a' ? A : B, from === 'a' ? B : A, message, transport);
  };
  const a = new TransactionLayer({ clock: net.clock, tu: tuA, send: sendFrom('a') });
  const b = new TransactionLayer({ clock: net.clock, tu: tuB, send: sendFrom('b') });
  net.attach(A, (m, remote) => a.handleIncoming(m, { transport, remote, local: A }));
  net.attach(B, (m, remote) => b.handleIncoming(m, { transport, remote, local: B }));
  return {
    clock: net.clock,
    a,
    b,
    stats: net.stats,
    target: { transport, remote: B, local: A } as TransactionContext,
    /** Sends outside any transaction (the ACK for a 2xx). */
    sendRaw: (from: 'a' | 'b', message: SipMessage) => sendFrom(from)(message),
  };
}
