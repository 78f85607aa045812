/* global window, document, HTMLMediaElement, HTMLVideoElement, MediaDevices, RTCPeerConnection -- functions run in the browser */
// bench/call: time from navigation start to the first frame of the remote video
// (requestVideoFrameCallback), 2-party on loopback, TFX's call page vs a minimal hand-written
// page on the same signalling server, interleaved in one run; and browser CPU per participant
// with 2, 3 and 4 participants. Not a test: it measures and prints.
//
//   npm run build
//   unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns node bench/call/run.mjs [--runs 20] [--cpu-seconds 10] [--no-docs]
//
// Runs Debian's Chromium (flags per ../shared/TESTING.md), one context per participant, a fake
// camera at 320x240@15. Results: stdout and the "## Call" section of docs/benchmarks.md.
import { spawn, execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, networkInterfaces, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PROTOCOL_VERSION } from '../../packages/protocol/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(opt('runs', '20'));
const CPU_SECONDS = Number(opt('cpu-seconds', '10'));
const SIZES = opt('sizes', '2,3,4').split(',').map(Number);
const WRITE_DOCS = !process.argv.includes('--no-docs');
// --waterfall: B's resource timing per run (navigation and every request: start, connection,
// first byte, end; ms since navigation start), medians printed at the end for both pages.
const WATERFALL = process.argv.includes('--waterfall');
const WATERFALL_OUT = opt('waterfall-out', null); // the raw entries, JSON
// --compare DIR: a second TFX build (another checkout, built) served by its own server, its call
// page measured as a third page, run by run with the other two (rotating order): before/after
// alternated run by run instead of block by block, the minimal page shared as the reference.
const COMPARE = opt('compare', null);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const CAM = '320x240@15';

const webDist = join(root, 'packages/web/dist');
if (!existsSync(join(webDist, 'room.html'))) throw new Error('build first: npm run build');
if (Object.keys(networkInterfaces()).some((i) => i !== 'lo')) {
  throw new Error(
    'run inside a loopback-only namespace: unshare --net -- sh -c \'ip link set lo up && exec "$@"\' netns node bench/call/run.mjs',
  );
}

// --- the minimal page, served by the same server from the web root --------------------------------
// (copied again before each use: a web build elsewhere in the tree empties dist/)
const minimalDir = join(webDist, 'bench-minimal');
function ensureMinimal() {
  if (existsSync(join(minimalDir, 'index.html'))) return;
  cpSync(join(here, 'minimal'), minimalDir, { recursive: true });
  cpSync(
    join(root, 'node_modules/socket.io-client/dist/socket.io.esm.min.js'),
    join(minimalDir, 'socket.io.esm.min.js'),
  );
  const html = readFileSync(join(minimalDir, 'index.html'), 'utf8').replace(
    '<html lang="en">',
    `<html lang="en" data-protocol="${PROTOCOL_VERSION}">`,
  );
  writeFileSync(join(minimalDir, 'index.html'), html);
}
rmSync(minimalDir, { recursive: true, force: true });

// --- the server ----------------------------------------------------------------------------------------
async function startServer(tree = root) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tfx-bench-call-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TFX_')),
  );
  const child = spawn(
    process.execPath,
    [
      join(tree, 'packages/cli/bin/tfx.js'),
      'start',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-sip',
      '--data-dir',
      dataDir,
      '--log-format',
      'json',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        const j = JSON.parse(l);
        if (j.event === 'ready') resolve(j.url);
      } catch {
        // log line
      }
    });
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// --- CPU of the browser: every descendant of this process except the server -----------------------------
function children() {
  const map = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      map.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone
    }
  }
  return map;
}
function browserTicks(excludePid) {
  const all = children();
  const inTree = (pid) => {
    for (let p = pid, n = 0; p > 1 && n < 50; n++) {
      if (p === excludePid) return false;
      if (p === process.pid) return true;
      p = all.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of all) if (pid !== process.pid && inTree(pid)) ticks += s.ticks;
  return ticks;
}

// --- measuring the first remote frame --------------------------------------------------------------------
// Same hook on both pages: the first video element that gets a remote track (one that did not
// come from getUserMedia) registers one requestVideoFrameCallback; its time is ms since
// navigation start.
const FIRST_FRAME_HOOK = () => {
  const log = (window.__pcLog = []);
  for (const m of ['setLocalDescription', 'setRemoteDescription']) {
    const orig = RTCPeerConnection.prototype[m];
    RTCPeerConnection.prototype[m] = async function (...args) {
      const t0 = performance.now();
      await orig.apply(this, args);
      const abs = (t) => ((performance.timeOrigin + t) % 100000).toFixed(0);
      log.push(
        `${m === 'setLocalDescription' ? 'SLD' : 'SRD'}(${this.localDescription?.type ?? '?'}/${args[0]?.type ?? ''}) ${abs(t0)}-${abs(performance.now())}`,
      );
    };
  }
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (e) => {
        const d = String(e.data);
        if (d.startsWith('42'))
          log.push(
            `ws<${d.slice(2, 30)} ${((performance.timeOrigin + performance.now()) % 100000).toFixed(0)}`,
          );
      });
    }
    send(d) {
      if (String(d).startsWith('42'))
        log.push(
          `ws>${String(d).slice(2, 30)} ${((performance.timeOrigin + performance.now()) % 100000).toFixed(0)}`,
        );
      super.send(d);
    }
  };
  const local = new WeakSet();
  const gum = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = async function (c) {
    const s = await gum.call(this, c);
    for (const t of s.getTracks()) local.add(t);
    return s;
  };
  const desc = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get() {
      return desc.get.call(this);
    },
    set(v) {
      desc.set.call(this, v);
      const remote = v && v.getVideoTracks && v.getVideoTracks().some((t) => !local.has(t));
      if (remote && this instanceof HTMLVideoElement && !window.__hooked) {
        window.__hooked = true;
        this.requestVideoFrameCallback(() => {
          window.__firstFrame = performance.now();
          // Told to the bench through the console: polling it with waitForFunction made
          // Playwright inject its script (15–40 ms of main thread) into the page mid-call.
          console.debug(`tfx:first-frame ${window.__firstFrame}`);
        });
      }
    },
  });
};

/** The first remote frame's time (ms since navigation start), from the page's console. */
function watchFirstFrame(page) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no remote frame within 30 s')), 30_000);
    page.on('console', (m) => {
      const t = /^tfx:first-frame (\S+)$/.exec(m.text());
      if (!t) return;
      clearTimeout(timer);
      resolve(Number(t[1]));
    });
  });
}

const pages = {
  tfx: (base, room, name) => `${base}/r/${room}?name=${name}&autojoin=1&cam=${CAM}`,
  minimal: (base, room, name) => {
    ensureMinimal();
    return `${base}/bench-minimal/index.html?room=${room}&name=${name}&cam=${encodeURIComponent(CAM)}`;
  },
};
const MARKS = ['tfx:script', 'tfx:media', 'tfx:joined', 'tfx:track'];
// Resource timing of B's page: the document and each request (hashes dropped from file names),
// start / connect end (a new connection when it differs from start) / first byte / end.
const READ_WATERFALL = () =>
  [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map(
    (e) => ({
      name:
        e.entryType === 'navigation'
          ? '(document)'
          : new URL(e.name).pathname.replace(/^.*\//, '').replace(/-[\w-]{8}(\.\w+)$/, '$1'),
      start: e.startTime,
      conn: e.connectEnd > e.connectStart ? e.connectEnd - e.connectStart : 0,
      reqStart: e.requestStart,
      ttfb: e.responseStart,
      end: e.responseEnd,
      size: e.transferSize,
      prio: e.renderBlockingStatus ?? '',
      proto: e.nextHopProtocol,
    }),
  );
const waterfalls = { tfx: [], minimal: [] };
const phases = { tfx: [], minimal: [] };
// The TFX page's whole call screen shown (call.ts marks it after the first remote frame, or
// at most 1.5 s after the screen went up): what the UI-first work was moved behind.
const uiShown = [];
const joined = {
  tfx: (page) =>
    page.waitForFunction(() => document.getElementById('app')?.dataset.screen === 'call', null, {
      timeout: 30_000,
    }),
  minimal: (page) =>
    page.waitForFunction(() => window.__joined === true, null, { timeout: 30_000 }),
};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--disable-gpu',
    '--disable-quic',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
const newParticipant = async () => {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1024, height: 700 },
  });
  await context.addInitScript(FIRST_FRAME_HOOK);
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
  page.on(
    'console',
    (m) =>
      m.type() === 'error' && process.stderr.write(`console: ${m.text()} ${m.location().url}\n`),
  );
  page.on(
    'response',
    (r) => r.status() >= 400 && process.stderr.write(`http ${r.status()} ${r.url()}\n`),
  );
  return { context, page };
};

const server = await startServer();
const compareServer = COMPARE ? await startServer(COMPARE) : null;
const KINDS = COMPARE ? ['tfx', 'before', 'minimal'] : ['tfx', 'minimal'];
const serverOf = (kind) => (kind === 'before' ? compareServer : server);
pages.before = pages.tfx;
joined.before = joined.tfx;
phases.before = [];
waterfalls.before = [];
const uiShownBefore = [];
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const results = { tfx: [], minimal: [], before: [] };
try {
  // Warm-up (server JIT, browser caches of the binary): one call of each, not counted.
  for (let run = -1; run < RUNS; run++) {
    const r = (((run + 1) % KINDS.length) + KINDS.length) % KINDS.length;
    const order = [...KINDS.slice(r), ...KINDS.slice(0, r)];
    for (const kind of run % 2 === 0 ? order : order.reverse()) {
      const room = `bench-${kind}-${run + 1}-${Math.random().toString(36).slice(2, 8)}`;
      const a = await newParticipant();
      await a.page.goto(pages[kind](serverOf(kind).url, room, 'A'));
      await joined[kind](a.page);
      const b = await newParticipant();
      const frame = watchFirstFrame(b.page);
      await b.page.goto(pages[kind](serverOf(kind).url, room, 'B'));
      const t = await frame.catch(async (err) => {
        for (const [who, p] of [
          ['A', a.page],
          ['B', b.page],
        ]) {
          const state = await p.evaluate(() => ({
            videos: [...document.querySelectorAll('video')].map(
              (v) => `${v.videoWidth}x${v.videoHeight}`,
            ),
            hooked: window.__hooked ?? false,
            pcs: window.__pcs
              ? [...window.__pcs.values()].map((pc) => `${pc.signalingState}/${pc.connectionState}`)
              : undefined,
          }));
          process.stderr.write(`${kind} ${who}: ${JSON.stringify(state)}\n`);
        }
        throw err;
      });
      const marks = await b.page.evaluate(
        (names) => names.map((n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN),
        MARKS,
      );
      const ui =
        kind !== 'minimal'
          ? await b.page
              .waitForFunction(
                () => performance.getEntriesByName('tfx:call-ui')[0]?.startTime,
                null,
                {
                  timeout: 30_000,
                },
              )
              .then((h) => h.jsonValue())
          : NaN;
      if (WATERFALL && run >= 0) waterfalls[kind].push(await b.page.evaluate(READ_WATERFALL));
      if (run >= 0) {
        results[kind].push(t);
        phases[kind].push([...marks, t]);
        if (kind === 'tfx') uiShown.push(ui);
        if (kind === 'before') uiShownBefore.push(ui);
      }
      process.stderr.write(
        `run ${run + 1}/${RUNS} ${kind}: ${t.toFixed(0)} ms (script ${marks.map((m) => m.toFixed(0)).join(' → ')})${kind !== 'minimal' ? ` ui ${ui.toFixed(0)}` : ''}\n`,
      );
      if (process.env.BENCH_TRACE) {
        for (const [who, p] of [
          ['A', a.page],
          ['B', b.page],
        ])
          process.stderr.write(
            `  ${who} ${(await p.evaluate(() => window.__pcLog)).join(' | ')}\n`,
          );
      }
      await b.context.close();
      await a.context.close();
    }
  }

  // CPU per participant, N participants in one room, after media settles.
  const cpu = { tfx: {}, minimal: {} };
  for (const kind of CPU_SECONDS > 0 ? ['tfx', 'minimal'] : []) {
    for (const n of SIZES) {
      const room = `cpu-${kind}-${n}-${Math.random().toString(36).slice(2, 8)}`;
      const ps = [];
      for (let i = 0; i < n; i++) {
        const p = await newParticipant();
        await p.page.goto(pages[kind](server.url, room, `P${i}`));
        await joined[kind](p.page);
        ps.push(p);
      }
      for (const p of ps) {
        await p.page.waitForFunction(
          (want) =>
            document.querySelectorAll('video').length >= want &&
            [...document.querySelectorAll('video')].filter((v) => v.videoWidth > 0).length >= want,
          kind === 'tfx' ? n : n - 1,
          { timeout: 30_000 },
        );
      }
      await new Promise((r) => setTimeout(r, 3000));
      const t0 = browserTicks(server.pid);
      const w0 = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, CPU_SECONDS * 1000));
      const ticks = browserTicks(server.pid) - t0;
      const wall = Number(process.hrtime.bigint() - w0) / 1e9;
      cpu[kind][n] = (ticks / CLK_TCK / wall / n) * 100; // % of one core per participant
      process.stderr.write(
        `cpu ${kind} n=${n}: ${cpu[kind][n].toFixed(1)} % of a core per participant\n`,
      );
      for (const p of ps) await p.context.close();
    }
  }

  if (WATERFALL) {
    for (const kind of KINDS) {
      const names = [...new Set(waterfalls[kind].flatMap((w) => w.map((e) => e.name)))];
      const med = (xs) => pct(xs, 50);
      const lines = [
        `| ${kind} request (median of ${waterfalls[kind].length}, ms) | start | new connection | request sent | first byte | end | runs with a new connection | bytes |`,
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ];
      const rows = names.map((n) => {
        const es = waterfalls[kind].map((w) => w.find((e) => e.name === n)).filter(Boolean);
        return {
          n,
          start: med(es.map((e) => e.start)),
          conn: med(es.map((e) => e.conn)),
          req: med(es.map((e) => e.reqStart)),
          ttfb: med(es.map((e) => e.ttfb)),
          end: med(es.map((e) => e.end)),
          newConn: es.filter((e) => e.conn > 0).length,
          count: es.length,
          size: med(es.map((e) => e.size)),
        };
      });
      for (const r of rows.sort((a, b) => a.start - b.start || a.end - b.end))
        lines.push(
          `| ${r.n} | ${r.start.toFixed(0)} | ${r.conn.toFixed(0)} | ${r.req.toFixed(0)} | ${r.ttfb.toFixed(0)} | ${r.end.toFixed(0)} | ${r.newConn}/${r.count} | ${r.size} |`,
        );
      process.stdout.write(`${lines.join('\n')}\n\n`);
    }
    if (WATERFALL_OUT) writeFileSync(WATERFALL_OUT, JSON.stringify({ results, waterfalls }));
  }
  if (COMPARE) {
    // Both builds against the same minimal runs; medians of the phase marks as well.
    const lines = [
      `| page (${RUNS} runs each, rotating order) | p50 ms | p90 ms | ratio p50 | ratio p90 | script | camera | joined | remote track | call screen shown |`,
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const k of ['before', 'tfx', 'minimal']) {
      const m = [0, 1, 2, 3].map((i) =>
        pct(
          phases[k].map((x) => x[i]),
          50,
        ).toFixed(0),
      );
      const ui = k === 'tfx' ? uiShown : k === 'before' ? uiShownBefore : [];
      lines.push(
        `| ${k === 'tfx' ? 'TFX, this build' : k === 'before' ? `TFX, ${COMPARE}` : 'minimal'} | ${pct(results[k], 50).toFixed(0)} | ${pct(results[k], 90).toFixed(0)} | ${(pct(results[k], 50) / pct(results.minimal, 50)).toFixed(2)}× | ${(pct(results[k], 90) / pct(results.minimal, 90)).toFixed(2)}× | ${m.join(' | ')} | ${ui.length ? pct(ui, 50).toFixed(0) : ''} |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
  const row = (k) =>
    `| ${k === 'tfx' ? 'TFX call page' : 'minimal page'} | ${RUNS} | ${pct(results[k], 50).toFixed(0)} | ${pct(results[k], 90).toFixed(0)} | ${Math.min(...results[k]).toFixed(0)} | ${Math.max(...results[k]).toFixed(0)} |`;
  const ratio50 = pct(results.tfx, 50) / pct(results.minimal, 50);
  const ratio90 = pct(results.tfx, 90) / pct(results.minimal, 90);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const chromiumVersion = browser.version();
  // JS of the call page: what room.html loads before the page runs (its module script and the
  // modulepreload links Vite writes for every static import), and the rest of the app's chunks.
  const jsSize = (f) => readFileSync(join(webDist, f)).length;
  const initialJs = [
    ...readFileSync(join(webDist, 'room.html'), 'utf8').matchAll(
      /<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g,
    ),
  ].map((m) => m[1]);
  const bundle = initialJs.reduce((a, f) => a + jsSize(f), 0);
  const allJs = readdirSync(join(webDist, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .reduce((a, f) => a + jsSize(join('assets', f)), 0);
  const section = [
    '## Call',
    '',
    '`bench/call/run.mjs` (after `npm run build`, inside a loopback-only namespace: `unshare --net -- sh -c \'ip link set lo up && exec "$@"\' netns node bench/call/run.mjs`).',
    'Time from navigation start to the first `requestVideoFrameCallback` on the remote video, for the',
    'second of two participants, on loopback, with a fake 320x240@15 camera: the TFX call page',
    '(`/r/<room>?autojoin=1`, SDK, perfect negotiation, full UI) against a minimal hand-written page',
    '(`bench/call/minimal/`: getUserMedia, join, one RTCPeerConnection, no SDK, no UI) served by the',
    'same server on the same signalling, interleaved run by run, a fresh browser context (cold cache)',
    'per participant. Then the browser CPU (all Chromium processes) per participant with 2, 3 and 4',
    `participants in one room, over ${CPU_SECONDS} s once media has settled.`,
    '',
    `Recorded ${new Date().toISOString().slice(0, 10)}, Chromium ${chromiumVersion}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (Linux ${release()}), load average ${load} at the end (shared machine: figures are noisy). JS the call page loads before it runs: ${(bundle / 1024).toFixed(0)} KB (uncompressed; all of the web app's chunks: ${(allJs / 1024).toFixed(0)} KB).`,
    '',
    '| page | runs | p50 ms | p90 ms | min ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('tfx'),
    row('minimal'),
    '',
    `**Ratio TFX / minimal: p50 ${ratio50.toFixed(2)}×, p90 ${ratio90.toFixed(2)}×** (goal: p50 ≤ 1.2×). TFX call screen fully shown: p50 ${pct(uiShown, 50).toFixed(0)} ms, p90 ${pct(uiShown, 90).toFixed(0)} ms.`,
    '',
    'Where the time goes (medians, ms since navigation start): script running, camera open, joined (ack), first remote track, first remote frame:',
    '',
    '| page | script | camera | joined | remote track | first frame |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...['tfx', 'minimal'].map(
      (k) =>
        `| ${k === 'tfx' ? 'TFX call page' : 'minimal page'} | ${[0, 1, 2, 3, 4]
          .map((i) =>
            pct(
              phases[k].map((r) => r[i]),
              50,
            ).toFixed(0),
          )
          .join(' | ')} |`,
    ),
    '',
    '| participants | TFX: % of a core per participant | minimal: % of a core per participant |',
    '| ---: | ---: | ---: |',
    ...SIZES.map(
      (n) => `| ${n} | ${cpu.tfx[n]?.toFixed(1) ?? '—'} | ${cpu.minimal[n]?.toFixed(1) ?? '—'} |`,
    ),
    '',
  ].join('\n');
  process.stdout.write(`${section}\n`);
  if (WRITE_DOCS) {
    const file = join(root, 'docs/benchmarks.md');
    const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const re = /## Call\n[\s\S]*?(?=\n## |$)/;
    writeFileSync(file, re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}`);
  }
} finally {
  await browser.close();
  await server.stop();
  await compareServer?.stop();
  rmSync(minimalDir, { recursive: true, force: true });
}
