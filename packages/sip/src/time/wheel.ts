/**
 * A hashed timer wheel: every transaction timer on one coarse queue, driven by one host timer.
 *
 * At 1000 proxied calls/s a UDP proxy starts about nine transaction timers per call (Trying, A,
 * B, L, M, E, F, J, K) and most of them live 5–32 s (RFC 3261 Timers B, F, J, K; RFC 6026 L, M).
 * A Node timer per transaction timer is a `Timeout` object with its own bookkeeping that outlives
 * the young generation; here a timer is one small entry in a slot array, and the host timer is
 * armed once for the next slot that holds anything (Kamailio's tm uses the same kind of wheel).
 *
 * Semantics, as the state machines need them: a timer never fires before its delay; it fires at
 * most one `resolutionMs` late (plus event-loop latency); timers due in the same tick fire in the
 * order they were set; a timer set from a callback for a tick already being run fires in this run.
 * The wheel has no I/O of its own: time and the host timer are injected ({@link WheelDriver}).
 */
import type { Clock, TimerHandle } from './clock.js';

/** What the wheel runs on: a monotonic millisecond source and one re-armable host timer. */
export interface WheelDriver {
  /** Monotonic milliseconds (the wheel's ticks), e.g. `performance.now()`. */
  monotonic(): number;
  /** Wall-clock milliseconds reported by `Clock.now()`. Default: `monotonic`. */
  now?(): number;
  /** Arms the host timer to call `fn` after `ms` (replacing any armed one). */
  arm(ms: number, fn: () => void): void;
  /** Disarms the host timer. */
  disarm(): void;
}

export interface TimerWheelOptions {
  /** Tick length in ms; a timer fires at most this late. Default 10. */
  readonly resolutionMs?: number;
  /**
   * Slots per turn (a power of two). Default 4096: 40.96 s per turn at 10 ms, so the 32 s
   * timers (B, F, H, J, L, M, D) are visited once, when due.
   */
  readonly slots?: number;
}

/** One timer. `fn` is dropped when it fires or is cleared (so the entry holds nothing alive). */
interface WheelEntry {
  /** Absolute tick at which it is due. */
  readonly tick: number;
  fn: (() => void) | undefined;
}

export class TimerWheel implements Clock {
  readonly resolutionMs: number;
  readonly #mask: number;
  readonly #slots: Array<WheelEntry[] | undefined>;
  readonly #driver: WheelDriver;
  /** Every tick up to and including this one has been run. */
  #done: number;
  /** Tick the host timer is armed for; -1 when disarmed. */
  #armedFor = -1;
  #pending = 0;
  #running = false;
  readonly #run = (): void => this.#onHostTimer();

  constructor(driver: WheelDriver, options: TimerWheelOptions = {}) {
    const slots = options.slots ?? 4096;
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0) {
      throw new RangeError('TimerWheel: slots must be a power of two');
    }
    this.resolutionMs = options.resolutionMs ?? 10;
    if (!(this.resolutionMs > 0)) throw new RangeError('TimerWheel: resolutionMs must be > 0');
    this.#mask = slots - 1;
    this.#slots = new Array<WheelEntry[] | undefined>(slots);
    this.#driver = driver;
    this.#done = Math.floor(driver.monotonic() / this.resolutionMs);
  }

  now(): number {
    return this.#driver.now ? this.#driver.now() : this.#driver.monotonic();
  }

  /** Timers set and neither fired nor cleared. */
  get pending(): number {
    return this.#pending;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const due = this.#driver.monotonic() + Math.max(0, ms);
    // Never early: the tick whose start is at or after the due time.
    let tick = Math.ceil(due / this.resolutionMs);
    if (tick <= this.#done) tick = this.#done + 1;
    const entry: WheelEntry = { tick, fn };
    const slot = tick & this.#mask;
    const list = this.#slots[slot];
    if (list === undefined) this.#slots[slot] = [entry];
    else list.push(entry);
    this.#pending++;
    if (!this.#running && (this.#armedFor < 0 || tick < this.#armedFor)) this.#arm(tick);
    return entry;
  }

  clearTimer(handle: TimerHandle): void {
    const entry = handle as WheelEntry;
    if (entry.fn === undefined) return;
    entry.fn = undefined;
    this.#pending--;
    // The entry stays in its slot until that slot is next run (lazy removal).
    if (this.#pending === 0 && this.#armedFor >= 0 && !this.#running) {
      this.#driver.disarm();
      this.#armedFor = -1;
    }
  }

  /** Runs every tick that is due now (the host timer's callback; exposed for tests). */
  runDue(): void {
    if (this.#running) return;
    this.#running = true;
    try {
      const target = Math.floor(this.#driver.monotonic() / this.resolutionMs);
      if (target - this.#done > this.#mask + 1) this.#catchUp(target);
      else {
        for (let t = this.#done + 1; t <= target; t++) {
          // Claimed before it runs: a timer set by a callback lands on a later tick.
          this.#done = t;
          this.#runSlot(t);
        }
      }
    } finally {
      this.#running = false;
    }
    this.#armedFor = -1;
    if (this.#pending > 0) this.#armNext();
    else this.#driver.disarm();
  }

  /** Fires the live entries of tick `t`'s slot, in the order set; keeps later turns' ones. */
  #runSlot(t: number): void {
    const slot = t & this.#mask;
    const list = this.#slots[slot];
    if (list === undefined) return;
    // Timers set by the callbacks below never land on this tick (see runDue); any that land
    // in this slot for a later turn go to a fresh array, merged back after the loop.
    this.#slots[slot] = undefined;
    let keep: WheelEntry[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const fn = e.fn;
      if (fn === undefined) continue;
      if (e.tick > t) {
        (keep ??= []).push(e);
        continue;
      }
      this.#fire(e, fn);
    }
    if (keep !== undefined) {
      const added = this.#slots[slot];
      this.#slots[slot] = added === undefined ? keep : keep.concat(added);
    }
  }

  /**
   * More than one turn behind (the event loop stalled): every slot holds entries of several
   * ticks, so everything due by `target` is gathered and fired in due order.
   */
  #catchUp(target: number): void {
    this.#done = target;
    const due: WheelEntry[] = [];
    for (let slot = 0; slot <= this.#mask; slot++) {
      const list = this.#slots[slot];
      if (list === undefined) continue;
      let keep: WheelEntry[] | undefined;
      for (const e of list) {
        if (e.fn === undefined) continue;
        if (e.tick <= target) due.push(e);
        else (keep ??= []).push(e);
      }
      this.#slots[slot] = keep;
    }
    due.sort((a, b) => a.tick - b.tick); // stable: same tick keeps the order set
    for (const e of due) if (e.fn !== undefined) this.#fire(e, e.fn);
  }

  #fire(e: WheelEntry, fn: () => void): void {
    e.fn = undefined;
    this.#pending--;
    try {
      fn();
    } catch {
      // A throwing callback must not stop the others (transactions contain their own errors).
    }
  }

  #onHostTimer(): void {
    this.#armedFor = -1;
    this.runDue();
  }

  /**
   * Arms the host timer for the earliest live entry, scanning forward from the next tick and
   * stopping at the first slot with an entry due in this turn. Emptied slots are released.
   */
  #armNext(): void {
    let earliest = Infinity;
    for (let k = 1; k <= this.#mask + 1; k++) {
      const t = this.#done + k;
      const slot = t & this.#mask;
      const list = this.#slots[slot];
      if (list === undefined) continue;
      let live = false;
      for (const e of list) {
        if (e.fn === undefined) continue;
        live = true;
        if (e.tick < earliest) earliest = e.tick;
      }
      if (!live) this.#slots[slot] = undefined;
      if (earliest <= t) break;
    }
    if (earliest !== Infinity) this.#arm(earliest);
  }

  #arm(tick: number): void {
    this.#armedFor = tick;
    const ms = tick * this.resolutionMs - this.#driver.monotonic();
    this.#driver.arm(Math.max(0, Math.ceil(ms)), this.#run);
  }
}

/** The Node host timer for a wheel: one unref'd `setTimeout`, re-armed as needed. */
export function nodeWheelDriver(): WheelDriver {
  let handle: ReturnType<typeof setTimeout> | undefined;
  return {
    monotonic: () => performance.now(),
    now: () => Date.now(),
    arm(ms, fn) {
      if (handle !== undefined) clearTimeout(handle);
      handle = setTimeout(fn, ms);
      handle.unref?.();
    },
    disarm() {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}
