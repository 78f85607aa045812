/**
 * The two small mechanisms the language services share: a per-key token bucket (rate limits per
 * peer) and a least-recently-used cache (translations by text, from, to). Both are bounded and
 * take the time from an injected clock, so tests drive them without waiting.
 */

export type Now = () => number;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * `perMinute` tokens refill evenly over a minute, up to a burst of `perMinute`. Keys idle long
 * enough to be full again are forgotten; at most `maxKeys` keys are held (the oldest dropped).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perMinute: number,
    private readonly now: Now,
    private readonly maxKeys = 50_000,
  ) {}

  /** Takes `cost` tokens for `key`; false (and nothing taken) when there are not enough. */
  take(key: string, cost = 1): boolean {
    const t = this.now();
    const rate = this.perMinute / 60_000;
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * rate);
      b.at = t;
      this.buckets.delete(key); // re-inserted below: Map order = least recently used first
    } else {
      if (this.buckets.size >= this.maxKeys) this.sweep(t);
      b = { tokens: this.perMinute, at: t };
    }
    this.buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are there for `key` (0 when they are now). */
  retryAfterMs(key: string, cost = 1): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const have = Math.min(
      this.perMinute,
      b.tokens + (this.now() - b.at) * (this.perMinute / 60_000),
    );
    return have >= cost ? 0 : Math.ceil((cost - have) / (this.perMinute / 60_000));
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(t: number): void {
    const full = 60_000;
    for (const [k, b] of this.buckets) if (t - b.at >= full) this.buckets.delete(k);
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}

/** A least-recently-used map with a fixed capacity (0 = keeps nothing). */
export class LruCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }
}
