/**
 * The proxy core of RFC 3261 §16: answering, forwarding on branches (Via, Record-Route,
 * Max-Forwards is the policy's §16.3 check), forwarding responses upstream, CANCEL, stateless
 * forwarding, on a {@link SipStack}. Policy — what to do with a request, where it goes — is the
 * element's (its route); the core calls back through its hooks:
 *
 *   onBranch(rctx, branch, request)   a branch's request is about to be sent (§16.6 step 10)
 *   onReply(rctx, branch, response)   every response from a branch, before §16.7 handles it
 *   onFailure(rctx, best)             every branch of a q-group ended without a 2xx: more targets
 *                                      (3xx recursion, the next located server) or undefined
 *   onForward(rctx, status, response) a response goes upstream (response undefined: synthesized)
 *
 * Ownership: ProxyCore → response contexts → branches → client transactions (owned by the
 * stack's transaction layer). `close()` closes every context.
 */
import { silentLogger, type Logger } from '../logger.js';
import {
  copyRequest,
  loopHash,
  newBranch,
  recordRouteValue,
  statelessBranch,
  statelessTag,
  viaValue,
  withUri,
  type Hop,
} from '../element/index.js';
import {
  isReliable,
  type SipRequest,
  type SipResponse,
  type TransportProtocol,
} from '../syntax/index.js';
import type {
  AnyClientTransaction,
  AnyServerTransaction,
  InviteClientTransaction,
  InviteServerTransaction,
} from '../transaction/index.js';
import type { ReceiveContext, SipStack } from '../stack/index.js';
import {
  ResponseContext,
  type Branch,
  type ContextEnv,
  type Final,
  type Target,
} from './context.js';

/** A request the element handles: what the core needs of the element's own request context. */
export interface ProxyRequest {
  readonly request: SipRequest;
  readonly ctx: ReceiveContext;
  /**
   * Undefined for an ACK that matched no transaction (the ACK for a 2xx), and for a request
   * the element answers statelessly (its stack's `statelessly`: OPTIONS to itself).
   */
  readonly tx: AnyServerTransaction | undefined;
  /** For a CANCEL: the INVITE server transaction it cancels. */
  readonly cancels: InviteServerTransaction | undefined;
  /** Whether to Record-Route (dialog-creating requests, §16.6 step 4). */
  recordRoute: boolean;
}

export interface ProxyHooks {
  onBranch?(rctx: ResponseContext, branch: Branch, request: SipRequest): void;
  onReply?(rctx: ResponseContext, branch: Branch, response: SipResponse): void;
  onFailure?(rctx: ResponseContext, best: Final | undefined): Target[] | undefined;
  onForward?(rctx: ResponseContext, status: number, response: SipResponse | undefined): void;
}

/**
 * What the proxy core uses of its stack: a `SipStack`, or in unit tests a stand-in over an
 * in-memory network with a manual clock.
 */
export type ProxyStack = Pick<
  SipStack,
  | 'clock'
  | 'response'
  | 'respond'
  | 'forward'
  | 'sendRequest'
  | 'cancel'
  | 'sentBy'
  | 'flowTokenFor'
  | 'resolveFlowToken'
>;

export interface ProxyCoreOptions {
  readonly stack: ProxyStack;
  readonly hooks?: ProxyHooks;
  readonly logger?: Logger;
}

/** Where responses of a context go upstream: its server transaction and where it came from. */
interface Upstream {
  readonly tx: AnyServerTransaction | undefined;
  readonly ctx: ReceiveContext;
}

/**
 * What a branch's client transaction reaches its context through. Cut when the context closes:
 * an INVITE client transaction lives on 32 s (Timer M) for 2xx retransmissions, which only need
 * the upstream, so the context and its messages are not kept alive that long.
 */
interface BranchLink {
  rctx: ResponseContext | undefined;
  branch: Branch | undefined;
}

interface ContextEntry {
  readonly pr: ProxyRequest;
  readonly links: BranchLink[];
}

/** The core's record of a context it started (see `ResponseContext.owner`). */
function entryOf(rctx: ResponseContext): ContextEntry | undefined {
  return rctx.owner as ContextEntry | undefined;
}

export class ProxyCore {
  readonly stack: ProxyStack;
  readonly #hooks: ProxyHooks;
  readonly #log: Logger;
  readonly #contexts = new Map<AnyServerTransaction, ResponseContext>();
  #closed = false;

  constructor(options: ProxyCoreOptions) {
    this.stack = options.stack;
    this.#hooks = options.hooks ?? {};
    this.#log = options.logger ?? silentLogger;
  }

  get log(): Logger {
    return this.#log;
  }

  /** Response contexts alive now. */
  get size(): number {
    return this.#contexts.size;
  }

  /** Answers a request as a UAS: in its server transaction, or statelessly without one. */
  reply(
    pr: ProxyRequest,
    status: number,
    reason?: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ): void {
    if (pr.request.method === 'ACK') return;
    // Without a transaction (answered statelessly) every retransmission gets the same To tag.
    const tag = pr.tx ? undefined : statelessTag(pr.request);
    const response = this.stack.response(pr.request, status, reason, headers, tag);
    if (pr.tx && !pr.tx.terminated) {
      try {
        pr.tx.respond(response);
        return;
      } catch {
        // fall through: the transaction ended meanwhile
      }
    }
    this.sendStateless(response, pr.ctx);
  }

  /** A response sent without a transaction (bans, overload): errors are only logged. */
  sendStateless(response: SipResponse, ctx: ReceiveContext | undefined): void {
    this.stack
      .respond(response, ctx)
      .catch((err: unknown) => this.#log.debug({ err }, 'sip: stateless response not sent'));
  }

  /** §16.10: CANCEL matched an INVITE server transaction: 200 to the CANCEL, cancel branches. */
  cancel(pr: ProxyRequest): void {
    if (!pr.cancels) {
      // §16.10: "If a response context is not found, the element [...] MUST statelessly
      // forward the CANCEL" — we have no state for it: nothing downstream knows it either.
      this.reply(pr, 481);
      return;
    }
    this.reply(pr, 200);
    const rctx = this.#contexts.get(pr.cancels);
    if (rctx) rctx.cancel();
    else if (!pr.cancels.terminated && !pr.cancels.lastResponse) {
      // The INVITE is still in the element's route (authentication): answer it now.
      pr.cancels.respond(this.stack.response(pr.cancels.request, 487));
    }
  }

  /** §16.6: forward statefully to each target, forking by q-value. */
  relay(pr: ProxyRequest, targets: readonly Target[]): ResponseContext | undefined {
    const tx = pr.tx;
    if (!tx || this.#closed) return undefined;
    if ('cancelled' in tx && tx.cancelled && pr.request.method === 'INVITE') {
      this.reply(pr, 487);
      return undefined;
    }
    const rctx = new ResponseContext(pr.request, targets, this.#env);
    this.#contexts.set(tx, rctx);
    const entry: ContextEntry = { pr, links: [] };
    rctx.owner = entry;
    rctx.start();
    return rctx;
  }

  /**
   * §16.11 (stateless forwarding) for the ACK of a 2xx and other transaction-less requests.
   * False when nothing was sent (no listener for the hop's transport).
   */
  forwardStateless(pr: ProxyRequest, hop: Hop): boolean {
    const out = copyRequest(pr.request);
    const outTransport = this.#outTransport(hop);
    const sentBy = this.stack.sentBy(outTransport);
    if (!sentBy) return false;
    out.headers.prepend('Via', viaValue(sentBy, outTransport, statelessBranch(pr.request)));
    this.stack
      .forward(out, hop)
      .catch((err: unknown) =>
        this.#log.debug(
          { err, callId: pr.request.headers.callId() },
          'sip: stateless forward failed',
        ),
      );
    return true;
  }

  /** §16.7 step 3 for a response matching no transaction: drop our Via, forward by the next. */
  forwardStray(response: SipResponse): void {
    response.headers.shift('via');
    if (response.headers.via().length === 0) return;
    this.sendStateless(response, undefined);
  }

  /** Closes every response context (no more forwarding). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const rctx of [...this.#contexts.values()]) rctx.close();
    this.#contexts.clear();
  }

  #outTransport(hop: Hop): TransportProtocol {
    if (hop.flowToken !== undefined) {
      return this.stack.resolveFlowToken(hop.flowToken)?.transport ?? hop.transport;
    }
    return hop.transport;
  }

  #forwardTo(up: Upstream, response: SipResponse): void {
    // §16.7 step 3: "The proxy removes the topmost Via header field value from the response."
    response.headers.shift('via');
    const tx = up.tx;
    if (tx && !tx.terminated) {
      try {
        tx.respond(response);
        return;
      } catch {
        // terminated meanwhile
      }
    }
    this.sendStateless(response, up.ctx);
  }

  readonly #env: ContextEnv = {
    startBranch: (rctx, branch) => this.#startBranch(rctx, branch),
    cancelBranch: (branch) => {
      const tx = branch.tx;
      if (!tx || tx.kind !== 'invite-client') return false;
      try {
        return this.stack.cancel(tx as InviteClientTransaction) !== undefined;
      } catch {
        return false;
      }
    },
    abandonBranch: (branch) => branch.tx?.abandon(),
    forward: (rctx, response) => {
      this.#hooks.onForward?.(rctx, response.status, response);
      const entry = entryOf(rctx);
      if (entry) this.#forwardTo(entry.pr, response);
    },
    reply: (rctx, status, reason) => {
      const entry = entryOf(rctx);
      if (entry) this.reply(entry.pr, status, reason);
      this.#hooks.onForward?.(rctx, status, undefined);
    },
    onFailure: (rctx, best) => this.#hooks.onFailure?.(rctx, best),
    onReply: (rctx, branch, response) => this.#hooks.onReply?.(rctx, branch, response),
    // Timer C (§16.6 step 11) on the stack's clock (the timer wheel in production).
    setTimer: (ms, fire) => {
      const clock = this.stack.clock;
      const t = clock.setTimer(ms, fire);
      return () => clock.clearTimer(t);
    },
    onClosed: (rctx) => {
      const entry = entryOf(rctx);
      if (!entry) return;
      if (entry.pr.tx && this.#contexts.get(entry.pr.tx) === rctx) {
        this.#contexts.delete(entry.pr.tx);
      }
      for (const link of entry.links) {
        link.rctx = undefined;
        link.branch = undefined;
      }
    },
  };

  /** §16.6 steps 1–10 for one branch, then a client transaction (step 11 is Timer C). */
  #startBranch(rctx: ResponseContext, branch: Branch): AnyClientTransaction | undefined {
    const entry = entryOf(rctx);
    if (!entry) return undefined;
    const { pr } = entry;
    const target = branch.target;
    // Step 1: "Make a copy of the received request".
    const out = copyRequest(pr.request);
    // Step 2: "Update the Request-URI" with the target.
    if (target.uri !== pr.request.uri) withUri(out, target.uri);
    const hop = target.hop;
    const outTransport = this.#outTransport(hop);
    const stack = this.stack;
    // Step 4: Record-Route. With a change of transport, or a flow to name on either side, we
    // record-route twice (one entry per side), so each side's route set names the interface
    // (and flow) it talks to.
    if (pr.recordRoute) {
      const inTransport = pr.ctx.transport;
      const inSentBy = stack.sentBy(inTransport);
      const outSentBy = stack.sentBy(outTransport);
      const inToken = isReliable(inTransport) ? stack.flowTokenFor(pr.ctx) : undefined;
      const outToken = hop.flowToken;
      if (inSentBy && outSentBy) {
        out.headers.prepend('Record-Route', recordRouteValue(inSentBy, inTransport, inToken));
        if (inTransport !== outTransport || outToken !== undefined) {
          out.headers.prepend('Record-Route', recordRouteValue(outSentBy, outTransport, outToken));
        }
      }
    }
    // Step 8: our Via, with the loop-detection hash in the branch.
    const sentBy = stack.sentBy(outTransport);
    if (!sentBy) {
      this.#log.warn({ transport: outTransport }, 'sip: no listener for the outbound transport');
      return undefined;
    }
    const branchId = newBranch(loopHash(pr.request));
    out.headers.prepend('Via', viaValue(sentBy, outTransport, branchId));
    this.#hooks.onBranch?.(rctx, branch, out);
    const link: BranchLink = { rctx, branch };
    entry.links.push(link);
    const upstream: Upstream = { tx: pr.tx, ctx: pr.ctx };
    const isInvite = rctx.isInvite;
    try {
      return stack.sendRequest(out, hop, {
        onResponse: (response) => {
          const c = link.rctx;
          if (c && link.branch && !c.closed) c.response(link.branch, response);
          else if (isInvite && response.status >= 200 && response.status < 300) {
            // A 2xx retransmission after the context closed: still forwarded (§16.7 step 5).
            this.#forwardTo(upstream, response);
          }
        },
        onError: (error) => {
          const status = error.code === 'sip-transaction-timeout' ? 408 : 503;
          const c = link.rctx;
          if (c && link.branch && !c.closed) c.branchFailed(link.branch, status);
        },
      });
    } catch (err) {
      this.#log.warn(
        { err, callId: pr.request.headers.callId(), branch: branchId },
        'sip: branch not started',
      );
      return undefined;
    }
  }
}
