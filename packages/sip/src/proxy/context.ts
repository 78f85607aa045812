/**
 * The response context of a stateful proxy (RFC 3261 §16.7) for one forwarded request: a
 * `ResponseContext` owns its branches (one client transaction each), forks by q-value groups (equal q in
 * parallel, lower q serially after a group failed, §16.6), cancels the losing branches after a
 * 2xx or a 6xx (§16.7 step 10) or on a CANCEL (§16.10), and picks the best final response
 * (§16.7 step 6). Explicit states, one guarded transition function, Timer C per group.
 *
 * Ownership: ResponseContext → branches → client transactions. `close()` is idempotent; a closed
 * context ignores late events. (The word *call* is kept for the B2BUA's call.)
 */
import type { Hop } from '../element/index.js';
import type { SipRequest, SipResponse, Uri } from '../syntax/index.js';
import type { AnyClientTransaction } from '../transaction/index.js';

export enum ContextState {
  /** Branches started, nothing forwarded upstream yet. */
  Trying = 'Trying',
  /** A provisional response was forwarded upstream. */
  Proceeding = 'Proceeding',
  /** A 2xx was forwarded (INVITE: further 2xx are forwarded too, §16.7 step 5). */
  Accepted = 'Accepted',
  /** A final non-2xx was forwarded. */
  Completed = 'Completed',
  Terminated = 'Terminated',
}

export enum BranchState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  /** CANCEL wanted: sent once a provisional response arrives (§9.1). */
  Cancelling = 'Cancelling',
  Accepted = 'Accepted',
  Completed = 'Completed',
}

export interface Target {
  /** The new Request-URI (a contact), or the unchanged one. */
  readonly uri: Uri;
  readonly hop: Hop;
  readonly q: number;
}

export interface Branch {
  readonly id: number;
  readonly target: Target;
  state: BranchState;
  tx: AnyClientTransaction | undefined;
  final: SipResponse | undefined;
}

/** What the proxy core does for a response context; the context decides when. */
export interface ContextEnv {
  /** Starts a client transaction for a branch; undefined when it could not be sent. */
  startBranch(ctx: ResponseContext, branch: Branch): AnyClientTransaction | undefined;
  /** Sends a CANCEL for a branch's INVITE (returns false when it cannot yet, §9.1). */
  cancelBranch(branch: Branch): boolean;
  /** Gives up a branch's client transaction: it ends at once and sends nothing more. */
  abandonBranch(branch: Branch): void;
  /** Forwards a response upstream through the server transaction. */
  forward(ctx: ResponseContext, response: SipResponse): void;
  /** A synthesized final response (no branch answered, or 503 → 500). */
  reply(ctx: ResponseContext, status: number, reason?: string): void;
  /**
   * The onFailure hook: every branch of the current group ended without a 2xx. Returns more
   * targets (a 3xx's Contacts) to try, or undefined to pass the best response upstream.
   */
  onFailure(ctx: ResponseContext, best: Final | undefined): Target[] | undefined;
  /** The onReply hook: every response from a branch, before it is handled. */
  onReply(ctx: ResponseContext, branch: Branch, response: SipResponse): void;
  setTimer(ms: number, fire: () => void): () => void;
  onClosed(ctx: ResponseContext): void;
}

type ContextEvent =
  | { readonly type: 'response'; readonly branch: Branch; readonly response: SipResponse }
  | { readonly type: 'branch-failed'; readonly branch: Branch; readonly status: number }
  | { readonly type: 'cancel' }
  | { readonly type: 'timer-c' }
  | { readonly type: 'cancel-timeout'; readonly branch: Branch };

/** §16.6 step 11: Timer C "MUST be set for each client transaction [...] greater than 3 minutes". */
export const TIMER_C_MS = 181_000;
/** A q-group that has further groups behind it gets this long before they are tried. */
export const SERIAL_GROUP_MS = 30_000;
/**
 * §9.1: "If there is no final response for the original request in 64*T1 seconds (T1 is
 * defined in Section 17.1.1.1), the client SHOULD then consider the original transaction
 * cancelled and SHOULD destroy the client transaction handling the original request."
 */
export const CANCEL_WAIT_MS = 64 * 500;

/** A final response received, or only a status when the proxy must synthesize it. */
export interface Final {
  readonly status: number;
  readonly response?: SipResponse;
}

let nextBranchId = 0;

export class ResponseContext {
  state = ContextState.Trying;
  readonly branches: Branch[] = [];
  /** Whether the upstream request was cancelled (§16.10). */
  cancelled = false;
  readonly #groups: Target[][];
  /** The best final so far: a response, or a status we synthesize (408, 503). */
  #best: Final | undefined;
  #stopTimer: (() => void) | undefined;
  /** §9.1 guards of branches whose CANCEL went out and that have not answered yet. */
  /** Made on the first CANCEL (most contexts never cancel a branch). */
  #cancelGuards: Map<Branch, () => void> | undefined;
  /**
   * The proxy core's record for this context (its request and branch links), opaque here: a
   * field rather than a WeakMap in the core, whose ephemeron entry per forwarded request cost
   * the garbage collector (issue #23).
   */
  owner: object | undefined = undefined;
  #closed = false;
  #dispatching = false;
  readonly #queue: ContextEvent[] = [];

  constructor(
    readonly request: SipRequest,
    targets: readonly Target[],
    private readonly env: ContextEnv,
  ) {
    this.#groups = groupByQ(targets);
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.#nextGroup();
  }

  /** A response from a branch's client transaction. */
  response(branch: Branch, response: SipResponse): void {
    this.#dispatch({ type: 'response', branch, response });
  }

  /** The branch's transaction timed out (408) or could not be sent (503). */
  branchFailed(branch: Branch, status: number): void {
    this.#dispatch({ type: 'branch-failed', branch, status });
  }

  /** §16.10: a CANCEL for the upstream INVITE. */
  cancel(): void {
    this.#dispatch({ type: 'cancel' });
  }

  /** Stops everything: pending branches are cancelled, no more responses are forwarded. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimer?.();
    this.#stopTimer = undefined;
    for (const b of this.branches) this.#cancelBranch(b);
    if (this.#cancelGuards) for (const stop of this.#cancelGuards.values()) stop();
    this.#cancelGuards = undefined;
    this.state = ContextState.Terminated;
    this.env.onClosed(this);
  }

  #dispatch(event: ContextEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      let e: ContextEvent | undefined;
      while ((e = this.#queue.shift()) !== undefined && !this.#closed) this.#transition(e);
    } finally {
      this.#dispatching = false;
    }
  }

  /** The one transition function of the response context. */
  #transition(event: ContextEvent): void {
    switch (event.type) {
      case 'cancel':
        this.cancelled = true;
        for (const b of this.branches) this.#cancelBranch(b);
        return;
      case 'timer-c':
        // §16.8: "If timer C should fire, the proxy MUST either reset the timer [...] or
        // terminate the client transaction. If the client transaction has received a
        // provisional response, the proxy MUST generate a CANCEL request matching that
        // transaction. If the client transaction has not received a provisional response, the
        // proxy MUST behave as if the transaction received a 408 (Request Timeout) response."
        this.#stopTimer = undefined;
        {
          let gaveUp = false;
          for (const b of this.branches) {
            if (b.state === BranchState.Calling || this.#awaitingProvisional(b)) {
              this.#giveUp(b, 408);
              gaveUp = true;
            } else this.#cancelBranch(b);
          }
          if (gaveUp) this.#afterBranchEnded();
        }
        return;
      case 'cancel-timeout':
        // §9.1: no final response 64*T1 after the CANCEL: the branch is given up. A caller that
        // cancelled hears 487 for it, as if the callee had answered the CANCEL.
        this.#cancelGuards?.delete(event.branch);
        if (event.branch.state === BranchState.Cancelling) {
          this.#giveUp(event.branch, this.cancelled ? 487 : 408);
          this.#afterBranchEnded();
        }
        return;
      case 'branch-failed':
        if (event.branch.state === BranchState.Completed) return;
        event.branch.state = BranchState.Completed;
        this.#consider({ status: event.status });
        this.#afterBranchEnded();
        return;
      case 'response':
        this.#onResponse(event.branch, event.response);
    }
  }

  #onResponse(branch: Branch, response: SipResponse): void {
    this.env.onReply(this, branch, response);
    const status = response.status;
    if (status >= 200) this.#stopGuard(branch);
    if (status < 200) {
      if (branch.state === BranchState.Cancelling) {
        // §9.1: the CANCEL held back until a provisional response arrived goes now.
        if (!this.#cancelGuards?.has(branch) && this.env.cancelBranch(branch)) {
          this.#armGuard(branch);
        }
      } else if (branch.state === BranchState.Calling) branch.state = BranchState.Proceeding;
      // §16.7 step 5: provisional responses other than 100 are forwarded immediately.
      if (status === 100) return;
      if (this.state === ContextState.Trying || this.state === ContextState.Proceeding) {
        this.state = ContextState.Proceeding;
        this.env.forward(this, response);
      }
      return;
    }
    if (status < 300) {
      branch.state = BranchState.Accepted;
      // §16.7 step 5: "Any 2xx response to an INVITE request" is forwarded immediately, also
      // when another 2xx was forwarded before (forked INVITE answered twice).
      if (
        this.state !== ContextState.Completed &&
        (this.isInvite || this.state !== ContextState.Accepted)
      ) {
        this.state = ContextState.Accepted;
        this.env.forward(this, response);
      }
      // §16.7 step 10: after a 2xx, "the proxy MUST cancel all client transactions" pending.
      for (const b of this.branches) if (b !== branch) this.#cancelBranch(b);
      this.#stopTimer?.();
      this.#stopTimer = undefined;
      this.#afterBranchEnded();
      return;
    }
    if (branch.state === BranchState.Completed || branch.state === BranchState.Accepted) return;
    branch.state = BranchState.Completed;
    branch.final = response;
    if (
      status >= 600 &&
      this.state !== ContextState.Accepted &&
      this.state !== ContextState.Completed
    ) {
      // §16.7 step 10: a 6xx ends the search; "the proxy SHOULD cancel all client pending
      // transactions" and the 6xx is the response forwarded.
      this.#best = { status, response };
      this.cancelled = true;
      for (const b of this.branches) this.#cancelBranch(b);
    } else {
      this.#consider({ status, response });
    }
    this.#afterBranchEnded();
  }

  /** §16.7 step 6: keep the best final response seen (6xx first, then the lowest class). */
  #consider(final: Final): void {
    const best = this.#best;
    if (!best || rank(final.status) < rank(best.status)) this.#best = final;
  }

  #pending(): boolean {
    return this.branches.some(
      (b) => b.state !== BranchState.Completed && b.state !== BranchState.Accepted,
    );
  }

  #afterBranchEnded(): void {
    if (this.#pending()) return;
    this.#stopTimer?.();
    this.#stopTimer = undefined;
    if (this.state === ContextState.Accepted || this.state === ContextState.Completed) {
      this.close();
      return;
    }
    // Every branch of this group failed: onFailure may add targets (3xx recursion); otherwise
    // the next q-group (serial forking), otherwise the best response goes upstream.
    if (!this.cancelled) {
      const more = this.env.onFailure(this, this.#best);
      if (more && more.length > 0) {
        this.#groups.unshift(...groupByQ(more));
        this.#best = undefined;
      }
      if (this.#nextGroup()) return;
    }
    this.#finish();
  }

  #finish(): void {
    const best = this.#best;
    this.state = ContextState.Completed;
    if (!best) this.env.reply(this, this.cancelled ? 487 : 480);
    // §16.7 step 6: "If the selected response is a 503 [...] the proxy MUST generate a 500".
    else if (best.status === 503) this.env.reply(this, 500, 'Server Internal Error');
    else if (!best.response) this.env.reply(this, best.status);
    else {
      if (best.status === 401 || best.status === 407) this.#aggregateChallenges(best.response);
      this.env.forward(this, best.response);
    }
    this.close();
  }

  /**
   * §16.7 step 7: "If the selected response is a 401 (Unauthorized) or 407 (Proxy
   * Authentication Required), the proxy MUST collect all WWW-Authenticate and
   * Proxy-Authenticate header field values from all other 401 and 407 responses received so far
   * in this response context and add them to this response without modification before
   * forwarding."
   */
  #aggregateChallenges(selected: SipResponse): void {
    for (const b of this.branches) {
      const other = b.final;
      if (!other || other === selected || (other.status !== 401 && other.status !== 407)) continue;
      for (const name of ['WWW-Authenticate', 'Proxy-Authenticate']) {
        for (const v of other.headers.getAll(name)) selected.headers.append(name, v);
      }
    }
  }

  /** Starts the next q-group; false when none is left or none could be sent. */
  #nextGroup(): boolean {
    for (;;) {
      const group = this.#groups.shift();
      if (!group) return false;
      let started = 0;
      for (const target of group) {
        const branch: Branch = {
          id: ++nextBranchId,
          target,
          state: BranchState.Calling,
          tx: undefined,
          final: undefined,
        };
        this.branches.push(branch);
        branch.tx = this.env.startBranch(this, branch);
        if (branch.tx) started++;
        else {
          branch.state = BranchState.Completed;
          this.#consider({ status: 503 });
        }
      }
      if (started === 0) continue;
      if (this.isInvite) {
        const ms = this.#groups.length > 0 ? SERIAL_GROUP_MS : TIMER_C_MS;
        this.#stopTimer = this.env.setTimer(ms, () => this.#dispatch({ type: 'timer-c' }));
      }
      return true;
    }
  }

  /** A branch whose CANCEL waits for a provisional response that has not come (§9.1). */
  #awaitingProvisional(b: Branch): boolean {
    return b.state === BranchState.Cancelling && !this.#cancelGuards?.has(b);
  }

  /** Ends a branch that will not answer: its transaction is dropped, `status` considered. */
  #giveUp(b: Branch, status: number): void {
    this.#stopGuard(b);
    this.env.abandonBranch(b);
    b.state = BranchState.Completed;
    this.#consider({ status });
  }

  #armGuard(b: Branch): void {
    if (this.#closed) return;
    this.#cancelGuards ??= new Map();
    this.#cancelGuards.set(
      b,
      this.env.setTimer(CANCEL_WAIT_MS, () =>
        this.#dispatch({ type: 'cancel-timeout', branch: b }),
      ),
    );
  }

  #stopGuard(b: Branch): void {
    const stop = this.#cancelGuards?.get(b);
    if (!stop) return;
    stop();
    this.#cancelGuards!.delete(b);
  }

  #cancelBranch(b: Branch): void {
    if (!this.isInvite) return;
    if (b.state === BranchState.Proceeding) {
      if (this.env.cancelBranch(b)) {
        b.state = BranchState.Cancelling;
        this.#armGuard(b);
      }
      // Sent: stays Cancelling until the 487 (or another final) arrives.
    } else if (b.state === BranchState.Calling) {
      // §9.1: no CANCEL before a provisional response; sent when one arrives.
      b.state = BranchState.Cancelling;
    }
  }
}

function rank(status: number): number {
  if (status >= 600) return 0;
  // Prefer 3xx < 4xx < 5xx; within a class, 401/407 (a challenge a UA can answer) first.
  const cls = Math.floor(status / 100);
  const challenge = status === 401 || status === 407 ? 0 : 1;
  return cls * 1000 + challenge * 100 + (status % 100);
}

function groupByQ(targets: readonly Target[]): Target[][] {
  const sorted = [...targets].sort((a, b) => b.q - a.q);
  const groups: Target[][] = [];
  for (const t of sorted) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.q === t.q) last.push(t);
    else groups.push([t]);
  }
  return groups;
}
