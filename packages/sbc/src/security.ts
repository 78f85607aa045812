/**
 * The security stages of an untrusted zone: every request from the zone runs them, in this fixed
 * order, before any transaction exists (the stack's `screen` hook), like Kamailio's REQINIT route:
 *
 *   flood ─▶ scanner ─▶ limits
 *     │         │          │
 *   over N requests   a scanner's     larger than maxBytes: 513;
 *   in the window:    User-Agent:     Max-Forwards 0: 483
 *   banned, dropped   dropped         (stateless answers)
 *   silently until    silently
 *   the ban ends
 *
 * The zone's `acl` and `blacklist` stages (access.ts) run before these, in every zone. A flood
 * ban and an authentication ban of a source land on the SBC's blacklist with their reason and
 * expiry. Every decision is counted (`counters`, by stage and outcome) and logged with the
 * source. A trusted zone runs none of these. Pure policy on the `Route` runner of @tfx/sip; the clock is
 * injected.
 */
import {
  DONE,
  Gate,
  NEXT,
  Route,
  createResponse,
  type Clock,
  type Logger,
  type ReceiveContext,
  type SipRequest,
  type SipResponse,
  type Verdict,
} from '@tfx/sip';
import type { Blacklist } from './blacklist.js';

/** Per-zone security settings (defaults: `DEFAULT_SECURITY`). */
export interface ZoneSecurity {
  /** Requests from one source address within `floodWindowMs` before it is banned. */
  readonly floodRequests: number;
  readonly floodWindowMs: number;
  /** How long a flood ban lasts; requests from the source are dropped silently meanwhile. */
  readonly banMs: number;
  /** Largest request accepted, in bytes (beyond: 513). */
  readonly maxBytes: number;
  /** User-Agent values of known scanners, dropped silently. */
  readonly scanners: RegExp;
  /**
   * Failed digest authentications of one user from one source (within 60 s) before that pair is
   * banned; the source itself is banned past 5 × this many (the stack's Gate rule). 0 = never.
   */
  readonly authBanAfter: number;
}

/**
 * Defaults on an untrusted zone with nothing set: 400 requests in 2 s from one address (200/s,
 * as `sip.rateLimit`) bans it for 10 minutes; 8 KiB messages; the scanners sipvicious and its
 * clones announce (friendly-scanner, sipvicious, sipcli, VaxSIPUserAgent, sundayddr, iWar, SIVuS,
 * smap, sipsak's default is not one: operators use it).
 */
export const DEFAULT_SECURITY: ZoneSecurity = {
  floodRequests: 400,
  floodWindowMs: 2000,
  banMs: 600_000,
  maxBytes: 8192,
  authBanAfter: 10,
  scanners:
    /friendly-scanner|sipvicious|sipcli|vaxsipuseragent|sundayddr|iwar|sivus|\bsmap\b|sip-scan|pplsip/i,
};

/** One request on its way through the stages. */
interface Screened {
  readonly request: SipRequest;
  readonly ctx: ReceiveContext;
  readonly now: number;
  readonly source: string;
  /** Set by the last stage: every stage let the request on. */
  passed: boolean;
}

export type SecurityStage = 'flood' | 'scanner' | 'limits';

export interface SecurityCounters {
  /** Requests that passed every stage. */
  passed: number;
  /** Requests dropped or answered, by stage and outcome. */
  flood: { banned: number; dropped: number };
  /** Digest outcomes of out-of-dialog INVITEs (the SBC's auth stage) and auth bans. */
  auth: { challenged: number; failed: number; passed: number; banned: number };
  scanner: { dropped: number };
  limits: { tooLarge: number; tooManyHops: number };
}

interface Window {
  start: number;
  count: number;
}

export interface SecurityOptions {
  readonly zone: string;
  readonly settings: ZoneSecurity;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Sends a response without a transaction (to the request's source). */
  readonly respond: (response: SipResponse, ctx: ReceiveContext) => void;
  /** Where flood bans and authentication bans of a source land (with reason and expiry). */
  readonly blacklist?: Blacklist;
  /** Most sources tracked at once (older windows are forgotten first). Default 100 000. */
  readonly maxSources?: number;
}

export class ZoneSecurityRoute {
  readonly counters: SecurityCounters = {
    passed: 0,
    flood: { banned: 0, dropped: 0 },
    auth: { challenged: 0, failed: 0, passed: 0, banned: 0 },
    scanner: { dropped: 0 },
    limits: { tooLarge: 0, tooManyHops: 0 },
  };
  readonly route: Route<Screened>;
  readonly #o: SecurityOptions;
  readonly #windows = new Map<string, Window>();
  /** Source address → ban end (ms on the clock). */
  readonly #bans = new Map<string, number>();
  /**
   * Failed authentications and their bans: the SIP stack's Gate (per user and source, then the
   * whole source), its rate limit off (the flood stage counts requests).
   */
  readonly authGate: Gate;

  constructor(o: SecurityOptions) {
    this.#o = o;
    this.authGate = new Gate({
      ratePerSecond: 0,
      banAfter: o.settings.authBanAfter,
      banMs: o.settings.banMs,
      onBan: (ban) => {
        this.counters.auth.banned++;
        o.logger.warn(
          {
            zone: o.zone,
            kind: ban.kind,
            value: ban.value,
            source: ban.source,
            reason: ban.reason,
          },
          'sbc: authentication failures: banned',
        );
        if (ban.kind === 'ip')
          o.blacklist?.add({
            address: ban.value,
            zone: o.zone,
            origin: 'auth',
            reason: ban.reason,
            durationMs: ban.until - ban.since,
          });
      },
    });
    this.route = new Route<Screened>([
      ['flood', (c) => this.#flood(c)],
      ['scanner', (c) => this.#scanner(c)],
      ['limits', (c) => this.#limits(c)],
      [
        'pass',
        (c) => {
          c.passed = true;
          return DONE;
        },
      ],
    ]);
  }

  /** The stack's `screen`: true lets the request on to the transactions. */
  screen(request: SipRequest, ctx: ReceiveContext): boolean {
    const c: Screened = {
      request,
      ctx,
      now: this.#o.clock.now(),
      source: ctx.remote.address,
      passed: false,
    };
    // Every stage is synchronous, so the route has run when `run` returns.
    void this.route.run(c);
    if (c.passed) this.counters.passed++;
    return c.passed;
  }

  /** Bans in force: source → until (ms). */
  bans(): Array<{ source: string; until: number }> {
    const now = this.#o.clock.now();
    const out: Array<{ source: string; until: number }> = [];
    for (const [source, until] of this.#bans) {
      if (until <= now) this.#bans.delete(source);
      else out.push({ source, until });
    }
    return out;
  }

  /** Lifts a ban (the operator's hand): the flood ban and the Gate's source ban. */
  lift(source: string): boolean {
    this.#windows.delete(source);
    const gate = this.authGate.lift('ip', source);
    return this.#bans.delete(source) || gate;
  }

  // --- stages ------------------------------------------------------------------------------

  /** Per-source window count; over the limit the source is banned and dropped silently. */
  #flood(c: Screened): Verdict {
    const s = this.#o.settings;
    if (this.authGate.banned('ip', c.source, c.now)) {
      this.counters.flood.dropped++;
      return DONE;
    }
    const until = this.#bans.get(c.source);
    if (until !== undefined) {
      if (until > c.now) {
        this.counters.flood.dropped++;
        return DONE;
      }
      this.#bans.delete(c.source);
    }
    let w = this.#windows.get(c.source);
    if (!w || c.now - w.start >= s.floodWindowMs) {
      if (!w && this.#windows.size >= (this.#o.maxSources ?? 100_000)) {
        this.#windows.delete(this.#windows.keys().next().value as string);
      }
      w = { start: c.now, count: 0 };
      this.#windows.set(c.source, w);
    }
    w.count++;
    if (w.count > s.floodRequests) {
      this.#bans.set(c.source, c.now + s.banMs);
      this.#windows.delete(c.source);
      this.counters.flood.banned++;
      this.counters.flood.dropped++;
      this.#o.blacklist?.add({
        address: c.source,
        zone: this.#o.zone,
        origin: 'flood',
        reason: `${w.count} requests within ${s.floodWindowMs / 1000} s`,
        durationMs: s.banMs,
      });
      this.#o.logger.warn(
        {
          zone: this.#o.zone,
          source: c.source,
          requests: w.count,
          windowMs: s.floodWindowMs,
          banMs: s.banMs,
        },
        'sbc: flood from a source: banned',
      );
      return DONE;
    }
    return NEXT;
  }

  /** Known scanners' User-Agents: dropped silently (no answer tells them anything). */
  #scanner(c: Screened): Verdict {
    const ua = c.request.headers.get('user-agent');
    if (ua !== undefined && this.#o.settings.scanners.test(ua)) {
      this.counters.scanner.dropped++;
      this.#o.logger.info(
        { zone: this.#o.zone, source: c.source, userAgent: ua.slice(0, 64) },
        'sbc: scanner dropped',
      );
      return DONE;
    }
    return NEXT;
  }

  /** §20.22 Max-Forwards 0 → 483 (RFC 3261 §16.3 item 2); larger than maxBytes → 513 (§21.4.26). */
  #limits(c: Screened): Verdict {
    const { request } = c;
    const size = request.raw?.length ?? 0;
    if (size > this.#o.settings.maxBytes) {
      this.counters.limits.tooLarge++;
      this.#answer(c, 513);
      return DONE;
    }
    // §8.2: a UAS that is also the element a request's hops end at; the B2BUA honours
    // Max-Forwards as a proxy would: "If the request does not contain a Max-Forwards header
    // field, this check is passed. If the request contains a Max-Forwards header field with a
    // field value greater than zero, the check is passed. If the request contains a
    // Max-Forwards header field with a field value of zero (0), the element MUST NOT forward the
    // request." (§16.3 item 2; OPTIONS may be answered: it is ours.)
    if (request.method !== 'OPTIONS' && request.headers.maxForwards() === 0) {
      this.counters.limits.tooManyHops++;
      this.#answer(c, 483);
      return DONE;
    }
    return NEXT;
  }

  #answer(c: Screened, status: number): void {
    if (c.request.method === 'ACK') return;
    this.#o.logger.info(
      { zone: this.#o.zone, source: c.source, status, method: c.request.method },
      'sbc: request refused by the zone limits',
    );
    this.#o.respond(createResponse(c.request, status), c.ctx);
  }
}
