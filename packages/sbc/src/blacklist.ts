/**
 * The SBC's blacklist: source addresses and prefixes whose requests every zone drops silently
 * until the entry expires or is lifted. Fed by hand (the operator, through REST and the console)
 * and automatically (a flood ban, an authentication-failure ban of a source), each entry with its
 * origin, reason and expiry. One list for the whole SBC; an entry may name one zone (the zone the
 * ban happened in) or none (every zone). The clock is injected; entries past their expiry are
 * forgotten when next looked at.
 */
import type { Clock } from '@tfx/sip';
import { cidrContains, parseCidr, type Cidr } from './acl.js';

export type BlacklistOrigin = 'manual' | 'flood' | 'auth';

export interface BlacklistEntry {
  /** Canonical CIDR (`192.0.2.7/32`, `2001:db8::/48`). */
  readonly cidr: string;
  /** The zone the entry applies to; undefined: every zone. */
  readonly zone?: string;
  readonly origin: BlacklistOrigin;
  readonly reason: string;
  /** ms on the clock. */
  readonly since: number;
  /** ms on the clock; undefined: until lifted. */
  readonly until?: number;
}

export interface BlacklistAdd {
  /** An address or CIDR. */
  readonly address: string;
  readonly zone?: string;
  readonly origin: BlacklistOrigin;
  readonly reason: string;
  /** How long, from now; undefined: until lifted. */
  readonly durationMs?: number;
}

interface Stored extends BlacklistEntry {
  readonly net: Cidr;
}

/** Most entries kept (the oldest automatic ones go first past it). */
export const BLACKLIST_MAX = 10_000;

export class Blacklist {
  readonly #clock: Clock;
  readonly #max: number;
  /** Host entries (/32, /128) by canonical CIDR and zone: a map lookup per request. */
  readonly #hosts = new Map<string, Stored>();
  /** Prefix entries: a scan (few, by hand). */
  readonly #prefixes = new Map<string, Stored>();
  /** Called for every entry added (logs, counters). */
  onAdd: ((e: BlacklistEntry) => void) | undefined;

  constructor(clock: Clock, max = BLACKLIST_MAX) {
    this.#clock = clock;
    this.#max = max;
  }

  get size(): number {
    return this.#hosts.size + this.#prefixes.size;
  }

  /**
   * Adds (or replaces) the entry for this address and zone. Throws a TypeError when the address
   * is not an address or CIDR, or the duration is not a positive finite number.
   */
  add(a: BlacklistAdd): BlacklistEntry {
    const net = parseCidr(a.address);
    if (!net) throw new TypeError(`${a.address} is not an address or CIDR`);
    if (a.durationMs !== undefined && !(Number.isFinite(a.durationMs) && a.durationMs > 0))
      throw new TypeError('the duration is a positive number of milliseconds');
    const now = this.#clock.now();
    const entry: Stored = {
      cidr: net.text,
      ...(a.zone !== undefined && { zone: a.zone }),
      origin: a.origin,
      reason: a.reason.slice(0, 256),
      since: now,
      ...(a.durationMs !== undefined && { until: now + a.durationMs }),
      net,
    };
    const table = this.#tableOf(net);
    const key = keyOf(net.text, a.zone);
    table.delete(key);
    if (this.size >= this.#max) this.#evict(now);
    table.set(key, entry);
    this.onAdd?.(view(entry));
    return view(entry);
  }

  /**
   * Lifts the entries for this address or CIDR (every zone's, or one zone's). Returns how many
   * went; 0 when none was in force. Throws a TypeError for a malformed address.
   */
  lift(address: string, zone?: string): number {
    const net = parseCidr(address);
    if (!net) throw new TypeError(`${address} is not an address or CIDR`);
    const now = this.#clock.now();
    let n = 0;
    const table = this.#tableOf(net);
    for (const [key, e] of table) {
      if (e.cidr !== net.text || (zone !== undefined && e.zone !== zone)) continue;
      table.delete(key);
      if (!expired(e, now)) n++;
    }
    return n;
  }

  /** The entry that blocks `source` in `zone`, if one is in force. */
  match(source: string, zone: string): BlacklistEntry | undefined {
    if (this.size === 0) return undefined;
    // One parse: the source as a host CIDR (its canonical text keys the host table).
    const addr = parseCidr(source);
    if (!addr || addr.prefix !== (addr.family === 4 ? 32 : 128)) return undefined;
    const now = this.#clock.now();
    for (const key of [keyOf(addr.text, zone), keyOf(addr.text, undefined)]) {
      const e = this.#hosts.get(key);
      if (!e) continue;
      if (expired(e, now)) this.#hosts.delete(key);
      else return view(e);
    }
    for (const [key, e] of this.#prefixes) {
      if (e.zone !== undefined && e.zone !== zone) continue;
      if (!cidrContains(e.net, addr)) continue;
      if (expired(e, now)) this.#prefixes.delete(key);
      else return view(e);
    }
    return undefined;
  }

  /** Entries in force, newest first. */
  list(): BlacklistEntry[] {
    const now = this.#clock.now();
    const out: BlacklistEntry[] = [];
    for (const table of [this.#hosts, this.#prefixes]) {
      for (const [key, e] of table) {
        if (expired(e, now)) table.delete(key);
        else out.push(view(e));
      }
    }
    return out.sort((a, b) => b.since - a.since);
  }

  #tableOf(net: Cidr): Map<string, Stored> {
    return net.prefix === (net.family === 4 ? 32 : 128) ? this.#hosts : this.#prefixes;
  }

  /** Expired entries go; if still full, the oldest automatic (then any) entry. */
  #evict(now: number): void {
    for (const table of [this.#hosts, this.#prefixes])
      for (const [key, e] of table) if (expired(e, now)) table.delete(key);
    if (this.size < this.#max) return;
    for (const origin of ['flood', 'auth', 'manual'] as const) {
      for (const table of [this.#hosts, this.#prefixes]) {
        for (const [key, e] of table) {
          if (e.origin === origin) {
            table.delete(key);
            return;
          }
        }
      }
    }
  }
}

function keyOf(cidr: string, zone: string | undefined): string {
  return zone === undefined ? cidr : `${cidr} ${zone}`;
}

function expired(e: BlacklistEntry, now: number): boolean {
  return e.until !== undefined && e.until <= now;
}

function view(e: Stored): BlacklistEntry {
  const { net: _n, ...rest } = e;
  return rest;
}
