/**
 * Admission control (issue #18 item 3, docs/sbc.md "Admission control and QoS"): a pure ledger of
 * the live calls, asked once per new call (after routing, before any media is allocated) and told
 * once when the call ends. Every limit is off until configured (unset or 0):
 *
 *   scope     limit        answer
 *   sbc       calls, cps   503 + Retry-After
 *   zone      calls, cps   503 + Retry-After   (a call counts in its A zone and its B zone)
 *   zone      bandwidth    503 + Retry-After   (kb/s from the SDP offer, bandwidth.ts)
 *   trunk     calls, cps   503 + Retry-After
 *   media     ports        503 + Retry-After   (the engine's free ports below `minFreePorts`)
 *   account   calls        486 Busy Here       (the account's own channels are in use)
 *   account   cps          503 + Retry-After   (a rate: retry later, as fraud.ts's callsPerMinute)
 *
 * RFC 3261 §21.5.4: 503 "the server is temporarily unable to process the request due to a
 * temporary overloading … the server MAY indicate when the client should retry the request in a
 * Retry-After header field" (§20.33). §21.4.24 486: "the callee's end system was contacted
 * successfully but the callee is currently not willing or able to take additional calls".
 *
 * Emergency calls are never refused. `reserved` calls of the SBC's and each zone's `calls` limit
 * are kept for them (an ordinary call is refused at `max - reserved`); an emergency call that finds
 * a limit full even so is admitted and names the newest ordinary call in that scope as `preempt`,
 * which the SBC ends (RFC 4411 §3.3 Reason `preemption`). Calls per second are a sliding 1 s
 * window; refused attempts do not count. Time comes in as `now` (an injected clock).
 */

export interface RateLimits {
  /** Concurrent calls; 0 or unset: no limit. */
  readonly maxCalls?: number;
  /** Calls started in any 1 s; 0 or unset: no limit. */
  readonly callsPerSecond?: number;
}

export interface ZoneAdmission extends RateLimits {
  /** kb/s of media of the zone's live calls (each call's SDP offer); 0 or unset: no limit. */
  readonly bandwidthKbps?: number;
}

export interface AdmissionSpec extends RateLimits {
  readonly zones?: Readonly<Record<string, ZoneAdmission>>;
  readonly trunks?: Readonly<Record<string, RateLimits>>;
  /** Each account's own limits (the authenticated user, else the From user), SBC-wide. */
  readonly accounts?: RateLimits;
  /** Refuse a call when the media engine has fewer free ports than this after it; 0: off. */
  readonly minFreeMediaPorts?: number;
  /** Seconds in a 503's Retry-After for calls, bandwidth and ports (cps: the window). Default 5. */
  readonly retryAfterSeconds?: number;
}

export type AdmissionScope = 'sbc' | 'zone' | 'trunk' | 'account' | 'media';
export type AdmissionLimit = 'calls' | 'cps' | 'bandwidth' | 'ports';

export interface AdmissionRequest {
  /** The call's id (released with it). */
  readonly key: string;
  /** The zones the call's legs are in (A's, B's; one when both are the same). */
  readonly zones: readonly string[];
  readonly trunk?: string;
  readonly account?: string;
  readonly kbps: number;
  readonly emergency: boolean;
  /** Ports the call's media takes in the engine, and how many the engine has free. */
  readonly ports?: { readonly needed: number; readonly free: number | undefined };
}

export type AdmissionDecision =
  | {
      readonly ok: true;
      /** An emergency call over a full limit: the call to end for it (newest ordinary one). */
      readonly preempt?: string;
    }
  | {
      readonly ok: false;
      readonly status: 503 | 486;
      readonly scope: AdmissionScope;
      readonly limit: AdmissionLimit;
      /** Seconds for Retry-After (503 only). */
      readonly retryAfter?: number;
      /** The limit that refused, for the log (`zone public calls 10`). */
      readonly rule: string;
    };

interface Live {
  readonly key: string;
  readonly zones: readonly string[];
  readonly trunk: string | undefined;
  readonly account: string | undefined;
  readonly kbps: number;
  readonly emergency: boolean;
  readonly seq: number;
}

/** A live counter and the start times of the last second, for one scope. */
interface Tally {
  calls: number;
  kbps: number;
  starts: number[];
}

const WINDOW_MS = 1000;
/** Past this many tallies, idle ones (no live call) are swept before a new one is kept. */
const MAX_TALLIES = 100_000;

interface Scope {
  readonly id: string;
  readonly scope: AdmissionScope;
  readonly label: string;
  readonly limits: ZoneAdmission;
  /** The SBC's and the zones' call limits keep `reserved` calls for emergency calls. */
  readonly reservable: boolean;
}

export interface AdmissionCounters {
  admitted: number;
  emergency: number;
  preempted: number;
  /** Refusals by `scope:limit` (`zone:calls`, `account:cps` …). */
  readonly rejected: Record<string, number>;
}

export class AdmissionLedger {
  readonly counters: AdmissionCounters = { admitted: 0, emergency: 0, preempted: 0, rejected: {} };
  #spec: AdmissionSpec;
  #reserved: number;
  readonly #live = new Map<string, Live>();
  readonly #tallies = new Map<string, Tally>();
  #seq = 0;

  constructor(spec: AdmissionSpec = {}, reserved = 0) {
    this.#spec = spec;
    this.#reserved = reserved;
  }

  /** New limits (a reload): live calls keep counting; the next call meets the new limits. */
  configure(spec: AdmissionSpec, reserved: number): void {
    this.#spec = spec;
    this.#reserved = reserved;
  }

  get spec(): AdmissionSpec {
    return this.#spec;
  }

  /** Calls of the SBC's and zones' maxCalls kept for emergency calls. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Live calls admitted (not yet released). */
  get size(): number {
    return this.#live.size;
  }

  /** What each scope holds now (REST, tests): calls and kb/s by `sbc`, `zone:x`, `trunk:x`, `account:x`. */
  snapshot(): Record<string, { calls: number; kbps: number }> {
    const out: Record<string, { calls: number; kbps: number }> = {};
    for (const [k, t] of this.#tallies)
      if (t.calls > 0 || t.kbps > 0) out[k] = { calls: t.calls, kbps: t.kbps };
    return out;
  }

  /** Decides a new call; when admitted it counts until `release(key)`. */
  admit(r: AdmissionRequest, now: number): AdmissionDecision {
    if (this.#live.has(r.key)) return { ok: true }; // asked twice: counted once
    const s = this.#spec;
    const retry = Math.max(1, Math.floor(s.retryAfterSeconds ?? 5));
    const scopes = this.#scopes(r);
    let preempt: string | undefined;
    for (const sc of scopes) {
      const t = this.#tally(sc.id, now);
      const reserve = sc.reservable && !r.emergency ? this.#reserved : 0;
      if (sc.limits.maxCalls && t.calls >= sc.limits.maxCalls - reserve) {
        if (r.emergency) {
          if (sc.reservable && t.calls >= sc.limits.maxCalls) preempt ??= this.#newestOrdinary(sc);
          continue;
        }
        return this.#refuse(sc.scope, 'calls', sc.scope === 'account' ? 486 : 503, retry, {
          rule: `${sc.label} maxCalls ${sc.limits.maxCalls}${reserve ? ` (${reserve} reserved)` : ''}`,
        });
      }
      if (!r.emergency && sc.limits.callsPerSecond && t.starts.length >= sc.limits.callsPerSecond) {
        const oldest = t.starts[0] as number;
        return this.#refuse(
          sc.scope,
          'cps',
          503,
          Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)),
          {
            rule: `${sc.label} callsPerSecond ${sc.limits.callsPerSecond}`,
          },
        );
      }
      const budget = sc.limits.bandwidthKbps;
      if (!r.emergency && budget && t.kbps + r.kbps > budget)
        return this.#refuse(sc.scope, 'bandwidth', 503, retry, {
          rule: `${sc.label} bandwidthKbps ${budget} (${t.kbps} in use, the call needs ${r.kbps})`,
        });
    }
    const minFree = s.minFreeMediaPorts ?? 0;
    if (!r.emergency && minFree > 0 && r.ports && r.ports.free !== undefined) {
      if (r.ports.free - r.ports.needed < minFree)
        return this.#refuse('media', 'ports', 503, retry, {
          rule: `minFreeMediaPorts ${minFree} (${r.ports.free} free, the call needs ${r.ports.needed})`,
        });
    }
    const live: Live = {
      key: r.key,
      zones: [...new Set(r.zones)],
      trunk: r.trunk,
      account: r.account,
      kbps: Math.max(0, r.kbps),
      emergency: r.emergency,
      seq: ++this.#seq,
    };
    this.#live.set(r.key, live);
    for (const sc of scopes) {
      const t = this.#tally(sc.id, now, true);
      t.calls++;
      t.kbps += live.kbps;
      if (sc.limits.callsPerSecond) t.starts.push(now);
    }
    this.counters.admitted++;
    if (r.emergency) this.counters.emergency++;
    if (preempt !== undefined) this.counters.preempted++;
    return preempt !== undefined ? { ok: true, preempt } : { ok: true };
  }

  /** The call ended: it no longer counts anywhere. Idempotent (a second call does nothing). */
  release(key: string): void {
    const live = this.#live.get(key);
    if (!live) return;
    this.#live.delete(key);
    for (const id of this.#idsOf(live)) {
      const t = this.#tallies.get(id);
      if (!t) continue;
      t.calls = Math.max(0, t.calls - 1);
      t.kbps = Math.max(0, t.kbps - live.kbps);
      if (t.calls === 0 && t.starts.length === 0) this.#tallies.delete(id);
    }
  }

  #idsOf(l: Pick<Live, 'zones' | 'trunk' | 'account'>): string[] {
    return [
      'sbc',
      ...l.zones.map((z) => `zone:${z}`),
      ...(l.trunk !== undefined ? [`trunk:${l.trunk}`] : []),
      ...(l.account !== undefined ? [`account:${l.account}`] : []),
    ];
  }

  /** The scopes a call counts in, with their limits (always counted, even without limits). */
  #scopes(r: AdmissionRequest): Scope[] {
    const s = this.#spec;
    const out: Scope[] = [{ id: 'sbc', scope: 'sbc', label: 'sbc', limits: s, reservable: true }];
    for (const z of new Set(r.zones))
      out.push({
        id: `zone:${z}`,
        scope: 'zone',
        label: `zone ${z}`,
        limits: s.zones?.[z] ?? {},
        reservable: true,
      });
    if (r.trunk !== undefined)
      out.push({
        id: `trunk:${r.trunk}`,
        scope: 'trunk',
        label: `trunk ${r.trunk}`,
        limits: s.trunks?.[r.trunk] ?? {},
        reservable: false,
      });
    if (r.account !== undefined)
      out.push({
        id: `account:${r.account}`,
        scope: 'account',
        label: `account ${r.account}`,
        limits: s.accounts ?? {},
        reservable: false,
      });
    return out;
  }

  /** The newest ordinary (non-emergency) live call counted in the scope `id`. */
  #newestOrdinary(sc: { id: string }): string | undefined {
    let best: Live | undefined;
    for (const l of this.#live.values()) {
      if (l.emergency || !this.#idsOf(l).includes(sc.id)) continue;
      if (!best || l.seq > best.seq) best = l;
    }
    return best?.key;
  }

  /** A scope's tally (a fresh one is kept only when `keep`: a refusal leaves nothing behind). */
  #tally(id: string, now: number, keep = false): Tally {
    let t = this.#tallies.get(id);
    if (!t) {
      t = { calls: 0, kbps: 0, starts: [] };
      if (keep) {
        if (this.#tallies.size >= MAX_TALLIES) this.#sweep(now);
        this.#tallies.set(id, t);
      }
    } else if (t.starts.length > 0) {
      const keep = t.starts.findIndex((x) => now - x < WINDOW_MS);
      t.starts = keep < 0 ? [] : t.starts.slice(keep);
    }
    return t;
  }

  /** Tallies with no live call and no start in the window go. */
  #sweep(now: number): void {
    for (const [id, t] of this.#tallies) {
      t.starts = t.starts.filter((x) => now - x < WINDOW_MS);
      if (t.calls === 0 && t.starts.length === 0) this.#tallies.delete(id);
    }
  }

  #refuse(
    scope: AdmissionScope,
    limit: AdmissionLimit,
    status: 503 | 486,
    retryAfter: number,
    d: { rule: string },
  ): AdmissionDecision {
    const k = `${scope}:${limit}`;
    this.counters.rejected[k] = (this.counters.rejected[k] ?? 0) + 1;
    return {
      ok: false,
      status,
      scope,
      limit,
      ...(status === 503 && { retryAfter }),
      rule: d.rule,
    };
  }
}
