// bench/sip report: the "## SIP server" section of docs/benchmarks.md and docs/img/sip-bench.svg
// from the runs kept in bench/sip/results.json (the latest run in full, every kept run in brief,
// so the noise of a shared machine shows). run.mjs calls it; by hand:
//   node bench/sip/report.mjs            (rewrites the docs from bench/sip/results.json)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, keepRuns, replaceSection } from '../common/report.mjs';

const KEEP_RUNS = 4;
const KINDS = ['call', 'register', 'options'];
const UNIT = { call: 'call', register: 'REGISTER', options: 'OPTIONS' };

/** Appends a run to bench/sip/results.json (the last few kept) and returns every kept run. */
export function keepRun(root, run) {
  return keepRuns(join(root, 'bench', 'sip', 'results.json'), run, KEEP_RUNS);
}

const us = (x) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const find = (res, kind, rate) => res?.fixed.find((f) => f.kind === kind && f.rate === rate);

function fixedTable(run) {
  const [tfx, kam] = [run.tfx, run.kamailio];
  const rows = [
    '| load | TFX µs CPU / op | Kamailio µs CPU / op | TFX / Kamailio | TFX ok / failed / retrans | Kamailio ok / failed / retrans |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const f of tfx.fixed) {
    const k = find(kam, f.kind, f.rate);
    const ratio = k ? (f.cpuUsPerOp / k.cpuUsPerOp).toFixed(2) : '–';
    const st = (x) => (x ? `${x.successful} / ${x.failed} / ${x.retransmissions}` : '–');
    rows.push(
      `| ${UNIT[f.kind]} ${f.rate}/s × ${f.seconds} s | ${us(f.cpuUsPerOp)} | ${us(k?.cpuUsPerOp)} | ${ratio} | ${st(f)} | ${st(k)} |`,
    );
  }
  return rows.join('\n');
}

function bestTable(run) {
  const rows = ['| scenario | TFX | Kamailio |', '|---|---:|---:|'];
  for (const kind of KINDS) {
    const a = run.tfx.best?.[kind];
    const b = run.kamailio.best?.[kind];
    const fmt = (x) => (x === undefined ? '–' : x === 0 ? 'none clean' : `${x}/s`);
    rows.push(`| ${UNIT[kind]} | ${fmt(a)} | ${fmt(b)} |`);
  }
  return rows.join('\n');
}

function runsTable(runs) {
  const rows = [
    '| run | load average before → after | call 1000/s: TFX / Kamailio µs (ratio) | REGISTER 1000/s | OPTIONS 1000/s | TFX 1000 calls/s × 30 s |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const cell = (kind) => {
      const a = find(r.tfx, kind, 1000);
      const b = find(r.kamailio, kind, 1000);
      if (!a || !b) return '–';
      return `${us(a.cpuUsPerOp)} / ${us(b.cpuUsPerOp)} (${(a.cpuUsPerOp / b.cpuUsPerOp).toFixed(2)})`;
    };
    const long = find(r.tfx, 'call', 1000);
    const longText = long
      ? `${long.successful} ok, ${long.failed} failed, ${long.retransmissions} retrans`
      : '–';
    rows.push(
      `| ${r.facts.date.slice(0, 16).replace('T', ' ')} | ${r.facts.loadBefore} → ${r.facts.loadAfter} | ${cell('call')} | ${cell('register')} | ${cell('options')} | ${longText} |`,
    );
  }
  return rows.join('\n');
}

/** Grouped bars: CPU µs per operation, TFX and Kamailio, per scenario and rate. */
export function svgChart(run) {
  return barChart({
    title: 'SIP server CPU per operation (µs, one core; lower is better)',
    groups: run.tfx.fixed.map((f) => ({
      label: [UNIT[f.kind], `${f.rate}/s`],
      tfx: f.cpuUsPerOp,
      kam: find(run.kamailio, f.kind, f.rate)?.cpuUsPerOp ?? 0,
    })),
    facts: run.facts,
  });
}

/** Rewrites "## SIP server" in docs/benchmarks.md and the chart, from the kept runs. */
export function writeDocs(root, runs, notes) {
  const run = runs[runs.length - 1];
  const f = run.facts;
  writeFileSync(join(root, 'docs', 'img', 'sip-bench.svg'), svgChart(run));
  const section = [
    '## SIP server',
    '',
    '`npm run bench:sip` (options: `--rates 200,500,1000 --seconds 10 --long 30 --users 10000',
    '--max-call-rate 4000 --profile --no-docs`). One run measures TFX (`tfx sip`, log level warn) and',
    'Kamailio (`bench/sip/kamailio.cfg`: usrloc in memory, registrar, tm, sl, rr, maxfwd, sanity,',
    'siputils, auth without a database; `-m 1024 -M 16`, 2 workers) one after the other with the',
    'same sipp scenarios (`bench/sip/scenarios/`), each server pinned to core 0 and sipp to core 1,',
    'on 127.0.0.1. **Calls without digest on both** (the caller is from a foreign domain, so neither',
    'server challenges it), **REGISTER with digest on both** (REGISTER → 401 → REGISTER → 200, MD5,',
    `qop=auth; ${f.users.toLocaleString('en-US')} distinct users), OPTIONS to the server answered by it.`,
    'A call is INVITE → 100 → 180 → 200 → ACK → BYE → 200 through the proxy to a sipp UAS',
    'registered as a user (Record-Route on both). Server CPU is utime + stime of the whole process',
    'tree (and reaped children) from /proc over the steady window (1 s after the start to 1 s',
    'before the planned end), divided by rate × window. Each server is warmed up 10 s first.',
    'A step is *clean* with no failed call, every call done and no retransmission; the highest',
    'clean rate steps up (calls ×1.25 from 1000, REGISTER ×1.5 from 2000, OPTIONS ×1.5 from 4000)',
    'until a step is not clean or the bound.',
    '',
    `Machine: ${f.cpu}, ${f.cores} cores, ${f.memGiB} GiB, Linux ${f.kernel}, Node ${f.node},`,
    `Kamailio ${f.kamailio}, sipp ${f.sipp}. **Shared and busy**: colleagues' test suites, browsers`,
    'and benchmarks ran at the same time (load averages below, on 2 cores), so sipp was sometimes',
    'descheduled for over 500 ms (its watchdog says so) and retransmissions appear at any rate.',
    'CPU per operation is the server’s own CPU time and holds up better than the clean rates.',
    '',
    `### Latest run (${f.date.slice(0, 16).replace('T', ' ')} UTC, load ${f.loadBefore} → ${f.loadAfter})`,
    '',
    fixedTable(run),
    '',
    `Highest clean rate (bounded; a step of ${f.stepSeconds ?? 8} s):`,
    '',
    bestTable(run),
    '',
    '![SIP server CPU per operation, TFX and Kamailio](img/sip-bench.svg)',
    '',
    '### Every kept run (noise)',
    '',
    runsTable(runs),
    '',
    ...(notes ? [notes.trim(), ''] : []),
  ].join('\n');
  replaceSection(join(root, 'docs', 'benchmarks.md'), '## SIP server', section);
  console.log('wrote docs/benchmarks.md (## SIP server) and docs/img/sip-bench.svg');
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(here, '..', '..');
  const runs = JSON.parse(readFileSync(join(here, 'results.json'), 'utf8'));
  const notesFile = join(here, 'NOTES.md');
  writeDocs(root, runs, existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : undefined);
}
