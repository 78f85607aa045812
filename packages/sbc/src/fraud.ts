/**
 * Toll-fraud limits per account (the authenticated user; in a zone without digest, the From
 * user), per zone, off until configured. The `fraud` stage of the INVITE route asks `admit` after
 * `auth`, on the Request-URI user as the zone's normalization left it:
 *
 *   denied destination (a regex of `deniedDestinations` matches)  → 403 Forbidden
 *   calls per minute reached (sliding 60 s window)                → 503 + Retry-After
 *   concurrent calls of the account reached                       → 486 Busy Here
 *
 * Why those statuses (what carriers answer): a destination the account may never call is a
 * policy refusal, final for any retry (RFC 3261 §21.4.4 403: "Forbidden … the request SHOULD
 * NOT be repeated"); a call-rate (CPS) limit is temporary and the answer says when to retry
 * (§21.5.4 503 with Retry-After, §20.33), so a PBX spreads its retries rather than failing over;
 * a full channel count is the account being busy (§21.4.24 486), which phones show as busy
 * rather than as a failure. The maximum duration (`maxDurationMs`, from the answer) is the SBC's:
 * it sends BYE on both legs when it passes.
 *
 * Pure state with the clock's time passed in; `release` when a call ends. Bounded tables.
 */
import { compilePattern } from './pattern.js';

export interface FraudLimits {
  /** Concurrent calls of one account; 0 or unset: no limit. */
  readonly maxConcurrent?: number;
  /** Calls one account may start in any 60 s; 0 or unset: no limit. */
  readonly callsPerMinute?: number;
  /** Regular expressions on the normalized Request-URI user (`^\+1900`, `^00`): 403. */
  readonly deniedDestinations?: readonly string[];
  /** Longest call, from the answer; 0 or unset: no limit. */
  readonly maxDurationMs?: number;
}

export type FraudRefusal = 'denied-destination' | 'rate' | 'concurrent';

export type FraudDecision =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly status: 403 | 486 | 503;
      readonly reason: FraudRefusal;
      /** Seconds, for 503's Retry-After. */
      readonly retryAfter?: number;
      /** The rule that refused (a pattern or the limit). */
      readonly rule: string;
    };

export interface FraudCounters {
  admitted: number;
  refused: Record<FraudRefusal, number>;
  /** Calls ended by the SBC at the maximum duration. */
  maxDuration: number;
}

interface Account {
  /** Live calls (keys given to `admit`). */
  readonly live: Set<string>;
  /** Start times of the calls of the last 60 s, oldest first. */
  starts: number[];
}

const WINDOW_MS = 60_000;

export class FraudGuard {
  readonly counters: FraudCounters = {
    admitted: 0,
    refused: { 'denied-destination': 0, rate: 0, concurrent: 0 },
    maxDuration: 0,
  };
  readonly limits: FraudLimits;
  readonly #denied: ReadonlyArray<{ source: string; re: RegExp }>;
  readonly #accounts = new Map<string, Account>();
  readonly #max: number;

  constructor(limits: FraudLimits, where = 'fraud', maxAccounts = 100_000) {
    this.limits = limits;
    this.#max = maxAccounts;
    // Linear-time like every configured pattern (pattern.ts): a hostile rule cannot stall calls.
    this.#denied = (limits.deniedDestinations ?? []).map((source, i) => ({
      source,
      re: compilePattern(source, `${where}.deniedDestinations[${i}]`),
    }));
  }

  /** True when no limit is configured (the stage passes everything). */
  get off(): boolean {
    const l = this.limits;
    return !l.maxConcurrent && !l.callsPerMinute && this.#denied.length === 0 && !l.maxDurationMs;
  }

  get maxDurationMs(): number {
    return this.limits.maxDurationMs ?? 0;
  }

  /** Live calls of an account. */
  live(account: string): number {
    return this.#accounts.get(account)?.live.size ?? 0;
  }

  /**
   * Decides a new call of `account` to `user`; when admitted the call (`key`) counts toward the
   * account's live calls and rate until `release(account, key)`.
   */
  admit(account: string, key: string, user: string | undefined, now: number): FraudDecision {
    const l = this.limits;
    const dest = user ?? '';
    for (const d of this.#denied) {
      if (d.re.test(dest))
        return this.#refuse({ status: 403, reason: 'denied-destination', rule: d.source });
    }
    let a = this.#accounts.get(account);
    if (a) a.starts = a.starts.filter((t) => now - t < WINDOW_MS);
    if (l.callsPerMinute && a && a.starts.length >= l.callsPerMinute) {
      const oldest = a.starts[0] as number;
      return this.#refuse({
        status: 503,
        reason: 'rate',
        rule: `${l.callsPerMinute} calls per minute`,
        retryAfter: Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)),
      });
    }
    if (l.maxConcurrent && a && a.live.size >= l.maxConcurrent) {
      return this.#refuse({
        status: 486,
        reason: 'concurrent',
        rule: `${l.maxConcurrent} concurrent calls`,
      });
    }
    if (!a) {
      if (this.#accounts.size >= this.#max) this.#sweep(now);
      a = { live: new Set(), starts: [] };
      this.#accounts.set(account, a);
    }
    a.live.add(key);
    if (l.callsPerMinute) a.starts.push(now);
    this.counters.admitted++;
    return { ok: true };
  }

  /** The call ended: it no longer counts toward the account's live calls. Idempotent. */
  release(account: string, key: string): void {
    const a = this.#accounts.get(account);
    if (!a) return;
    a.live.delete(key);
    if (a.live.size === 0 && a.starts.length === 0) this.#accounts.delete(account);
  }

  #refuse(d: Omit<Extract<FraudDecision, { ok: false }>, 'ok'>): FraudDecision {
    this.counters.refused[d.reason]++;
    return { ok: false, ...d };
  }

  /** Accounts with no live call and no start in the window go. */
  #sweep(now: number): void {
    for (const [k, a] of this.#accounts) {
      a.starts = a.starts.filter((t) => now - t < WINDOW_MS);
      if (a.live.size === 0 && a.starts.length === 0) this.#accounts.delete(k);
    }
  }
}
