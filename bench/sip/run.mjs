// bench/sip: sipp load against the TFX SIP server and, in the same run, against Kamailio.
//   npm run bench:sip [-- --targets tfx,kamailio --rates 200,500,1000 --seconds 10 --long 30
//                        --users 10000 --max-call-rate 4000 --kinds call,register,options
//                        --profile --no-docs --tfx-root DIR --auth-uri URI --callgrind]
// --callgrind: TFX runs under valgrind's callgrind and each step reports instructions per
// operation (counters zeroed before the step, dumped after it): a count that does not depend on
// the machine's load, for before/after comparisons on a shared machine (run at low rates).
// Each server runs pinned to core 0, sipp to core 1 (taskset), on 127.0.0.1 only. Scenarios:
// calls (sipp UAC → proxy → sipp UAS registered as `callee`; INVITE, 180, 200, ACK, BYE, 200,
// no digest: the caller is from a foreign domain), REGISTERs of many distinct users (digest on
// both servers: 401 then 200), OPTIONS to the server. Server CPU = utime+stime of the whole
// process tree (+ reaped children's) from /proc over the steady window. Every sipp run is bounded
// by -m and a timeout; every process is stopped by its PID. Results: stdout, the section
// "## SIP server" of docs/benchmarks.md and the chart docs/img/sip-bench.svg.
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync, mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  log,
  machineFacts,
  measureStep,
  idleCpuUsPerSecond,
  opt,
  searchRate,
  settle,
  sippRunner,
  sleep,
  stopPid,
  track,
} from '../common/sipp-load.mjs';
import { keepRun, writeDocs } from './report.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout
    .write(`npm run bench:sip [-- options]   sipp load on TFX's SIP server and Kamailio, in one run

  --targets tfx,kamailio     servers to measure (default both)
  --rates 200,500,1000       fixed rates per second (default 200,500,1000)
  --kinds call,register,options
  --seconds 10               length of each fixed step (the 1000/s call step: --long, default 30)
  --long 30
  --no-search                skip the search for the highest clean rate
  --step-seconds 8           length of each step of that search
  --warmup 10                seconds of warm-up before the first step
  --tail 34                  seconds after each step whose CPU (less idle) is the step's too:
                             UDP transactions linger 32 s and expire then (0: none)
  --users 10000              distinct users for REGISTER
  --profile                  a CPU profile of TFX during the 1000/s call step
  --callgrind                instructions per operation under valgrind (low rates only)
  --tfx-root DIR             measure another checkout's build (before/after)
  --before DIR               also measure the build in DIR as the target "before", in the
                             order --targets names it (e.g. before,tfx,kamailio), so a
                             before/after pair runs alternated in one run
  --auth-uri URI             the digest uri sipp answers with
  --nice -10                 priority of the servers and sipp
  --no-docs                  do not rewrite docs/benchmarks.md's recorded run
`);
  process.exit(0);
}
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// The TFX build to measure (another checkout's, for a before/after with this same bench).
const tfxRoot = process.argv.includes('--tfx-root')
  ? process.argv[process.argv.indexOf('--tfx-root') + 1]
  : root;
// The digest uri sipp answers with. Default: sipp's own (the address it sends to), as phones
// do; `--auth-uri bench.tfx` for a build from before digest accepted that (issue #14).
const AUTH_URI = process.argv.includes('--auth-uri')
  ? process.argv[process.argv.indexOf('--auth-uri') + 1]
  : undefined;
const authUriArgs = () => (AUTH_URI !== undefined ? ['-auth_uri', AUTH_URI] : []);
const TARGETS = opt('targets', 'tfx,kamailio').split(',');
// The "before" build of a before/after comparison (the target `before`).
const BEFORE_ROOT = process.argv.includes('--before')
  ? process.argv[process.argv.indexOf('--before') + 1]
  : undefined;
if (TARGETS.includes('before') && BEFORE_ROOT === undefined)
  throw new Error('the target "before" needs --before DIR');
const RATES = opt('rates', '200,500,1000').split(',').map(Number);
const SCENARIO_KINDS = opt('kinds', 'call,register,options').split(',');
const SECONDS = Number(opt('seconds', '10'));
const LONG = Number(opt('long', '30'));
const USERS = Number(opt('users', '10000'));
const MAX_CALL_RATE = Number(opt('max-call-rate', '4000'));
const MAX_REG_RATE = Number(opt('max-register-rate', '12000'));
const MAX_OPT_RATE = Number(opt('max-options-rate', '16000'));
const STEP_SECONDS = Number(opt('step-seconds', '8'));
const WARMUP = Number(opt('warmup', '10'));
const TAIL = Number(opt('tail', '34'));
const PROFILE = process.argv.includes('--profile');
const CALLGRIND = process.argv.includes('--callgrind');
// Server and sipp get the same raised priority, so other work on a shared machine disturbs less.
const NICE = opt('nice', '-10');
const WRITE_DOCS = !process.argv.includes('--no-docs');
const NO_SEARCH = process.argv.includes('--no-search');
const DOMAIN = 'bench.tfx';
const PASSWORD_SUFFIX = '-bench-pw';
const SCEN = join(here, 'scenarios');
const work = mkdtempSync(join(tmpdir(), 'tfx-sip-bench-'));
const startSipp = sippRunner({ work, nice: NICE });

// --- servers ---------------------------------------------------------------------------------

function userLines(n) {
  const out = [];
  for (let i = 1; i <= n; i++) out.push(`u${String(i).padStart(6, '0')}`);
  return out;
}

async function startTfx(buildRoot = tfxRoot, name = 'tfx', label = 'TFX') {
  const users = [{ username: 'callee', password: `callee${PASSWORD_SUFFIX}` }];
  for (const u of userLines(USERS)) users.push({ username: u, password: `${u}${PASSWORD_SUFFIX}` });
  const cfg = join(work, 'tfx.yaml');
  const yaml = [
    'server:',
    '  host: 127.0.0.1',
    '  port: 0',
    'sip:',
    '  port: 0',
    '  tlsPort: 0',
    `  domain: ${DOMAIN}`,
    '  rateLimit: 0',
    '  digestAlgorithms: [MD5]',
    '  users:',
    ...users.map((u) => `    - { username: ${u.username}, password: ${u.password} }`),
  ].join('\n');
  writeFileSync(cfg, `${yaml}\n`);
  const profDir = join(work, 'profiles');
  const nodeArgs = [
    // As packages/cli/bin/tfx.js's shebang and `npm start` run TFX (a 64 MB young generation).
    '--max-semi-space-size=64',
    ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
    ...(process.env.SIP_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const child = spawn(
    'nice',
    [
      '-n',
      NICE,
      'taskset',
      '-c',
      '0',
      ...(CALLGRIND
        ? ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(work, 'callgrind.%p')}`]
        : []),
      process.execPath,
      ...nodeArgs,
      join(buildRoot, 'packages/cli/bin/tfx.js'),
      'sip',
      '-c',
      cfg,
      '--data-dir',
      join(work, 'tfx-data'),
      '--log-level',
      'warn',
      '--log-format',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SIP_BENCH_NODE_ARGS: '' } },
  );
  track(child);
  if (process.env.SIP_BENCH_NODE_ARGS) child.stdout.pipe(process.stdout);
  // Warnings the server logs (bans, refusals), counted per message: a step's failures may be
  // the server refusing the load generator rather than overload.
  const warnings = new Map();
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error('tfx did not start in time')),
      CALLGRIND ? 900_000 : 60_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const o = JSON.parse(line);
        if (typeof o.level === 'number' ? o.level >= 40 : /warn|error/.test(String(o.level))) {
          const key = String(o.msg ?? o.message ?? '?').slice(0, 60);
          warnings.set(key, (warnings.get(key) ?? 0) + 1);
        }
        if (o.event === 'ready') {
          clearTimeout(t);
          resolve(o.listeners.find((l) => l.name === 'sip-udp').port);
        }
      } catch {
        // not JSON
      }
    });
    child.once('exit', (c) => reject(new Error(`tfx exited (${c})`)));
  });
  return {
    name,
    label,
    child,
    pid: child.pid,
    port,
    warnings,
    stop: () => stopPid(child, 'SIGINT'),
  };
}

async function startKamailio() {
  const port = await freePort();
  const dir = join(work, 'kamailio');
  execFileSync('mkdir', ['-p', dir]);
  const child = spawn(
    'nice',
    [
      '-n',
      NICE,
      'taskset',
      '-c',
      '0',
      'kamailio',
      '-f',
      join(here, 'kamailio.cfg'),
      '-DD',
      '-E',
      '-m',
      '1024',
      '-M',
      '16',
      '-l',
      `udp:127.0.0.1:${port}`,
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
    port,
    stop: () => stopPid(child),
  };
}

// --- scenarios -------------------------------------------------------------------------------

function writeInf(name, lines) {
  const file = join(work, name);
  writeFileSync(file, `SEQUENTIAL\n${lines.join('\n')}\n`);
  return file;
}

const auth = (u) => `[authentication username=${u} password=${u}${PASSWORD_SUFFIX}]`;

async function waitReady(server) {
  for (let i = 0; i < 40; i++) {
    const r = await startSipp(
      [
        `127.0.0.1:${server.port}`,
        '-sf',
        join(SCEN, 'options.xml'),
        '-i',
        '127.0.0.1',
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

async function registerCallee(server, uasPort) {
  const inf = writeInf(`callee-${server.name}.csv`, [`callee;${auth('callee')};${uasPort}`]);
  const r = await startSipp(
    [
      `127.0.0.1:${server.port}`,
      '-sf',
      join(SCEN, 'register.xml'),
      '-inf',
      inf,
      '-i',
      '127.0.0.1',
      '-key',
      'domain',
      DOMAIN,
      ...authUriArgs(),
      '-m',
      '1',
    ],
    10,
  ).done;
  if (r.SuccessfulCall !== 1)
    throw new Error(`callee not registered on ${server.label}: ${r.output}`);
}

const KINDS = {
  call: () => ['-sf', join(SCEN, 'uac.xml'), '-s', 'callee', '-key', 'domain', DOMAIN],
  register: (server) => [
    '-sf',
    join(SCEN, 'register.xml'),
    '-inf',
    server.usersInf,
    '-key',
    'domain',
    DOMAIN,
    ...authUriArgs(),
  ],
  options: () => ['-sf', join(SCEN, 'options.xml')],
};

/**
 * One bounded load step: `rate` per second for `seconds`. CPU is sampled over the steady window
 * (from 1 s after the start to 1 s before the planned end); operations in it = rate × window.
 * With `tail` (the fixed steps and the warm-up; not the rate search), the CPU of the `tail`
 * seconds after the step, less idle, is added per operation (see measureStep).
 */
async function step(server, kind, rate, seconds, tail = 0) {
  const count = Math.round(rate * seconds);
  await settle(server);
  if (CALLGRIND) execFileSync('callgrind_control', ['-z', String(server.pid)], { stdio: 'ignore' });
  // A fresh local port per step: late answers to an earlier step cannot reach this one.
  const localPort = await freePort();
  const run = startSipp(
    [
      `127.0.0.1:${server.port}`,
      ...KINDS[kind](server),
      '-i',
      '127.0.0.1',
      '-p',
      String(localPort),
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
  if (CALLGRIND) return callgrindStep(server, kind, rate, count, run);
  return measureStep(server, run, {
    kind,
    rate,
    seconds,
    count,
    tailSeconds: tail,
    idleUsPerSecond: server.idleUsPerSecond ?? 0,
  });
}

/** Instructions the server executed for a whole step (callgrind counters zeroed before it). */
async function callgrindStep(server, kind, rate, count, run) {
  const r = await run.done;
  execFileSync('callgrind_control', ['-d', String(server.pid)], { stdio: 'ignore' });
  const dumps = readdirSync(work)
    .filter((f) => f.startsWith(`callgrind.${server.pid}.`))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = readFileSync(join(work, dumps[dumps.length - 1]), 'utf8');
  const instructions = Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? NaN);
  execFileSync('callgrind_control', ['-z', String(server.pid)], { stdio: 'ignore' });
  const res = {
    kind,
    rate,
    successful: r.SuccessfulCall,
    failed: r.FailedCall,
    retransmissions: r.Retransmissions,
    instructionsPerOp: instructions / count,
    load: loadavg()[0],
  };
  log(
    `  ${server.label.padEnd(8)} ${kind.padEnd(8)} ${String(rate).padStart(5)}/s: ` +
      `${res.successful}/${count} ok, ${res.failed} failed, ${res.retransmissions} retrans, ` +
      `${(res.instructionsPerOp / 1e6).toFixed(2)} M instructions/op, load ${res.load.toFixed(1)}`,
  );
  return res;
}

/** Steps the rate up until a step is not clean (failures, retransmissions) or the bound. */
const search = (server, kind, start, factor, max) =>
  searchRate((rate) => step(server, kind, rate, STEP_SECONDS), start, factor, max);

async function benchServer(start) {
  const server = await start();
  const uasPort = await freePort();
  const uas = startSipp(
    [
      '-sf',
      join(SCEN, 'uas.xml'),
      '-i',
      '127.0.0.1',
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
  try {
    await waitReady(server);
    server.idleUsPerSecond = await idleCpuUsPerSecond(server);
    server.usersInf = writeInf(
      `users-${server.name}.csv`,
      userLines(USERS).map((u) => `${u};${auth(u)};5999`),
    );
    await registerCallee(server, uasPort);
    log(`${server.label}: pid ${server.pid}, udp 127.0.0.1:${server.port}; warm-up ${WARMUP} s`);
    await step(server, 'call', CALLGRIND ? 5 : 300, WARMUP, TAIL);
    const results = { server: server.label, fixed: [], best: {} };
    for (const kind of SCENARIO_KINDS) {
      for (const rate of RATES) {
        const seconds = kind === 'call' && rate === 1000 ? LONG : SECONDS;
        results.fixed.push(await step(server, kind, rate, seconds, TAIL));
      }
    }
    if (!NO_SEARCH) {
      results.best.call = await search(server, 'call', 1000, 1.25, MAX_CALL_RATE);
      results.best.register = await search(server, 'register', 2000, 1.5, MAX_REG_RATE);
      results.best.options = await search(server, 'options', 4000, 1.5, MAX_OPT_RATE);
    }
    return results;
  } finally {
    await stopPid(uas.child);
    await server.stop();
  }
}

// --- main ------------------------------------------------------------------------------------

if (!existsSync(join(tfxRoot, 'packages/cli/dist/bin.js')))
  throw new Error('build first: tsc -b packages/cli');
const startedAt = new Date();
const load0 = loadavg();
const all = [];
for (const t of TARGETS) {
  all.push(
    await benchServer(
      t === 'tfx'
        ? () => startTfx()
        : t === 'before'
          ? () => startTfx(BEFORE_ROOT, 'before', 'before')
          : startKamailio,
    ),
  );
}
const facts = {
  ...machineFacts(startedAt, load0),
  users: USERS,
  stepSeconds: STEP_SECONDS,
  nice: NICE,
};
log('\nSummary (CPU µs per operation, server on one core):');
const tfx = all.find((r) => r.server === 'TFX');
const kam = all.find((r) => r.server === 'Kamailio');
const before = all.find((r) => r.server === 'before');
const us = (x) => (x ? x.cpuUsPerOp.toFixed(0) : '–');
for (const f of (tfx ?? before ?? kam).fixed) {
  const a = tfx?.fixed.find((x) => x.kind === f.kind && x.rate === f.rate);
  const b = kam?.fixed.find((x) => x.kind === f.kind && x.rate === f.rate);
  const p = before?.fixed.find((x) => x.kind === f.kind && x.rate === f.rate);
  const ratio = a && b ? (a.cpuUsPerOp / b.cpuUsPerOp).toFixed(2) : '–';
  log(
    `  ${f.kind.padEnd(8)} ${String(f.rate).padStart(5)}/s  ${before ? `before ${us(p)}  ` : ''}TFX ${us(a)}  Kamailio ${us(b)}  ratio ${ratio}`,
  );
}
for (const r of all) log(`  highest clean rate ${r.server}: ${JSON.stringify(r.best)}`);
const run = { facts, tfx, kamailio: kam, ...(before ? { before } : {}) };
writeFileSync(join(work, 'results.json'), JSON.stringify(run, null, 2));
log(`raw results: ${join(work, 'results.json')}`);
if (WRITE_DOCS && tfx && kam) {
  const notesFile = join(here, 'NOTES.md');
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : undefined;
  writeDocs(root, keepRun(root, run), notes);
}
