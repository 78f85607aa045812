/**
 * Provisional responses toward the caller (leg A) under RFC 3262 when leg A uses 100rel: the
 * dialog layer sends them reliably and "MUST NOT send a second reliable provisional response
 * until the first is acknowledged" (§3), so an 18x of leg B that arrives meanwhile waits here
 * for A's PRACK (the newest one, keeping SDP news over a later 18x without SDP) instead of being
 * lost. And §3: "[the UAS] MUST NOT send a final response until those provisional responses are
 * acknowledged" when an unacknowledged reliable one carried a session description: `settled()`
 * is what A's 2xx waits for. Without 100rel on leg A every 18x goes at once.
 */
import type { Payload, ServerInvite } from '@tfx/sip';

interface Queued {
  readonly status: number;
  readonly payload: Payload;
  readonly toTag: string | undefined;
}

export class ProvisionalRelay {
  readonly #inv: ServerInvite;
  readonly #onSent: () => void;
  #queued: Queued | undefined;
  readonly #waiters: Array<() => void> = [];

  /** `onSent`: after each provisional response sent to A (the caller watches its early dialog). */
  constructor(inv: ServerInvite, onSent: () => void) {
    this.#inv = inv;
    this.#onSent = onSent;
    const prior = inv.onPrack;
    inv.onPrack = (prack) => {
      prior?.(prack);
      this.#onPrack();
    };
  }

  /** Sends an 18x to A now, or once A has PRACKed the reliable one outstanding. */
  send(status: number, payload: Payload, toTag: string | undefined): void {
    const inv = this.#inv;
    if (inv.answered) return;
    if (inv.unacked !== undefined) {
      const q = this.#queued;
      // The newest waits; an earlier one's SDP is not dropped for a later 18x without SDP.
      const keep = q !== undefined && q.payload.body !== undefined && payload.body === undefined;
      this.#queued = { status, payload: keep ? q.payload : payload, toTag };
      return;
    }
    inv.progress(status, payload, toTag);
    this.#onSent();
  }

  /**
   * Resolves once no reliable 18x with SDP awaits A's PRACK (RFC 3262 §3), or A has its final
   * response (the dialog layer's 504 after 64*T1 without PRACK), or `gone()` says the call ended.
   */
  async settled(gone: () => boolean): Promise<void> {
    const inv = this.#inv;
    const pending = (): boolean =>
      (inv.unacked?.response.body.length ?? 0) > 0 && !inv.answered && !gone();
    while (pending()) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        // Re-checks now and then: a 504 or the call's end brings no PRACK.
        setTimeout(resolve, 500).unref?.();
      });
    }
  }

  #onPrack(): void {
    const q = this.#queued;
    this.#queued = undefined;
    if (q) this.send(q.status, q.payload, q.toTag);
    for (const w of this.#waiters.splice(0)) w();
  }
}
