/**
 * The access stages of a zone, first in its request pipeline (before flood, scanner and limits,
 * and in trusted zones too: they are the operator's own lists, not defaults):
 *
 *   acl ─▶ blacklist ─▶ (the security stages of an untrusted zone)
 *    │         │
 *  deny prefix, or not on an   on the SBC's blacklist (by hand, or a flood
 *  allow-only list: dropped    or auth ban) and not expired: dropped silently
 *  silently
 *
 * Every decision is counted (`counters`) and logged with the source (the first drop of a source
 * in a minute at `info`, the rest at `debug`, so a flood of denied packets does not flood the
 * log). Pure policy on the `Route` runner of @tfx/sip; the clock is injected.
 */
import { DONE, NEXT, Route, type Clock, type Logger, type Verdict } from '@tfx/sip';
import { Acl, type AclSpec } from './acl.js';
import type { Blacklist } from './blacklist.js';

export interface AccessCounters {
  acl: { allowed: number; denied: number };
  blacklist: { dropped: number };
}

export interface ZoneAccessOptions {
  readonly zone: string;
  readonly acl?: AclSpec;
  readonly blacklist?: Blacklist;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface Access {
  readonly source: string;
  passed: boolean;
}

/** Sources logged at info in the current minute (bounded). */
const LOGGED_MAX = 10_000;

export class ZoneAccess {
  readonly counters: AccessCounters = {
    acl: { allowed: 0, denied: 0 },
    blacklist: { dropped: 0 },
  };
  readonly acl: Acl;
  readonly route: Route<Access>;
  readonly #o: ZoneAccessOptions;
  #logged = new Set<string>();
  #loggedMinute = -1;

  constructor(o: ZoneAccessOptions) {
    this.#o = o;
    this.acl = new Acl(o.acl ?? {}, `sbc.zones.${o.zone}.acl`);
    this.route = new Route<Access>([
      ['acl', (c) => this.#acl(c)],
      ['blacklist', (c) => this.#blacklist(c)],
      [
        'pass',
        (c) => {
          c.passed = true;
          return DONE;
        },
      ],
    ]);
  }

  /** True when the source may go on to the next stages. */
  screen(source: string): boolean {
    const c: Access = { source, passed: false };
    void this.route.run(c); // synchronous stages
    return c.passed;
  }

  #acl(c: Access): Verdict {
    if (this.acl.empty) return NEXT;
    const d = this.acl.decide(c.source);
    if (d.allowed) {
      this.counters.acl.allowed++;
      return NEXT;
    }
    this.counters.acl.denied++;
    this.#log(c.source, { rule: d.rule }, 'sbc: source denied by the zone ACL (dropped)');
    return DONE;
  }

  #blacklist(c: Access): Verdict {
    const e = this.#o.blacklist?.match(c.source, this.#o.zone);
    if (!e) return NEXT;
    this.counters.blacklist.dropped++;
    this.#log(
      c.source,
      { entry: e.cidr, origin: e.origin, reason: e.reason },
      'sbc: blacklisted source dropped',
    );
    return DONE;
  }

  #log(source: string, extra: object, msg: string): void {
    const minute = Math.floor(this.#o.clock.now() / 60_000);
    if (minute !== this.#loggedMinute) {
      this.#loggedMinute = minute;
      this.#logged = new Set();
    }
    const first = !this.#logged.has(source) && this.#logged.size < LOGGED_MAX;
    if (first) this.#logged.add(source);
    this.#o.logger[first ? 'info' : 'debug']({ zone: this.#o.zone, source, ...extra }, msg);
  }
}
