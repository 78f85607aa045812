/**
 * Rate limits as token buckets, driven by the caller's clock (tests pass fake times).
 *
 * - `TokenBucket`: `capacity` tokens, refilled at `ratePerSecond`; `take()` spends one.
 * - `KeyedLimiter`: one bucket per key (an IP address), with a bounded number of keys: when full,
 *   buckets that have refilled completely (idle keys) are dropped.
 * - `Counter`: counts per key (connections per IP), forgetting keys at zero.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Spends `n` tokens if there are that many; false (nothing spent) otherwise. */
  take(now: number, n = 1): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Tokens available at `now`. */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** True when the bucket is back to full (an idle key). */
  isFull(now: number): boolean {
    return this.available(now) >= this.capacity;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }
}

export class KeyedLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly capacity: number,
    private readonly ratePerSecond: number,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      // Still full of busy keys: refuse rather than grow without bound.
      if (this.buckets.size >= this.maxKeys) return false;
      bucket = new TokenBucket(this.capacity, this.ratePerSecond, now);
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  /** Drops idle keys (full buckets). */
  sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}

export class Counter {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  increment(key: string): number {
    const n = this.get(key) + 1;
    this.counts.set(key, n);
    return n;
  }

  decrement(key: string): number {
    const n = this.get(key) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
    return Math.max(0, n);
  }

  get size(): number {
    return this.counts.size;
  }
}
