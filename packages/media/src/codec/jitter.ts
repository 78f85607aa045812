/**
 * A small reorder/jitter buffer keyed by RTP sequence number (RFC 3550 §A.1 extension of the
 * 16-bit number across wraps). Pure: no clock; it is driven by arrivals.
 *
 * In-order packets pass through at once (no added delay). When a sequence number is missing the
 * buffer waits until `depth` later packets are queued, then gives the gap up as lost (the caller
 * conceals it) — so reordering within `depth` packets is repaired. Bounded: at most `capacity`
 * packets are held. Counted drops: `late` (its slot was already played or concealed) and
 * `duplicate` (already queued). A jump beyond `capacity` either way is a sequence restart
 * (RFC 3550 §A.1 "probation" idea, simplified): the queue is played out and the new number adopted.
 */

export interface JitterBufferOptions {
  /** Packets queued behind a hole before the hole is declared lost (default 3, ≥ 1). */
  readonly depth?: number;
  /** Most packets held; a larger jump is a restart (default 32, ≥ depth + 1). */
  readonly capacity?: number;
}

/** One slot in play order; `payload === null` means lost (conceal it). */
export interface JitterSlot<T> {
  /** The 16-bit RTP sequence number of the slot. */
  readonly seq: number;
  readonly payload: T | null;
}

export interface JitterStats {
  pushed: number;
  played: number;
  lost: number;
  late: number;
  duplicate: number;
  restarts: number;
}

export class JitterBuffer<T> {
  readonly stats: JitterStats = {
    pushed: 0,
    played: 0,
    lost: 0,
    late: 0,
    duplicate: 0,
    restarts: 0,
  };
  private readonly depth: number;
  private readonly capacity: number;
  private readonly queue = new Map<number, T>();
  /** Extended sequence number expected next; undefined before the first packet. */
  private next: number | undefined;

  constructor(opts: JitterBufferOptions = {}) {
    this.depth = opts.depth ?? 3;
    this.capacity = opts.capacity ?? 32;
    if (!Number.isInteger(this.depth) || this.depth < 1 || this.depth > 1000)
      throw new RangeError(`jitter depth must be an integer 1..1000, got ${this.depth}`);
    if (!Number.isInteger(this.capacity) || this.capacity <= this.depth || this.capacity > 10000)
      throw new RangeError(
        `jitter capacity must be an integer in depth+1..10000, got ${this.capacity}`,
      );
  }

  /** Packets waiting in the queue. */
  get size(): number {
    return this.queue.size;
  }

  /** Adds one packet; returns the slots now ready, in order (lost ones with `payload: null`). */
  push(seq: number, payload: T): JitterSlot<T>[] {
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff)
      throw new RangeError(`RTP sequence number must be 0..65535, got ${seq}`);
    this.stats.pushed++;
    const out: JitterSlot<T>[] = [];
    if (this.next === undefined) this.next = seq;
    const diff = ((seq - (this.next & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const ext = this.next + diff;
    if (diff < -this.capacity || diff >= this.capacity) {
      this.stats.restarts++;
      this.drainAll(out);
      this.next = ext;
    } else if (diff < 0) {
      this.stats.late++;
      return out;
    }
    if (this.queue.has(ext)) {
      this.stats.duplicate++;
      return out;
    }
    this.queue.set(ext, payload);
    this.drain(out);
    return out;
  }

  /** Plays out everything queued (gaps between queued packets as lost), e.g. at the end of a call. */
  flush(): JitterSlot<T>[] {
    const out: JitterSlot<T>[] = [];
    this.drainAll(out);
    return out;
  }

  private drain(out: JitterSlot<T>[]): void {
    for (;;) {
      const n = this.next!;
      const p = this.queue.get(n);
      if (p !== undefined) {
        this.queue.delete(n);
        this.stats.played++;
        out.push({ seq: n & 0xffff, payload: p });
      } else if (this.queue.size >= this.depth) {
        this.stats.lost++;
        out.push({ seq: n & 0xffff, payload: null });
      } else return;
      this.next = n + 1;
    }
  }

  private drainAll(out: JitterSlot<T>[]): void {
    while (this.queue.size > 0) {
      const n = this.next!;
      const p = this.queue.get(n);
      if (p !== undefined) {
        this.queue.delete(n);
        this.stats.played++;
        out.push({ seq: n & 0xffff, payload: p });
      } else {
        this.stats.lost++;
        out.push({ seq: n & 0xffff, payload: null });
      }
      this.next = n + 1;
    }
  }
}
