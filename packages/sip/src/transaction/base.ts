/**
 * What the four state machines share: named timers, serialized event dispatch and sending with
 * transport-error reporting. Each machine keeps its own state enum and its one guarded
 * transition function; only that function starts and stops timers.
 */
import { TfxError } from '@tfx/protocol';
import type { SipMessage, SipRequest } from '../syntax/index.js';
import type { TimerHandle } from './clock.js';
import {
  isReliableTransport,
  type TerminationReason,
  type TimerName,
  type TransactionContext,
  type TransactionEnv,
  type TransactionKind,
} from './types.js';

export abstract class TransactionBase<
  State extends string,
  Event extends { readonly type: string },
> {
  abstract readonly kind: TransactionKind;
  /** The table key (see `keys.ts`). */
  readonly key: string;
  readonly request: SipRequest;
  /** Where this transaction sends: the next hop (client) or the request's source (server). */
  readonly target: TransactionContext;
  readonly reliable: boolean;
  /** Retransmissions sent by this transaction (requests or responses). */
  retransmissions = 0;
  protected readonly env: TransactionEnv;
  #state: State;
  readonly #timers = new Map<TimerName, TimerHandle>();
  readonly #queue: Event[] = [];
  /** TU notifications raised by a transition, delivered once the new state is in place. */
  readonly #effects: Array<() => void> = [];
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
    this.request = request;
    this.target = target;
    this.reliable = isReliableTransport(target.transport);
    this.#state = initial;
  }

  get state(): State {
    return this.#state;
  }

  /** Whether the transaction has reached Terminated (it is then out of the table). */
  get terminated(): boolean {
    return this.#terminated;
  }

  /** Timers running now, by RFC name (for tests and diagnostics). */
  get runningTimers(): TimerName[] {
    return [...this.#timers.keys()];
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
    this.#queue.push(event);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        if (this.#terminated) break;
        const from = this.#state;
        const to = this.transition(from, next);
        this.#state = to;
        if (from !== to) {
          this.env.logger.debug(
            { kind: this.kind, key: this.key, from, to, event: next.type },
            'sip transaction state',
          );
        }
        if (to === this.terminatedState) this.#terminate(this.#terminationReason ?? 'normal');
        // The TU hears about an event only after the machine has moved, so it may act on the
        // transaction from its callback (e.g. CANCEL on the first 1xx, §9.1).
        for (let fx = this.#effects.shift(); fx; fx = this.#effects.shift()) {
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
      this.#queue.length = 0;
      this.#effects.length = 0;
    }
  }

  #terminationReason: TerminationReason | undefined;

  /** Queues a TU notification to run after the current transition completed. */
  protected notify(fn: () => void): void {
    this.#effects.push(fn);
  }

  /** Records why the machine is about to terminate (timeout, transport error). */
  protected markTermination(reason: TerminationReason): void {
    this.#terminationReason ??= reason;
  }

  protected startTimer(name: TimerName, ms: number): void {
    this.stopTimer(name);
    const handle = this.env.clock.setTimer(ms, () => {
      if (this.#timers.get(name) !== handle) return;
      this.#timers.delete(name);
      this.dispatch(this.timerEvent(name));
    });
    this.#timers.set(name, handle);
  }

  protected stopTimer(name: TimerName): void {
    const h = this.#timers.get(name);
    if (h !== undefined) {
      this.env.clock.clearTimer(h);
      this.#timers.delete(name);
    }
  }

  protected isRunning(name: TimerName): boolean {
    return this.#timers.has(name);
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
    for (const h of this.#timers.values()) this.env.clock.clearTimer(h);
    this.#timers.clear();
  }

  #terminate(reason: TerminationReason): void {
    if (this.#terminated) return;
    this.#terminated = true;
    for (const h of this.#timers.values()) this.env.clock.clearTimer(h);
    this.#timers.clear();
    this.env.onTerminated(this, reason);
    this.notify(() => this.notifyTerminated(reason));
  }
}
