/**
 * What the four state machines share: named timers, serialized event dispatch and sending with
 * transport-error reporting. Each machine keeps its own state enum and its one guarded
 * transition function; only that function starts and stops timers.
 */
import { TfxError } from '@tfx/protocol';
import {
  parseMessage,
  serializeFields,
  type SipMessage,
  type SipRequest,
} from '../syntax/index.js';
import type { TimerHandle } from '../time/index.js';
import {
  isReliableTransport,
  type TerminationReason,
  type TimerName,
  type TransactionContext,
  type TransactionEnv,
  type TransactionKind,
} from './types.js';

/** What matching (§17.1.3, §17.2.3, the legacy To-tag rule) and ACK/CANCEL building read. */
const SETTLED_FIELDS: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * The request as a transaction keeps it once it only absorbs retransmissions: the bytes of its
 * start line and of the header fields of {@link SETTLED_FIELDS}, no body, in a buffer of their
 * own; read back (parsed lazily) on demand. Like Kamailio's tm, which keeps sent buffers rather
 * than parsed messages: a transaction lives 32 s in these states on UDP (Timers J, L, M, D), and
 * holding parsed messages (field objects, decoded values, typed views) that long is most of a
 * busy proxy's heap, and copying it out of the young generation most of its GC time.
 * The fields were parsed from the wire or built (built values cannot hold CR or LF), so the
 * bytes parse back; they are not parsed here to check it (that was a third of the cost).
 */
function settledRequestBytes(request: SipRequest): Uint8Array {
  return serializeFields(request, SETTLED_FIELDS);
}

/** A message kept as bytes, parsed back (lazily: start line and field offsets). */
export function reparse(bytes: Uint8Array): SipMessage | undefined {
  const r = parseMessage(bytes);
  return r.ok ? r.message : undefined;
}

export abstract class TransactionBase<
  State extends string,
  Event extends { readonly type: string },
> {
  abstract readonly kind: TransactionKind;
  /** The table key (see `keys.ts`). */
  readonly key: string;
  /** The request; undefined once settled into {@link #settledBytes}. */
  #request: SipRequest | undefined;
  #settledBytes: Uint8Array | undefined;
  /** Where this transaction sends: the next hop (client) or the request's source (server). */
  readonly target: TransactionContext;
  readonly reliable: boolean;
  /** Retransmissions sent by this transaction (requests or responses). */
  retransmissions = 0;
  protected readonly env: TransactionEnv;
  #state: State;
  /**
   * Running timers as `[name, handle, name, handle…]`, undefined when none; the event queue and
   * the TU notifications exist only while a dispatch needs them. A transaction lingers 32 s on
   * UDP after its final response (Timers J, L, M, D) and every object it holds is copied by
   * each scavenge it meets and then promoted: the `Map` and two arrays each transaction had
   * were ~100 B of the ~3.3 kB a lingering pair holds (`bench/sip-parser/linger-mem.ts`,
   * issue #23).
   */
  #timers: Array<TimerName | TimerHandle> | undefined;
  #queue: Event[] | undefined;
  /** TU notifications raised by a transition, delivered once the new state is in place. */
  #effects: Array<() => void> | undefined;
  #busy = false;
  #terminated = false;

  protected constructor(
    env: TransactionEnv,
    key: string,
    request: SipRequest,
    target: TransactionContext,
    initial: State,
  ) {
    this.env = env;
    this.key = key;
    this.#request = request;
    this.target = target;
    this.reliable = isReliableTransport(target.transport);
    this.#state = initial;
  }

  get state(): State {
    return this.#state;
  }

  /**
   * The request of this transaction. Once the machine only absorbs retransmissions (see
   * {@link settledStates}) it is a trimmed copy: start line, Via, From, To, Call-ID and CSeq,
   * parsed back from bytes on each read.
   */
  get request(): SipRequest {
    if (this.#request !== undefined) return this.#request;
    const back = reparse(this.#settledBytes!);
    if (back?.kind !== 'request')
      throw new Error('sip transaction: settled request does not parse');
    return back;
  }

  /** States in which the machine only absorbs retransmissions (the request is then trimmed). */
  protected abstract readonly settledStates: ReadonlySet<State>;

  /** Whether the transaction has reached Terminated (it is then out of the table). */
  get terminated(): boolean {
    return this.#terminated;
  }

  /** Timers running now, by RFC name (for tests and diagnostics). */
  get runningTimers(): TimerName[] {
    const t = this.#timers;
    const names: TimerName[] = [];
    if (t) for (let i = 0; i < t.length; i += 2) names.push(t[i] as TimerName);
    return names;
  }

  /**
   * The one guarded transition function of each machine: handles `event` in the current state,
   * returns the next state (or the same), and starts/stops timers. Unexpected events are ignored.
   */
  protected abstract transition(state: State, event: Event): State;
  protected abstract readonly terminatedState: State;
  protected abstract timerEvent(name: TimerName): Event;
  protected abstract transportErrorEvent(error: TfxError): Event;
  /** Tells the TU about a timeout or transport error. */
  protected abstract reportError(error: TfxError): void;
  protected abstract notifyTerminated(reason: TerminationReason): void;

  /** Feeds one event; events raised while handling one are queued and handled in order. */
  protected dispatch(event: Event): void {
    if (this.#terminated) return;
    if (this.#busy) {
      (this.#queue ??= []).push(event);
      return;
    }
    this.#busy = true;
    try {
      for (let next: Event | undefined = event; next; next = this.#queue?.shift()) {
        if (this.#terminated) break;
        const from = this.#state;
        const to = this.transition(from, next);
        this.#state = to;
        if (from !== to) {
          if (this.env.logger.isLevelEnabled?.('debug') !== false) {
            this.env.logger.debug(
              { kind: this.kind, key: this.key, from, to, event: next.type },
              'sip transaction state',
            );
          }
          if (this.settledStates.has(to) && this.#request !== undefined) this.#settle();
        }
        if (this.settledStates.has(to)) this.onSettled();
        if (to === this.terminatedState) this.#terminate(this.#terminationReason ?? 'normal');
        // The TU hears about an event only after the machine has moved, so it may act on the
        // transaction from its callback (e.g. CANCEL on the first 1xx, §9.1).
        for (let fx = this.#effects?.shift(); fx; fx = this.#effects?.shift()) {
          try {
            fx();
          } catch (err) {
            // A throwing TU must not corrupt the machine or lose later notifications.
            this.env.logger.error(
              { err, kind: this.kind, key: this.key },
              'sip transaction user callback threw',
            );
          }
        }
      }
    } finally {
      this.#busy = false;
      this.#queue = undefined;
      this.#effects = undefined;
    }
  }

  #terminationReason: TerminationReason | undefined;

  #settle(): void {
    this.#settledBytes = settledRequestBytes(this.#request!);
    this.#request = undefined;
  }

  /** After every transition into or within a settled state (server transactions trim their response). */
  protected onSettled(): void {}

  /** Queues a TU notification to run after the current transition completed. */
  protected notify(fn: () => void): void {
    (this.#effects ??= []).push(fn);
  }

  /** Records why the machine is about to terminate (timeout, transport error). */
  protected markTermination(reason: TerminationReason): void {
    this.#terminationReason ??= reason;
  }

  protected startTimer(name: TimerName, ms: number): void {
    this.stopTimer(name);
    const handle = this.env.clock.setTimer(ms, () => {
      const i = this.#timerIndex(name);
      if (i < 0 || this.#timers![i + 1] !== handle) return;
      this.#removeTimerAt(i);
      this.dispatch(this.timerEvent(name));
    });
    (this.#timers ??= []).push(name, handle);
  }

  protected stopTimer(name: TimerName): void {
    const i = this.#timerIndex(name);
    if (i < 0) return;
    this.env.clock.clearTimer(this.#timers![i + 1] as TimerHandle);
    this.#removeTimerAt(i);
  }

  protected isRunning(name: TimerName): boolean {
    return this.#timerIndex(name) >= 0;
  }

  #timerIndex(name: TimerName): number {
    const t = this.#timers;
    if (t === undefined) return -1;
    for (let i = 0; i < t.length; i += 2) if (t[i] === name) return i;
    return -1;
  }

  #removeTimerAt(i: number): void {
    const t = this.#timers!;
    t.splice(i, 2);
    if (t.length === 0) this.#timers = undefined;
  }

  #clearTimers(): void {
    const t = this.#timers;
    this.#timers = undefined;
    if (t) for (let i = 1; i < t.length; i += 2) this.env.clock.clearTimer(t[i] as TimerHandle);
  }

  /** Hands a message to the transport; a failure comes back as a transport-error event. */
  protected transmit(message: SipMessage, retransmission = false): void {
    if (retransmission) this.retransmissions++;
    const fail = (cause: unknown): void => {
      const error = new TfxError(
        'sip-transport-error',
        undefined,
        { kind: this.kind, key: this.key },
        { cause },
      );
      this.dispatch(this.transportErrorEvent(error));
    };
    try {
      const result = this.env.send(message, this.target);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, fail);
      }
    } catch (cause) {
      fail(cause);
    }
  }

  /** Builds the timeout error of a timer (`sip-transaction-timeout`). */
  protected timeoutError(timer: TimerName): TfxError {
    return new TfxError('sip-transaction-timeout', `SIP transaction timed out (timer ${timer})`, {
      timer,
      kind: this.kind,
      key: this.key,
      method: this.request.method,
    });
  }

  /**
   * Drops the transaction without sending anything or telling the TU (layer shutdown):
   * timers stop, later events are ignored. Idempotent.
   */
  dispose(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#clearTimers();
  }

  /**
   * The transaction user gives the transaction up (a proxy's branch after Timer C, or 64*T1
   * after its CANCEL with no final response, RFC 3261 §9.1 and §16.8): it terminates at once,
   * leaves the layer's table, sends nothing more and tells the TU nothing (the TU asked).
   * Idempotent.
   */
  abandon(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#clearTimers();
    this.env.onTerminated(this, 'timeout');
  }

  #terminate(reason: TerminationReason): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#clearTimers();
    this.env.onTerminated(this, reason);
    this.notify(() => this.notifyTerminated(reason));
  }
}
