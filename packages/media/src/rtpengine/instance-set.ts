/**
 * Several rtpengine instances behind one engine, as Kamailio's rtpengine sets (`rtpengine_sock`
 * with weights, `rtpengine_disable_tout`, `rtpengine_tout_ms`):
 *
 * - **Weights**: a new call goes to an instance chosen by weighted rendezvous hashing of its
 *   Call-ID (HRW: score = -weight / ln(h), h ∈ (0,1) from the hash), so every SBC process that
 *   shares the set picks the same instance for the same call and the shares follow the weights.
 *   Weight 0 drains an instance: it keeps its calls and gets no new ones.
 * - **Stickiness**: once a call has an instance, every command for it goes there until `forget`.
 * - **Health**: every instance is pinged each `pingIntervalMs`; `failuresToDown` failed pings (or
 *   one timed-out command) mark it down; one answered ping marks it up again.
 * - **Fail-over**: a new call whose `offer` times out (or hits the load limit) on one instance is
 *   tried on the next by score; the instance is marked down. A call that already lives on a dead
 *   instance cannot move (its media sockets are there): its commands fail with
 *   `media-engine-unavailable` and the engine reports the call as failed.
 */
import { createHash } from 'node:crypto';
import type { BDict, BValue } from './bencode.js';
import {
  NgClient,
  NgError,
  realTimers,
  type NgClientOptions,
  type NgTimers,
  type NgTransport,
} from './ng-client.js';

export interface RtpengineInstanceConfig {
  /** `udp:HOST:PORT` of its `listen-ng`. */
  readonly url: string;
  /** Share of new calls, relative to the others. Default 1; 0 = no new calls (drain). */
  readonly weight?: number;
}

export interface RtpengineSetOptions {
  readonly instances: readonly (RtpengineInstanceConfig | string)[];
  /** Ping every instance this often. Default 2000 ms; 0 disables the health check. */
  readonly pingIntervalMs?: number;
  /** Consecutive failed pings before an instance is down. Default 2. */
  readonly failuresToDown?: number;
  /** Options for each instance's ng client (timeouts, retransmission). */
  readonly client?: Omit<NgClientOptions, 'transport'>;
  readonly timers?: NgTimers;
  /** Makes each instance's transport (tests); default a UDP socket. */
  readonly transportFor?: (url: string) => NgTransport;
  /** Called when an instance goes down or comes back up. */
  readonly onStateChange?: (url: string, up: boolean, why: string) => void;
}

export interface InstanceState {
  readonly url: string;
  readonly weight: number;
  readonly up: boolean;
  /** Calls that live on it. */
  readonly calls: number;
  readonly failedPings: number;
}

class Instance {
  up = true;
  failedPings = 0;
  pinging = false;
  readonly calls = new Set<string>();
  constructor(
    readonly url: string,
    readonly weight: number,
    readonly client: NgClient,
  ) {}
}

/** FNV-free, well-mixed 53-bit hash of (instance, call) mapped into (0, 1). */
function unitHash(url: string, callId: string): number {
  const h = createHash('sha1').update(url).update('\0').update(callId).digest();
  const n = h.readUIntBE(0, 6); // 48 bits
  return (n + 1) / (2 ** 48 + 2);
}

export class RtpengineSet {
  private readonly instances: Instance[];
  private readonly byCall = new Map<string, Instance>();
  private readonly timers: NgTimers;
  private readonly pingIntervalMs: number;
  private readonly failuresToDown: number;
  private readonly onStateChange: RtpengineSetOptions['onStateChange'];
  private pingTimer: unknown;
  private closed = false;

  constructor(opts: RtpengineSetOptions) {
    if (opts.instances.length === 0)
      throw new NgError('bad-url', 'an rtpengine set needs at least one instance');
    this.timers = opts.timers ?? realTimers;
    this.pingIntervalMs = opts.pingIntervalMs ?? 2000;
    this.failuresToDown = Math.max(1, opts.failuresToDown ?? 2);
    this.onStateChange = opts.onStateChange;
    const seen = new Set<string>();
    this.instances = opts.instances.map((i) => {
      const cfg = typeof i === 'string' ? { url: i } : i;
      const weight = cfg.weight ?? 1;
      if (!(Number.isFinite(weight) && weight >= 0))
        throw new NgError('bad-url', `rtpengine ${cfg.url}: weight ${weight} is not a number >= 0`);
      const transport = opts.transportFor?.(cfg.url);
      const client = new NgClient(cfg.url, {
        ...opts.client,
        timers: this.timers,
        ...(transport ? { transport } : {}),
      });
      if (seen.has(client.url))
        throw new NgError('bad-url', `rtpengine ${client.url} is listed twice`);
      seen.add(client.url);
      return new Instance(client.url, weight, client);
    });
    if (this.pingIntervalMs > 0) this.schedulePing();
  }

  /** Each instance's health and load, for metrics and the console. */
  state(): InstanceState[] {
    return this.instances.map((i) => ({
      url: i.url,
      weight: i.weight,
      up: i.up,
      calls: i.calls.size,
      failedPings: i.failedPings,
    }));
  }

  /** The instance a call lives on, if any. */
  instanceOf(callId: string): string | undefined {
    return this.byCall.get(callId)?.url;
  }

  /** Every call id the set has placed, with its instance. */
  calls(): ReadonlyMap<string, string> {
    return new Map([...this.byCall].map(([c, i]) => [c, i.url]));
  }

  /**
   * Sends a command for a call. A call without an instance is placed (only by `offer`: other
   * commands for an unknown call go to its first-choice instance, which answers "not found").
   */
  async request(
    callId: string,
    command: string,
    body: Record<string, BValue | undefined>,
  ): Promise<BDict> {
    if (this.closed) throw new NgError('closed', 'the rtpengine set is closed');
    const full = { ...body, 'call-id': callId };
    const placed = this.byCall.get(callId);
    if (placed) return this.send(placed, command, full);
    const order = this.ranked(callId);
    if (order.length === 0)
      throw new NgError(
        'no-instance',
        `no rtpengine instance is up (of ${this.instances.length})`,
        {
          instances: this.instances.map((i) => i.url),
        },
      );
    if (command !== 'offer' && command !== 'publish' && command !== 'subscribe request')
      return this.send(order[0] as Instance, command, full);
    let last: unknown;
    for (const inst of order) {
      try {
        const r = await this.send(inst, command, full);
        this.byCall.set(callId, inst);
        inst.calls.add(callId);
        return r;
      } catch (e) {
        last = e;
        if (!(e instanceof NgError) || (e.reason !== 'timeout' && e.reason !== 'load-limit'))
          throw e;
        // try the next instance by score
      }
    }
    throw new NgError(
      'no-instance',
      `no rtpengine instance took the call (last: ${(last as Error).message})`,
    );
  }

  /** Sends a command that names no call (`statistics`, `list`) to every instance that is up. */
  async broadcast(
    command: string,
    body: Record<string, BValue | undefined> = {},
  ): Promise<BDict[]> {
    const up = this.instances.filter((i) => i.up);
    const settled = await Promise.allSettled(up.map((i) => this.send(i, command, body)));
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** Drops a call's placement (after `delete`). */
  forget(callId: string): void {
    const i = this.byCall.get(callId);
    if (!i) return;
    i.calls.delete(callId);
    this.byCall.delete(callId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearTimeout(this.pingTimer);
    for (const i of this.instances) i.client.close();
    this.byCall.clear();
  }

  /** Instances that are up and take new calls, best score first (weighted rendezvous hashing). */
  private ranked(callId: string): Instance[] {
    return this.instances
      .filter((i) => i.up && i.weight > 0)
      .map((i) => ({ i, score: -i.weight / Math.log(unitHash(i.url, callId)) }))
      .sort((a, b) => b.score - a.score)
      .map((x) => x.i);
  }

  private async send(
    inst: Instance,
    command: string,
    body: Record<string, BValue | undefined>,
  ): Promise<BDict> {
    try {
      const r = await inst.client.request(command, body);
      if (!inst.up) this.mark(inst, true, `answered ${command}`);
      return r;
    } catch (e) {
      if (e instanceof NgError && e.reason === 'timeout')
        this.mark(inst, false, `${command} timed out`);
      throw e;
    }
  }

  private mark(inst: Instance, up: boolean, why: string): void {
    if (inst.up === up) return;
    inst.up = up;
    inst.failedPings = up ? 0 : inst.failedPings;
    this.onStateChange?.(inst.url, up, why);
  }

  private schedulePing(): void {
    this.pingTimer = this.timers.setTimeout(() => {
      if (this.closed) return;
      for (const inst of this.instances) void this.pingOne(inst);
      this.schedulePing();
    }, this.pingIntervalMs);
  }

  private async pingOne(inst: Instance): Promise<void> {
    if (inst.pinging || this.closed) return;
    inst.pinging = true;
    try {
      await inst.client.ping();
      inst.failedPings = 0;
      this.mark(inst, true, 'answered ping');
    } catch (e) {
      if (this.closed) return;
      inst.failedPings++;
      if (inst.failedPings >= this.failuresToDown)
        this.mark(inst, false, `${inst.failedPings} pings failed (${(e as Error).message})`);
    } finally {
      inst.pinging = false;
    }
  }
}
