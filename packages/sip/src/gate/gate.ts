/**
 * The inbound gate of a SIP stack: protection of the exposed SIP port before the SBC exists: a per-source token bucket (like
 * Kamailio's `pike`), failed-authentication counters per source IP and per username with timed
 * bans (like fail2ban on a Kamailio log, built in). All state is bounded: a scanner spraying
 * addresses or usernames cannot grow it without limit.
 */

export interface GateOptions {
  /** Requests per second per source IP; 0 = unlimited. Burst is twice that. */
  readonly ratePerSecond: number;
  /** Failures within `windowMs` before a ban; 0 = never ban. */
  readonly banAfter: number;
  readonly banMs: number;
  /** Default 60 000. */
  readonly windowMs?: number;
  /** Most tracked sources/users per table. Default 100 000. */
  readonly maxEntries?: number;
  /** Called when a ban starts (metrics, logs). */
  readonly onBan?: (ban: Ban) => void;
}

export interface Ban {
  readonly kind: 'ip' | 'user';
  readonly value: string;
  readonly reason: string;
  readonly since: number;
  readonly until: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

interface Failures {
  count: number;
  windowStart: number;
}

export class Gate {
  readonly #opts: Required<Omit<GateOptions, 'onBan'>>;
  readonly #onBan: (ban: Ban) => void;
  readonly #buckets = new Map<string, Bucket>();
  readonly #ipFailures = new Map<string, Failures>();
  readonly #userFailures = new Map<string, Failures>();
  readonly #bans = new Map<string, Ban>();
  constructor(options: GateOptions) {
    const { onBan, ...rest } = options;
    this.#opts = { windowMs: 60_000, maxEntries: 100_000, ...rest };
    this.#onBan = onBan ?? (() => {});
  }

  /** Token bucket: false when this source is over its rate (drop the request). */
  admit(ip: string, now: number): boolean {
    const rate = this.#opts.ratePerSecond;
    if (rate <= 0) return true;
    const burst = rate * 2;
    let b = this.#buckets.get(ip);
    if (!b) {
      if (this.#buckets.size >= this.#opts.maxEntries) this.#sweepBuckets(now);
      b = { tokens: burst, at: now };
      this.#buckets.set(ip, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The ban on this IP or user, if one is in force. */
  banned(kind: 'ip' | 'user', value: string, now: number): Ban | undefined {
    if (this.#bans.size === 0) return undefined;
    const key = `${kind}:${value}`;
    const ban = this.#bans.get(key);
    if (!ban) return undefined;
    if (ban.until <= now) {
      this.#bans.delete(key);
      return undefined;
    }
    return ban;
  }

  /** Counts a failed authentication; may start bans. */
  recordFailure(ip: string, username: string | undefined, now: number): void {
    if (this.#opts.banAfter <= 0) return;
    if (this.#count(this.#ipFailures, ip, now) >= this.#opts.banAfter) {
      this.#ban('ip', ip, 'failed authentications from this address', now);
      this.#ipFailures.delete(ip);
    }
    if (username !== undefined && username.length <= 128) {
      if (this.#count(this.#userFailures, username, now) >= this.#opts.banAfter) {
        this.#ban('user', username, 'failed authentications for this user', now);
        this.#userFailures.delete(username);
      }
    }
  }

  /** A success clears the source's counter (not the user's: a scanner may know one password). */
  recordSuccess(ip: string): void {
    this.#ipFailures.delete(ip);
  }

  list(now: number): Ban[] {
    const out: Ban[] = [];
    for (const [key, ban] of this.#bans) {
      if (ban.until <= now) this.#bans.delete(key);
      else out.push(ban);
    }
    return out;
  }

  lift(kind: 'ip' | 'user', value: string): boolean {
    const lifted = this.#bans.delete(`${kind}:${value}`);
    if (kind === 'ip') this.#ipFailures.delete(value);
    else this.#userFailures.delete(value);
    return lifted;
  }

  #count(table: Map<string, Failures>, key: string, now: number): number {
    let f = table.get(key);
    if (!f || now - f.windowStart > this.#opts.windowMs) {
      if (!f && table.size >= this.#opts.maxEntries) table.delete(table.keys().next().value!);
      f = { count: 0, windowStart: now };
      table.set(key, f);
    }
    f.count++;
    return f.count;
  }

  #ban(kind: 'ip' | 'user', value: string, reason: string, now: number): void {
    const ban: Ban = { kind, value, reason, since: now, until: now + this.#opts.banMs };
    if (this.#bans.size >= this.#opts.maxEntries)
      this.#bans.delete(this.#bans.keys().next().value!);
    this.#bans.set(`${kind}:${value}`, ban);
    this.#onBan(ban);
  }

  #sweepBuckets(now: number): void {
    for (const [ip, b] of this.#buckets) if (now - b.at > 10_000) this.#buckets.delete(ip);
    while (this.#buckets.size >= this.#opts.maxEntries) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }
}
