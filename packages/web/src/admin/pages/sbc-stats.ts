/**
 * The SBC page's statistics (issue #19 item 4): charts of the last 30 minutes sampled by the
 * server every 5 s (`GET /api/v1/sbc/stats`, packages/server/src/sbc/stats.ts) — calls bridged and
 * started per second, calls ended by final class, this process's CPU (and the built-in media
 * engine's worker threads' utilization), its memory, the media engine's packets and bandwidth,
 * and each trunk's live quality (MOS, ASR, PDD: a line per trunk, a gap while not measured).
 * `statsSeries` and `trunkSeries` are pure (unit-tested with hostile values); drawing is chart.ts.
 */
import { SBC_STATS_MAX_TRUNKS } from '@tfx/protocol/core';
import type { SbcStats, SbcStatsSample } from '@tfx/protocol';
import { lineChart, stackedBars, type Series } from '../chart.js';
import type { PageContext } from '../page.js';
import { empty, fill, h, section } from '../ui.js';

const MB = 1024 * 1024;

export interface StatsSeries {
  readonly times: string[];
  readonly calls: Series[];
  readonly cps: Series[];
  readonly ended: Array<Record<string, number>>;
  readonly cpu: Series[];
  readonly memory: Series[];
  readonly packets: Series[];
  readonly bandwidth: Series[];
}

/** The charts' series from the samples (missing media fields: no point drawn, not 0). Pure. */
export function statsSeries(samples: readonly SbcStatsSample[]): StatsSeries {
  const withMedia = samples.filter((s) => s.media !== undefined);
  const busy = withMedia.filter((s) => s.media?.busyPercent !== undefined);
  const cpu: Series[] = [{ name: 'Process %', values: samples.map((s) => s.cpuPercent) }];
  if (busy.length > 0)
    cpu.push({ name: 'Media workers busy %', values: busy.map((s) => s.media!.busyPercent!) });
  return {
    times: samples.map((s) => s.at),
    calls: [{ name: 'Calls', values: samples.map((s) => s.calls) }],
    cps: [{ name: 'Calls/s', values: samples.map((s) => s.callsPerSecond) }],
    ended: samples.map((s) => ({ ...s.ended })),
    cpu,
    memory: [
      { name: 'RSS MB', values: samples.map((s) => s.rssBytes / MB) },
      { name: 'Heap MB', values: samples.map((s) => s.heapUsedBytes / MB) },
    ],
    packets: [
      { name: 'Packets/s', values: withMedia.map((s) => s.media!.packetsPerSecond) },
      // rtpengine reports its relay errors; the built-in engine counts drops by reason instead.
      ...(withMedia.some((s) => s.media!.errorsPerSecond !== undefined)
        ? [{ name: 'Errors/s', values: withMedia.map((s) => s.media!.errorsPerSecond ?? 0) }]
        : []),
    ],
    bandwidth: [
      { name: 'kbit/s', values: withMedia.map((s) => (s.media!.bytesPerSecond * 8) / 1000) },
    ],
  };
}

export interface TrunkSeries {
  readonly mos: Series[];
  /** Percent. */
  readonly asr: Series[];
  readonly pdd: Series[];
}

/** A figure in [min, max] (times `scale`), or null: a gap, never a false 0. */
function measured(v: unknown, min: number, max: number, scale = 1): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v * scale : null;
}

/**
 * A series per trunk over the samples (trunks in order of first appearance, at most
 * SBC_STATS_MAX_TRUNKS; a sample without the trunk or its figure is a gap). A trunk never measured
 * in a chart's figure has no series there. Pure; hostile samples (no array, bad entries) are skipped.
 */
export function trunkSeries(samples: readonly SbcStatsSample[]): TrunkSeries {
  const names: string[] = [];
  const rows = samples.map((s) => {
    const byName = new Map<string, Record<string, unknown>>();
    const list: unknown = s.trunks;
    if (!Array.isArray(list)) return byName;
    for (const t of list as unknown[]) {
      if (typeof t !== 'object' || t === null) continue;
      const name = (t as { name?: unknown }).name;
      if (typeof name !== 'string' || byName.has(name)) continue;
      if (!names.includes(name)) {
        if (names.length >= SBC_STATS_MAX_TRUNKS) continue;
        names.push(name);
      }
      byName.set(name, t as Record<string, unknown>);
    }
    return byName;
  });
  const of = (pick: (t: Record<string, unknown>) => number | null): Series[] =>
    names
      .map((name) => ({
        name,
        values: rows.map((r) => {
          const t = r.get(name);
          return t ? pick(t) : null;
        }),
      }))
      .filter((x) => x.values.some((v) => v !== null));
  return {
    mos: of((t) => measured(t.mos, 1, 5)),
    asr: of((t) => measured(t.asr, 0, 1, 100)),
    pdd: of((t) => measured(t.pddMs, 0, 3_600_000)),
  };
}

const fixed = (d: number) => (v: number) =>
  Number.isFinite(v) ? v.toLocaleString('en', { maximumFractionDigits: d }) : String(v);

export interface StatsPanel {
  readonly element: HTMLElement;
  update(): Promise<void>;
}

export function statsPanel(ctx: PageContext): StatsPanel {
  const element = h('div', { class: 'columns charts sbc-charts' });
  let drawn = '';
  return {
    element,
    async update() {
      const { samples } = await ctx.rest.get<SbcStats>('/api/v1/sbc/stats');
      // Redrawn when a sample came (every 5 s), not at every 2 s refresh.
      const key = `${samples.length} ${samples.at(-1)?.at ?? ''}`;
      if (key === drawn) return;
      drawn = key;
      if (samples.length === 0) {
        fill(element, empty('The first sample comes within 5 s of the start.'));
        return;
      }
      const s = statsSeries(samples);
      const q = trunkSeries(samples);
      const times = s.times;
      const none = (): HTMLElement =>
        empty('No trunk measured yet: a trunk has figures once a call to it ended.');
      const engine = samples.at(-1)?.media?.engine;
      fill(
        element,
        section('Calls', lineChart(s.calls, { label: 'Calls bridged over time', times, floor: 4 })),
        section(
          'Calls per second',
          lineChart(s.cps, {
            label: 'Calls started per second over time',
            times,
            floor: 1,
            format: fixed(2),
          }),
        ),
        section(
          'Calls ended by class',
          stackedBars(s.ended, {
            label: 'Calls ended per interval, by final class',
            times,
            floor: 4,
            order: ['2xx', '3xx', '4xx', '5xx', '6xx'],
          }),
        ),
        section(
          'CPU',
          lineChart(s.cpu, {
            label: 'CPU of this process, percent of one core, and the media workers’ utilization',
            times,
            floor: 5,
            format: (v) => `${fixed(1)(v)}%`,
          }),
        ),
        section(
          'Memory',
          lineChart(s.memory, {
            label: 'Memory of this process over time, MB',
            times,
            floor: 64,
            format: fixed(0),
          }),
        ),
        section(
          engine ? `Media packets (${engine})` : 'Media packets',
          lineChart(s.packets, {
            label: 'RTP packets relayed per second',
            times,
            floor: 10,
            format: fixed(0),
          }),
        ),
        section(
          'Media bandwidth',
          lineChart(s.bandwidth, {
            label: 'Media bandwidth, kbit/s',
            times,
            floor: 10,
            format: fixed(0),
          }),
        ),
        section(
          'Trunk MOS',
          q.mos.length === 0
            ? none()
            : lineChart(q.mos, {
                label: 'Each trunk’s mean MOS (1–5) over its quality window',
                times,
                floor: 5,
                format: fixed(2),
              }),
        ),
        section(
          'Trunk ASR',
          q.asr.length === 0
            ? none()
            : lineChart(q.asr, {
                label: 'Each trunk’s answer-seizure ratio over its quality window, percent',
                times,
                floor: 100,
                format: (v) => `${fixed(0)(v)}%`,
              }),
        ),
        section(
          'Trunk PDD (ms)',
          q.pdd.length === 0
            ? none()
            : lineChart(q.pdd, {
                label: 'Each trunk’s mean post-dial delay over its quality window, ms',
                times,
                floor: 100,
                format: fixed(0),
              }),
        ),
      );
    },
  };
}
