/**
 * bench/gateway's report: the results table in the "## WebRTC ↔ RTP gateway" section of
 * docs/benchmarks.md, between markers (the prose around it stays).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Mode = 'passthrough' | 'transcode';

export interface Measure {
  engine: string;
  mode: Mode;
  calls: number;
  failed: number;
  /** The first failure's message. */
  failure?: string;
  connectP50Ms: number;
  connectP90Ms: number;
  kbPerCall: number;
  /** The engine process's CPU in the window, % of one core (every thread). */
  cpuPct: number;
  pctPerLeg: number;
  legsPerCore: number;
  /** The built-in's media worker: event-loop busy share in the window. */
  workerBusyPct?: number;
  workerPctPerLeg?: number;
  sent: number;
  lost: number;
  lostToPhone: number;
  lostToBrowser: number;
  lossPct: number;
  /** The measured window on CLOCK_MONOTONIC (µs), as in a .cpuprofile. */
  windowMonoUs?: [number, number];
}

export interface GatewayResult {
  started: string;
  load: { before: number[]; after: number[] };
  cpus: number;
  cpuModel: string;
  calls: number;
  seconds: number;
  /** The "before" checkout of an after/before run. */
  before?: string;
  results: Measure[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function table(r: GatewayResult): string {
  const f = (v: number | undefined, d: number): string =>
    v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);
  const lines = [
    `Run ${r.started} (${r.cpus} cores, ${r.cpuModel}; load average ${r.load.before.map((v) => v.toFixed(2)).join(' ')} before, ${r.load.after.map((v) => v.toFixed(2)).join(' ')} after; ${r.calls} calls set up at once per engine and mode, ${r.seconds} s window; engines on core 0, load generator on core 1).`,
    '',
    '| engine | mode | calls | connect p50 / p90 (ms) | engine CPU (% of a core) | per leg (% of a core) | legs per core | built-in worker busy | memory per call (kB) | loss |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of r.results)
    lines.push(
      `| ${m.engine} | ${m.mode} | ${m.calls}${m.failed ? ` (${m.failed} failed)` : ''} | ${f(m.connectP50Ms, 0)} / ${f(m.connectP90Ms, 0)} | ${f(m.cpuPct, 1)} | ${f(m.pctPerLeg, 3)} | ${f(m.legsPerCore, 0)} | ${m.workerBusyPct !== undefined ? `${f(m.workerBusyPct, 1)} % (${f(m.workerPctPerLeg, 3)} %/leg)` : '—'} | ${f(m.kbPerCall, 0)} | ${f(m.lossPct, 2)} % (${m.lost}/${m.sent}) |`,
    );
  return lines.join('\n');
}

/** Replaces the table between the markers in docs/benchmarks.md. */
export function writeReport(r: GatewayResult): void {
  const path = join(root, 'docs', 'benchmarks.md');
  const doc = readFileSync(path, 'utf8');
  const start = '<!-- gateway-bench:start (npm run bench:gateway -- --write) -->';
  const end = '<!-- gateway-bench:end -->';
  const block = `${start}\n${table(r)}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/benchmarks.md has no ${start} … ${end} markers`);
  writeFileSync(path, doc.slice(0, i) + block + doc.slice(j + end.length));
}
