/**
 * Leg B toward several contacts at once (a user registered from a phone and a browser, or two
 * phones): parallel forking, as the proxy does it (RFC 3261 §16.7), from the B2BUA's own zone.
 *
 * - Provisional responses of every branch reach the call until one branch answers 2xx.
 * - The first 2xx wins: the other branches are cancelled (§16.7 step 10: "the proxy MUST
 *   generate a CANCEL request for all pending client transactions"); a 2xx arriving later from
 *   another branch is ACKed by its dialog layer and ended with BYE (§13.2.2.4).
 * - When every branch has failed, the best final response is handed on (§16.7 step 6: a 6xx
 *   first; else the lowest class, the first of it).
 *
 * It offers the two things the call uses of a ClientInvite: its `request` and `cancel()`.
 */
import type { TfxError } from '@tfx/protocol';
import type { ClientInvite, ClientInviteEvents, SipRequest, SipResponse } from '@tfx/sip';

/** Starts one branch with the events it must report to. */
export type BranchStart = (events: ClientInviteEvents) => ClientInvite;

/** The best final response of failed branches (§16.7 step 6). */
export function bestFinal(responses: readonly SipResponse[]): SipResponse | undefined {
  const sixxx = responses.find((r) => r.status >= 600);
  if (sixxx) return sixxx;
  let best: SipResponse | undefined;
  for (const r of responses) {
    if (!best || Math.floor(r.status / 100) < Math.floor(best.status / 100)) best = r;
  }
  return best;
}

export class ForkedInvite {
  readonly branches: ClientInvite[] = [];
  readonly #events: ClientInviteEvents;
  #pending = 0;
  #won = false;
  readonly #finals: SipResponse[] = [];
  #lastError: TfxError | undefined;

  /** Starts every branch now; a branch that cannot be sent counts as failed. */
  constructor(starts: readonly BranchStart[], events: ClientInviteEvents) {
    if (starts.length === 0) throw new TypeError('ForkedInvite: no branch');
    this.#events = events;
    this.#pending = starts.length;
    for (const start of starts) {
      let branch: ClientInvite;
      try {
        branch = start({
          onProgress: (r, s) => {
            if (!this.#won) this.#events.onProgress?.(r, s);
          },
          onAccepted: (s, r) => {
            if (this.#won) {
              s.bye(); // a later 2xx of another branch: ACKed by the dialog layer, then BYE
              return;
            }
            this.#won = true;
            for (const b of this.branches) if (b !== branch) b.cancel();
            this.#events.onAccepted?.(s, r);
          },
          onFailed: (r, err) => this.#failed(r, err),
        });
      } catch (err) {
        // Not sent at all (no listener for its transport): the others go on without it.
        this.#lastError = err as TfxError;
        this.#pending--;
        continue;
      }
      this.branches.push(branch);
    }
    if (this.branches.length === 0) throw this.#lastError ?? new TypeError('no branch sent');
  }

  /** The first branch's INVITE (for the calls list: its Call-ID is leg B's). */
  get request(): SipRequest {
    return (this.branches[0] as ClientInvite).request;
  }

  /** Cancels every branch still pending (§9.1, each once it has a provisional). Idempotent. */
  cancel(): void {
    for (const b of this.branches) b.cancel();
  }

  #failed(r: SipResponse | undefined, err: TfxError | undefined): void {
    if (r) this.#finals.push(r);
    if (err) this.#lastError = err;
    this.#pending--;
    if (this.#pending > 0 || this.#won) return;
    const best = bestFinal(this.#finals);
    this.#events.onFailed?.(best, best ? undefined : this.#lastError);
  }
}
