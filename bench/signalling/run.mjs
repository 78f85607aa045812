// bench/signalling: TFX signalling against a bare socket.io relay, in one run, side by side.
//   npm run bench:signalling [-- --clients 1000,5000,10000 --rate 4000 --targets bare,tfx --profile
//                                --node-flags "--max-semi-space-size=64"]
// The server runs pinned to core 0, the load generator to core 1 (taskset). Every run is bounded
// in count (--clients) and time (--timeout seconds per run). Results: stdout, and the section
// "## Signalling" of docs/benchmarks.md with a chart in docs/img/signalling-bench.svg.
import { spawn, execFileSync } from 'node:child_process';
import { lineReader, stop } from './common.mjs';
import {
  readFileSync,
  writeFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
} from 'node:fs';
import { tmpdir, cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SIZES = opt('clients', '1000,5000,10000').split(',').map(Number);
const RATE = Number(opt('rate', '4000'));
const TARGETS = opt('targets', 'bare,tfx').split(',');
const TIMEOUT_S = Number(opt('timeout', '300'));
const PROFILE = process.argv.includes('--profile');
const WRITE_DOCS = !process.argv.includes('--no-docs');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const ADDRESSES = 200;
// V8 flags for both servers (the same for each, so the comparison stays fair), e.g.
// --node-flags "--max-semi-space-size=64" as `npm start` runs TFX in production.
const NODE_FLAGS = (opt('node-flags', '') ?? '').split(/\s+/).filter(Boolean);

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const rssKb = Number(
    /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0,
  );
  return { cpuUs: (ticks * 1e6) / CLK_TCK, rssKb };
}

function startServer(target, profDir) {
  const script = target === 'tfx' ? join(here, 'tfx-server.mjs') : join(here, 'bare-relay.mjs');
  const nodeArgs = [
    ...NODE_FLAGS,
    ...(target === 'tfx' && profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
  ];
  const child = spawn('taskset', ['-c', '0', process.execPath, ...nodeArgs, script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return { child, next: lineReader(child.stdout), stderr: () => stderr };
}

async function runOne(target, clients) {
  const profDir =
    PROFILE && target === 'tfx' && clients === Math.max(...SIZES)
      ? mkdtempSync(join(tmpdir(), 'tfx-prof-'))
      : undefined;
  const server = startServer(target, profDir);
  let gen;
  const deadline = setTimeout(() => {
    process.stderr.write(`run ${target} ${clients} exceeded ${TIMEOUT_S}s: stopping\n`);
    if (gen?.child.exitCode === null) process.kill(gen.child.pid, 'SIGKILL');
    if (server.child.exitCode === null) process.kill(server.child.pid, 'SIGKILL');
  }, TIMEOUT_S * 1000);
  try {
    const ready = await server.next(30_000, `${target} ready`).catch((e) => {
      throw new Error(`${e.message}\n${server.stderr()}`);
    });
    const pid = server.child.pid; // taskset execs node: same pid
    await new Promise((r) => setTimeout(r, 500));
    const base = procStat(pid);
    const child = spawn(
      'taskset',
      [
        '-c',
        '1',
        process.execPath,
        join(here, 'loadgen.mjs'),
        '--url',
        `http://127.0.0.1:${ready.port}`,
        '--clients',
        String(clients),
        '--mode',
        target,
        '--rate',
        String(RATE),
        '--addresses',
        String(ADDRESSES),
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    gen = { child, next: lineReader(child.stdout) };
    const joined = await gen.next(TIMEOUT_S * 1000, 'joined');
    const atJoin = procStat(pid);
    child.stdin.write('go\n');
    const relayed = await gen.next(TIMEOUT_S * 1000, 'relayed');
    const atRelay = procStat(pid);
    child.stdin.write('done\n');
    const result = await gen.next(60_000, 'result');
    const r = {
      target,
      ...result,
      limits: ready.limits,
      serverCpuUsPerJoin: (atJoin.cpuUs - base.cpuUs) / Math.max(1, joined.joined),
      serverCpuUsPerMessage: (atRelay.cpuUs - atJoin.cpuUs) / Math.max(1, relayed.received),
      serverRssBaseKb: base.rssKb,
      serverRssKbPerConnection: (atJoin.rssKb - base.rssKb) / Math.max(1, joined.connected),
      serverCpuRelaySeconds: (atRelay.cpuUs - atJoin.cpuUs) / 1e6,
    };
    return r;
  } finally {
    clearTimeout(deadline);
    if (gen) await stop(gen.child).catch(() => undefined);
    await stop(server.child).catch(() => undefined);
    if (profDir) profileSummary(profDir);
  }
}

let profileText = '';
function profileSummary(dir) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return;
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const dt = (prof.endTime - prof.startTime) / Math.max(1, prof.samples.length); // µs per sample
  const self = new Map();
  let total = 0;
  for (const n of prof.nodes) {
    const f = n.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\//, '').replace(root + '/', '')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    const us = (n.hitCount ?? 0) * dt;
    if (f.functionName === '(idle)') continue; // waiting for I/O: not CPU
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
  profileText = [
    `CPU profile of the TFX server at the largest size (whole run: connect, join, relay; ${(total / 1e6).toFixed(1)} s of CPU sampled, idle excluded), top functions by self time:`,
    '',
    '| self % | function |',
    '| ---: | --- |',
    ...top.map(
      ([k, us]) => `| ${((100 * us) / total).toFixed(1)} | \`${k.replace(/\|/g, '\\|')}\` |`,
    ),
  ].join('\n');
  process.stdout.write(`\n${profileText}\n`);
}

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown';
  const sio = JSON.parse(
    readFileSync(join(root, 'node_modules/socket.io/package.json'), 'utf8'),
  ).version;
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}, socket.io ${sio}; server pinned to core 0, load generator to core 1 (taskset); loopback, plain HTTP + WebSocket for both`;
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');

function table(results) {
  const rows = [
    '| clients | target | conn/s | join p50 ms | join p99 ms | relayed msg/s | relay p50 ms | relay p99 ms | CPU µs/msg | CPU µs/join | RSS KB/conn | lost | errors |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results)
    rows.push(
      `| ${f0(r.clients)} | ${r.target} | ${f0(r.connectionsPerSecond)} | ${f2(r.joinP50Ms)} | ${f2(r.joinP99Ms)} | ${f0(r.relayedPerSecond)} | ${f2(r.relayP50Ms)} | ${f2(r.relayP99Ms)} | ${f1(r.serverCpuUsPerMessage)} | ${f1(r.serverCpuUsPerJoin)} | ${f1(r.serverRssKbPerConnection)} | ${r.lost} | ${r.errors} |`,
    );
  return rows.join('\n');
}

function ratios(results) {
  const rows = [
    '| clients | CPU/msg TFX/bare | RSS/conn TFX/bare | relay p99 TFX/bare | join p99 TFX/bare | goal (≤ 1.2× CPU and memory) |',
    '| ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const out = [];
  for (const n of SIZES) {
    const b = results.find((r) => r.clients === n && r.target === 'bare');
    const t = results.find((r) => r.clients === n && r.target === 'tfx');
    if (!b || !t) continue;
    const cpu = t.serverCpuUsPerMessage / b.serverCpuUsPerMessage;
    const mem = t.serverRssKbPerConnection / b.serverRssKbPerConnection;
    out.push({ n, cpu, mem });
    rows.push(
      `| ${f0(n)} | ${f2(cpu)} | ${f2(mem)} | ${f2(t.relayP99Ms / b.relayP99Ms)} | ${f2(t.joinP99Ms / b.joinP99Ms)} | ${cpu <= 1.2 && mem <= 1.2 ? 'met' : 'missed'} |`,
    );
  }
  return { text: rows.join('\n'), out };
}

function svgChart(results) {
  const metrics = [
    ['serverCpuUsPerMessage', 'server CPU µs per relayed message'],
    ['serverRssKbPerConnection', 'server RSS KB per connection'],
  ];
  const W = 720;
  const H = 300;
  const panelW = W / metrics.length;
  const colors = { bare: '#8c8c8c', tfx: '#2b6cb0' };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  metrics.forEach(([key, label], m) => {
    const x0 = m * panelW + 50;
    const plotW = panelW - 70;
    const plotH = H - 90;
    const max = Math.max(1e-9, ...results.map((r) => r[key]).filter(Number.isFinite)) * 1.15;
    parts.push(
      `<text x="${x0 + plotW / 2}" y="20" text-anchor="middle" font-weight="bold">${label}</text>`,
    );
    parts.push(
      `<line x1="${x0}" y1="${30 + plotH}" x2="${x0 + plotW}" y2="${30 + plotH}" stroke="black"/>`,
    );
    const groupW = plotW / SIZES.length;
    SIZES.forEach((n, g) => {
      TARGETS.forEach((t, k) => {
        const r = results.find((x) => x.clients === n && x.target === t);
        if (!r || !Number.isFinite(r[key])) return;
        const bw = (groupW * 0.7) / TARGETS.length;
        const h = (r[key] / max) * plotH;
        const x = x0 + g * groupW + groupW * 0.15 + k * bw;
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${(30 + plotH - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[t] ?? '#555'}"/>`,
        );
        parts.push(
          `<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(26 + plotH - h).toFixed(1)}" text-anchor="middle" font-size="10">${r[key].toFixed(1)}</text>`,
        );
      });
      parts.push(
        `<text x="${(x0 + g * groupW + groupW / 2).toFixed(1)}" y="${48 + plotH}" text-anchor="middle">${n.toLocaleString('en-US')} clients</text>`,
      );
    });
  });
  TARGETS.forEach((t, k) => {
    parts.push(
      `<rect x="${60 + k * 160}" y="${H - 22}" width="12" height="12" fill="${colors[t] ?? '#555'}"/>`,
    );
    parts.push(
      `<text x="${78 + k * 160}" y="${H - 12}">${t === 'tfx' ? 'TFX (validating)' : 'bare socket.io relay'}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

// --- main ---------------------------------------------------------------------------------------------
const results = [];
process.stdout.write(
  `machine: ${machine()}\nclients ${SIZES.join(', ')}; rate ${RATE} msg/s; ${ADDRESSES} source addresses 127.0.0.2–127.0.0.${ADDRESSES + 1}; open files limit ${execFileSync('sh', ['-c', 'ulimit -n']).toString().trim()}\n`,
);
for (const n of SIZES) {
  for (const target of TARGETS) {
    process.stdout.write(`running ${target} with ${n} clients…\n`);
    try {
      const r = await runOne(target, n);
      results.push(r);
      if (target === 'tfx' && r.limits)
        process.stdout.write(`TFX limits in force: ${JSON.stringify(r.limits)}\n`);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } catch (err) {
      process.stderr.write(`${target} ${n} failed: ${err.message}\n`);
      results.push({ target, clients: n, failed: err.message, lost: NaN, errors: NaN });
    }
  }
}
const ok = results.filter((r) => !r.failed);
const rt = ratios(ok);
process.stdout.write(`\n${table(ok)}\n\n${rt.text}\n`);
const correctness = results.every(
  (r) =>
    !r.failed && r.lost === 0 && r.errors === 0 && r.misStamped === 0 && r.joined === r.clients,
);
process.stdout.write(
  `\ncorrectness: ${correctness ? 'every message delivered once, correctly stamped; no errors' : 'FAILED (see lost/errors)'}\n`,
);

if (WRITE_DOCS && ok.length > 0) {
  mkdirSync(join(root, 'docs', 'img'), { recursive: true });
  writeFileSync(join(root, 'docs', 'img', 'signalling-bench.svg'), svgChart(ok));
  const tfxLimits = ok.find((r) => r.target === 'tfx')?.limits;
  const section = [
    '## Signalling',
    '',
    `Run with \`npm run bench:signalling\` (${new Date().toISOString().slice(0, 10)}). Machine: ${machine()}.`,
    '',
    `Each run: N socket.io clients (websocket) in rooms of 2, 3 and 4, source addresses spread over ${ADDRESSES} loopback addresses; every client connects and joins, then every pair in a room exchanges an offer and an answer (~3 KB SDP each) and 10 ICE candidates (5 each way), answers and candidates sent on receipt, pairs started at a pace of ${RATE} msg/s. The same load runs against TFX (the production composition, every event validated against its zod schema, per-connection rate limits, metrics, store) and against a bare socket.io relay (\`bench/signalling/bare-relay.mjs\`: rooms and unicast relay, no validation), a fresh server process for each run. Server CPU is utime+stime from /proc over the relay window divided by messages relayed; RSS per connection is the growth of the server's RSS from idle to all joined, divided by the connections.`,
    '',
    `TFX limits in force (\`bench/signalling/tfx-bench.yaml\`): ${tfxLimits ? '`' + JSON.stringify(tfxLimits) + '`' : 'n/a'}.`,
    '',
    table(ok),
    '',
    'Ratios, TFX / bare relay (latency percentiles on a shared machine are noisy: compare the CPU and memory ratios):',
    '',
    rt.text,
    '',
    `Correctness: ${correctness ? 'every relayed message was delivered exactly once to the addressed peer with the sender stamped as `from`; no connection, join or relay errors.' : 'FAILED in this run — see lost / errors above.'}`,
    '',
    '![server CPU per message and RSS per connection, TFX and bare relay](img/signalling-bench.svg)',
    ...(profileText ? ['', profileText] : []),
    '',
  ].join('\n');
  const file = join(root, 'docs', 'benchmarks.md');
  let doc = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nMeasured side by side with the reference systems, in one run each. Numbers from a shared 2-core machine: compare ratios, not absolutes.\n\n';
  const start = doc.indexOf('## Signalling');
  if (start >= 0) {
    const rest = doc.slice(start + 3);
    const next = rest.search(/\n## /);
    doc = doc.slice(0, start) + section + (next >= 0 ? rest.slice(next + 1) : '');
  } else {
    doc = `${doc.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, doc);
  process.stdout.write(
    'wrote docs/benchmarks.md (## Signalling) and docs/img/signalling-bench.svg\n',
  );
}
process.exit(correctness ? 0 : 1);
