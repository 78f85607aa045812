/**
 * The transaction layer (RFC 3261 §17): owns the client and server transaction tables, matches
 * inbound messages from the transport ingress to transactions (§17.1.3, §17.2.3), hands new
 * requests and stray responses to the TU, and bounds its tables.
 *
 *   transport ingress ──handleIncoming(message, ctx)──▶ TransactionLayer ──▶ TU callbacks
 *   TU ──sendRequest(request, target, listener)──▶ client transaction ──send()──▶ transport
 */
import { TfxError } from '@tfx/protocol';
import { silentLogger, type Logger } from '../logger.js';
import {
  BRANCH_COOKIE,
  createResponse,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../syntax/index.js';
import { realClock, type Clock } from '../time/index.js';
import { buildCancel } from './build.js';
import { InviteClientTransaction, NonInviteClientTransaction } from './client.js';
import { clientKey, legacyToTagMatches, serverKey } from './keys.js';
import {
  InviteServerTransaction,
  NonInviteServerTransaction,
  type AnyServerTransaction,
} from './server.js';
import {
  DEFAULT_TIMERS,
  TRANSACTION_KINDS,
  type ClientTransactionListener,
  type SendFn,
  type TerminationReason,
  type TimerConfig,
  type TransactionContext,
  type TransactionEnv,
  type TransactionKind,
} from './types.js';

export type AnyClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/**
 * A request the TU must handle. `C` is the context the transport hands in (the stack's
 * `ReceiveContext`), passed through unchanged, so the TU reads the same type the transport wrote.
 */
export interface IncomingRequest<C extends TransactionContext = TransactionContext> {
  readonly request: SipRequest;
  readonly ctx: C;
  /**
   * The server transaction created for it; undefined for an ACK that matched no transaction
   * (the ACK for a 2xx, §17: "the ACK is not considered part of the transaction").
   */
  readonly transaction: AnyServerTransaction | undefined;
  /**
   * For a CANCEL: the INVITE server transaction it cancels (§9.2), already marked `cancelled`,
   * or undefined when none matches (a UAS answers 481, a proxy forwards statelessly). The TU
   * answers the CANCEL with 200 and, when the INVITE has no final response yet, the INVITE
   * with 487 (Request Terminated).
   */
  readonly cancels?: InviteServerTransaction | undefined;
}

export interface TransactionUser<C extends TransactionContext = TransactionContext> {
  onRequest(incoming: IncomingRequest<C>): void;
  /** A response matching no client transaction (§17.1.3); a proxy forwards it statelessly. */
  onStrayResponse?(response: SipResponse, ctx: C): void;
  /**
   * Whether the TU answers this new request without a server transaction (§8.2.7 stateless
   * UAS behaviour, Kamailio's `sl`: OPTIONS keep-alives to the element itself). It then gets
   * the request with no transaction, and a retransmission is answered again; nothing lingers.
   */
  statelessly?(request: SipRequest, ctx: C): boolean;
}

export interface TransactionLayerOptions<C extends TransactionContext = TransactionContext> {
  readonly send: SendFn;
  readonly tu: TransactionUser<C>;
  /** Default: the real clock. */
  readonly clock?: Clock;
  /** T1, T2, T4, D and the 100 Trying delay. Defaults: {@link DEFAULT_TIMERS}. */
  readonly timers?: Partial<TimerConfig>;
  /**
   * Most concurrent transactions, client and server together; beyond it new requests get 503.
   * Default 250 000. On UDP a transaction lingers 32 s after its final response (Timers J, L,
   * M, D), so a proxied call holds about four for 32 s: 1000 calls/s need ~130 000. Lingering
   * transactions keep a trimmed request (see TransactionBase.request), a few kB each.
   */
  readonly maxTransactions?: number;
  readonly logger?: Logger;
}

export interface TransactionCounters {
  created: Record<TransactionKind, number>;
  terminated: Record<TransactionKind, number>;
  timeouts: Record<TransactionKind, number>;
  transportErrors: Record<TransactionKind, number>;
  /** Requests refused because the table was full (answered 503, or dropped for ACK). */
  overflow: number;
  /** New requests the TU answered without a transaction (`statelessly`). */
  stateless: number;
  /** Responses that matched no client transaction. */
  strayResponses: number;
  /** Messages without the Via/CSeq needed to match them; dropped. */
  unmatchable: number;
}

function perKind(): Record<TransactionKind, number> {
  const r = {} as Record<TransactionKind, number>;
  for (const k of TRANSACTION_KINDS) r[k] = 0;
  return r;
}

export class TransactionLayer<C extends TransactionContext = TransactionContext> {
  readonly counters: TransactionCounters = {
    created: perKind(),
    terminated: perKind(),
    timeouts: perKind(),
    transportErrors: perKind(),
    overflow: 0,
    stateless: 0,
    strayResponses: 0,
    unmatchable: 0,
  };
  readonly maxTransactions: number;
  readonly #client = new Map<string, AnyClientTransaction>();
  readonly #server = new Map<string, AnyServerTransaction>();
  readonly #env: TransactionEnv;
  readonly #tu: TransactionUser<C>;
  readonly #send: SendFn;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: TransactionLayerOptions<C>) {
    this.#tu = options.tu;
    this.#send = options.send;
    this.#logger = options.logger ?? silentLogger;
    this.maxTransactions = options.maxTransactions ?? 250_000;
    this.#env = {
      clock: options.clock ?? realClock,
      timers: { ...DEFAULT_TIMERS, ...options.timers },
      send: options.send,
      logger: this.#logger,
      onTerminated: (tx, reason) => this.#onTerminated(tx, reason),
    };
  }

  /** Transactions alive now. */
  get size(): number {
    return this.#client.size + this.#server.size;
  }

  get timers(): TimerConfig {
    return this.#env.timers;
  }

  /**
   * Starts a client transaction for `request` toward `target` (§17.1). The request's top Via
   * must carry an RFC 3261 branch (`z9hG4bK…`), unique per transaction (§8.1.1.7).
   * Throws `unavailable` when the table is full, `bad-request` for an unusable request.
   */
  sendRequest(
    request: SipRequest,
    target: TransactionContext,
    listener: ClientTransactionListener,
  ): AnyClientTransaction {
    if (this.#closed) throw new TfxError('shutting-down', 'the transaction layer is closed');
    if (request.method === 'ACK') {
      throw new TfxError('bad-request', 'ACK is sent without a client transaction (§17.1.1.3)');
    }
    const branch = request.headers.via()[0]?.branch;
    if (!branch?.startsWith(BRANCH_COOKIE)) {
      throw new TfxError('bad-request', 'the top Via needs a branch starting with z9hG4bK');
    }
    const key = clientKey(request);
    if (key === undefined) throw new TfxError('bad-request', 'request without CSeq');
    if (this.#client.has(key))
      throw new TfxError('conflict', 'a client transaction with this branch exists');
    if (this.size >= this.maxTransactions) {
      this.counters.overflow++;
      throw new TfxError('unavailable', 'too many SIP transactions');
    }
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(this.#env, key, request, target, listener)
        : new NonInviteClientTransaction(this.#env, key, request, target, listener);
    this.#client.set(key, tx);
    this.counters.created[tx.kind]++;
    tx.start();
    return tx;
  }

  /**
   * Cancels a pending INVITE client transaction (§9.1): builds the CANCEL and sends it in its
   * own non-INVITE client transaction to the same target. Returns undefined when there is
   * nothing to cancel: §9.1 "If no provisional response has been received, the CANCEL request
   * MUST NOT be sent; rather, the client MUST wait for the arrival of a provisional response
   * before sending the request." (the TU calls again once a 1xx arrived), and once a final
   * response was received.
   */
  cancel(
    invite: InviteClientTransaction,
    listener: ClientTransactionListener = { onResponse: () => {} },
  ): NonInviteClientTransaction | undefined {
    if (invite.state !== 'Proceeding') return undefined;
    return this.sendRequest(
      buildCancel(invite.request),
      invite.target,
      listener,
    ) as NonInviteClientTransaction;
  }

  /** The same, in the transport ingress's handler shape: `transport.onMessage(layer.handleInbound)`. */
  readonly handleInbound = (inbound: { readonly message: SipMessage; readonly ctx: C }): void =>
    this.handleIncoming(inbound.message, inbound.ctx);

  /** Inbound from the transport ingress, already parsed and sanity-checked. */
  handleIncoming(message: SipMessage, ctx: C): void {
    if (this.#closed) return;
    if (message.kind === 'response') this.#handleResponse(message, ctx);
    else this.#handleRequest(message, ctx);
  }

  /** A server transaction by the key of a request (for tests and diagnostics). */
  findServer(request: SipRequest): AnyServerTransaction | undefined {
    const k = serverKey(request);
    return k && this.#server.get(k.key);
  }

  findClient(message: SipMessage): AnyClientTransaction | undefined {
    const k = clientKey(message);
    return k === undefined ? undefined : this.#client.get(k);
  }

  /** Stops accepting messages; transactions are dropped without sending anything. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of this.#client.values()) tx.dispose();
    for (const tx of this.#server.values()) tx.dispose();
    this.#client.clear();
    this.#server.clear();
  }

  #handleResponse(response: SipResponse, ctx: C): void {
    const key = clientKey(response);
    if (key === undefined) {
      this.counters.unmatchable++;
      return;
    }
    const tx = this.#client.get(key);
    if (tx) {
      tx.receiveResponse(response);
      return;
    }
    // §17.1.1.2 (as updated by RFC 6026): a response matching no transaction goes to the core.
    this.counters.strayResponses++;
    this.#tu.onStrayResponse?.(response, ctx);
  }

  #handleRequest(request: SipRequest, ctx: C): void {
    const k = serverKey(request);
    if (!k || !request.headers.cseq()) {
      this.counters.unmatchable++;
      return;
    }
    const existing = this.#matchServer(request, k);
    if (existing) {
      existing.receiveRequest(request);
      return;
    }
    if (request.method === 'ACK') {
      // §17.2.3 / §13.3.1.4: an ACK matching no transaction is for a 2xx: the TU's.
      this.#tu.onRequest({ request, ctx, transaction: undefined });
      return;
    }
    if (this.#tu.statelessly?.(request, ctx)) {
      this.counters.stateless++;
      this.#tu.onRequest({ request, ctx, transaction: undefined });
      return;
    }
    if (this.size >= this.maxTransactions) {
      this.counters.overflow++;
      this.#logger.warn(
        { method: request.method, limit: this.maxTransactions },
        'sip transaction table full: 503',
      );
      this.#sendStateless(
        createResponse(request, 503, undefined, { headers: [['Retry-After', '5']] }),
        ctx,
      );
      return;
    }
    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction(this.#env, k.key, request, ctx)
        : new NonInviteServerTransaction(this.#env, k.key, request, ctx);
    this.#server.set(k.key, tx);
    this.counters.created[tx.kind]++;
    tx.start();
    if (request.method === 'CANCEL') {
      // §9.2: "the CANCEL request [is matched] to the transaction to be cancelled using the
      // procedures of Section 17.2.3 [...] with the method of the request being INVITE".
      const ik = serverKey(request, 'INVITE');
      const invite = ik && this.#matchServer(request, ik);
      const cancels = invite instanceof InviteServerTransaction ? invite : undefined;
      if (cancels) cancels.cancelled = true;
      this.#tu.onRequest({ request, ctx, transaction: tx, cancels });
      return;
    }
    this.#tu.onRequest({ request, ctx, transaction: tx });
  }

  #matchServer(
    request: SipRequest,
    k: { key: string; legacy: boolean },
  ): AnyServerTransaction | undefined {
    const tx = this.#server.get(k.key);
    if (!tx || !k.legacy) return tx;
    return legacyToTagMatches(request, tx.request, tx.lastResponse) ? tx : undefined;
  }

  #sendStateless(response: SipResponse, ctx: TransactionContext): void {
    try {
      const r = this.#send(response, ctx);
      if (r && typeof r.then === 'function') r.then(undefined, () => {});
    } catch {
      // Stateless answer: nothing to retry; the transport counts its own failures.
    }
  }

  #onTerminated(
    tx: { readonly kind: TransactionKind; readonly key: string },
    reason: TerminationReason,
  ): void {
    const table: Map<string, unknown> = tx.kind.endsWith('client') ? this.#client : this.#server;
    if (table.get(tx.key) === tx) table.delete(tx.key);
    this.counters.terminated[tx.kind]++;
    if (reason === 'timeout') this.counters.timeouts[tx.kind]++;
    if (reason === 'transport-error') this.counters.transportErrors[tx.kind]++;
  }
}
