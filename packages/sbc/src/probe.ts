/**
 * Trunk OPTIONS probes (docs/sbc.md, "Trunks: probes and failover"): Kamailio's dispatcher
 * "keepalive" and OpenSIPS's drouting probing, in two parts.
 *
 * - `TrunkHealth`: a pure state machine per trunk. `failures` failed probes in a row take an up
 *   trunk down; `successes` answered probes in a row bring a down trunk back. A trunk starts up
 *   (calls flow before the first probe is answered, as the dispatcher's default active state).
 * - `TrunkProbes`: the driver on an injected clock. Every `intervalSeconds` it hands one probe per
 *   trunk to `send` (the SBC sends an OPTIONS from the trunk's zone to its URI). A probe still
 *   unanswered when the next one is due counts as a failure (the interval is the probe's
 *   timeout); a transaction error (Timer F, a transport error) reported earlier counts at once.
 *
 * What counts as an answer (`probeAnswered`): any final response except 408 and 503. RFC 3261
 * §11.2 lets a UA answer OPTIONS with any final response, and a trunk that answers 404 or 405 to
 * an OPTIONS it does not serve is alive and routing. 408 (Request Timeout) is what a proxy in
 * front of the trunk answers when the trunk behind it is silent, and 503 (§21.5.4, "temporarily
 * unable to process the request due to a temporary overloading or maintenance") says calls would
 * fail too: both count as failures. This is Kamailio's `ds_ping_reply_codes="class=2;class=4"`
 * widened to 3xx/5xx/6xx less 503.
 */
import {
  createRequest,
  generateTag,
  parseUri,
  realClock,
  silentLogger,
  type Clock,
  type Logger,
  type TimerHandle,
} from '@tfx/sip';
import type { TrunkSpec } from './types.js';
import type { ZoneAgent } from './zone.js';

export interface ProbeSpec {
  /** Seconds between probes; 0 = no probes (the trunk is always up). */
  readonly intervalSeconds: number;
  /** Failed probes in a row that take an up trunk down. */
  readonly failures: number;
  /** Answered probes in a row that bring a down trunk back up. */
  readonly successes: number;
}

/** Probes are off until configured (`intervalSeconds` 0); the counts apply once they are on. */
export const DEFAULT_PROBE: ProbeSpec = { intervalSeconds: 0, failures: 3, successes: 2 };

export type TrunkState = 'up' | 'down';

/** Whether a probe's final response (undefined: timeout or transport error) shows the trunk up. */
export function probeAnswered(status: number | undefined): boolean {
  if (status === undefined || status < 200) return false;
  return status !== 408 && status !== 503;
}

/**
 * RFC 3326 §2: the Reason header of the 504 answered when no trunk is left (every trunk of the
 * route down, or each failed with 408, 5xx, a timeout or a transport error).
 */
export function noTrunkLeft(): [string, string][] {
  return [['Reason', 'SIP;cause=504;text="no trunk available"']];
}

/** One trunk's up/down state from its probe results. Pure: no clock, no I/O. */
export class TrunkHealth {
  #state: TrunkState = 'up';
  #failed = 0;
  #answered = 0;

  constructor(readonly spec: ProbeSpec) {}

  get state(): TrunkState {
    return this.#state;
  }

  /** Records one probe's outcome; returns true when the state changed. */
  record(answered: boolean): boolean {
    if (answered) {
      this.#failed = 0;
      this.#answered++;
      if (this.#state === 'down' && this.#answered >= Math.max(1, this.spec.successes)) {
        this.#state = 'up';
        return true;
      }
    } else {
      this.#answered = 0;
      this.#failed++;
      if (this.#state === 'up' && this.#failed >= Math.max(1, this.spec.failures)) {
        this.#state = 'down';
        return true;
      }
    }
    return false;
  }
}

/** What the driver reports per trunk (`GET /api/v1/sbc/trunks`). */
export interface TrunkStatus {
  readonly name: string;
  readonly state: TrunkState;
  /** Whether the trunk is probed at all (intervalSeconds > 0). */
  readonly probing: boolean;
  /** The last probe's final status; 0 = timeout or transport error; undefined = none yet. */
  readonly lastStatus: number | undefined;
  /** Clock ms of the last change of state (or the start). */
  readonly since: number;
  readonly probesSent: number;
  readonly probesFailed: number;
}

export interface ProbedTrunk {
  readonly name: string;
  readonly probe: ProbeSpec;
}

export interface TrunkProbesOptions {
  readonly trunks: readonly ProbedTrunk[];
  /**
   * Sends one probe to the trunk; `done` is called once with the final status, or undefined for
   * a timeout or transport error. Throwing counts as a transport error.
   */
  readonly send: (trunk: string, done: (status: number | undefined) => void) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly onChange?: (trunk: string, state: TrunkState) => void;
}

interface Probed {
  readonly name: string;
  readonly health: TrunkHealth;
  timer: TimerHandle | undefined;
  /** The generation of the probe in flight (undefined: none): late answers are ignored. */
  outstanding: number | undefined;
  generation: number;
  lastStatus: number | undefined;
  since: number;
  sent: number;
  failed: number;
}

/** The probe driver: one timer per probed trunk. `close()` is idempotent. */
export class TrunkProbes {
  readonly #o: TrunkProbesOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #trunks = new Map<string, Probed>();
  #closed = false;

  constructor(o: TrunkProbesOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#log = (o.logger ?? silentLogger) as Logger;
    for (const t of o.trunks) {
      this.#trunks.set(t.name, {
        name: t.name,
        health: new TrunkHealth(t.probe),
        timer: undefined,
        outstanding: undefined,
        generation: 0,
        lastStatus: undefined,
        since: this.#clock.now(),
        sent: 0,
        failed: 0,
      });
    }
  }

  /** Sends the first probe of every probed trunk now, then one per interval. */
  start(): void {
    if (this.#closed) return;
    for (const p of this.#trunks.values()) {
      const spec = p.health.spec;
      if (spec.intervalSeconds > 0 && p.timer === undefined) this.#tick(p);
    }
  }

  /** Whether calls may go to the trunk (an unknown or unprobed trunk is up). */
  isUp(name: string): boolean {
    return this.#trunks.get(name)?.health.state !== 'down';
  }

  list(): TrunkStatus[] {
    return [...this.#trunks.values()].map((p) => ({
      name: p.name,
      state: p.health.state,
      probing: p.health.spec.intervalSeconds > 0,
      lastStatus: p.lastStatus,
      since: p.since,
      probesSent: p.sent,
      probesFailed: p.failed,
    }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#trunks.values()) {
      if (p.timer !== undefined) this.#clock.clearTimer(p.timer);
      p.timer = undefined;
      p.outstanding = undefined;
    }
  }

  #tick(p: Probed): void {
    if (this.#closed) return;
    // The probe still unanswered when the next is due: timed out.
    if (p.outstanding !== undefined) this.#outcome(p, p.outstanding, undefined);
    const gen = ++p.generation;
    p.outstanding = gen;
    p.sent++;
    p.timer = this.#clock.setTimer(p.health.spec.intervalSeconds * 1000, () => this.#tick(p));
    try {
      this.#o.send(p.name, (status) => this.#outcome(p, gen, status));
    } catch (err) {
      this.#log.debug({ trunk: p.name, err }, 'sbc: trunk probe could not be sent');
      this.#outcome(p, gen, undefined);
    }
  }

  #outcome(p: Probed, gen: number, status: number | undefined): void {
    if (this.#closed || p.outstanding !== gen) return;
    p.outstanding = undefined;
    p.lastStatus = status ?? 0;
    const answered = probeAnswered(status);
    if (!answered) p.failed++;
    if (!p.health.record(answered)) return;
    p.since = this.#clock.now();
    const state = p.health.state;
    this.#log[state === 'down' ? 'warn' : 'info'](
      { trunk: p.name, state, status: p.lastStatus },
      `sbc: trunk ${state}`,
    );
    this.#o.onChange?.(p.name, state);
  }
}

/**
 * The probes of the trunks that have `probe.intervalSeconds > 0`: each an OPTIONS (RFC 3261
 * §11) from the trunk's zone to its URI, Max-Forwards 1 (the trunk answers it, no proxy beyond).
 */
export function trunkProbes(
  trunks: readonly TrunkSpec[],
  zones: ReadonlyMap<string, ZoneAgent>,
  o: { readonly clock?: Clock; readonly logger?: Logger },
): TrunkProbes {
  const byName = new Map(trunks.map((t) => [t.name, t]));
  return new TrunkProbes({
    trunks: trunks
      .filter((t) => t.probe && t.probe.intervalSeconds > 0)
      .map((t) => ({ name: t.name, probe: t.probe as ProbeSpec })),
    ...(o.clock && { clock: o.clock }),
    ...(o.logger && { logger: o.logger }),
    send: (name, done) => {
      const t = byName.get(name) as TrunkSpec;
      const zone = zones.get(t.zone);
      const parsed = parseUri(t.uri);
      if (!zone || !parsed.ok) return done(undefined);
      const uri = parsed.value;
      const hop = zone.hopFor(uri);
      const sentBy = hop && zone.stack.sentBy(hop.transport);
      if (!hop || !sentBy) return done(undefined);
      const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
      const req = createRequest({
        method: 'OPTIONS',
        uri,
        from: `<sip:sbc@${host}>;tag=${generateTag()}`,
        to: `<${t.uri.split(';')[0] as string}>`,
        via: { transport: hop.transport.toUpperCase(), host: sentBy.host, port: sentBy.port },
        maxForwards: 1,
      });
      zone.stack.sendRequest(req, hop, {
        onResponse: (r) => {
          if (r.status >= 200) done(r.status);
        },
        onError: () => done(undefined),
      });
    },
  });
}
