/**
 * An in-memory SIP network for proxy tests: a proxy (ProxyCore on a stand-in stack), user agents
 * with their own transaction layers, one ManualClock, and a seeded lossy UDP wire. Messages are
 * serialized and re-parsed on the way, as on a real wire.
 */
import {
  ManualClock,
  ProxyCore,
  TransactionLayer,
  createRequest,
  createResponse,
  parseMessage,
  parseUri,
  serializeMessage,
  type AnyClientTransaction,
  type AnyServerTransaction,
  type Endpoint,
  type Final,
  type InviteClientTransaction,
  type ProxyHooks,
  type ProxyStack,
  type ReceiveContext,
  type ResponseContext,
  type SendResult,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type Target,
} from '../../src/index.js';
import { seeded } from '../transaction/harness.js';

export const P: Endpoint = { address: '10.0.0.1', port: 5060 };
export const UAC: Endpoint = { address: '10.0.0.2', port: 5060 };

const key = (e: Endpoint) => `${e.address}:${e.port}`;

export class Net {
  readonly clock = new ManualClock(0);
  readonly #nodes = new Map<string, (m: SipMessage, from: Endpoint) => void>();
  readonly #rand: () => number;
  readonly stats = { sent: 0, dropped: 0 };

  constructor(
    readonly loss = 0,
    seed = 1,
  ) {
    this.#rand = seeded(seed);
  }

  attach(at: Endpoint, deliver: (m: SipMessage, from: Endpoint) => void): void {
    this.#nodes.set(key(at), deliver);
  }

  send(from: Endpoint, to: Endpoint, message: SipMessage): SendResult {
    this.stats.sent++;
    const bytes = serializeMessage(message);
    if (this.#rand() < this.loss) this.stats.dropped++;
    else {
      this.clock.setTimer(5 + Math.floor(this.#rand() * 5), () => {
        const parsed = parseMessage(bytes);
        if (!parsed.ok) throw new Error(parsed.error.reason);
        this.#nodes.get(key(to))?.(parsed.message, from);
      });
    }
    return { transport: 'udp', local: from, remote: to, bytes: bytes.length };
  }
}

function viaTarget(response: SipResponse): Endpoint {
  const via = response.headers.via()[0];
  return { address: via?.host ?? '', port: via?.rport ?? via?.port ?? 5060 };
}

/** The proxy element: ProxyCore on a stack whose transport is the in-memory network. */
export function proxy(net: Net, route: (request: SipRequest) => Target[], hooks: ProxyHooks = {}) {
  const failures: Array<Final | undefined> = [];
  const transactions: TransactionLayer<ReceiveContext> = new TransactionLayer<ReceiveContext>({
    clock: net.clock,
    send: (message, target) => void net.send(P, target.remote, message),
    tu: {
      onRequest: ({ request, ctx, transaction, cancels }) => {
        const pr = { request, ctx, tx: transaction, cancels, recordRoute: false };
        if (request.method === 'CANCEL') core.cancel(pr);
        else if (transaction) core.relay(pr, route(request));
      },
      onStrayResponse: (response) => core.forwardStray(response),
    },
  });
  const stack: ProxyStack = {
    clock: net.clock,
    response: (request, status, reason, headers = []) =>
      createResponse(request, status, reason, { headers }),
    respond: async (response, ctx) => net.send(P, ctx?.remote ?? viaTarget(response), response),
    forward: async (request, hop) => net.send(P, hop.remote, request),
    sendRequest: (request, hop, listener) => transactions.sendRequest(request, hop, listener),
    cancel: (invite) => transactions.cancel(invite),
    sentBy: () => ({ host: P.address, port: P.port }),
    flowTokenFor: () => undefined,
    resolveFlowToken: () => undefined,
  };
  const core: ProxyCore = new ProxyCore({
    stack,
    hooks: {
      ...hooks,
      onFailure: (rctx: ResponseContext, best: Final | undefined) => {
        failures.push(best);
        return hooks.onFailure?.(rctx, best);
      },
    },
  });
  net.attach(P, (m, from) =>
    transactions.handleIncoming(m, { transport: 'udp', local: P, remote: from }),
  );
  return { core, transactions, failures };
}

export interface UasScript {
  /** Send 180 Ringing at once. */
  readonly ring?: boolean;
  /** The final answer and when; none: never answers (Timer C). */
  readonly final?: {
    readonly status: number;
    readonly afterMs?: number;
    readonly headers?: ReadonlyArray<readonly [string, string]>;
  };
}

/** A user agent server: answers by its script, 487 on CANCEL, 2xx retransmitted until ACK. */
export class Uas {
  readonly invites: SipRequest[] = [];
  readonly cancels: SipRequest[] = [];
  readonly acks: SipRequest[] = [];
  readonly layer: TransactionLayer<ReceiveContext>;
  /** When the INVITE arrived (clock ms). */
  invitedAt: number | undefined;

  constructor(
    readonly net: Net,
    readonly at: Endpoint,
    readonly script: UasScript,
  ) {
    this.layer = new TransactionLayer<ReceiveContext>({
      clock: net.clock,
      send: (message, target) => void net.send(at, target.remote, message),
      tu: {
        onRequest: ({ request, transaction, cancels }) => {
          if (request.method === 'ACK') this.acks.push(request);
          else if (request.method === 'CANCEL' && transaction) {
            this.cancels.push(request);
            transaction.respond(createResponse(request, 200));
            if (cancels && (cancels.lastResponse?.status ?? 0) < 200) {
              cancels.respond(this.#answer(cancels.request, 487));
            }
          } else if (transaction) this.#invite(request, transaction);
        },
      },
    });
    net.attach(at, (m, from) =>
      this.layer.handleIncoming(m, { transport: 'udp', local: at, remote: from }),
    );
  }

  get tag(): string {
    return `uas${this.at.address.split('.').pop()}`;
  }

  #answer(
    request: SipRequest,
    status: number,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    return createResponse(request, status, undefined, {
      toTag: this.tag,
      headers: [...headers, ['Contact', `<sip:uas@${this.at.address}:${this.at.port}>`]],
    });
  }

  #invite(request: SipRequest, tx: AnyServerTransaction): void {
    this.invites.push(request);
    this.invitedAt = this.net.clock.now();
    if (this.script.ring) tx.respond(this.#answer(request, 180));
    const final = this.script.final;
    if (!final) return;
    this.net.clock.setTimer(final.afterMs ?? 0, () => {
      if (tx.lastResponse && tx.lastResponse.status >= 200) return;
      const response = this.#answer(request, final.status, final.headers);
      tx.respond(response);
      if (final.status >= 200 && final.status < 300) this.#retransmit2xx(response, tx, 500);
    });
  }

  /** §13.3.1.4: the UAS core retransmits a 2xx (T1 doubling to T2) until the ACK arrives. */
  #retransmit2xx(response: SipResponse, tx: AnyServerTransaction, ms: number): void {
    if (ms > 32_000) return;
    this.net.clock.setTimer(ms, () => {
      if (this.acks.length > 0) return;
      try {
        tx.respond(response);
      } catch {
        return; // the transaction ended (Timer L)
      }
      this.#retransmit2xx(response, tx, Math.min(ms * 2, 4000));
    });
  }
}

/** A user agent client: sends an INVITE through the proxy, ACKs 2xx end to end, can CANCEL. */
export class Uac {
  readonly responses: SipResponse[] = [];
  readonly layer: TransactionLayer<ReceiveContext>;
  tx: AnyClientTransaction | undefined;

  constructor(readonly net: Net) {
    this.layer = new TransactionLayer<ReceiveContext>({
      clock: net.clock,
      send: (message, target) => void net.send(UAC, target.remote, message),
      tu: { onRequest: () => {}, onStrayResponse: (r) => this.#onResponse(r) },
    });
    net.attach(UAC, (m, from) =>
      this.layer.handleIncoming(m, { transport: 'udp', local: UAC, remote: from }),
    );
  }

  /** Finals received (2xx retransmissions included, as they reach the core). */
  get finals(): number[] {
    return this.responses.filter((r) => r.status >= 200).map((r) => r.status);
  }

  invite(method = 'INVITE'): void {
    const request = createRequest({
      method,
      uri: 'sip:bob@example.com',
      from: '<sip:alice@example.com>;tag=alice',
      to: '<sip:bob@example.com>',
      via: { transport: 'udp', host: UAC.address, port: UAC.port, rport: true },
    });
    this.tx = this.layer.sendRequest(
      request,
      { transport: 'udp', remote: P },
      {
        onResponse: (r) => this.#onResponse(r),
        onError: () => {},
      },
    );
  }

  cancel(): void {
    if (this.tx?.kind !== 'invite-client') return;
    this.layer.cancel(this.tx as InviteClientTransaction, {
      onResponse: (r) => this.responses.push(r),
    });
  }

  #onResponse(r: SipResponse): void {
    this.responses.push(r);
    if (r.status >= 200 && r.status < 300 && r.headers.cseq()?.method === 'INVITE') {
      // §13.2.2.4: the ACK for a 2xx goes end to end, to the Contact of the answer.
      const contact = r.headers.contact()[0];
      if (!contact || contact.star || contact.uri.kind !== 'sip') return;
      const ack = createRequest({
        method: 'ACK',
        uri: contact.uri,
        from: '<sip:alice@example.com>;tag=alice',
        to: `<sip:bob@example.com>;tag=${r.headers.to()?.tag ?? ''}`,
        callId: r.headers.callId() ?? '',
        cseq: r.headers.cseq()?.seq ?? 1,
        via: { transport: 'udp', host: UAC.address, port: UAC.port },
      });
      this.net.send(UAC, { address: contact.uri.host, port: contact.uri.port ?? 5060 }, ack);
    }
  }
}

/** A target for a UAS at `at`, with q-value. */
export function target(at: Endpoint, q = 1): Target {
  const uri = parseUri(`sip:bob@${at.address}:${at.port}`);
  if (!uri.ok) throw new Error('uri');
  return { uri: uri.value, hop: { transport: 'udp', remote: at }, q };
}
