/**
 * Registration of TFX to an upstream trunk, as a PBX registers to its carrier (docs/sbc.md,
 * "Upstream registration and per-trunk codecs"). Each trunk with `register` gets one
 * `Registration` of the user-agent core (packages/sip/src/ua/register.ts: RFC 3261 §10.2 with
 * digest, 423 and refresh), sent from the trunk's zone to the trunk's address:
 *
 *   REGISTER sip:<realm>            (the Request-URI names the carrier's domain, §10.2)
 *   To/From: <sip:<user>@<realm>>   (the address of record)
 *   Contact: <sip:<contactUser>@<zone address>:<port>>  (calls from the carrier arrive there,
 *                                     in the trunk's zone, and are routed like any call of it)
 *
 * Around it, this file adds what a carrier link needs: a refresh schedule that a hostile grant
 * cannot turn into a tight loop (`refreshSeconds`), exponential backoff after failures
 * (`retrySeconds`, a short Retry-After not honoured), the state per trunk for REST and metrics,
 * a reload that adds, keeps or removes registrations (a removed or changed one unregisters with
 * `Expires: 0`, §10.2.2), and a shutdown that unregisters and waits a bounded time.
 */
import {
  nodeDigestHash,
  parseUri,
  randomCnonce,
  realClock,
  silentLogger,
  Registration,
  type Clock,
  type Logger,
  type RegistrationState,
  type SipResponse,
  type SipUri,
} from '@tfx/sip';
import type { TrunkSpec } from './types.js';
import type { ZoneAgent } from './zone.js';

/** `trunks[].register`: TFX registers to the trunk as to a carrier. */
export interface UpstreamSpec {
  /** The user of the address of record, and the digest username. */
  readonly user: string;
  /** The digest password (the server resolves `passwordEnv` into it). */
  readonly password: string;
  /**
   * The carrier's SIP domain: the AOR is `sip:user@realm` and the Request-URI `sip:realm`.
   * Default: the trunk URI's host and port. (The digest realm is the challenge's own.)
   */
  readonly realm?: string;
  /** Binding duration asked for, seconds (the carrier may grant less, or answer 423). */
  readonly expiresSeconds: number;
  /** User part of the Contact registered (calls from the carrier come to it). Default `user`. */
  readonly contactUser?: string;
  /** First wait after a failure, seconds; doubled per failure in a row up to 600 s. Default 30. */
  readonly retrySeconds?: number;
}

export const UPSTREAM_RETRY_SECONDS = 30;
export const UPSTREAM_RETRY_MAX_SECONDS = 600;
/** The shortest refresh interval, whatever the carrier grants (no tight REGISTER loop). */
export const UPSTREAM_MIN_REFRESH_SECONDS = 5;

/**
 * Seconds from a 2xx granting `granted` seconds to the refresh: `granted − max(5 s, 10 %)` as the
 * UA core refreshes (before the binding lapses), never below 5 s; a grant that is not a positive
 * finite number (a hostile or broken 2xx) falls back to what was asked for.
 */
export function refreshSeconds(granted: number, asked: number): number {
  const g = Number.isFinite(granted) && granted > 0 ? granted : asked;
  const s = Number.isFinite(g) && g > 0 ? g - Math.max(5, g / 10) : UPSTREAM_MIN_REFRESH_SECONDS;
  return Math.max(UPSTREAM_MIN_REFRESH_SECONDS, Math.min(s, 0x7fffffff / 1000 - 1));
}

/**
 * Seconds before the next try after `failures` failures in a row: `base · 2^(failures−1)`,
 * capped at 600 s (never below 1 s; a bad input counts as the first failure).
 */
export function retrySeconds(failures: number, base = UPSTREAM_RETRY_SECONDS): number {
  const b = Number.isFinite(base) && base >= 1 ? base : UPSTREAM_RETRY_SECONDS;
  const n = Number.isInteger(failures) && failures >= 1 ? Math.min(failures, 32) : 1;
  return Math.min(UPSTREAM_RETRY_MAX_SECONDS, Math.max(b, b * 2 ** (n - 1)));
}

/** Our state for REST (`registration` of `GET /api/v1/sbc/trunks`) and metrics. */
export type UpstreamState = 'registering' | 'registered' | 'failed' | 'unregistered';

export interface UpstreamStatus {
  readonly trunk: string;
  readonly state: UpstreamState;
  /** The address of record registered. */
  readonly aor: string;
  /** Clock ms when the binding the carrier granted lapses (registered only). */
  readonly expiresAt: number | undefined;
  /** Final status of the last response (0: timeout or transport error). */
  readonly lastStatus: number | undefined;
  /** Why the last failure happened: `auth` (credentials refused), `timeout` or `status`. */
  readonly reason: 'auth' | 'timeout' | 'status' | undefined;
  /** Clock ms of the last change of state. */
  readonly since: number;
  /** REGISTERs sent (with challenges answered), refreshes and failures. */
  readonly sent: number;
  readonly refreshes: number;
  readonly failures: number;
}

interface Entry {
  readonly trunk: TrunkSpec;
  readonly spec: UpstreamSpec;
  /** The trunk and registration settings it was made from (a reload compares them). */
  readonly key: string;
  readonly reg: Registration;
  readonly aor: string;
  state: UpstreamState;
  expiresAt: number | undefined;
  lastStatus: number | undefined;
  reason: UpstreamStatus['reason'];
  since: number;
}

export interface UpstreamOptions {
  readonly zones: ReadonlyMap<string, ZoneAgent>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The registrations of the trunks with `register`. `close()` is idempotent. */
export class UpstreamRegistrations {
  readonly #o: UpstreamOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  /** Registrations leaving (removed by a reload, or at close): each closes on its final. */
  readonly #leaving = new Set<Promise<void>>();
  #closed = false;

  constructor(o: UpstreamOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#log = o.logger ?? silentLogger;
  }

  /**
   * Makes the registrations those of `trunks` (start and reload): a trunk whose registration
   * settings, zone and URI are unchanged keeps its binding; a new one registers now; one removed
   * or changed unregisters (Expires: 0).
   */
  apply(trunks: readonly TrunkSpec[]): void {
    if (this.#closed) return;
    const wanted = new Map<string, TrunkSpec>();
    for (const t of trunks) if (t.register) wanted.set(t.name, t);
    for (const [name, e] of this.#entries) {
      const t = wanted.get(name);
      if (t && keyOf(t) === e.key) continue;
      this.#entries.delete(name);
      this.#leave(e);
    }
    for (const [name, t] of wanted) {
      if (this.#entries.has(name)) continue;
      try {
        const e = this.#make(t);
        this.#entries.set(name, e);
        e.reg.register();
      } catch (err) {
        this.#log.warn({ trunk: name, err }, 'sbc: upstream registration not started');
      }
    }
  }

  status(trunk: string): UpstreamStatus | undefined {
    const e = this.#entries.get(trunk);
    return e && statusOf(e);
  }

  list(): UpstreamStatus[] {
    return [...this.#entries.values()].map(statusOf);
  }

  /** Unregisters every binding and waits for the finals, at most `waitMs`. Idempotent. */
  async close(waitMs = 3000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const e of this.#entries.values()) this.#leave(e);
    this.#entries.clear();
    if (this.#leaving.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([...this.#leaving]),
      new Promise<void>((r) => (timer = setTimeout(r, waitMs))),
    ]);
    if (timer) clearTimeout(timer);
  }

  /** §10.2.2: `Expires: 0` for a binding we may hold; then the registration is closed. */
  #leave(e: Entry): void {
    const holds = e.state === 'registered' || e.state === 'registering';
    if (!holds) {
      e.reg.close();
      return;
    }
    const done = new Promise<void>((resolve) => {
      const prev = e.reg;
      onUnregistered.set(prev, () => {
        prev.close();
        resolve();
      });
      try {
        prev.unregister();
      } catch {
        prev.close();
        resolve();
      }
    });
    this.#leaving.add(done);
    void done.then(() => this.#leaving.delete(done));
    this.#log.info({ trunk: e.trunk.name, aor: e.aor }, 'sbc: upstream registration removed');
  }

  #make(t: TrunkSpec): Entry {
    const spec = t.register as UpstreamSpec;
    const zone = this.#o.zones.get(t.zone);
    const parsed = parseUri(t.uri);
    if (!zone || !parsed.ok || parsed.value.kind !== 'sip')
      throw new TypeError(`trunk ${t.name}: no zone ${t.zone} or a bad uri`);
    const uri = parsed.value as SipUri;
    const hop = zone.hopFor(uri);
    if (!hop) throw new TypeError(`trunk ${t.name}: no transport toward ${t.uri}`);
    const transport = hop.transport;
    const sentBy = (): { host: string; port: number } => {
      const s = zone.stack.sentBy(transport);
      if (!s) throw new TypeError(`zone ${zone.name} has no ${transport} listener`);
      return s;
    };
    const hostport =
      (uri.host.includes(':') ? `[${uri.host}]` : uri.host) +
      (uri.port !== undefined ? `:${uri.port}` : '');
    const domain = spec.realm ?? hostport;
    const tParam = transport === 'udp' ? '' : `;transport=${transport}`;
    const aor = `sip:${spec.user}@${domain}`;
    const contactUser = spec.contactUser ?? spec.user;
    const clock = this.#clock;
    const log = this.#log;
    const name = t.name;
    const asked = spec.expiresSeconds;
    // Filled below: the registration reports into its entry.
    const holder: { entry?: Entry } = {};
    const reg = new Registration({
      clock,
      registrar: `sip:${domain}${tParam}`,
      aor,
      contact: () => {
        const s = sentBy();
        const host = s.host.includes(':') ? `[${s.host}]` : s.host;
        return `<sip:${contactUser}@${host}:${s.port}${tParam}>`;
      },
      via: () => ({ transport: transport.toUpperCase(), ...sentBy() }),
      expires: asked,
      username: spec.user,
      password: spec.password,
      hash: nodeDigestHash,
      cnonce: () => randomCnonce(),
      retryDelay: (n) => retrySeconds(n, spec.retrySeconds),
      refreshDelay: (granted) => refreshSeconds(granted, asked) * 1000,
      // Each REGISTER to the trunk's address (an outbound proxy, whatever the Request-URI says).
      send: (request, onFinal) => {
        let done = false;
        const final = (r: SipResponse | undefined): void => {
          if (done) return;
          done = true;
          onFinal(r);
        };
        try {
          zone.stack.sendRequest(request, hop, {
            onResponse: (r) => {
              if (r.status >= 200) final(r);
            },
            onError: () => final(undefined),
          });
        } catch {
          final(undefined);
        }
      },
      onStateChange: (state, info) => {
        const e = holder.entry;
        if (!e) return;
        const now = clock.now();
        e.lastStatus = info.status ?? (info.reason === 'timeout' ? 0 : e.lastStatus);
        // A refresh under way keeps `registered` while the granted binding lasts.
        const refreshing =
          state === 'registering' &&
          e.state === 'registered' &&
          e.expiresAt !== undefined &&
          e.expiresAt > now;
        const next = refreshing ? 'registered' : mapState(state);
        if (next !== e.state) e.since = now;
        e.state = next;
        if (state === 'registered') {
          e.reason = undefined;
          e.expiresAt = now + (info.expires ?? asked) * 1000;
          log.info({ trunk: name, aor, expires: info.expires }, 'sbc: registered upstream');
        } else if (state === 'failed') {
          e.reason = info.reason;
          e.expiresAt = undefined;
          log.warn(
            { trunk: name, aor, status: e.lastStatus, reason: info.reason },
            'sbc: upstream registration failed',
          );
        } else if (state === 'unregistered') {
          e.expiresAt = undefined;
          onUnregistered.get(e.reg)?.();
        }
      },
    });
    const entry: Entry = {
      trunk: t,
      spec,
      key: keyOf(t),
      reg,
      aor,
      state: 'registering',
      expiresAt: undefined,
      lastStatus: undefined,
      reason: undefined,
      since: clock.now(),
    };
    holder.entry = entry;
    return entry;
  }
}

/** What ends a leaving registration (its `unregistered`), by registration. */
const onUnregistered = new WeakMap<Registration, () => void>();

function mapState(s: RegistrationState): UpstreamState {
  if (s === 'unregistering') return 'registered';
  return s;
}

function keyOf(t: TrunkSpec): string {
  return JSON.stringify([t.zone, t.uri, t.register]);
}

function statusOf(e: Entry): UpstreamStatus {
  return {
    trunk: e.trunk.name,
    state: e.state,
    aor: e.aor,
    expiresAt: e.expiresAt,
    lastStatus: e.lastStatus,
    reason: e.reason,
    since: e.since,
    sent: e.reg.counters.sent,
    refreshes: e.reg.counters.refreshes,
    failures: e.reg.counters.failures,
  };
}
