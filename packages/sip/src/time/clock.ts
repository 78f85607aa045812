/**
 * The clock every timer of the stack runs on (transactions, Timer C, registrations, bans).
 * Injected, so tests drive time by hand ({@link ManualClock}) and production uses `realClock`
 * (real.ts). This file imports nothing: the wheel depends on it, never the other way round.
 */

/** An opaque timer handle. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds; only differences matter. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (0: as soon as the clock next runs timers). */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Cancels a timer; harmless for one that fired or was cleared. */
  clearTimer(handle: TimerHandle): void;
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A deterministic clock for tests: time moves only through {@link advance}, and timers fire in
 * (due time, creation order). Exported because every layer above (dialogs, B2BUA) tests with it.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #queue: Scheduled[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const entry: Scheduled = {
      at: this.#now + Math.max(0, ms),
      seq: this.#seq++,
      fn,
      cancelled: false,
    };
    this.#queue.push(entry);
    return entry;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as Scheduled).cancelled = true;
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#queue.filter((e) => !e.cancelled).length;
  }

  /** When the next pending timer is due (undefined: none). */
  get nextAt(): number | undefined {
    return this.#nextDue(Infinity)?.at;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(end);
      if (!next) break;
      this.#now = next.at;
      next.cancelled = true;
      next.fn();
    }
    this.#now = end;
    this.#queue = this.#queue.filter((e) => !e.cancelled);
  }

  /** Fires timers until none is left (bounded, to catch timers that re-arm forever). */
  runAll(maxSteps = 100_000): void {
    for (let k = 0; k < maxSteps; k++) {
      const next = this.#nextDue(Infinity);
      if (!next) return;
      this.advance(next.at - this.#now);
    }
    throw new Error('ManualClock.runAll: timers keep re-arming');
  }

  #nextDue(limit: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const e of this.#queue) {
      if (e.cancelled || e.at > limit) continue;
      if (!best || e.at < best.at || (e.at === best.at && e.seq < best.seq)) best = e;
    }
    return best;
  }
}
