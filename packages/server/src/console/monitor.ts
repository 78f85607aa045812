/**
 * What the console's overview, cluster page and charts read: every `intervalMs` this process
 * samples its CPU and memory, the live rooms and participants, and the SIP counters (from the
 * metrics registry, so nothing in the SIP code has to know), keeps the last HISTORY_MAX samples,
 * and — with Redis — writes its process record under `<prefix>console:proc:<id>` with a TTL of
 * three intervals (listed in the set `<prefix>console:procs`). A stopped process deletes its
 * record; a killed one disappears when its TTL runs out. While draining (SIGTERM: a rolling
 * restart) its record says `draining`.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { ConsoleLoadPoint, ConsoleProcess, ConsoleRedis, ConsoleSample } from '@tfx/protocol';

export const HISTORY_MAX = 720;
export const LOAD_POINTS = 60;

export interface MonitorSources {
  /** Rooms and peers this process holds (signalling's listRooms), or zeros without signalling. */
  local(): { rooms: number; participants: number; connections: number };
  /** Live sessions of the deployment (the store: with Redis, every process's). */
  live(): Promise<{ rooms: number; participants: number }>;
}

export interface MonitorOptions {
  readonly id: () => string;
  readonly version: string;
  readonly intervalMs: number;
  readonly metrics: Registry;
  readonly sources: MonitorSources;
  readonly redis?: { readonly client: Redis; readonly prefix: string; readonly url: string };
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
}

/** Sum of a counter's values by one label (`method`, `class`). */
async function counterBy(
  registry: Registry,
  name: string,
  label: string,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  const { values } = await metric.get();
  for (const v of values) {
    const key = String(v.labels[label] ?? '');
    if (key) out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

/** The interval's increase of each counter (a restart of the counter counts from zero). Pure. */
export function deltas(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    const n = d >= 0 ? d : v;
    if (n > 0) out[k] = Math.round(n);
  }
  return out;
}

/** `redis://user:secret@host:6379/0` → `redis://user@host:6379/0`. Pure. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'redis://(unparsable)';
  }
}

/** Fields of an INFO answer. Pure. */
export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export class ConsoleMonitor {
  readonly startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #history: ConsoleSample[] = [];
  #load: ConsoleLoadPoint[] = [];
  #cpu = process.cpuUsage();
  #cpuAt: number;
  #cpuPercent = 0;
  #sipReq = new Map<string, number>();
  #sipRes = new Map<string, number>();
  #draining = false;
  #redisUp = false;
  #redisError: string | undefined;
  #ticking = false;
  #closed = false;
  readonly #now: () => number;

  constructor(private readonly o: MonitorOptions) {
    this.#now = o.now ?? Date.now;
    this.startedAt = this.#now();
    this.#cpuAt = this.#now();
  }

  get intervalMs(): number {
    return this.o.intervalMs;
  }

  async start(): Promise<void> {
    this.#sipReq = await counterBy(this.o.metrics, 'tfx_sip_requests_total', 'method');
    this.#sipRes = await counterBy(this.o.metrics, 'tfx_sip_responses_total', 'class');
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.#timer.unref();
  }

  /** One sample (also what the timer does). */
  async tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      const now = this.#now();
      const cpu = process.cpuUsage(this.#cpu);
      const wallMs = Math.max(1, now - this.#cpuAt);
      this.#cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10;
      this.#cpu = process.cpuUsage();
      this.#cpuAt = now;
      const mem = process.memoryUsage();
      const at = new Date(now).toISOString();
      this.#load.push({ at, cpuPercent: this.#cpuPercent, rssBytes: mem.rss });
      if (this.#load.length > LOAD_POINTS) this.#load.shift();

      const req = await counterBy(this.o.metrics, 'tfx_sip_requests_total', 'method');
      const res = await counterBy(this.o.metrics, 'tfx_sip_responses_total', 'class');
      let live = { rooms: 0, participants: 0 };
      try {
        live = await this.o.sources.live();
      } catch (err) {
        this.o.onError?.(err);
      }
      this.#history.push({
        at,
        rooms: live.rooms,
        participants: live.participants,
        cpuPercent: this.#cpuPercent,
        rssBytes: mem.rss,
        sipRequests: deltas(this.#sipReq, req),
        sipResponses: deltas(this.#sipRes, res),
      });
      if (this.#history.length > HISTORY_MAX) this.#history.shift();
      this.#sipReq = req;
      this.#sipRes = res;
      await this.publish();
    } finally {
      this.#ticking = false;
    }
  }

  history(): ConsoleSample[] {
    return [...this.#history];
  }

  /** This process as the console shows it. */
  self(): ConsoleProcess {
    const now = this.#now();
    const mem = process.memoryUsage();
    const local = this.o.sources.local();
    return {
      id: this.o.id(),
      pid: process.pid,
      host: hostname(),
      version: this.o.version,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: Math.max(0, now - this.startedAt),
      state: this.#draining ? 'draining' : 'running',
      cpuPercent: this.#cpuPercent,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      rooms: local.rooms,
      participants: local.participants,
      connections: local.connections,
      lastSeenAt: new Date(now).toISOString(),
      self: true,
      load: [...this.#load],
    };
  }

  /** Every process sharing the Redis (this one first), or only this one without Redis. */
  async processes(): Promise<ConsoleProcess[]> {
    const me = this.self();
    const r = this.o.redis;
    if (!r) return [me];
    const others: ConsoleProcess[] = [];
    try {
      const ids = (await r.client.smembers(`${r.prefix}console:procs`)).filter((i) => i !== me.id);
      if (ids.length > 0) {
        const raw = await r.client.mget(ids.map((i) => `${r.prefix}console:proc:${i}`));
        const gone: string[] = [];
        raw.forEach((v, i) => {
          if (v === null) return void gone.push(ids[i]!);
          try {
            others.push({ ...(JSON.parse(v) as ConsoleProcess), self: false });
          } catch {
            gone.push(ids[i]!);
          }
        });
        if (gone.length > 0) await r.client.srem(`${r.prefix}console:procs`, ...gone);
      }
    } catch (err) {
      this.o.onError?.(err);
    }
    others.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    return [me, ...others];
  }

  async redisState(): Promise<ConsoleRedis | null> {
    const r = this.o.redis;
    if (!r) return null;
    const url = redactRedisUrl(r.url);
    try {
      const info = parseRedisInfo(await r.client.info());
      return {
        url,
        up: true,
        ...(info.redis_version ? { version: info.redis_version } : {}),
        ...(info.used_memory ? { usedMemoryBytes: Number(info.used_memory) } : {}),
        ...(info.connected_clients ? { connectedClients: Number(info.connected_clients) } : {}),
      };
    } catch (err) {
      return { url, up: false, error: (err as Error).message };
    }
  }

  get redisUp(): boolean {
    return this.#redisUp;
  }

  /** SIGTERM: the record says draining at once (the cluster page shows the rolling restart). */
  async drain(): Promise<void> {
    this.#draining = true;
    await this.publish();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const r = this.o.redis;
    if (!r) return;
    const id = this.o.id();
    await r.client
      .multi()
      .del(`${r.prefix}console:proc:${id}`)
      .srem(`${r.prefix}console:procs`, id)
      .exec()
      .catch(() => undefined);
  }

  private async publish(): Promise<void> {
    const r = this.o.redis;
    if (!r || this.#closed) return;
    const me = this.self();
    try {
      await r.client
        .multi()
        .set(`${r.prefix}console:proc:${me.id}`, JSON.stringify(me), 'PX', this.o.intervalMs * 3)
        .sadd(`${r.prefix}console:procs`, me.id)
        .exec();
      this.#redisUp = true;
      this.#redisError = undefined;
    } catch (err) {
      this.#redisUp = false;
      if (this.#redisError !== (err as Error).message) this.o.onError?.(err);
      this.#redisError = (err as Error).message;
    }
  }
}
