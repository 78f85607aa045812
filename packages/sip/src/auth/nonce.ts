/**
 * Server nonces for digest authentication: self-validating, expiring, replay-checked and
 * bounded in memory.
 *
 * A nonce is `ts(12 hex) rand(16 hex) mac(32 hex)`, where `mac` is HMAC-SHA-256 (truncated to
 * 128 bits) over the timestamp and random part with a server secret. Issuing stores nothing, so
 * a flood of challenges costs no memory, and a restart with the same secret still accepts
 * nonces issued before it (RFC 7616 §3.3 suggests exactly this: "time-stamp H(time-stamp ":"
 * ETag ":" secret-data)").
 *
 * Only nonces that authenticated a request are tracked (to refuse a replayed nonce-count);
 * the table is an LRU capped at `maxTracked`. When an entry is evicted the manager remembers
 * the newest issue time it has forgotten: any untracked nonce issued at or before that moment
 * might have been used already, so it is answered `stale` (the client re-authenticates
 * silently with a fresh nonce) rather than trusted. That keeps replay protection exact under
 * eviction pressure without unbounded memory.
 */
import { constantTimeEqual } from './digest.js';

/** The randomness and MAC this manager needs; `./node-crypto.ts` provides them. */
export interface NonceCrypto {
  /** HMAC-SHA-256 of UTF-8 `data` under `key`, lower-case hex. */
  hmacSha256(key: string, data: string): string;
  /** `bytes` random bytes as lower-case hex. */
  randomHex(bytes: number): string;
}

export interface NonceClock {
  /** Milliseconds since the epoch (or any monotonic origin shared by all nodes using a secret). */
  now(): number;
}

export interface NonceManagerOptions {
  /** Server secret; persist it (and share it across nodes) for nonces to survive restarts. */
  readonly secret: string;
  readonly crypto: NonceCrypto;
  /** Default: `Date`. */
  readonly clock?: NonceClock;
  /** Nonce lifetime in ms; older nonces are answered `stale`. Default 300 000 (5 min). */
  readonly ttlMs?: number;
  /** Most nonces whose nonce-counts are tracked at once. Default 10 000. */
  readonly maxTracked?: number;
  /** Tolerated clock skew for nonces from another node, in ms. Default 30 000. */
  readonly maxSkewMs?: number;
}

/** `valid`: ours and fresh; `stale`: ours but expired (re-challenge with stale=true). */
export type NonceStatus = 'valid' | 'stale' | 'invalid';
export type NonceUse = 'ok' | 'stale' | 'invalid' | 'replay';

/** How many nonce-counts below the highest seen may still arrive (out of order) once. */
const REPLAY_WINDOW = 32;
const NONCE_RE = /^[0-9a-f]{60}$/;

interface Tracked {
  readonly issuedAt: number;
  highest: number;
  /** Bit k set: nonce-count `highest - k` has been used. */
  mask: number;
}

export interface NonceCounters {
  issued: number;
  accepted: number;
  stale: number;
  invalid: number;
  replays: number;
  evicted: number;
}

export class NonceManager {
  readonly ttlMs: number;
  readonly maxTracked: number;
  readonly counters: NonceCounters = {
    issued: 0,
    accepted: 0,
    stale: 0,
    invalid: 0,
    replays: 0,
    evicted: 0,
  };
  readonly #secret: string;
  readonly #crypto: NonceCrypto;
  readonly #clock: NonceClock;
  readonly #maxSkewMs: number;
  readonly #tracked = new Map<string, Tracked>();
  /** Newest issue time among evicted entries: untracked nonces at or before it are stale. */
  #forgottenUpTo = -Infinity;
  #lastSweep = 0;

  constructor(options: NonceManagerOptions) {
    if (!options.secret || options.secret.length < 16) {
      throw new RangeError('nonce secret must be at least 16 characters');
    }
    this.#secret = options.secret;
    this.#crypto = options.crypto;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.ttlMs = options.ttlMs ?? 300_000;
    this.maxTracked = Math.max(1, options.maxTracked ?? 10_000);
    this.#maxSkewMs = options.maxSkewMs ?? 30_000;
  }

  /** Number of nonces whose counts are tracked now (bounded by `maxTracked`). */
  get trackedCount(): number {
    return this.#tracked.size;
  }

  /** Issues a fresh nonce. Stores nothing. */
  issue(): string {
    const ts = Math.floor(this.#clock.now());
    const tsHex = Math.max(0, ts).toString(16).padStart(12, '0').slice(-12);
    const body = tsHex + this.#crypto.randomHex(8);
    this.counters.issued++;
    return body + this.#mac(body);
  }

  /** Checks a nonce's authenticity and age without recording a use. */
  inspect(nonce: string): NonceStatus {
    const issuedAt = this.#verify(nonce);
    if (issuedAt === undefined) return 'invalid';
    const now = this.#clock.now();
    if (issuedAt > now + this.#maxSkewMs) return 'invalid';
    if (now - issuedAt > this.ttlMs) return 'stale';
    if (!this.#tracked.has(nonce) && issuedAt <= this.#forgottenUpTo) return 'stale';
    return 'valid';
  }

  /**
   * Records one use of (nonce, nc) after the request's digest verified. Refuses a pair already
   * used, or a count that fell more than {@link REPLAY_WINDOW} below the highest seen.
   * Atomic: with an async credential lookup between inspect() and consume(), two copies of the
   * same request cannot both pass.
   */
  consume(nonce: string, ncHex: string): NonceUse {
    const status = this.inspect(nonce);
    if (status !== 'valid') {
      if (status === 'stale') this.counters.stale++;
      else this.counters.invalid++;
      return status;
    }
    if (!/^[0-9a-fA-F]{8}$/.test(ncHex)) {
      this.counters.invalid++;
      return 'invalid';
    }
    const nc = Number.parseInt(ncHex, 16);
    if (nc === 0) {
      this.counters.invalid++;
      return 'invalid';
    }
    this.#maybeSweep();
    const entry = this.#tracked.get(nonce);
    if (!entry) {
      this.#tracked.set(nonce, { issuedAt: this.#issuedAt(nonce), highest: nc, mask: 1 });
      this.#evictOverflow();
      this.counters.accepted++;
      return 'ok';
    }
    if (nc > entry.highest) {
      const shift = nc - entry.highest;
      entry.mask = shift >= REPLAY_WINDOW ? 1 : ((entry.mask << shift) | 1) >>> 0;
      entry.highest = nc;
    } else {
      const back = entry.highest - nc;
      if (back >= REPLAY_WINDOW || ((entry.mask >>> back) & 1) === 1) {
        this.counters.replays++;
        return 'replay';
      }
      entry.mask = (entry.mask | (1 << back)) >>> 0;
    }
    // LRU: re-insert so the most recently used entry is last.
    this.#tracked.delete(nonce);
    this.#tracked.set(nonce, entry);
    this.counters.accepted++;
    return 'ok';
  }

  #mac(body: string): string {
    return this.#crypto.hmacSha256(this.#secret, `tfx-nonce:${body}`).slice(0, 32);
  }

  #issuedAt(nonce: string): number {
    return Number.parseInt(nonce.slice(0, 12), 16);
  }

  /** Returns the issue time of an authentic nonce, undefined otherwise. */
  #verify(nonce: string): number | undefined {
    if (typeof nonce !== 'string' || !NONCE_RE.test(nonce)) return undefined;
    const body = nonce.slice(0, 28);
    if (!constantTimeEqual(this.#mac(body), nonce.slice(28))) return undefined;
    return this.#issuedAt(nonce);
  }

  #evictOverflow(): void {
    while (this.#tracked.size > this.maxTracked) {
      const oldest = this.#tracked.entries().next().value;
      if (!oldest) break;
      const [key, entry] = oldest;
      this.#tracked.delete(key);
      this.#forgottenUpTo = Math.max(this.#forgottenUpTo, entry.issuedAt);
      this.counters.evicted++;
    }
  }

  /** Drops expired entries (they answer `stale` by age anyway) at most every ttl/4. */
  #maybeSweep(): void {
    const now = this.#clock.now();
    if (now - this.#lastSweep < this.ttlMs / 4) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#tracked) {
      if (now - entry.issuedAt > this.ttlMs) this.#tracked.delete(key);
    }
  }
}
