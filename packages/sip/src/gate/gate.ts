/**
 * The inbound gate of a SIP stack: protection of the exposed SIP port before the SBC exists: a per-source token bucket (like
 * Kamailio's `pike`), failed-authentication counters with timed bans
 * that escalate (like fail2ban on a Kamailio log, built in):
 *
 *   failures of one user from one source ≥ banAfter          → that user is banned from that
 *                                                               source (others behind it go on)
 *   failures from one source ≥ sourceBanAfter (5 × banAfter)  → the whole source is banned
 *
 * Failures during a (source, user) ban keep counting toward the source's threshold, and a
 * success there does not clear them, so a password cracker's address is still banned; a phone
 * that keeps failing at its retry rate (a few a minute) never reaches it, so it does not lock out
 * the office behind the same NAT. Ordinary failures are cleared by any success from the source.
 */

export interface GateOptions {
  /** Requests per second per source IP; 0 = unlimited. Burst is twice that. */
  readonly ratePerSecond: number;
  /** Failures of one user from one source within `windowMs` before that pair is banned; 0 = never ban. */
  readonly banAfter: number;
  /** Failures from one source (any users) within `windowMs` before the source is banned. Default 5 × banAfter. */
  readonly sourceBanAfter?: number;
  readonly banMs: number;
  /** Default 60 000. */
  readonly windowMs?: number;
  /** Most tracked sources/users per table. Default 100 000. */
  readonly maxEntries?: number;
  /** Called when a ban starts (metrics, logs). */
  readonly onBan?: (ban: Ban) => void;
}

export interface Ban {
  /** `ip`: the whole source; `user`: one user from one source (`source`). */
  readonly kind: 'ip' | 'user';
  /** The address (`ip`) or the username (`user`). */
  readonly value: string;
  /** For a `user` ban: the source address it applies to. */
  readonly source?: string;
  /** Why, for the console: how many failures, from where, for whom. */
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
  /** Source counters: failures of users banned from this source (a success never clears them). */
  sticky?: number;
  windowStart: number;
  /** Usernames seen failing (source counters only; at most a few, for the ban's reason). */
  users?: Set<string>;
}

export class Gate {
  readonly #opts: Required<Omit<GateOptions, 'onBan'>>;
  readonly #onBan: (ban: Ban) => void;
  readonly #buckets = new Map<string, Bucket>();
  readonly #sourceFailures = new Map<string, Failures>();
  readonly #pairFailures = new Map<string, Failures>();
  readonly #bans = new Map<string, Ban>();

  constructor(options: GateOptions) {
    const { onBan, ...rest } = options;
    this.#opts = {
      windowMs: 60_000,
      maxEntries: 100_000,
      sourceBanAfter: options.banAfter * 5,
      ...rest,
    };
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

  /** The ban on this source address, if one is in force. */
  banned(kind: 'ip', ip: string, now: number): Ban | undefined {
    return this.#inForce(`ip:${ip}`, now);
  }

  /** The ban on this user from this source, if one is in force. */
  bannedUser(ip: string, username: string, now: number): Ban | undefined {
    return this.#inForce(pairKey(ip, username), now);
  }

  /**
   * Counts a failed authentication (a wrong password, an unknown user, a forged nonce; never a
   * digest `uri` that names the wrong resource). May start a (source, user) or a source ban.
   */
  recordFailure(ip: string, username: string | undefined, now: number): void {
    if (this.#opts.banAfter <= 0) return;
    const window = Math.round(this.#opts.windowMs / 1000);
    const user = username !== undefined && username.length <= 128 ? username : undefined;
    const pairBanned = user !== undefined && this.bannedUser(ip, user, now) !== undefined;
    if (user !== undefined && !pairBanned) {
      const key = pairKey(ip, user);
      const n = this.#count(this.#pairFailures, key, now, undefined);
      if (n >= this.#opts.banAfter) {
        this.#ban(
          key,
          { kind: 'user', value: user, source: ip },
          `${n} failed authentications for ${user} from ${ip} within ${window} s`,
          now,
        );
        this.#pairFailures.delete(key);
      }
    }
    const f = this.#count(this.#sourceFailures, ip, now, user, pairBanned);
    if (f >= this.#opts.sourceBanAfter) {
      const failures = this.#sourceFailures.get(ip);
      const users = [...(failures?.users ?? [])];
      this.#ban(
        `ip:${ip}`,
        { kind: 'ip', value: ip },
        `${f} failed authentications from this address within ${window} s` +
          (users.length > 0
            ? ` (users: ${users.join(', ')}${users.length >= 8 ? ', …' : ''})`
            : ''),
        now,
      );
      this.#sourceFailures.delete(ip);
    }
  }

  /**
   * A success clears that user's counter from that source, and the source's ordinary failures
   * (a user who mistyped, a nonce lost under load, among many who succeed); the failures of users
   * banned from this source stay, so a cracker's address is banned whoever else succeeds there.
   */
  recordSuccess(ip: string, username?: string): void {
    if (username !== undefined) this.#pairFailures.delete(pairKey(ip, username));
    const f = this.#sourceFailures.get(ip);
    if (f) f.count = 0;
  }

  list(now: number): Ban[] {
    const out: Ban[] = [];
    for (const [key, ban] of this.#bans) {
      if (ban.until <= now) this.#bans.delete(key);
      else out.push(ban);
    }
    return out;
  }

  /** Lifts a source ban, or every ban of a user (from any source). True when one was lifted. */
  lift(kind: 'ip' | 'user', value: string): boolean {
    let lifted = false;
    if (kind === 'ip') {
      lifted = this.#bans.delete(`ip:${value}`);
      this.#sourceFailures.delete(value);
      return lifted;
    }
    for (const [key, ban] of this.#bans) {
      if (ban.kind === 'user' && ban.value === value) {
        this.#bans.delete(key);
        this.#pairFailures.delete(key);
        lifted = true;
      }
    }
    return lifted;
  }

  #inForce(key: string, now: number): Ban | undefined {
    if (this.#bans.size === 0) return undefined;
    const ban = this.#bans.get(key);
    if (!ban) return undefined;
    if (ban.until <= now) {
      this.#bans.delete(key);
      return undefined;
    }
    return ban;
  }

  #count(
    table: Map<string, Failures>,
    key: string,
    now: number,
    user: string | undefined,
    sticky = false,
  ): number {
    let f = table.get(key);
    if (!f || now - f.windowStart > this.#opts.windowMs) {
      if (!f && table.size >= this.#opts.maxEntries) table.delete(table.keys().next().value!);
      f = { count: 0, windowStart: now };
      table.set(key, f);
    }
    if (sticky) f.sticky = (f.sticky ?? 0) + 1;
    else f.count++;
    if (user !== undefined) {
      f.users ??= new Set();
      if (f.users.size < 8) f.users.add(user);
    }
    return f.count + (f.sticky ?? 0);
  }

  #ban(
    key: string,
    who: Pick<Ban, 'kind' | 'value' | 'source'>,
    reason: string,
    now: number,
  ): void {
    const ban: Ban = { ...who, reason, since: now, until: now + this.#opts.banMs };
    if (this.#bans.size >= this.#opts.maxEntries)
      this.#bans.delete(this.#bans.keys().next().value!);
    this.#bans.set(key, ban);
    this.#onBan(ban);
  }

  #sweepBuckets(now: number): void {
    for (const [ip, b] of this.#buckets) if (now - b.at > 10_000) this.#buckets.delete(ip);
    while (this.#buckets.size >= this.#opts.maxEntries) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }
}

function pairKey(ip: string, username: string): string {
  return `user:${username}\u0000${ip}`;
}
