/**
 * Reconnection as a policy object (STYLE.md practice 10, after LiveKit's `ReconnectPolicy`): the
 * SDK asks the policy how long to wait before attempt `attempt` (1-based), and stops when it
 * answers `null`. The policy does no I/O and keeps no timers, so it is a pure, testable function.
 */

/** What the SDK knows about the failure that led to a reconnect attempt. */
export interface ReconnectContext {
  /** Error code from the protocol's catalogue when the server gave one (e.g. `room-full`). */
  readonly code?: string | undefined;
  /** Whether the failure may go away by itself (network drop, server restart). */
  readonly retryable: boolean;
  /** Milliseconds since the connection was lost. */
  readonly elapsedMs: number;
}

export interface ReconnectPolicy {
  /** Delay in ms before attempt number `attempt` (1 = first retry), or `null` to give up. */
  nextDelay(attempt: number, error: ReconnectContext): number | null;
}

export interface BackoffOptions {
  /** First delay in ms. Default 300. */
  readonly initialDelayMs?: number;
  /** Largest delay in ms. Default 5000. */
  readonly maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. */
  readonly factor?: number;
  /** Random spread, 0..1, as a fraction of the delay. Default 0.2. */
  readonly jitter?: number;
  /** Give up after this many attempts. Default 12. */
  readonly maxAttempts?: number;
  /** Give up once the connection has been lost this long, in ms. Default 60000. */
  readonly maxElapsedMs?: number;
  /** Random source in [0, 1), injectable for tests. Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Exponential backoff with jitter. Gives up on non-retryable errors at once (a wrong password or a
 * version mismatch does not heal by waiting), after `maxAttempts`, or past `maxElapsedMs`.
 */
export class BackoffReconnectPolicy implements ReconnectPolicy {
  readonly #o: Required<BackoffOptions>;

  constructor(options: BackoffOptions = {}) {
    this.#o = {
      initialDelayMs: options.initialDelayMs ?? 300,
      maxDelayMs: options.maxDelayMs ?? 5000,
      factor: options.factor ?? 2,
      jitter: options.jitter ?? 0.2,
      maxAttempts: options.maxAttempts ?? 12,
      maxElapsedMs: options.maxElapsedMs ?? 60_000,
      random: options.random ?? Math.random,
    };
  }

  nextDelay(attempt: number, error: ReconnectContext): number | null {
    const o = this.#o;
    if (!error.retryable) return null;
    if (attempt > o.maxAttempts || error.elapsedMs >= o.maxElapsedMs) return null;
    const base = Math.min(o.maxDelayMs, o.initialDelayMs * o.factor ** Math.max(0, attempt - 1));
    const spread = base * o.jitter * (o.random() * 2 - 1);
    return Math.max(0, Math.round(Math.min(o.maxDelayMs, base + spread)));
  }
}

/** A policy that never reconnects. */
export const NEVER_RECONNECT: ReconnectPolicy = { nextDelay: () => null };
