/** Prometheus metrics of the media plane (`tfx_media_*`), read from the engine when scraped. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MediaEngine } from '@tfx/media';

/** Counters only the built-in engine keeps (rtpengine keeps its own, on its own exporter). */
export interface BuiltinCounters {
  readonly sessions: number;
  readonly workersAlive: number;
  readonly workerFailures: number;
  readonly callsFailed: number;
  readonly packetsRelayed: number;
  readonly bytesRelayed: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly portsInUse: number;
}

export function registerMediaMetrics(
  registry: Registry,
  engine: () => MediaEngine | undefined,
  counters: () => Promise<BuiltinCounters | undefined>,
): void {
  const registers = [registry];
  let last: BuiltinCounters | undefined;
  let lastAt = 0;
  // One engine read per scrape, shared by the metrics below.
  const read = async (): Promise<BuiltinCounters | undefined> => {
    if (Date.now() - lastAt > 500) {
      last = await counters().catch(() => undefined);
      lastAt = Date.now();
    }
    return last;
  };
  new Gauge({
    name: 'tfx_media_sessions',
    help: 'Calls the media engine anchors now.',
    registers,
    async collect() {
      const e = engine();
      this.set(e ? (await e.list().catch(() => [])).length : 0);
    },
  });
  new Gauge({
    name: 'tfx_media_ports_in_use',
    help: 'Media ports (RTP + RTCP) the built-in engine holds.',
    registers,
    async collect() {
      this.set((await read())?.portsInUse ?? 0);
    },
  });
  new Gauge({
    name: 'tfx_media_workers',
    help: 'Built-in engine media worker threads running.',
    registers,
    async collect() {
      this.set((await read())?.workersAlive ?? 0);
    },
  });
  const counter = (name: string, help: string, pick: (c: BuiltinCounters) => number): void => {
    new Counter({
      name,
      help,
      registers,
      async collect() {
        const c = await read();
        this.reset();
        if (c) this.inc(pick(c));
      },
    });
  };
  counter(
    'tfx_media_packets_relayed_total',
    'RTP packets the built-in engine relayed.',
    (c) => c.packetsRelayed,
  );
  counter(
    'tfx_media_bytes_relayed_total',
    'RTP bytes the built-in engine relayed.',
    (c) => c.bytesRelayed,
  );
  counter(
    'tfx_media_worker_failures_total',
    'Media worker threads that died (and were replaced).',
    (c) => c.workerFailures,
  );
  counter(
    'tfx_media_calls_failed_total',
    'Calls ended because their media worker died.',
    (c) => c.callsFailed,
  );
  new Counter({
    name: 'tfx_media_dropped_total',
    help: 'Packets the built-in engine dropped, by reason (wrong-source, flood, bad-rtp, bad-rtcp, unknown-pt, direction, …).',
    labelNames: ['reason'],
    registers,
    async collect() {
      const c = await read();
      this.reset();
      for (const [reason, n] of Object.entries(c?.dropped ?? {})) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'tfx_media_packets_lost',
    help: 'Packets lost on the way to the engine (sequence gaps), summed over the live calls.',
    registers,
    async collect() {
      const e = engine();
      let lost = 0;
      if (e) {
        const ids = (await e.list().catch(() => [])).slice(0, 1000);
        for (const id of ids) {
          const q = await e.query({ callId: id }).catch(() => undefined);
          for (const l of q?.legs ?? []) lost += l.packetsLost;
        }
      }
      this.set(lost);
    },
  });
}
