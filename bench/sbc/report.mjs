// bench/sbc report: the "## SBC" section of docs/benchmarks.md and docs/img/sbc-bench.svg from
// the runs kept in bench/sbc/results.json (the latest run in full, every kept run in brief, so
// the noise of a shared machine shows), with bench/sbc/NOTES.md (profiles, changes) after them.
// run.mjs calls it; by hand:
//   node bench/sbc/report.mjs            (rewrites the docs from bench/sbc/results.json)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, keepRuns, replaceSection } from '../common/report.mjs';

const KEEP_RUNS = 4;
/** The goal of issue #17: CPU per call within 2× of Kamailio + topoh. */
const GOAL = 2;

export function keepRun(root, run) {
  return keepRuns(join(root, 'bench', 'sbc', 'results.json'), run, KEEP_RUNS);
}

const us = (x) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const find = (res, rate) => res?.fixed.find((f) => f.rate === rate);
const st = (x) => (x ? `${x.successful} / ${x.failed} / ${x.retransmissions}` : '–');
const ratioOf = (a, b) => (a && b ? a.cpuUsPerOp / b.cpuUsPerOp : undefined);

function fixedTable(run) {
  const rows = [
    '| calls | TFX µs CPU / call | Kamailio + topoh µs CPU / call | TFX / Kamailio | TFX ok / failed / retrans | Kamailio ok / failed / retrans |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const f of run.tfx.fixed) {
    const k = find(run.kamailio, f.rate);
    const r = ratioOf(f, k);
    rows.push(
      `| ${f.rate}/s × ${f.seconds} s | ${us(f.cpuUsPerOp)} | ${us(k?.cpuUsPerOp)} | ${r === undefined ? '–' : r.toFixed(2)} | ${st(f)} | ${st(k)} |`,
    );
  }
  return rows.join('\n');
}

function runsTable(runs) {
  const rates = [...new Set(runs.flatMap((r) => r.tfx.fixed.map((f) => f.rate)))].sort(
    (a, b) => a - b,
  );
  const rows = [
    `| run | load average before → after | ${rates.map((r) => `${r}/s: TFX / Kamailio µs (ratio)`).join(' | ')} | highest clean rate TFX / Kamailio |`,
    `|---|---|${rates.map(() => '---').join('|')}|---|`,
  ];
  for (const r of runs) {
    const cells = rates.map((rate) => {
      const a = find(r.tfx, rate);
      const b = find(r.kamailio, rate);
      if (!a || !b) return '–';
      return `${us(a.cpuUsPerOp)} / ${us(b.cpuUsPerOp)} (${ratioOf(a, b).toFixed(2)})`;
    });
    const best = (x) => (x === undefined ? '–' : x === 0 ? 'none' : `${x}/s`);
    rows.push(
      `| ${r.facts.date.slice(0, 16).replace('T', ' ')} | ${r.facts.loadBefore} → ${r.facts.loadAfter} | ${cells.join(' | ')} | ${best(r.tfx.best?.call)} / ${best(r.kamailio.best?.call)} |`,
    );
  }
  return rows.join('\n');
}

export function svgChart(run) {
  return barChart({
    title: 'SBC CPU per call (µs, one core; lower is better)',
    groups: run.tfx.fixed.map((f) => ({
      label: ['calls', `${f.rate}/s`],
      tfx: f.cpuUsPerOp,
      kam: find(run.kamailio, f.rate)?.cpuUsPerOp ?? 0,
    })),
    facts: run.facts,
    kamLabel: `Kamailio ${run.facts.kamailio} + topoh`,
  });
}

/** The verdicts of issue #17's benchmark, from one run. */
function verdicts(run) {
  const out = [];
  const long = run.tfx.fixed.find((f) => f.rate === 200);
  if (long) {
    const ok = long.failed === 0 && long.successful === Math.round(long.rate * long.seconds);
    out.push(
      `- **Required, 200 calls/s for ${long.seconds} s with no failed call: ${ok ? 'met' : 'missed'}** ` +
        `(${long.successful} ok, ${long.failed} failed, ${long.retransmissions} retransmissions).`,
    );
  }
  const at500 = run.tfx.fixed.find((f) => f.rate === 500);
  if (at500) {
    const ok = at500.failed === 0 && at500.successful === Math.round(at500.rate * at500.seconds);
    out.push(
      `- Goal, 500 calls/s: ${ok ? 'no failed call' : 'failed calls'} (${at500.successful} ok, ${at500.failed} failed, ${at500.retransmissions} retransmissions).`,
    );
  }
  const ratios = run.tfx.fixed
    .map((f) => ratioOf(f, find(run.kamailio, f.rate)))
    .filter((r) => r !== undefined);
  if (ratios.length > 0) {
    const worst = Math.max(...ratios);
    out.push(
      `- **Goal, CPU per call within ${GOAL}× of Kamailio + topoh: ${worst <= GOAL ? 'met' : 'missed'}** ` +
        `(${ratios.map((r) => r.toFixed(2)).join(', ')}× at ${run.tfx.fixed.map((f) => `${f.rate}`).join(', ')} calls/s).`,
    );
  }
  return out.join('\n');
}

/** Rewrites "## SBC" in docs/benchmarks.md and the chart, from the kept runs. */
export function writeDocs(root, runs, notes) {
  const run = runs[runs.length - 1];
  const f = run.facts;
  writeFileSync(join(root, 'docs', 'img', 'sbc-bench.svg'), svgChart(run));
  const best = (x) => (x === undefined ? '–' : x === 0 ? 'none clean' : `${x}/s`);
  const section = [
    '## SBC',
    '',
    '`npm run bench:sbc` (`bench/sbc/`; options: `--rates 100,200,500 --seconds 10 --long 30',
    '--long-rate 200 --search-from 200 --max-rate 3000 --profile --no-search --no-docs --quick',
    '--tfx-root DIR`). One run measures the TFX SBC and Kamailio one after the other with the same',
    'sipp scenarios (`bench/sip/scenarios/uac.xml`, `uas.xml`): a call is INVITE (SDP) → 100 → 180',
    '→ 200 (SDP) → ACK → BYE → 200 from a sipp caller to a sipp callee, UDP, no RTP.',
    '',
    '- **TFX**: `tfx start` (log level warn) with two `trusted` zones, `public` (127.0.0.151) and',
    '  `core` (127.0.0.152), one trunk (the callee, 127.0.0.153) and the route public → trunk:',
    '  every call is two dialogs (own Call-ID, tags, CSeq, Via, Contact per leg) with the SDP',
    '  anchored on the built-in media engine (one worker thread; 4 media ports bound per call). The',
    '  zones are trusted, so neither the security stages nor digest run (Kamailio authenticates',
    '  nobody either).',
    '- **Kamailio + topoh** (`bench/sbc/kamailio.cfg`): a stateful proxy (tm, rr with double',
    '  Record-Route, maxfwd, sanity) with one UDP socket per side (127.0.0.161 callers, 127.0.0.162',
    '  trunk side) and `topoh` masking Via, Record-Route, Route, Contact and the Call-ID; every new',
    '  INVITE goes to its trunk (127.0.0.163); `-m 256 -M 16`, one worker per socket (two in all).',
    '',
    'Each server is pinned to core 0 and sipp to core 1 (`taskset`, both at `nice -10`). Server CPU',
    'is utime + stime of its whole process tree (threads included: the media worker) from /proc over',
    'the steady window of each step (1 s after the start to 1 s before the planned end), divided by',
    'the calls sipp started in it; each server is warmed up 5 s first. A step is *clean* with no',
    'failed call, every call done and no retransmission; the highest clean rate steps up ×1.25 from',
    '200/s until a step is not clean, the core is full or the bound (3000/s).',
    '',
    `Machine: ${f.cpu}, ${f.cores} cores, ${f.memGiB} GiB, Linux ${f.kernel}, Node ${f.node},`,
    `Kamailio ${f.kamailio}, sipp ${f.sipp}. Shared with other engineers' work: the load averages`,
    'below (on 2 cores) say how busy; CPU per call is the server’s own time and holds up better than',
    'the clean rates, which a descheduled sipp spoils.',
    '',
    `### Latest run (${f.date.slice(0, 16).replace('T', ' ')} UTC, load ${f.loadBefore} → ${f.loadAfter})`,
    '',
    fixedTable(run),
    '',
    `Highest clean rate (a step of ${f.stepSeconds} s): TFX ${best(run.tfx.best?.call)}, Kamailio + topoh ${best(run.kamailio.best?.call)}.`,
    '',
    verdicts(run),
    '',
    '![SBC CPU per call, TFX and Kamailio + topoh](img/sbc-bench.svg)',
    '',
    '### Every kept run (noise)',
    '',
    runsTable(runs),
    '',
    ...(notes ? [notes.trim(), ''] : []),
  ].join('\n');
  replaceSection(join(root, 'docs', 'benchmarks.md'), '## SBC', section);
  console.log('wrote docs/benchmarks.md (## SBC) and docs/img/sbc-bench.svg');
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(here, '..', '..');
  const runs = JSON.parse(readFileSync(join(here, 'results.json'), 'utf8'));
  const notesFile = join(here, 'NOTES.md');
  writeDocs(root, runs, existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : undefined);
}
