/**
 * Client-side CRLF keep-alives on a connection we opened (RFC 5626 §4.4.1, §3.5.1): a state
 * machine with an injected clock, no sockets. The connection sends what `ping` asks for and
 * reports every pong it reads; a missing pong fails the flow.
 *
 *   waiting ──interval──▶ send CRLFCRLF ──▶ awaiting-pong ──CRLF──▶ waiting
 *                                                │
 *                                     pong timeout (10 s) ──▶ failed (connection closed)
 *   any state ──stop()──▶ stopped
 *
 * RFC 5626 §4.4.1: "When a UA sends a ping [...] If a pong is not received within 10 seconds
 * after sending a ping [...] the UA MUST treat the flow as failed." The interval is chosen
 * afresh for each ping, between 80% and 100% of the configured one, so that many clients
 * started together do not ping in step (§4.4.1 asks for a value "randomly distributed
 * between 80% and 100%" of the keep-alive interval).
 */

/** The part of the stack's Clock (time/clock.ts) this needs; ManualClock and realClock fit. */
export interface TimerClock {
  setTimer(ms: number, fn: () => void): object;
  clearTimer(handle: object): void;
}

export type KeepAliveState = 'waiting' | 'awaiting-pong' | 'stopped' | 'failed';

export interface KeepAliveOptions {
  /** Time between pings (before the 80–100% jitter), ms; > 0. */
  readonly intervalMs: number;
  /** How long to wait for the pong, ms. RFC 5626 §4.4.1: 10 s. */
  readonly pongTimeoutMs: number;
  readonly clock: TimerClock;
  /** Random number in [0, 1), for the jitter. Default Math.random. */
  readonly random?: () => number;
}

export interface KeepAliveSink {
  /** Send a double-CRLF ping on the flow. */
  ping(): void;
  /** No pong came in time: the flow has failed (close the connection). */
  failed(): void;
}

export class KeepAlive {
  #state: KeepAliveState = 'waiting';
  #timer: object | undefined;
  /** Pings sent and pongs received, for tests and counters. */
  pings = 0;
  pongs = 0;
  readonly #o: KeepAliveOptions;
  readonly #sink: KeepAliveSink;
  readonly #random: () => number;

  constructor(options: KeepAliveOptions, sink: KeepAliveSink) {
    if (!(options.intervalMs > 0) || !(options.pongTimeoutMs > 0)) {
      throw new RangeError('KeepAlive: intervalMs and pongTimeoutMs must be > 0');
    }
    this.#o = options;
    this.#sink = sink;
    this.#random = options.random ?? Math.random;
    this.#arm(this.#nextInterval(), () => this.#transition('interval'));
  }

  get state(): KeepAliveState {
    return this.#state;
  }

  /** A single CRLF (a pong) arrived on the flow. */
  pong(): void {
    this.pongs++;
    this.#transition('pong');
  }

  /** The connection closed or keep-alives are no longer wanted. Idempotent. */
  stop(): void {
    this.#transition('stop');
  }

  /** The one guarded transition function: every state change and every timer goes through it. */
  #transition(event: 'interval' | 'pong' | 'pong-timeout' | 'stop'): void {
    const s = this.#state;
    if (s === 'stopped' || s === 'failed') return;
    if (event === 'stop') {
      this.#disarm();
      this.#state = 'stopped';
      return;
    }
    if (s === 'waiting' && event === 'interval') {
      this.#state = 'awaiting-pong';
      this.pings++;
      this.#arm(this.#o.pongTimeoutMs, () => this.#transition('pong-timeout'));
      this.#sink.ping();
      return;
    }
    if (s === 'awaiting-pong' && event === 'pong') {
      this.#state = 'waiting';
      this.#arm(this.#nextInterval(), () => this.#transition('interval'));
      return;
    }
    if (s === 'awaiting-pong' && event === 'pong-timeout') {
      this.#disarm();
      this.#state = 'failed';
      this.#sink.failed();
    }
    // A pong while waiting (unsolicited, or a late one) changes nothing.
  }

  #nextInterval(): number {
    return Math.max(1, Math.round(this.#o.intervalMs * (0.8 + 0.2 * this.#random())));
  }

  #arm(ms: number, fn: () => void): void {
    this.#disarm();
    this.#timer = this.#o.clock.setTimer(ms, fn);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
