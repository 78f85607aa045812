/**
 * The media bench's report: a grouped bar chart (docs/img/media-bench.svg: CPU µs per relayed
 * packet at each rate, built-in against rtpengine, with loss written above each bar) and the
 * results table in the "## Media relay" section of docs/benchmarks.md (between markers, so the
 * prose around it stays).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EngineResult {
  name: string;
  rates: {
    pps: number;
    calls: number;
    sent: number;
    received: number;
    cpuUsPerPacket: number;
    lossPct: number;
    relayCpuPct: number;
    sentPps: number;
  }[];
  setups: { setups: number; perSecond: number; cpuUsPerSetup: number };
  idle: { kbPerCall: number; socketsPerCall: number };
}

export interface BenchResult {
  started: string;
  load: { before: number[]; after: number[] };
  cpus: number;
  cpuModel: string;
  seconds: number;
  workers: number;
  /** The load generator: `c` (rtpgen.c, sendmmsg) or `js`; absent in runs before it existed. */
  generator?: string;
  engines: EngineResult[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COLORS: Record<string, string> = { builtin: '#2b6cb0', rtpengine: '#c05621' };

export function chart(r: BenchResult): string {
  const W = 640;
  const H = 320;
  const left = 56;
  const bottom = 40;
  const top = 36;
  const rates = r.engines[0]?.rates.map((x) => x.pps) ?? [];
  const max = Math.max(
    1,
    ...r.engines.flatMap((e) =>
      e.rates.map((x) => (Number.isFinite(x.cpuUsPerPacket) ? x.cpuUsPerPacket : 0)),
    ),
  );
  const ymax = Math.ceil(max / 5) * 5;
  const plotH = H - top - bottom;
  const groupW = (W - left - 16) / Math.max(1, rates.length);
  const barW = Math.min(48, (groupW - 24) / Math.max(1, r.engines.length));
  const y = (v: number): number => top + plotH - (v / ymax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">Media relay: CPU µs per relayed packet (G.711 20 ms, one core)</text>`,
  ];
  for (let v = 0; v <= ymax; v += ymax / 5) {
    out.push(`<line x1="${left}" x2="${W - 8}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
  }
  rates.forEach((pps, gi) => {
    const gx = left + gi * groupW + 12;
    r.engines.forEach((e, ei) => {
      const x = e.rates.find((q) => q.pps === pps);
      if (!x || !Number.isFinite(x.cpuUsPerPacket)) return;
      const bx = gx + ei * barW;
      out.push(
        `<rect x="${bx}" y="${y(x.cpuUsPerPacket)}" width="${barW - 4}" height="${top + plotH - y(x.cpuUsPerPacket)}" fill="${COLORS[e.name] ?? '#666'}"/>`,
      );
      out.push(
        `<text x="${bx + (barW - 4) / 2}" y="${y(x.cpuUsPerPacket) - 4}" text-anchor="middle" font-size="10">${x.cpuUsPerPacket.toFixed(1)}${x.lossPct > 0.01 ? ` (${x.lossPct.toFixed(1)}% loss)` : ''}</text>`,
      );
    });
    out.push(
      `<text x="${gx + (r.engines.length * barW) / 2}" y="${H - bottom + 16}" text-anchor="middle">${pps / 1000}k pps</text>`,
    );
  });
  r.engines.forEach((e, i) => {
    out.push(
      `<rect x="${W - 160}" y="${top + i * 16}" width="10" height="10" fill="${COLORS[e.name] ?? '#666'}"/>`,
    );
    out.push(`<text x="${W - 145}" y="${top + 9 + i * 16}">${e.name}</text>`);
  });
  out.push(
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">µs CPU / packet</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function table(r: BenchResult): string {
  const b = r.engines.find((e) => e.name === 'builtin');
  const x = r.engines.find((e) => e.name === 'rtpengine');
  const lines = [
    `Run ${r.started} (${r.cpus} cores, ${r.cpuModel}; load ${r.load.before.map((v) => v.toFixed(2)).join(' ')} before, ${r.load.after.map((v) => v.toFixed(2)).join(' ')} after; built-in with ${r.workers} worker; ${r.seconds} s window per rate; load generator ${r.generator === 'c' ? 'rtpgen.c (native, sendmmsg)' : 'JavaScript'}).`,
    '',
    '| rate asked (pps) | calls | sent in the window: built-in / rtpengine (pps) | built-in µs/pkt | built-in loss | rtpengine µs/pkt | rtpengine loss | built-in / rtpengine |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const pps of (b ?? x)?.rates.map((q) => q.pps) ?? []) {
    const p = b?.rates.find((q) => q.pps === pps);
    const q = x?.rates.find((z) => z.pps === pps);
    const f = (v: number | undefined, d = 2): string =>
      v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);
    lines.push(
      `| ${pps} | ${pps / 100} | ${f(p?.sentPps, 0)} / ${f(q?.sentPps, 0)} | ${f(p?.cpuUsPerPacket)} | ${f(p?.lossPct, 3)} % | ${f(q?.cpuUsPerPacket)} | ${f(q?.lossPct, 3)} % | ${p && q && p.cpuUsPerPacket > 0 && q.cpuUsPerPacket > 0 ? `${(p.cpuUsPerPacket / q.cpuUsPerPacket).toFixed(2)}×` : '—'} |`,
    );
  }
  lines.push(
    '',
    '| | built-in | rtpengine | built-in / rtpengine |',
    '| --- | ---: | ---: | ---: |',
  );
  const row = (label: string, g: (e: EngineResult) => number, d = 0): void => {
    const p = b ? g(b) : NaN;
    const q = x ? g(x) : NaN;
    lines.push(
      `| ${label} | ${Number.isFinite(p) ? p.toFixed(d) : '—'} | ${Number.isFinite(q) ? q.toFixed(d) : '—'} | ${Number.isFinite(p / q) ? (p / q).toFixed(2) + '×' : '—'} |`,
    );
  };
  row('setups/s (offer+answer+delete, 16 in flight)', (e) => e.setups.perSecond);
  row('relay CPU µs per setup', (e) => e.setups.cpuUsPerSetup);
  row('memory per idle call (kB RSS; a negative figure is GC noise)', (e) => e.idle.kbPerCall, 1);
  row('UDP sockets per call', (e) => e.idle.socketsPerCall, 2);
  return lines.join('\n');
}

/** Writes the chart and replaces the table between the markers in docs/benchmarks.md. */
export function writeReport(r: BenchResult): void {
  writeFileSync(join(root, 'docs', 'img', 'media-bench.svg'), chart(r));
  const path = join(root, 'docs', 'benchmarks.md');
  const doc = readFileSync(path, 'utf8');
  const start = '<!-- media-bench:start (npm run bench:media) -->';
  const end = '<!-- media-bench:end -->';
  const block = `${start}\n${table(r)}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  const next =
    i >= 0 && j > i
      ? doc.slice(0, i) + block + doc.slice(j + end.length)
      : `${doc.trimEnd()}\n\n## Media relay\n\n![CPU per relayed packet](img/media-bench.svg)\n\n${block}\n`;
  writeFileSync(path, next);
}
