// bench/signalling, scale-out scenario (issue 10): in one run, side by side,
//   tfx        single-process TFX (memory store)
//   tfx2       two TFX processes sharing a redis-server (the Redis store, node-stream routing)
//   sio-redis  two plain socket.io relays on @socket.io/redis-adapter (pub/sub) and a redis-server
// The load generator spreads clients over the processes (client i → process i mod n), so about half
// of the pairs in a room cross processes. Pinning: every server process and redis-server on core 0,
// the load generator on core 1 (taskset). Server CPU = utime+stime of the server processes (and,
// reported apart, of redis-server) over the relay window, divided by messages delivered.
//   npx tsc -b packages/cli && node bench/signalling/scale-out.mjs [--clients 10000] [--repeat 3]
//     [--targets tfx,tfx2,sio-redis] [--rate 4000] [--timeout 300] [--profile] [--no-docs]
//     [--before DIR] [--perf]
// Every run is bounded in count (--clients) and time (--timeout s). Writes "## Scale-out" of
// docs/benchmarks.md (not with --before). --before DIR: a built checkout of another commit (e.g.
// `git worktree add --detach /tmp/before main`, node_modules copied, `node scripts/build.mjs`);
// each TFX target then runs from DIR and from this checkout alternately, before first, and the
// ratios are given for each build. --perf: `perf record -g` of the server processes (and
// redis-server) over the relay window of every run, the TFX processes with --perf-basic-prof so
// that JIT frames have names; the top self-time symbols of each run are printed (needs perf).
// --help prints this.
import { spawn, execFileSync } from 'node:child_process';
import { lineReader, stop } from './common.mjs';
import { summarise } from './perf-summary.mjs';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir, cpus, totalmem, release, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
if (process.argv.includes('--help')) {
  const head = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  process.stdout.write(
    `${head
      .slice(
        0,
        head.findIndex((l) => !l.startsWith('//')),
      )
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n')}\n`,
  );
  process.exit(0);
}
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const CLIENTS = Number(opt('clients', '10000'));
const REPEAT = Number(opt('repeat', '3'));
const RATE = Number(opt('rate', '4000'));
const TARGETS = opt('targets', 'tfx,tfx2,sio-redis').split(',');
const TIMEOUT_S = Number(opt('timeout', '300'));
const PROFILE = process.argv.includes('--profile');
const PERF = process.argv.includes('--perf');
const BEFORE = opt('before', undefined);
const WRITE_DOCS = !process.argv.includes('--no-docs') && !BEFORE;
/** The builds to run: this checkout ('after'), and with --before that one first. */
const BUILDS = BEFORE
  ? [
      { name: 'before', dir: BEFORE },
      { name: 'after', dir: root },
    ]
  : [{ name: '', dir: root }];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const ADDRESSES = 200;

function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}
/** Context switches of the process's main thread so far (each voluntary one is a wake-up). */
function ctxSwitches(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const n = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? 0);
  return { vol: n('voluntary_ctxt_switches'), invol: n('nonvoluntary_ctxt_switches') };
}
function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}
/** XADD and XREAD calls so far (Redis INFO commandstats), to count round trips per message. */
function streamCalls(url) {
  const info = execFileSync('redis-cli', ['-u', url, 'INFO', 'commandstats']).toString();
  const calls = (cmd) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { xadd: calls('xadd'), xread: calls('xread') };
}
function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}
async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      'redis-server',
      '--save',
      '',
      '--appendonly',
      'no',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('redis did not start')), 10_000);
    child.stdout.on('data', (d) => /Ready to accept/.test(String(d)) && (clearTimeout(t), res()));
  });
  return { child, url: `redis://127.0.0.1:${port}` };
}
function startServer(script, extra, profDir, dir) {
  const nodeArgs = [
    ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ...(PERF ? ['--perf-basic-prof'] : []),
  ];
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, ...nodeArgs, join(dir, 'bench', 'signalling', script), ...extra],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return { child, next: lineReader(child.stdout), stderr: () => stderr };
}

async function runOne(target, profDir, dir) {
  let redis;
  const servers = [];
  let gen;
  let expire;
  const expired = new Promise((_, rej) => (expire = rej));
  expired.catch(() => undefined);
  const deadline = setTimeout(() => {
    process.stderr.write(`run ${target} exceeded ${TIMEOUT_S}s: stopping\n`);
    for (const c of [gen?.child, ...servers.map((s) => s.child), redis?.child])
      if (c && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
    expire(new Error(`exceeded ${TIMEOUT_S}s`));
  }, TIMEOUT_S * 1000);
  try {
    const work = runBounded();
    work.catch(() => undefined); // after the deadline: its error is not the run's
    return await Promise.race([expired, work]);
  } finally {
    clearTimeout(deadline);
    if (gen) await stop(gen.child).catch(() => undefined);
    for (const s of servers) await stop(s.child).catch(() => undefined);
    if (redis) await stop(redis.child).catch(() => undefined);
  }

  async function runBounded() {
    if (target !== 'tfx') redis = await startRedis();
    const script = target === 'sio-redis' ? 'bare-relay.mjs' : 'tfx-server.mjs';
    const n = target === 'tfx' ? 1 : 2;
    for (let i = 0; i < n; i++)
      servers.push(startServer(script, redis ? ['--redis', redis.url] : [], profDir, dir));
    const ready = [];
    for (const s of servers)
      ready.push(
        await s.next(30_000, `${target} ready`).catch((e) => {
          throw new Error(`${e.message}\n${s.stderr()}`);
        }),
      );
    await new Promise((r) => setTimeout(r, 500));
    const pids = servers.map((s) => s.child.pid);
    const sample = () => ({
      cpu: pids.reduce((a, p) => a + cpuUs(p), 0),
      redis: redis ? cpuUs(redis.child.pid) : 0,
      rss: pids.reduce((a, p) => a + rssKb(p), 0),
      vol: pids.reduce((a, p) => a + ctxSwitches(p).vol, 0),
      invol: pids.reduce((a, p) => a + ctxSwitches(p).invol, 0),
    });
    const base = sample();
    const child = spawn(
      'taskset',
      [
        '-c',
        '1',
        process.execPath,
        join(here, 'loadgen.mjs'),
        '--url',
        ready.map((r) => `http://127.0.0.1:${r.port}`).join(','),
        '--clients',
        String(CLIENTS),
        '--mode',
        target === 'sio-redis' ? 'bare' : 'tfx',
        '--rate',
        String(RATE),
        '--addresses',
        String(ADDRESSES),
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    gen = { child, next: lineReader(child.stdout) };
    const joined = await gen.next(TIMEOUT_S * 1000, 'joined');
    const atJoin = sample();
    const callsAtJoin = redis ? streamCalls(redis.url) : undefined;
    const perf = PERF ? startPerf([...pids, ...(redis ? [redis.child.pid] : [])]) : undefined;
    child.stdin.write('go\n');
    const relayed = await gen.next(TIMEOUT_S * 1000, 'relayed');
    const atRelay = sample();
    const callsAtRelay = redis ? streamCalls(redis.url) : undefined;
    if (perf)
      await perf.report(
        target,
        pids,
        redis?.child.pid,
        (atRelay.cpu - atJoin.cpu) / Math.max(1, relayed.received),
        (atRelay.redis - atJoin.redis) / Math.max(1, relayed.received),
      );
    child.stdin.write('done\n');
    const result = await gen.next(60_000, 'result');
    const received = Math.max(1, relayed.received);
    return {
      target,
      processes: n,
      ...result,
      serverCpuUsPerMessage: (atRelay.cpu - atJoin.cpu) / received,
      redisCpuUsPerMessage: (atRelay.redis - atJoin.redis) / received,
      // Stream commands over the relay window per delivered message (tfx2: the hop's round trips).
      xaddPerMessage: callsAtRelay ? (callsAtRelay.xadd - callsAtJoin.xadd) / received : NaN,
      xreadPerMessage: callsAtRelay ? (callsAtRelay.xread - callsAtJoin.xread) / received : NaN,
      // Main threads' context switches over the relay window per delivered message: voluntary
      // ones are wake-ups (each event-loop turn that slept), involuntary ones preemptions.
      wakeupsPerMessage: (atRelay.vol - atJoin.vol) / received,
      preemptionsPerMessage: (atRelay.invol - atJoin.invol) / received,
      serverCpuUsPerJoin: (atJoin.cpu - base.cpu) / Math.max(1, joined.joined),
      serverRssKbPerConnection: (atJoin.rss - base.rss) / Math.max(1, joined.connected),
    };
  }
}

/**
 * `perf record -g` of these processes until report(): prints the top self-time symbols per
 * process (TFX processes merged, redis-server apart) and the share of each process in the samples.
 */
function startPerf(pids) {
  const file = join(mkdtempSync(join(tmpdir(), 'tfx-perf-')), 'perf.data');
  const child = spawn('perf', ['record', '-F', '999', '-g', '-o', file, '-p', pids.join(',')], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    async report(target, serverPids, redisPid, usPerMessage, redisUsPerMessage) {
      child.kill('SIGINT');
      await exited;
      process.stdout.write(
        `\nperf ${target} (${file}), TFX processes ${serverPids.join(',')} over the relay window:\n${summarise(file, serverPids, usPerMessage, 30)}\n`,
      );
      if (redisPid)
        process.stdout.write(
          `\nredis-server ${redisPid}:\n${summarise(file, [redisPid], redisUsPerMessage, 10)}\n`,
        );
    },
  };
}

let profileText = '';
function profileSummary(dir) {
  const self = new Map();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const dt = (prof.endTime - prof.startTime) / Math.max(1, prof.samples.length);
    for (const n of prof.nodes) {
      const f = n.callFrame;
      if (f.functionName === '(idle)') continue;
      const where = f.url
        ? `${f.url.replace(/^file:\/\//, '').replace(root + '/', '')}:${f.lineNumber + 1}`
        : '';
      const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
      const us = (n.hitCount ?? 0) * dt;
      self.set(key, (self.get(key) ?? 0) + us);
      total += us;
    }
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  profileText = [
    `CPU profile of the two TFX processes together (whole run; ${(total / 1e6).toFixed(1)} s of CPU sampled, idle excluded), top functions by self time:`,
    '',
    '| self % | function |',
    '| ---: | --- |',
    ...top.map(
      ([k, us]) => `| ${((100 * us) / total).toFixed(1)} | \`${k.replace(/\|/g, '\\|')}\` |`,
    ),
  ].join('\n');
  process.stdout.write(`\n${profileText}\n`);
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const sio = JSON.parse(
  readFileSync(join(root, 'node_modules/socket.io/package.json'), 'utf8'),
).version;
const redisVersion = execFileSync('redis-server', ['--version']).toString().split(' ')[2] ?? '';
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}, socket.io ${sio}, Redis ${redisVersion.replace('v=', '')}; every server process and redis-server pinned to core 0, the load generator to core 1 (taskset); loopback, plain HTTP + WebSocket`;
process.stdout.write(
  `machine: ${machine}\nclients ${CLIENTS}, rate ${RATE} msg/s, ${REPEAT} runs per target\n`,
);

const results = [];
const loadAtStart = loadavg()[0];
for (let run = 1; run <= REPEAT; run++) {
  for (const build of BUILDS)
    for (const target of TARGETS) {
      if (build.name === 'before' && target === 'sio-redis') continue; // not TFX: same in both
      process.stdout.write(`run ${run}: ${target}${build.name ? ` (${build.name})` : ''}…\n`);
      const profDir =
        PROFILE && run === REPEAT && target === 'tfx2' && build.name !== 'before'
          ? mkdtempSync(join(tmpdir(), 'tfx-prof-'))
          : undefined;
      const load = loadavg()[0];
      try {
        const r = await runOne(target, profDir, build.dir);
        results.push({ run, build: build.name, load, ...r });
        process.stdout.write(
          `${JSON.stringify({ run, build: build.name, load, ...r, errorSamples: r.errorSamples?.slice(0, 3) })}\n`,
        );
      } catch (err) {
        process.stderr.write(`${target} run ${run} failed: ${err.message}\n`);
        results.push({
          run,
          build: build.name,
          target,
          failed: err.message,
          lost: NaN,
          errors: NaN,
        });
      }
      if (profDir) profileSummary(profDir);
    }
}

const B = BEFORE ? ' build |' : '';
const rows = [
  `| run |${B} target | processes | relayed msg/s | relay p50 ms | relay p99 ms | join p99 ms | CPU µs/msg (TFX or relay processes) | Redis CPU µs/msg | XADD + XREAD per msg | wake-ups + preemptions per msg | RSS KB/conn | delivered / sent | lost | errors |${BEFORE ? ' load |' : ''}`,
  `| ---: |${BEFORE ? ' --- |' : ''} --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${BEFORE ? ' ---: |' : ''}`,
];
for (const r of results) {
  const b = BEFORE ? ` ${r.build} |` : '';
  rows.push(
    r.failed
      ? `| ${r.run} |${b} ${r.target} | – | failed: ${String(r.failed).slice(0, 80)} | | | | | | | | | | | |${BEFORE ? ' |' : ''}`
      : `| ${r.run} |${b} ${r.target} | ${r.processes} | ${f0(r.relayedPerSecond)} | ${f2(r.relayP50Ms)} | ${f2(r.relayP99Ms)} | ${f2(r.joinP99Ms)} | ${f1(r.serverCpuUsPerMessage)} | ${f1(r.redisCpuUsPerMessage)} | ${Number.isFinite(r.xaddPerMessage) ? `${f2(r.xaddPerMessage)} + ${f2(r.xreadPerMessage)}` : '–'} | ${f2(r.wakeupsPerMessage)} + ${f2(r.preemptionsPerMessage)} | ${f1(r.serverRssKbPerConnection)} | ${f0(r.received)} / ${f0(r.sent)} | ${r.lost} | ${r.errors} |${BEFORE ? ` ${f1(r.load)} |` : ''}`,
  );
}
const summaryRows = [];
let burstOk = 0;
let tfx2Count = 0;
for (const build of BUILDS) {
  const mine = results.filter((r) => r.build === build.name && !r.failed);
  const med = (t, k) => median(mine.filter((r) => r.target === t).map((r) => r[k]));
  const ratio = (a, b, k) => med(a, k) / med(b, k);
  const cpuRatio = ratio('tfx2', 'tfx', 'serverCpuUsPerMessage');
  const cpuRatioRedis =
    (med('tfx2', 'serverCpuUsPerMessage') + med('tfx2', 'redisCpuUsPerMessage')) /
    med('tfx', 'serverCpuUsPerMessage');
  const p99Ratio = ratio('tfx2', 'tfx', 'relayP99Ms');
  const sioRatio = (() => {
    const sioCpu = median(
      results
        .filter((r) => r.target === 'sio-redis' && !r.failed)
        .map((r) => r.serverCpuUsPerMessage),
    );
    return sioCpu / med('tfx', 'serverCpuUsPerMessage');
  })();
  const tfx2Runs = results.filter((r) => r.target === 'tfx2' && r.build === build.name);
  const ok = tfx2Runs.filter(
    (r) =>
      !r.failed && r.lost === 0 && r.errors === 0 && r.misStamped === 0 && r.joined === r.clients,
  ).length;
  burstOk += ok;
  tfx2Count += tfx2Runs.length;
  const tag = build.name ? ` (${build.name})` : '';
  summaryRows.push(
    `| CPU per relayed message, two TFX processes / single-process TFX${tag} | ${f2(cpuRatio)} | ≤ 1.5 (${cpuRatio <= 1.5 ? 'met' : 'missed'}) |`,
    `| same, counting redis-server's CPU too${tag} | ${f2(cpuRatioRedis)} | (for information) |`,
    `| redis-server CPU per relayed message, two TFX processes${tag} | ${f1(med('tfx2', 'redisCpuUsPerMessage'))} µs | (for information) |`,
    `| relay p99, two TFX processes / single-process TFX${tag} | ${f2(p99Ratio)} | ≤ 1.5 (${p99Ratio <= 1.5 ? 'met' : 'missed'}) |`,
    ...(TARGETS.includes('sio-redis')
      ? [
          `| CPU per relayed message, plain socket.io + Redis adapter (2 processes) / single-process TFX${tag} | ${f2(sioRatio)} | (reference) |`,
        ]
      : []),
    `| ${f0(CLIENTS)}-client burst over two TFX processes complete with zero lost messages${tag} | ${ok} of ${tfx2Runs.length} runs | all runs |`,
  );
}
const summary = [
  '| ratio (medians of the runs) | value | goal |',
  '| --- | ---: | --- |',
  ...summaryRows,
].join('\n');
process.stdout.write(`\n${rows.join('\n')}\n\n${summary}\n`);

if (WRITE_DOCS && results.some((r) => !r.failed)) {
  // Replaces only the "### Recorded run" subsection of "## Scale-out": the dated subsections
  // beside it (changes measured before/after) are history and stay.
  const section = [
    `### Recorded run (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Run with \`npx tsc -b packages/cli && node bench/signalling/scale-out.mjs --clients ${CLIENTS} --repeat ${REPEAT}\`. Machine: ${machine}; 1-minute load average ${f1(loadAtStart)} at the start, ${f1(loadavg()[0])} at the end.`,
    '',
    `The signalling load of the section above (rooms of 2–4, offer + answer of ~3 KB and 10 candidates per pair, paced at ${RATE} msg/s) with the clients spread over the processes (client i → process i mod n), so that about half of the pairs cross processes. Targets, side by side in each run: single-process TFX; two TFX processes sharing a redis-server (Redis store, unicast over per-node Redis streams); two plain socket.io relays on \`@socket.io/redis-adapter\` (pub/sub: every unicast \`io.to(socketId)\` is published to every process). CPU is utime+stime of the server processes over the relay window per message delivered; redis-server's CPU is reported apart.`,
    '',
    rows.join('\n'),
    '',
    summary,
    ...(profileText ? ['', profileText] : []),
    '',
  ].join('\n');
  const file = join(root, 'docs', 'benchmarks.md');
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = doc.indexOf('## Scale-out');
  if (start < 0) doc = `${doc.trimEnd()}\n\n## Scale-out\n\n${section}`;
  else {
    const afterHead = doc.indexOf('\n', start) + 1;
    const nextH = doc.slice(afterHead).search(/^## /m);
    const end = nextH >= 0 ? afterHead + nextH : doc.length;
    const body = doc.slice(afterHead, end);
    const rec = body.search(/^### Recorded run/m);
    let next = body.length;
    if (rec >= 0) {
      const after = body.slice(rec + 4).search(/^### /m);
      next = after >= 0 ? rec + 4 + after : body.length;
    }
    const newBody =
      rec >= 0
        ? `${body.slice(0, rec)}${section}${body.slice(next) ? `\n${body.slice(next)}` : ''}`
        : `${body.trimEnd()}\n\n${section}`;
    doc = `${doc.slice(0, afterHead)}${newBody.replace(/\n*$/, '\n')}${end < doc.length ? `\n${doc.slice(end)}` : ''}`;
  }
  writeFileSync(file, doc);
  process.stdout.write('wrote docs/benchmarks.md (## Scale-out, ### Recorded run)\n');
}
process.exit(burstOk === tfx2Count ? 0 : 1);
