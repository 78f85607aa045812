/**
 * The SBC's statistics over the last minutes (issue #19 item 4): every `intervalMs` the sampler
 * reads the calls (bridged now, started, ended by final class from the CDR totals), this
 * process's CPU and memory, and the media engine's packets and bytes relayed (the media
 * bandwidth) and — for the built-in engine — how busy its worker threads are (event-loop
 * utilization: the threads are in this process, so their CPU is also in `cpuPercent`); for
 * rtpengine its ng `statistics` (rtpengine-stats.ts: sessions, packets, bytes, errors); and each
 * trunk's live quality (packages/sbc/src/quality.ts: MOS, ASR, PDD over its window). The last
 * HISTORY samples are served by `GET /api/v1/sbc/stats` for the console's charts; the same
 * figures are in Prometheus (`tfx_sbc_*`, `tfx_media_*`, `tfx_process_*`,
 * `tfx_media_worker_utilization`).
 */
import type { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Counter, Gauge } from 'prom-client';
import {
  SBC_STATS_MAX_TRUNKS,
  TfxError,
  errorResponseSchema,
  sbcStatsSchema,
  type SbcStats,
  type SbcStatsSample,
  type SbcStatsTrunk,
} from '@tfx/protocol';
import { BuiltinEngine, RtpengineEngine, type MediaEngine } from '@tfx/media';
import type { Sbc } from '@tfx/sbc';
import type { PlatformContext } from '../module.js';
import { readRtpengine } from './rtpengine-stats.js';

/** 30 minutes at the default 5 s. */
export const HISTORY = 360;
export const INTERVAL_MS = 5000;

/** Cumulative readings at one instant (what a sample is the difference of). */
export interface Reading {
  readonly at: number;
  readonly calls: number;
  readonly started: number;
  readonly ended: ReadonlyMap<string, number>;
  /** process.cpuUsage() user + system, µs. */
  readonly cpuMicros: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly media?: {
    readonly engine: 'builtin' | 'rtpengine';
    readonly sessions: number;
    readonly packets: number;
    readonly bytes: number;
    /** rtpengine: relayed packet errors (cumulative). */
    readonly errors?: number;
    /** Mean busy share of the engine's threads over the interval, 0–1 (built-in only). */
    readonly busy?: number;
  };
  /** Each trunk's live quality as the meter gave it (cleaned by `trunksOf`). */
  readonly trunks?: ReadonlyArray<{
    readonly name: string;
    readonly calls: number;
    readonly asr: number | null;
    readonly pddMs: number | null;
    readonly mos: number | null;
  }>;
}

/** A figure in [min, max] rounded to `digits`, or null (not measured, NaN, out of range). */
function figure(v: unknown, min: number, max: number, digits: number): number | null {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * The trunks of a sample: those with at least one attempt in their window, in the order given,
 * at most SBC_STATS_MAX_TRUNKS; a figure out of its range is null (never NaN or a false 0). Pure.
 */
export function trunksOf(trunks: NonNullable<Reading['trunks']>): SbcStatsTrunk[] {
  const out: SbcStatsTrunk[] = [];
  for (const t of trunks) {
    if (out.length >= SBC_STATS_MAX_TRUNKS) break;
    const calls = typeof t.calls === 'number' && Number.isFinite(t.calls) ? Math.floor(t.calls) : 0;
    if (calls <= 0 || typeof t.name !== 'string') continue;
    out.push({
      name: t.name,
      calls,
      asr: figure(t.asr, 0, 1, 3),
      pddMs: figure(t.pddMs, 0, 3_600_000, 0),
      mos: figure(t.mos, 1, 5, 2),
    });
  }
  return out;
}

/** A non-negative finite rate per second (a counter that went back, e.g. a restarted worker, is 0). */
function perSecond(before: number, after: number, ms: number): number {
  const d = after - before;
  if (!Number.isFinite(d) || d <= 0 || ms <= 0) return 0;
  return Math.round((d / (ms / 1000)) * 100) / 100;
}

/** The sample between two readings. Pure. */
export function sampleOf(prev: Reading, cur: Reading): SbcStatsSample {
  const ms = cur.at - prev.at;
  const ended: Record<string, number> = {};
  for (const [k, v] of cur.ended) {
    const d = v - (prev.ended.get(k) ?? 0);
    if (d > 0) ended[k] = d;
  }
  const cpu = ms > 0 ? Math.max(0, (cur.cpuMicros - prev.cpuMicros) / 1000 / ms) * 100 : 0;
  const m = cur.media;
  const pm = prev.media?.engine === m?.engine ? prev.media : undefined;
  const trunks = cur.trunks && trunksOf(cur.trunks);
  return {
    at: new Date(cur.at).toISOString(),
    calls: cur.calls,
    callsPerSecond: perSecond(prev.started, cur.started, ms),
    ended,
    cpuPercent: Math.round(cpu * 10) / 10,
    rssBytes: cur.rssBytes,
    heapUsedBytes: cur.heapUsedBytes,
    ...(m && {
      media: {
        engine: m.engine,
        sessions: m.sessions,
        packetsPerSecond: perSecond(pm?.packets ?? m.packets, m.packets, ms),
        bytesPerSecond: perSecond(pm?.bytes ?? m.bytes, m.bytes, ms),
        ...(m.busy !== undefined && { busyPercent: Math.round(m.busy * 1000) / 10 }),
        ...(m.errors !== undefined && {
          errorsPerSecond: perSecond(pm?.errors ?? m.errors, m.errors, ms),
        }),
      },
    }),
    ...(trunks && trunks.length > 0 && { trunks }),
  };
}

/** Each configured trunk's live quality (quality.ts), read before the sample bounds them. */
function qualityOf(sbc: Sbc): NonNullable<Reading['trunks']> {
  const trunks = sbc.trunks ?? [];
  const out: Array<NonNullable<Reading['trunks']>[number]> = [];
  for (const t of trunks) {
    const q = sbc.quality?.meter.of(t.name);
    if (q && q.calls > 0) out.push({ name: t.name, ...q });
    if (out.length >= SBC_STATS_MAX_TRUNKS) break;
  }
  return out;
}

export interface StatsSources {
  readonly sbc: () => Sbc | undefined;
  readonly engine: () => MediaEngine | undefined;
  readonly now?: () => number;
}

export class SbcStatsSampler {
  readonly #samples: SbcStatsSample[] = [];
  readonly #now: () => number;
  #prev: Reading | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #closed = false;
  /** The last ELU reading per worker thread (the interval's utilization is the difference). */
  #elu = new WeakMap<Worker, EventLoopUtilization>();
  /** Utilization of each worker over the last interval (for the gauge). */
  utilization: number[] = [];

  constructor(
    private readonly sources: StatsSources,
    readonly intervalMs = INTERVAL_MS,
  ) {
    this.#now = sources.now ?? Date.now;
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    void this.tick();
    this.#timer = setInterval(() => void this.tick(), this.intervalMs);
    this.#timer.unref();
  }

  /** The last reading (the rtpengine counters in Prometheus read it). */
  get last(): Reading | undefined {
    return this.#prev;
  }

  samples(): SbcStatsSample[] {
    return [...this.#samples];
  }

  async read(): Promise<Reading> {
    const s = this.sources.sbc();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const e = this.sources.engine();
    let media: Reading['media'];
    if (e instanceof BuiltinEngine) {
      const c = await e.counters().catch(() => undefined);
      if (c) {
        const threads = e.workerThreads;
        this.utilization = threads.map((w) => {
          const now = w.performance.eventLoopUtilization();
          const before = this.#elu.get(w);
          this.#elu.set(w, now);
          return before ? w.performance.eventLoopUtilization(now, before).utilization : 0;
        });
        const busy =
          this.utilization.length > 0
            ? this.utilization.reduce((a, b) => a + b, 0) / this.utilization.length
            : undefined;
        media = {
          engine: 'builtin',
          sessions: c.sessions,
          packets: c.packetsRelayed,
          bytes: c.bytesRelayed,
          ...(busy !== undefined && Number.isFinite(busy) && { busy }),
        };
      }
    } else if (e instanceof RtpengineEngine) {
      const t = await readRtpengine(e);
      if (t)
        media = {
          engine: 'rtpengine',
          sessions: t.sessions,
          packets: t.packets,
          bytes: t.bytes,
          errors: t.errors,
        };
    }
    return {
      at: this.#now(),
      calls: s?.callCount ?? 0,
      started: s?.counters.callsStarted ?? 0,
      ended: new Map(s?.cdr?.totals ?? []),
      cpuMicros: cpu.user + cpu.system,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      ...(media && { media }),
      ...(s && { trunks: qualityOf(s) }),
    };
  }

  /** One sample (also what the timer does); the first reading only sets the baseline. */
  async tick(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      const cur = await this.read();
      if (this.#prev) {
        this.#samples.push(sampleOf(this.#prev, cur));
        if (this.#samples.length > HISTORY) this.#samples.shift();
      }
      this.#prev = cur;
    } finally {
      this.#busy = false;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export function registerStatsRoutes(
  ctx: PlatformContext,
  sbc: () => Sbc | undefined,
  sampler: SbcStatsSampler,
): void {
  ctx.app.get(
    '/api/v1/sbc/stats',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: "The SBC's statistics over the last 30 minutes (calls, CPU, memory, media)",
        description:
          'A sample every 5 s, oldest first: calls bridged, calls per second, calls ended by ' +
          'final class, this process’s CPU and memory, the media engine’s packets and bytes ' +
          'per second and (built-in engine) its worker threads’ utilization, and each trunk’s ' +
          'live quality (MOS, ASR, PDD) over its window.',
        operationId: 'getSbcStats',
        tags: ['sbc'],
        security: [{ admin: [] }],
        response: {
          200: sbcStatsSchema,
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (): Promise<SbcStats> => {
      if (!sbc()) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      return { intervalMs: sampler.intervalMs, samples: sampler.samples() };
    },
  );
  // rtpengine's own totals (ng statistics, read by the sampler every 5 s): what the built-in
  // engine's tfx_media_packets_relayed_total / tfx_media_bytes_relayed_total are for it.
  const rtpe = (): Reading['media'] =>
    sampler.last?.media?.engine === 'rtpengine' ? sampler.last.media : undefined;
  const total = (name: string, help: string, pick: (m: NonNullable<Reading['media']>) => number) =>
    new Counter({
      name,
      help,
      registers: [ctx.metrics],
      collect() {
        const m = rtpe();
        this.reset();
        if (m) this.inc(pick(m));
      },
    });
  total(
    'tfx_media_rtpengine_packets_total',
    'rtpengine: packets relayed (ng statistics totalstatistics.relayedpackets, summed over instances).',
    (m) => m.packets,
  );
  total(
    'tfx_media_rtpengine_bytes_total',
    'rtpengine: bytes relayed (totalstatistics.relayedbytes, summed over instances).',
    (m) => m.bytes,
  );
  total(
    'tfx_media_rtpengine_errors_total',
    'rtpengine: relayed packet errors (totalstatistics.relayedpacketerrors, summed over instances).',
    (m) => m.errors ?? 0,
  );
  new Gauge({
    name: 'tfx_media_rtpengine_sessions',
    help: 'rtpengine: sessions (currentstatistics.sessionstotal, summed over instances).',
    registers: [ctx.metrics],
    collect() {
      this.set(rtpe()?.sessions ?? 0);
    },
  });
  new Gauge({
    name: 'tfx_media_worker_utilization',
    help: 'Built-in media engine: each worker thread’s event-loop utilization (0–1) over the last stats interval.',
    labelNames: ['worker'],
    registers: [ctx.metrics],
    collect() {
      this.reset();
      sampler.utilization.forEach((u, i) => this.set({ worker: String(i) }, u));
    },
  });
}
