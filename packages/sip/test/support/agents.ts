/**
 * Parties on the in-memory network (net.ts): a proxy element (ProxyCore on a stand-in stack
 * whose transport is the network), user agent servers that answer by a script, and a user agent
 * client that sends requests, answers digest challenges, ACKs 2xx end to end and can CANCEL.
 * Each party has its own transaction layer on the network's clock.
 */
import {
  ManualClock,
  ProxyCore,
  TransactionLayer,
  answerChallenge,
  createRequest,
  createResponse,
  formatUri,
  nodeDigestHash,
  parseChallenge,
  parseUri,
  type AnyClientTransaction,
  type AnyServerTransaction,
  type Endpoint,
  type Final,
  type Gate,
  type InviteClientTransaction,
  type ProxyHooks,
  type ProxyRequest,
  type ProxyStack,
  type ReceiveContext,
  type ResponseContext,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type Target,
} from '../../src/index.js';
import type { Net } from './net.js';

export { Net } from './net.js';
export { ManualClock };

export const P: Endpoint = { address: '10.0.0.1', port: 5060 };
export const UAC: Endpoint = { address: '10.0.0.2', port: 5060 };

function viaTarget(response: SipResponse): Endpoint {
  const via = response.headers.via()[0];
  return { address: via?.host ?? '', port: via?.rport ?? via?.port ?? 5060 };
}

export interface ProxyNodeOptions {
  readonly at?: Endpoint;
  readonly hooks?: ProxyHooks;
  /**
   * The stack's inbound gate, as `SipStack` runs it before the transaction layer: requests over
   * the source's rate are dropped, a banned source gets 403.
   */
  readonly gate?: Gate;
  /** Requests the element answers without a transaction (the stack's `statelessly`). */
  readonly statelessly?: (request: SipRequest) => boolean;
  /** The element's policy: what to do with each request (the core is passed in). */
  readonly onRequest: (pr: ProxyRequest, core: ProxyCore) => void;
}

/** A proxy element on the network: ProxyCore on a stack whose transport is the network. */
export function proxyNode(net: Net, o: ProxyNodeOptions) {
  const at = o.at ?? P;
  const failures: Array<Final | undefined> = [];
  const transactions: TransactionLayer<ReceiveContext> = new TransactionLayer<ReceiveContext>({
    clock: net.clock,
    send: (message, target) => void net.send(at, target.remote, message),
    tu: {
      onRequest: ({ request, ctx, transaction, cancels }) =>
        o.onRequest({ request, ctx, tx: transaction, cancels, recordRoute: false }, core),
      onStrayResponse: (response) => core.forwardStray(response),
      ...(o.statelessly && { statelessly: o.statelessly }),
    },
  });
  const stack: ProxyStack = {
    clock: net.clock,
    response: (request, status, reason, headers = [], toTag) =>
      createResponse(request, status, reason, { headers, ...(toTag !== undefined && { toTag }) }),
    respond: async (response, ctx) => net.send(at, ctx?.remote ?? viaTarget(response), response),
    forward: async (request, hop) => net.send(at, hop.remote, request),
    sendRequest: (request, hop, listener) => transactions.sendRequest(request, hop, listener),
    cancel: (invite) => transactions.cancel(invite),
    sentBy: () => ({ host: at.address, port: at.port }),
    flowTokenFor: () => undefined,
    resolveFlowToken: () => undefined,
  };
  const hooks = o.hooks ?? {};
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
  const gate = o.gate;
  net.attach(at, (m, from) => {
    const ctx: ReceiveContext = { transport: 'udp', local: at, remote: from };
    if (gate && m.kind === 'request') {
      const now = net.clock.now();
      if (!gate.admit(from.address, now)) return;
      if (gate.banned('ip', from.address, now)) {
        if (m.method !== 'ACK') net.send(at, from, createResponse(m, 403, 'Forbidden'));
        return;
      }
    }
    transactions.handleIncoming(m, ctx);
  });
  return { core, transactions, failures, stack };
}

/** A bare proxy: every request goes to the targets `route` gives, CANCEL cancels. */
export function proxy(net: Net, route: (request: SipRequest) => Target[], hooks: ProxyHooks = {}) {
  return proxyNode(net, {
    hooks,
    onRequest: (pr, core) => {
      if (pr.request.method === 'CANCEL') core.cancel(pr);
      else if (pr.tx) core.relay(pr, route(pr.request));
    },
  });
}

export interface UasScript {
  /** Send 180 Ringing at once. */
  readonly ring?: boolean;
  /** Answers a CANCEL with 200 but never ends the INVITE (a broken callee, §9.1). */
  readonly ignoreCancel?: boolean;
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
  /** Every request received (retransmissions absorbed by the transaction layer). */
  readonly requests: SipRequest[] = [];
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
          this.requests.push(request);
          if (request.method === 'ACK') this.acks.push(request);
          else if (request.method === 'CANCEL' && transaction) {
            this.cancels.push(request);
            transaction.respond(createResponse(request, 200));
            if (!this.script.ignoreCancel && cancels && (cancels.lastResponse?.status ?? 0) < 200) {
              cancels.respond(this.#answer(cancels.request, 487));
            }
          } else if (transaction) this.#request(request, transaction);
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

  /** The Contact this UAS registers and answers with. */
  get contact(): string {
    return `sip:uas@${this.at.address}:${this.at.port}`;
  }

  #answer(
    request: SipRequest,
    status: number,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    return createResponse(request, status, undefined, {
      toTag: this.tag,
      headers: [...headers, ['Contact', `<${this.contact}>`]],
    });
  }

  #request(request: SipRequest, tx: AnyServerTransaction): void {
    if (request.method !== 'INVITE') {
      tx.respond(this.#answer(request, 200));
      return;
    }
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

export interface UacOptions {
  readonly at?: Endpoint;
  /** Where requests go (the outbound proxy). Default P. */
  readonly proxy?: Endpoint;
  /** The caller's address of record. Default `sip:alice@example.com`. */
  readonly from?: string;
  /** Credentials to answer 401/407 with (once per request). */
  readonly auth?: { readonly username: string; readonly password: string };
}

export interface UacRequest {
  readonly method?: string;
  readonly uri?: string;
  /** The To URI; default the Request-URI. */
  readonly to?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly maxForwards?: number;
  /** The digest `uri` to put in credentials (default: the Request-URI, as RFC 2617 says). */
  readonly digestUri?: string;
}

/**
 * A user agent client: sends requests through its proxy, answers one digest challenge per
 * request with its credentials, ACKs 2xx end to end (through the Record-Route path), can CANCEL.
 */
export class Uac {
  readonly responses: SipResponse[] = [];
  readonly layer: TransactionLayer<ReceiveContext>;
  readonly at: Endpoint;
  tx: AnyClientTransaction | undefined;
  #cseq = 0;
  #calls = 0;
  #callId = '';

  constructor(
    readonly net: Net,
    readonly o: UacOptions = {},
  ) {
    const at = (this.at = o.at ?? UAC);
    this.layer = new TransactionLayer<ReceiveContext>({
      clock: net.clock,
      send: (message, target) => void net.send(at, target.remote, message),
      tu: { onRequest: () => {}, onStrayResponse: (r) => this.#onResponse(r) },
    });
    net.attach(at, (m, from) =>
      this.layer.handleIncoming(m, { transport: 'udp', local: at, remote: from }),
    );
  }

  /** Finals received (2xx retransmissions included, as they reach the core). */
  get finals(): number[] {
    return this.responses.filter((r) => r.status >= 200).map((r) => r.status);
  }

  get #from(): string {
    return this.o.from ?? 'sip:alice@example.com';
  }

  invite(method = 'INVITE'): void {
    this.send({ method, uri: 'sip:bob@example.com' });
  }

  /** Sends a request in a new call (Call-ID), or the next CSeq of the current one. */
  send(r: UacRequest, sameCall = false, credentials?: readonly [string, string]): void {
    if (!sameCall) this.#callId = `call-${++this.#calls}@${this.at.address}`;
    const method = r.method ?? 'INVITE';
    const uri = r.uri ?? 'sip:bob@example.com';
    const request = createRequest({
      method,
      uri,
      from: `<${this.#from}>;tag=t${this.#calls}`,
      // §10.2: a REGISTER's To is the address of record (here the From).
      to: `<${r.to ?? (method === 'REGISTER' ? this.#from : uri)}>`,
      ...(r.maxForwards !== undefined && { maxForwards: r.maxForwards }),
      callId: this.#callId,
      cseq: ++this.#cseq,
      via: { transport: 'udp', host: this.at.address, port: this.at.port, rport: true },
      headers: [
        ...(r.headers ?? []),
        ...((method === 'INVITE' || method === 'REGISTER') &&
        !(r.headers ?? []).some(([name]) => name.toLowerCase() === 'contact')
          ? [['Contact', `<sip:uac@${this.at.address}:${this.at.port}>`] as const]
          : []),
        ...(credentials ? [credentials] : []),
      ],
    });
    this.tx = this.layer.sendRequest(
      request,
      { transport: 'udp', remote: this.o.proxy ?? P },
      {
        onResponse: (resp) => {
          this.#onResponse(resp);
          if (!credentials && (resp.status === 401 || resp.status === 407)) {
            const answer = this.#answer(resp, method, r.digestUri ?? uri);
            if (answer) this.send(r, true, answer);
          }
        },
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

  #answer(resp: SipResponse, method: string, uri: string): [string, string] | undefined {
    const auth = this.o.auth;
    if (!auth) return undefined;
    const proxy = resp.status === 407;
    const raw = resp.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate')[0];
    const challenge = raw === undefined ? undefined : parseChallenge(raw);
    if (!challenge?.ok) return undefined;
    const creds = answerChallenge({
      hash: nodeDigestHash,
      challenge: challenge.value,
      method,
      uri,
      username: auth.username,
      password: auth.password,
      cnonce: `c${this.#cseq}`,
    });
    if (!creds.ok) return undefined;
    const c = creds.value;
    const value =
      `Digest username="${c.username}", realm="${c.realm}", nonce="${c.nonce}", uri="${c.uri}", ` +
      `response="${c.response}", algorithm=${c.algorithm}` +
      (c.qop ? `, qop=${c.qop}, nc=${c.nc}, cnonce="${c.cnonce}"` : '');
    return [proxy ? 'Proxy-Authorization' : 'Authorization', value];
  }

  #onResponse(r: SipResponse): void {
    this.responses.push(r);
    if (r.status >= 200 && r.status < 300 && r.headers.cseq()?.method === 'INVITE') {
      // §13.2.2.4: the ACK for a 2xx goes end to end, to the Contact of the answer, through
      // the route set the Record-Route of the answer makes (§12.1.2: in reverse order).
      const contact = r.headers.contact()[0];
      if (!contact || contact.star || contact.uri.kind !== 'sip') return;
      const routes = r.headers
        .recordRoute()
        .map((rr) => rr.uri)
        .reverse();
      const ack = createRequest({
        method: 'ACK',
        uri: contact.uri,
        from: r.headers.get('from') ?? '',
        to: r.headers.get('to') ?? '',
        callId: r.headers.callId() ?? '',
        cseq: r.headers.cseq()?.seq ?? 1,
        via: { transport: 'udp', host: this.at.address, port: this.at.port },
        headers: routes.map((u) => ['Route', `<${formatUri(u)}>`] as const),
      });
      const first = routes[0];
      const to =
        first && first.kind === 'sip'
          ? { address: first.host, port: first.port ?? 5060 }
          : { address: contact.uri.host, port: contact.uri.port ?? 5060 };
      this.net.send(this.at, to, ack);
    }
  }
}

/**
 * A `drop` for NetOptions that loses the first datagram matching `pred` only (a targeted loss:
 * the retransmission must recover it). `dropped` counts what it dropped.
 */
export function dropOnce(pred: (from: Endpoint, to: Endpoint, m: SipMessage) => boolean) {
  const state = { dropped: 0 };
  const drop = (from: Endpoint, to: Endpoint, m: SipMessage): boolean => {
    if (state.dropped > 0 || !pred(from, to, m)) return false;
    state.dropped++;
    return true;
  };
  return Object.assign(drop, { state });
}

/** What a datagram is, for targeted losses: `INVITE`, `200 INVITE`, `487 INVITE`, `ACK`… */
export function what(m: SipMessage): string {
  return m.kind === 'request' ? m.method : `${m.status} ${m.headers.cseq()?.method ?? ''}`;
}

/** A target for a UAS at `at`, with q-value. */
export function target(at: Endpoint, q = 1): Target {
  const uri = parseUri(`sip:bob@${at.address}:${at.port}`);
  if (!uri.ok) throw new Error('uri');
  return { uri: uri.value, hop: { transport: 'udp', remote: at }, q };
}
