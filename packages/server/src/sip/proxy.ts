/**
 * The mechanics of the stateful proxy (RFC 3261 §16) that the routing pipeline (pipeline.ts)
 * calls: answering, forwarding on branches (Via, Record-Route, Max-Forwards), forwarding
 * responses upstream, CANCEL, stateless ACK forwarding, and the glue between the transaction
 * layer and the transport layer. Policy — what to do with a request — is not here.
 */
import {
  copyRequest,
  createResponse,
  isReliable,
  loopHash,
  newBranch,
  recordRouteValue,
  statelessBranch,
  viaValue,
  withUri,
  type Hop,
  realClock,
  type AnyClientTransaction,
  type AnyServerTransaction,
  type InviteClientTransaction,
  type InviteServerTransaction,
  type ReceiveContext,
  type SendTarget,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type TransactionContext,
  type TransactionLayer,
  type TransportLayer,
  type TransportProtocol,
} from '@tfx/sip';
import type { Logger } from '../log.js';
import { Call, type Branch, type CallEnv, type Final, type Target } from './call.js';
import type { DialogTable } from './dialogs.js';
import { addressOf } from './hops.js';
import type { SipMetrics } from './metrics.js';
import { endpointText, type MessageTrace } from './trace.js';

/** One request on its way through the pipeline. Stages read and change it. */
export interface RequestContext {
  readonly request: SipRequest;
  readonly ctx: ReceiveContext;
  /** Undefined for an ACK that matched no transaction (the ACK for a 2xx). */
  readonly tx: AnyServerTransaction | undefined;
  /** For a CANCEL: the INVITE server transaction it cancels. */
  readonly cancels: InviteServerTransaction | undefined;
  readonly now: number;
  /** Flow tokens found in our Route entries (in-dialog requests toward a WS/TCP client). */
  readonly flowTokens: string[];
  /** Set by the auth stage. */
  authUser: string | undefined;
  /** Whether to Record-Route (dialog-creating requests). */
  recordRoute: boolean;
}

export interface ProxyHooks {
  onFailure(call: Call, best: Final | undefined): Target[] | undefined;
  onReply(call: Call, branch: Branch, response: SipResponse): void;
}

export interface ProxyCoreOptions {
  readonly logger: Logger;
  readonly trace: MessageTrace;
  readonly metrics: SipMetrics;
  readonly dialogs: DialogTable;
  /** Server / User-Agent value; none when undefined. */
  readonly serverHeader: string | undefined;
  readonly hooks: ProxyHooks;
  readonly now: () => number;
}

function isReceiveContext(ctx: TransactionContext): ctx is ReceiveContext {
  return ctx.local !== undefined;
}

function hasFlowToken(ctx: TransactionContext): ctx is TransactionContext & { flowToken: string } {
  return typeof (ctx as { flowToken?: unknown }).flowToken === 'string';
}

/** Where responses of a call go upstream: its server transaction and where the request came from. */
interface Upstream {
  readonly tx: AnyServerTransaction | undefined;
  readonly ctx: ReceiveContext;
}

/**
 * What a branch's client transaction reaches its call through. Cut when the call closes: an
 * INVITE client transaction lives on 32 s (Timer M) for 2xx retransmissions, which only need
 * the upstream, so the call and its messages are not kept alive that long.
 */
interface BranchLink {
  call: Call | undefined;
  branch: Branch | undefined;
}

interface CallEntry {
  readonly rc: RequestContext;
  readonly links: BranchLink[];
}

export class ProxyCore {
  /** Set by the service; swapped atomically on a restart. */
  transport!: TransportLayer;
  layer!: TransactionLayer;
  readonly #o: ProxyCoreOptions;
  readonly #calls = new Map<AnyServerTransaction, Call>();
  readonly #callOf = new WeakMap<Call, CallEntry>();

  readonly #forwardedBranch: { inc(): void };
  readonly #forwardedStateless: { inc(): void };

  constructor(options: ProxyCoreOptions) {
    this.#o = options;
    // prom-client hashes the label values on every labels() call: resolved once.
    this.#forwardedBranch = options.metrics.forwarded.labels('branch');
    this.#forwardedStateless = options.metrics.forwarded.labels('stateless');
  }

  get log(): Logger {
    return this.#o.logger;
  }

  get liveCalls(): number {
    return this.#calls.size;
  }

  /** The transaction layer's send function: requests to their hop, responses per Via (§18.2.2). */
  readonly send = async (message: SipMessage, target: TransactionContext): Promise<void> => {
    const transport = this.transport;
    if (message.kind === 'response') {
      if (!isReceiveContext(target)) throw new Error('response without a receive context');
      const r = await transport.sendResponse(message, target);
      this.#traceOut(message, r.transport, r.local, r.remote);
      return;
    }
    const sendTarget: SendTarget = hasFlowToken(target)
      ? { flowToken: target.flowToken }
      : {
          transport: target.transport as TransportProtocol,
          address: target.remote.address,
          port: target.remote.port,
        };
    const r = await transport.send(message, sendTarget);
    this.#traceOut(message, r.transport, r.local, r.remote);
  };

  traceIn(message: SipMessage, ctx: ReceiveContext): void {
    if (!this.#o.trace.enabled) return;
    this.#o.trace.record(
      'in',
      ctx.transport,
      endpointText(ctx.local),
      endpointText(ctx.remote),
      message,
      this.#o.now(),
    );
  }

  #traceOut(
    message: SipMessage,
    transport: TransportProtocol,
    local: { address: string; port: number },
    remote: { address: string; port: number },
  ): void {
    if (!this.#o.trace.enabled) return;
    this.#o.trace.record(
      'out',
      transport,
      endpointText(local),
      endpointText(remote),
      message,
      this.#o.now(),
    );
  }

  /** Builds a response to the request (with our Server header, if any). */
  response(
    request: SipRequest,
    status: number,
    reason?: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ): SipResponse {
    const extra: Array<readonly [string, string]> = [...headers];
    if (this.#o.serverHeader !== undefined) extra.push(['Server', this.#o.serverHeader]);
    return createResponse(request, status, reason, { headers: extra });
  }

  /** Answers a request as a UAS: in its server transaction, or statelessly without one. */
  reply(
    rc: RequestContext,
    status: number,
    reason?: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ): void {
    if (rc.request.method === 'ACK') return;
    const response = this.response(rc.request, status, reason, headers);
    if (rc.tx && !rc.tx.terminated) {
      try {
        rc.tx.respond(response);
        return;
      } catch {
        // fall through: the transaction ended meanwhile
      }
    }
    this.sendStateless(response, rc.ctx);
  }

  /** A response sent without a transaction (bans, overload): errors are only logged. */
  sendStateless(response: SipResponse, ctx: ReceiveContext | undefined): void {
    this.transport
      .sendResponse(response, ctx)
      .then((r) => this.#traceOut(response, r.transport, r.local, r.remote))
      .catch((err: unknown) => this.#o.logger.debug({ err }, 'sip: stateless response not sent'));
  }

  /** §16.10: CANCEL matched an INVITE server transaction: 200 to the CANCEL, cancel branches. */
  cancel(rc: RequestContext): void {
    if (!rc.cancels) {
      // §16.10: "If a response context is not found, the element [...] MUST statelessly
      // forward the CANCEL" — we have no state for it: nothing downstream knows it either.
      this.reply(rc, 481);
      return;
    }
    this.reply(rc, 200);
    const call = this.#calls.get(rc.cancels);
    if (call) call.cancel();
    else if (!rc.cancels.terminated && !rc.cancels.lastResponse) {
      // The INVITE is still in the pipeline (authentication): answer it now.
      rc.cancels.respond(this.response(rc.cancels.request, 487));
    }
  }

  /** §16.6: forward statefully to each target, forking by q-value. */
  relay(rc: RequestContext, targets: readonly Target[]): void {
    const tx = rc.tx;
    if (!tx) return;
    if ('cancelled' in tx && tx.cancelled && rc.request.method === 'INVITE') {
      this.reply(rc, 487);
      return;
    }
    const call = new Call(rc.request, targets, this.#env);
    this.#calls.set(tx, call);
    this.#callOf.set(call, { rc, links: [] });
    call.start();
  }

  /** §16.11 (stateless forwarding) for the ACK of a 2xx and other transaction-less requests. */
  forwardStateless(rc: RequestContext, hop: Hop): void {
    const out = copyRequest(rc.request);
    const outTransport = this.#outTransport(hop);
    const sentBy = this.transport.sentBy(outTransport);
    if (!sentBy) return;
    out.headers.prepend('Via', viaValue(sentBy, outTransport, statelessBranch(rc.request)));
    const target: SendTarget =
      hop.flowToken !== undefined
        ? { flowToken: hop.flowToken }
        : { transport: hop.transport, address: hop.remote.address, port: hop.remote.port };
    this.#forwardedStateless.inc();
    this.transport
      .send(out, target)
      .then((r) => this.#traceOut(out, r.transport, r.local, r.remote))
      .catch((err: unknown) =>
        this.#o.logger.debug(
          { err, callId: rc.request.headers.callId() },
          'sip: stateless forward failed',
        ),
      );
  }

  /** §16.7 step 3 for a response matching no transaction: drop our Via, forward by the next. */
  forwardStray(response: SipResponse): void {
    response.headers.shift('via');
    if (response.headers.via().length === 0) return;
    this.sendStateless(response, undefined);
  }

  /** Closes every response context (no more forwarding). Idempotent. */
  close(): void {
    for (const call of [...this.#calls.values()]) call.close();
    this.#calls.clear();
  }

  #outTransport(hop: Hop): TransportProtocol {
    if (hop.flowToken !== undefined) {
      return this.transport.resolveFlowToken(hop.flowToken)?.transport ?? hop.transport;
    }
    return hop.transport;
  }

  #forwardUp(call: Call, response: SipResponse): void {
    const entry = this.#callOf.get(call);
    if (entry) this.#forwardTo(entry.rc, response);
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

  readonly #env: CallEnv = {
    startBranch: (call, branch) => this.#startBranch(call, branch),
    cancelBranch: (branch) => {
      const tx = branch.tx;
      if (!tx || tx.kind !== 'invite-client') return false;
      try {
        return this.layer.cancel(tx as InviteClientTransaction) !== undefined;
      } catch {
        return false;
      }
    },
    forward: (call, response) => {
      this.#trackDialog(call, response);
      this.#forwardUp(call, response);
    },
    reply: (call, status, reason) => {
      const entry = this.#callOf.get(call);
      if (entry) this.reply(entry.rc, status, reason);
      if (call.isInvite) {
        const callId = call.request.headers.callId();
        if (callId !== undefined) this.#o.dialogs.apply(callId, 'failed', this.#o.now());
      }
    },
    onFailure: (call, best) => this.#o.hooks.onFailure(call, best),
    onReply: (call, branch, response) => {
      this.#o.metrics.response(response.status);
      this.#o.hooks.onReply(call, branch, response);
    },
    // Timer C (§16.6 step 11) on the transactions' timer wheel, not a Node timer per call.
    setTimer: (ms, fire) => {
      const t = realClock.setTimer(ms, fire);
      return () => realClock.clearTimer(t);
    },
    onClosed: (call) => {
      const entry = this.#callOf.get(call);
      if (!entry) return;
      if (entry.rc.tx) this.#calls.delete(entry.rc.tx);
      for (const link of entry.links) {
        link.call = undefined;
        link.branch = undefined;
      }
    },
  };

  #trackDialog(call: Call, response: SipResponse): void {
    const method = call.request.method;
    const h = call.request.headers;
    const callId = h.callId();
    if (callId === undefined) return;
    const now = this.#o.now();
    if (method === 'INVITE') {
      const parties = { from: addressOf(h.from()), to: addressOf(h.to()) };
      if (response.status >= 300) this.#o.dialogs.apply(callId, 'failed', now);
      else if (response.status >= 200) this.#o.dialogs.apply(callId, 'answered', now, parties);
      else if (response.headers.to()?.tag !== undefined)
        this.#o.dialogs.apply(callId, 'provisional', now, parties);
    } else if (method === 'BYE' && response.status < 300) {
      this.#o.dialogs.apply(callId, 'bye', now);
    }
  }

  /** §16.6 steps 1–10 for one branch, then a client transaction (step 11 is Timer C in Call). */
  #startBranch(call: Call, branch: Branch): AnyClientTransaction | undefined {
    const entry = this.#callOf.get(call);
    if (!entry) return undefined;
    const { rc } = entry;
    const target = branch.target;
    // Step 1: "Make a copy of the received request".
    const out = copyRequest(rc.request);
    // Step 2: "Update the Request-URI" with the target.
    if (target.uri !== rc.request.uri) withUri(out, target.uri);
    const hop = target.hop;
    const outTransport = this.#outTransport(hop);
    const transport = this.transport;
    // Step 4: Record-Route. With a change of transport, or a flow to name on either side, we
    // record-route twice (one entry per side), so each side's route set names the interface
    // (and flow) it talks to.
    if (rc.recordRoute) {
      const inTransport = rc.ctx.transport;
      const inSentBy = transport.sentBy(inTransport);
      const outSentBy = transport.sentBy(outTransport);
      const inToken = isReliable(inTransport) ? transport.flowTokenFor(rc.ctx) : undefined;
      const outToken = hop.flowToken;
      if (inSentBy && outSentBy) {
        out.headers.prepend('Record-Route', recordRouteValue(inSentBy, inTransport, inToken));
        if (inTransport !== outTransport || outToken !== undefined) {
          out.headers.prepend('Record-Route', recordRouteValue(outSentBy, outTransport, outToken));
        }
      }
    }
    // Step 8: our Via, with the loop-detection hash in the branch.
    const sentBy = transport.sentBy(outTransport);
    if (!sentBy) {
      this.#o.logger.warn(
        { transport: outTransport },
        'sip: no listener for the outbound transport',
      );
      return undefined;
    }
    const branchId = newBranch(loopHash(rc.request));
    out.headers.prepend('Via', viaValue(sentBy, outTransport, branchId));
    this.#forwardedBranch.inc();
    const link: BranchLink = { call, branch };
    entry.links.push(link);
    const upstream: Upstream = { tx: rc.tx, ctx: rc.ctx };
    const isInvite = call.isInvite;
    try {
      return this.layer.sendRequest(out, hop, {
        onResponse: (response) => {
          const c = link.call;
          if (c && link.branch && !c.closed) c.response(link.branch, response);
          else if (isInvite && response.status >= 200 && response.status < 300) {
            // A 2xx retransmission after the context closed: still forwarded (§16.7 step 5).
            this.#forwardTo(upstream, response);
          }
        },
        onError: (error) => {
          const status = error.code === 'sip-transaction-timeout' ? 408 : 503;
          const c = link.call;
          if (c && link.branch && !c.closed) c.branchFailed(link.branch, status);
        },
      });
    } catch (err) {
      this.#o.logger.warn(
        { err, callId: rc.request.headers.callId(), branch: branchId },
        'sip: branch not started',
      );
      return undefined;
    }
  }
}
