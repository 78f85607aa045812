/**
 * Active calls as the proxy sees them: dialogs created by INVITE responses passing through
 * (RFC 3261 §12), for the console and metrics. An explicit state machine per dialog:
 *
 *   (1xx with To tag) → Early ──2xx──▶ Confirmed ──BYE──▶ Terminated
 *   Early ──final ≥ 300 / CANCEL──▶ Terminated;   any ──max age──▶ Terminated
 */
import type { SipRequest, SipResponse } from '@tfx/sip';
import { addressOf } from './hops.js';

export enum DialogState {
  Early = 'early',
  Confirmed = 'confirmed',
  Terminated = 'terminated',
}

export type DialogEvent = 'provisional' | 'answered' | 'failed' | 'bye' | 'expired';

export interface Dialog {
  readonly id: string;
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly startedAt: number;
  answeredAt: number | undefined;
  state: DialogState;
}

/** The transition function: the next state, or the same state for an event that does not apply. */
export function nextDialogState(state: DialogState, event: DialogEvent): DialogState {
  switch (state) {
    case DialogState.Early:
      if (event === 'answered') return DialogState.Confirmed;
      if (event === 'failed' || event === 'bye' || event === 'expired')
        return DialogState.Terminated;
      return state;
    case DialogState.Confirmed:
      if (event === 'bye' || event === 'expired') return DialogState.Terminated;
      return state;
    case DialogState.Terminated:
      return state;
  }
}

export interface DialogTableOptions {
  /** Most dialogs tracked. Default 100 000. */
  readonly max?: number;
  /** A confirmed dialog without BYE is forgotten after this long. Default 12 h. */
  readonly maxAgeMs?: number;
  /** An early dialog without an answer is forgotten after this long. Default 5 min. */
  readonly earlyMaxAgeMs?: number;
}

/** Dialogs keyed by Call-ID (one call may fork into several early dialogs: kept per Call-ID). */
export class DialogTable {
  readonly #byCallId = new Map<string, Dialog>();
  readonly #max: number;
  readonly #maxAgeMs: number;
  readonly #earlyMaxAgeMs: number;

  constructor(options: DialogTableOptions = {}) {
    this.#max = options.max ?? 100_000;
    this.#maxAgeMs = options.maxAgeMs ?? 12 * 3600_000;
    this.#earlyMaxAgeMs = options.earlyMaxAgeMs ?? 300_000;
  }

  get size(): number {
    return this.#byCallId.size;
  }

  /** Applies an event of the call with this Call-ID; creates the dialog on its first response. */
  apply(
    callId: string,
    event: DialogEvent,
    now: number,
    parties?: { readonly from: string; readonly to: string },
  ): void {
    let d = this.#byCallId.get(callId);
    if (!d) {
      if ((event !== 'provisional' && event !== 'answered') || !parties) return;
      if (this.#byCallId.size >= this.#max) return;
      d = {
        id: callId,
        callId,
        from: parties.from,
        to: parties.to,
        startedAt: now,
        answeredAt: undefined,
        state: DialogState.Early,
      };
      this.#byCallId.set(callId, d);
    }
    const next = nextDialogState(d.state, event);
    if (next === DialogState.Confirmed && d.state !== DialogState.Confirmed) d.answeredAt = now;
    d.state = next;
    if (next === DialogState.Terminated) this.#byCallId.delete(callId);
  }

  /**
   * The proxy core's onForward hook: a response going upstream for a forwarded request
   * (`response` undefined: a final status the proxy synthesized). INVITE responses create and
   * move dialogs; a 2xx to BYE ends one.
   */
  track(request: SipRequest, status: number, response: SipResponse | undefined, now: number): void {
    const h = request.headers;
    const callId = h.callId();
    if (callId === undefined) return;
    if (request.method === 'INVITE') {
      if (!response || status >= 300) {
        this.apply(callId, 'failed', now);
        return;
      }
      const parties = { from: addressOf(h.from()), to: addressOf(h.to()) };
      if (status >= 200) this.apply(callId, 'answered', now, parties);
      else if (response.headers.to()?.tag !== undefined)
        this.apply(callId, 'provisional', now, parties);
    } else if (request.method === 'BYE' && response && status >= 200 && status < 300) {
      this.apply(callId, 'bye', now);
    }
  }

  list(now: number): Dialog[] {
    this.sweep(now);
    return [...this.#byCallId.values()];
  }

  sweep(now: number): void {
    for (const d of this.#byCallId.values()) {
      const limit = d.state === DialogState.Early ? this.#earlyMaxAgeMs : this.#maxAgeMs;
      if (now - (d.answeredAt ?? d.startedAt) > limit) this.apply(d.callId, 'expired', now);
    }
  }

  clear(): void {
    this.#byCallId.clear();
  }
}
