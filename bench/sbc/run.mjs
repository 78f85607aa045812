// bench/sbc: sipp calls through the TFX SBC (a B2BUA between two zones, SDP anchored on the
// built-in media engine, no RTP) and, in the same run, through Kamailio as a stateful proxy with
// its topoh topology-hiding module (bench/sbc/kamailio.cfg).
//   npm run bench:sbc [-- --targets tfx,kamailio --rates 100,200,500 --seconds 10
//                        --long 30 --long-rate 200 --search-from 200 --max-rate 3000
//                        --step-seconds 8 --warmup 5 --quick --profile --no-search --no-docs
//                        --tfx-root DIR --nice -10]
// --quick: one step of a handful of calls per target (10/s × 2 s), no warm-up, no search, no
// docs; exits 1 if a call failed (the smoke test runs it).
// Each server is pinned to core 0 and sipp to core 1 (taskset), on loopback addresses of the
// bench's own (127.0.0.151–164): TFX's zones public 127.0.0.151 and core 127.0.0.152, its trunk
// (a sipp UAS) 127.0.0.153, its caller (sipp UAC) 127.0.0.154; Kamailio's two sockets 127.0.0.161
// (callers) and 127.0.0.162 (trunk side), its trunk 127.0.0.163, its caller 127.0.0.164. Ports
// are the kernel's picks. A call: INVITE (SDP) → 100 → 180 → 200 (SDP) → ACK → BYE → 200 at the
// caller; the callee answers at once. Server CPU = utime + stime of its whole process tree from
// /proc over each step's steady window (bench/common/sipp-load.mjs). Every sipp run is bounded by
// -m and a timeout; every process is stopped by its PID. Results: stdout, bench/sbc/results.json
// (the last runs), the section "## SBC" of docs/benchmarks.md and docs/img/sbc-bench.svg.
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync, mkdtempSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LOAD_CORE,
  SERVER_CORE,
  flag,
  freePort,
  log,
  machineFacts,
  measureStep,
  opt,
  searchRate,
  settle,
  sippRunner,
  sleep,
  stopPid,
  track,
} from '../common/sipp-load.mjs';
import { keepRun, writeDocs } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const QUICK = flag('quick');
// The TFX build to measure (another checkout's, for a before/after with this same bench).
const tfxRoot = opt('tfx-root', root);
const TARGETS = opt('targets', 'tfx,kamailio').split(',');
const RATES = opt('rates', QUICK ? '10' : '100,200,500')
  .split(',')
  .map(Number);
const SECONDS = Number(opt('seconds', QUICK ? '2' : '10'));
// The required step: 200 calls/s for 30 s with no failed call.
const LONG = Number(opt('long', QUICK ? String(SECONDS) : '30'));
const LONG_RATE = Number(opt('long-rate', '200'));
const SEARCH_FROM = Number(opt('search-from', '200'));
const MAX_RATE = Number(opt('max-rate', '3000'));
const STEP_SECONDS = Number(opt('step-seconds', '8'));
const WARMUP = Number(opt('warmup', QUICK ? '0' : '5'));
const PROFILE = flag('profile');
// Server and sipp get the same raised priority, so other work on a shared machine disturbs less.
const NICE = opt('nice', '-10');
const WRITE_DOCS = !QUICK && !flag('no-docs');
const NO_SEARCH = QUICK || flag('no-search');
const SIP_SCEN = join(here, '..', 'sip', 'scenarios');
const work = mkdtempSync(join(tmpdir(), 'tfx-sbc-bench-'));
const startSipp = sippRunner({ work, nice: NICE, core: LOAD_CORE });

const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** The bench's loopback addresses (never a well-known port: ports are the kernel's picks). */
const ADDR = {
  tfx: { a: '127.0.0.151', b: '127.0.0.152', uas: '127.0.0.153', uac: '127.0.0.154' },
  kamailio: { a: '127.0.0.161', b: '127.0.0.162', uas: '127.0.0.163', uac: '127.0.0.164' },
};

// --- servers ---------------------------------------------------------------------------------

/** TFX (`tfx start`) with two trusted zones and one trunk: the UAS. */
async function startTfx(uasPort) {
  const { a, b, uas } = ADDR.tfx;
  // Media ports from a random range of 8000 (room for 2000 calls at once; other engineers'
  // tests bind theirs at random too, on other addresses).
  const portMin = 40000 + 2 * Math.floor(Math.random() * 2000);
  const cfg = join(work, 'tfx.yaml');
  writeFileSync(
    cfg,
    [
      'server:',
      '  host: 127.0.0.1',
      '  port: 0',
      '  insecureHttp: true',
      'log:',
      '  level: warn',
      '  format: json',
      'sip:',
      '  enabled: false',
      'admin:',
      `  token: ${ADMIN_TOKEN}`,
      'media:',
      '  engine: builtin',
      `  zones: { public: { address: ${a} }, core: { address: ${b} } }`,
      `  portMin: ${portMin}`,
      `  portMax: ${portMin + 7999}`,
      'sbc:',
      '  zones:',
      '    - name: public',
      `      listen: [udp://${a}:0]`,
      `      media: { address: ${a} }`,
      '      trusted: true',
      '    - name: core',
      `      listen: [udp://${b}:0]`,
      `      media: { address: ${b} }`,
      '      trusted: true',
      '  trunks:',
      `    - { name: uas, zone: core, uri: "sip:${uas}:${uasPort}" }`,
      '  routes:',
      '    - { match: { zone: public }, to: [uas] }',
      '',
    ].join('\n'),
  );
  const profDir = join(work, 'profiles');
  const child = spawn(
    'nice',
    [
      '-n',
      NICE,
      'taskset',
      '-c',
      SERVER_CORE,
      process.execPath,
      // As packages/cli/bin/tfx.js's shebang and `npm start` run TFX (a 64 MB young generation).
      '--max-semi-space-size=64',
      ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
      join(tfxRoot, 'packages/cli/bin/tfx.js'),
      'start',
      '-c',
      cfg,
      '--data-dir',
      join(work, 'tfx-data'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child);
  let err = '';
  child.stderr.on('data', (c) => (err = (err + c.toString()).slice(-4000)));
  // Warnings the server logs, counted per message: a step's failures may be the server refusing.
  const warnings = new Map();
  /** The first line logged per warning, printed with the step's count. */
  const samples = new Map();
  const ready = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tfx did not start in time: ${err}`)), 90_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const o = JSON.parse(line);
        if (typeof o.level === 'number' ? o.level >= 40 : /warn|error/.test(String(o.level))) {
          const key = String(o.msg ?? o.message ?? '?').slice(0, 60);
          warnings.set(key, (warnings.get(key) ?? 0) + 1);
          if (!samples.has(key)) samples.set(key, line.slice(0, 400));
        }
        if (o.event === 'ready') {
          clearTimeout(t);
          resolve(o);
        }
      } catch {
        // not JSON
      }
    });
    child.once('exit', (c) => reject(new Error(`tfx exited (${c}): ${err}`)));
  });
  const listener = ready.listeners.find((l) => l.name === 'sbc-public-udp');
  if (!listener) throw new Error(`no sbc-public-udp listener in ${JSON.stringify(ready)}`);
  const http = ready.listeners.find((l) => l.name === 'http');
  return {
    name: 'tfx',
    label: 'TFX',
    /** The SBC's refusal and end counters (Prometheus text, `tfx_sbc_*_total` lines). */
    counters: async () => {
      if (!http) return new Map();
      const res = await fetch(`http://127.0.0.1:${http.port}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const out = new Map();
      for (const line of (await res.text()).split('\n')) {
        const m = /^(tfx_sbc_(?:invites_refused|calls_ended)_total\S*) (\d+)/.exec(line);
        if (m) out.set(m[1], Number(m[2]));
      }
      return out;
    },
    child,
    pid: child.pid,
    address: a,
    port: listener.port,
    warnings,
    samples,
    profDir,
    stop: () => stopPid(child, 'SIGINT'),
  };
}

/** Kamailio + topoh with one UDP socket per side; new INVITEs go to the UAS. */
async function startKamailio(uasPort) {
  const { a, b, uas } = ADDR.kamailio;
  const [pa, pb] = [await freePort(a), await freePort(b)];
  const dir = join(work, 'kamailio');
  execFileSync('mkdir', ['-p', dir]);
  const child = spawn(
    'nice',
    [
      '-n',
      NICE,
      'taskset',
      '-c',
      SERVER_CORE,
      'kamailio',
      '-f',
      join(here, 'kamailio.cfg'),
      '-DD',
      '-E',
      '-m',
      '256',
      '-M',
      '16',
      '-l',
      `udp:${a}:${pa}`,
      '-l',
      `udp:${b}:${pb}`,
      '-A',
      `TRUNK="${uas}:${uasPort}"`,
      '-A',
      `TRUNK_SOCKET="udp:${b}:${pb}"`,
      '-A',
      `MASK_IP="${a}"`,
      '-w',
      dir,
      '-Y',
      dir,
      '-P',
      join(dir, 'kamailio.pid'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  let err = '';
  child.stderr.on('data', (c) => (err = (err + c.toString()).slice(-4000)));
  child.once('exit', (c) => {
    if (c) console.error(`kamailio exited ${c}: ${err}`);
  });
  return {
    name: 'kamailio',
    label: 'Kamailio',
    child,
    pid: child.pid,
    address: a,
    port: pa,
    stop: () => stopPid(child),
  };
}

// --- steps -----------------------------------------------------------------------------------

async function waitReady(server) {
  const uac = ADDR[server.name].uac;
  for (let i = 0; i < 40; i++) {
    const r = await startSipp(
      [
        `${server.address}:${server.port}`,
        '-sf',
        join(SIP_SCEN, 'options.xml'),
        '-i',
        uac,
        '-p',
        String(await freePort(uac)),
        '-m',
        '1',
        '-recv_timeout',
        '500',
      ],
      3,
    ).done;
    if (r.SuccessfulCall === 1) return;
    await sleep(250);
  }
  throw new Error(`${server.label} does not answer OPTIONS`);
}

/** One bounded step of calls at `rate` per second for `seconds`. */
async function step(server, rate, seconds) {
  const count = Math.round(rate * seconds);
  await settle(server);
  const uac = ADDR[server.name].uac;
  // A fresh local port per step: late answers to an earlier step cannot reach this one.
  const run = startSipp(
    [
      `${server.address}:${server.port}`,
      '-sf',
      join(SIP_SCEN, 'uac.xml'),
      '-s',
      'callee',
      '-key',
      'domain',
      `${server.address}:${server.port}`,
      '-i',
      uac,
      '-p',
      String(await freePort(uac)),
      '-t',
      'u1',
      '-r',
      String(rate),
      '-m',
      String(count),
      '-l',
      String(Math.max(1000, rate * 4)),
      '-recv_timeout',
      '10000',
      '-max_socket',
      '1000',
    ],
    seconds + 30,
  );
  const before = await server.counters?.().catch(() => undefined);
  const res = await measureStep(server, run, { kind: 'call', rate, seconds, count });
  if (!res.clean && before) {
    // Why the SBC refused or ended calls in this step (its counters' increase).
    const after = await server.counters().catch(() => new Map());
    for (const [k, v] of after) {
      const d = v - (before.get(k) ?? 0);
      if (d > 0 && !/reason="caller-bye"/.test(k)) log(`      sbc: ${d}× ${k}`);
    }
  }
  return res;
}

async function benchServer(target) {
  const uasAddr = ADDR[target].uas;
  const uasPort = await freePort(uasAddr);
  const uas = startSipp(
    [
      '-sf',
      join(SIP_SCEN, 'uas.xml'),
      '-i',
      uasAddr,
      '-p',
      String(uasPort),
      '-t',
      'u1',
      '-m',
      '100000000',
      '-max_socket',
      '1000',
    ],
    3600,
  );
  const server = await (target === 'tfx' ? startTfx(uasPort) : startKamailio(uasPort));
  try {
    await waitReady(server);
    log(
      `${server.label}: pid ${server.pid}, udp ${server.address}:${server.port} → trunk ${uasAddr}:${uasPort}` +
        (WARMUP > 0 ? `; warm-up ${WARMUP} s` : ''),
    );
    if (WARMUP > 0) await step(server, 200, WARMUP);
    const results = { server: server.label, fixed: [], best: {} };
    // The fixed steps' span (CLOCK_MONOTONIC µs, as the CPU profile counts): --profile's window.
    const from = process.hrtime.bigint() / 1000n;
    for (const rate of RATES) {
      results.fixed.push(await step(server, rate, rate === LONG_RATE ? LONG : SECONDS));
    }
    server.window = [from, process.hrtime.bigint() / 1000n];
    if (!NO_SEARCH) {
      results.best.call = await searchRate(
        (rate) => step(server, rate, STEP_SECONDS),
        SEARCH_FROM,
        1.25,
        MAX_RATE,
      );
    }
    return results;
  } finally {
    await server.stop();
    await stopPid(uas.child);
    if (PROFILE && server.profDir && existsSync(server.profDir)) {
      for (const f of readdirSync(server.profDir)) {
        const file = join(server.profDir, f);
        log(`\nprofile ${file} (the fixed steps only):`);
        log(
          execFileSync(
            process.execPath,
            [
              join(here, '..', 'sip', 'profile-top.mjs'),
              file,
              '--n',
              '30',
              ...(server.window
                ? ['--from', String(server.window[0]), '--to', String(server.window[1])]
                : []),
            ],
            { maxBuffer: 1 << 24 },
          ).toString(),
        );
      }
    }
  }
}

// --- main ------------------------------------------------------------------------------------

if (!existsSync(join(tfxRoot, 'packages/cli/dist/bin.js')))
  throw new Error('build first: npm run build');
const startedAt = new Date();
const load0 = loadavg();
log(`load average at the start: ${load0.map((l) => l.toFixed(2)).join(' ')}`);
const all = [];
for (const t of TARGETS) all.push(await benchServer(t));
const facts = {
  ...machineFacts(startedAt, load0),
  stepSeconds: STEP_SECONDS,
  nice: NICE,
  quick: QUICK,
};
const tfx = all.find((r) => r.server === 'TFX');
const kam = all.find((r) => r.server === 'Kamailio');
log(
  `\nSummary (CPU µs per call, server on one core; load ${facts.loadBefore} → ${facts.loadAfter}):`,
);
for (const f of (tfx ?? kam).fixed) {
  const a = tfx?.fixed.find((x) => x.rate === f.rate);
  const b = kam?.fixed.find((x) => x.rate === f.rate);
  const ratio = a && b ? (a.cpuUsPerOp / b.cpuUsPerOp).toFixed(2) : '–';
  const st = (x) =>
    x ? `${x.successful} ok / ${x.failed} failed / ${x.retransmissions} retrans` : '';
  log(
    `  ${String(f.rate).padStart(5)}/s × ${f.seconds} s  TFX ${a ? a.cpuUsPerOp.toFixed(0) : '–'} (${st(a)})  ` +
      `Kamailio ${b ? b.cpuUsPerOp.toFixed(0) : '–'} (${st(b)})  ratio ${ratio}`,
  );
}
for (const r of all) if (!NO_SEARCH) log(`  highest clean rate ${r.server}: ${r.best.call}/s`);
const run = { facts, tfx, kamailio: kam };
writeFileSync(join(work, 'results.json'), JSON.stringify(run, null, 2));
log(`raw results: ${join(work, 'results.json')}`);
if (WRITE_DOCS && tfx && kam) {
  const notesFile = join(here, 'NOTES.md');
  writeDocs(
    root,
    keepRun(root, run),
    existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : undefined,
  );
}
// A failed or missing call in any fixed step is an error (the smoke test relies on it).
const bad = all.flatMap((r) =>
  r.fixed.filter((f) => f.failed > 0 || f.successful !== Math.round(f.rate * f.seconds)),
);
if (bad.length > 0) {
  log(`${bad.length} step(s) with failed or missing calls`);
  process.exitCode = 1;
}
