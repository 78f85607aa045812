/* global window, document, HTMLMediaElement, HTMLVideoElement -- functions run in the browser */
// bench/call/profile.mjs: where the second participant's renderer main thread spends its time from
// navigation start to the first remote frame, on the TFX call page and on the minimal page. A
// Chromium trace per run (devtools.timeline, v8), summed by event (self time), median over runs.
// Not a test: it measures and prints. Companion of run.mjs (same server, pages and camera).
//
//   npm run build
//   unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns node bench/call/profile.mjs [--runs 5]
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PROTOCOL_VERSION } from '../../packages/protocol/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const i = process.argv.indexOf('--runs');
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 5;
// --save DIR: keep each run's trace (DIR/<kind>-<run>.json) for a closer look.
const s = process.argv.indexOf('--save');
const SAVE = s > 0 ? process.argv[s + 1] : null;
const CAM = '320x240@15';
const webDist = join(root, 'packages/web/dist');
const minimalDir = join(webDist, 'bench-minimal');
rmSync(minimalDir, { recursive: true, force: true });
cpSync(join(here, 'minimal'), minimalDir, { recursive: true });
cpSync(
  join(root, 'node_modules/socket.io-client/dist/socket.io.esm.min.js'),
  join(minimalDir, 'socket.io.esm.min.js'),
);
writeFileSync(
  join(minimalDir, 'index.html'),
  readFileSync(join(minimalDir, 'index.html'), 'utf8').replace(
    '<html lang="en">',
    `<html lang="en" data-protocol="${PROTOCOL_VERSION}">`,
  ),
);

const dataDir = mkdtempSync(join(tmpdir(), 'tfx-bench-profile-'));
const server = spawn(
  process.execPath,
  [
    join(root, 'packages/cli/bin/tfx.js'),
    'start',
    ...['--port', '0', '--host', '127.0.0.1', '--no-sip', '--data-dir', dataDir],
    ...['--log-format', 'json', '--log-level', 'warn'],
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TFX_'))),
  },
);
const base = await new Promise((resolve, reject) => {
  server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  createInterface({ input: server.stdout }).on('line', (l) => {
    try {
      const j = JSON.parse(l);
      if (j.event === 'ready') resolve(j.url);
    } catch {
      // log line
    }
  });
});

const pages = {
  tfx: (room, name) => `${base}/r/${room}?name=${name}&autojoin=1&cam=${CAM}`,
  minimal: (room, name) =>
    `${base}/bench-minimal/index.html?room=${room}&name=${name}&cam=${encodeURIComponent(CAM)}`,
};
const joined = {
  tfx: () => document.getElementById('app')?.dataset.screen === 'call',
  minimal: () => window.__joined === true,
};
// The remote <video>'s first frame, as in run.mjs (first video whose srcObject is not our camera).
const HOOK = () => {
  const local = new WeakSet();
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = await gum(c);
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
      const remote = v?.getVideoTracks?.().some((t) => !local.has(t));
      if (remote && this instanceof HTMLVideoElement && !window.__hooked) {
        window.__hooked = true;
        this.requestVideoFrameCallback(() => {
          window.__firstFrame = performance.now();
          // Read through the console (as in run.mjs): no Playwright script injected mid-call.
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
const participant = async () => {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1024, height: 700 },
  });
  await context.addInitScript(HOOK);
  return { context, page: await context.newPage() };
};

/** Self time (ms) by event name on B's renderer main thread, navigation start → first frame. */
function summarize(trace, firstFrameMs) {
  const events = JSON.parse(trace.toString('utf8')).traceEvents;
  const nav = events.find(
    (e) =>
      e.name === 'navigationStart' &&
      String(e.args?.data?.documentLoaderURL ?? '').includes('name=B'),
  );
  if (!nav) throw new Error('no navigationStart for B in the trace');
  const t0 = nav.ts;
  const t1 = t0 + firstFrameMs * 1000;
  const slices = events
    .filter((e) => e.pid === nav.pid && e.tid === nav.tid && e.ph === 'X' && e.dur > 0)
    .filter((e) => e.ts < t1 && e.ts + e.dur > t0)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const nodes = [];
  const stack = [];
  const tops = [];
  for (const e of slices) {
    const s = Math.max(e.ts, t0);
    const end = Math.min(e.ts + e.dur, t1);
    while (stack.length && stack.at(-1).end <= s) stack.pop();
    const parent = stack.at(-1);
    if (parent) parent.children += end - s;
    else tops.push([s, end]);
    const node = { name: e.name, end, len: end - s, children: 0 };
    stack.push(node);
    nodes.push(node);
  }
  const self = new Map();
  for (const n of nodes) self.set(n.name, (self.get(n.name) ?? 0) + n.len - n.children);
  const byName = Object.fromEntries([...self].map(([k, v]) => [k, v / 1000]));
  // Busy time per phase, between the page's own marks (tfx:script, tfx:joined).
  const mark = (n) => events.find((e) => e.pid === nav.pid && e.name === n)?.ts;
  const cuts = [t0, mark('tfx:script') ?? t0, mark('tfx:joined') ?? t0, t1];
  const phases = [0, 0, 0];
  for (const [s, end] of tops)
    for (let k = 0; k < 3; k++)
      phases[k] += Math.max(0, Math.min(end, cuts[k + 1]) - Math.max(s, cuts[k])) / 1000;
  const busy = tops.reduce((n, [s, end]) => n + end - s, 0);
  // JS self time by script (V8's sampling profiler, renderer main thread of B).
  const byScript = new Map();
  const frames = new Map();
  for (const e of events) {
    if (e.pid !== nav.pid || e.name !== 'ProfileChunk') continue;
    const c = e.args?.data?.cpuProfile ?? {};
    for (const n of c.nodes ?? []) frames.set(n.id, n.callFrame);
    const deltas = e.args?.data?.timeDeltas ?? [];
    (c.samples ?? []).forEach((id, k) => {
      const f = frames.get(id);
      const url = f?.url
        ? f.url.replace(/^.*\//, '').replace(/-[\w-]{8}\.js$/, '.js')
        : `(${f?.functionName || 'native'})`;
      const dt = (deltas[k + 1] ?? 0) / 1000;
      byScript.set(url, (byScript.get(url) ?? 0) + dt);
    });
  }
  return {
    busy: busy / 1000,
    total: firstFrameMs,
    byName,
    phases,
    byScript: Object.fromEntries(byScript),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { tfx: [], minimal: [] };
try {
  for (let run = -1; run < RUNS; run++) {
    for (const kind of ['tfx', 'minimal']) {
      const room = `profile-${kind}-${run + 1}-${Math.random().toString(36).slice(2, 8)}`;
      const a = await participant();
      await a.page.goto(pages[kind](room, 'A'));
      await a.page.waitForFunction(joined[kind], null, { timeout: 30_000 });
      const b = await participant();
      await browser.startTracing(b.page, {
        categories: [
          'devtools.timeline',
          'disabled-by-default-devtools.timeline',
          'v8.execute',
          'v8',
          'blink.user_timing',
          'loading',
          'disabled-by-default-v8.cpu_profiler',
        ],
      });
      const frame = watchFirstFrame(b.page);
      await b.page.goto(pages[kind](room, 'B'));
      const t = await frame;
      const trace = await browser.stopTracing();
      if (SAVE && run >= 0) {
        mkdirSync(SAVE, { recursive: true });
        writeFileSync(join(SAVE, `${kind}-${run + 1}.json`), trace);
        writeFileSync(join(SAVE, `${kind}-${run + 1}.frame`), String(t));
      }
      try {
        if (run >= 0) results[kind].push(summarize(trace, t));
      } catch (err) {
        process.stderr.write(`run ${run + 1}: ${err.message}, skipped\n`);
      }
      process.stderr.write(`run ${run + 1}/${RUNS} ${kind}: ${t.toFixed(0)} ms\n`);
      await b.context.close();
      await a.context.close();
    }
  }
  const names = new Set(
    Object.values(results).flatMap((rs) => rs.flatMap((r) => Object.keys(r.byName))),
  );
  const med = (kind, f) => median(results[kind].map(f));
  const rows = [...names]
    .map((n) => [n, med('tfx', (r) => r.byName[n] ?? 0), med('minimal', (r) => r.byName[n] ?? 0)])
    .filter(([, x, y]) => x >= 3 || y >= 3)
    .sort((p, q) => q[1] - p[1]);
  const lines = [
    `| renderer main thread (median of ${RUNS}, ms) | TFX call page | minimal page |`,
    '| --- | ---: | ---: |',
    `| navigation start → first remote frame | ${med('tfx', (r) => r.total).toFixed(0)} | ${med('minimal', (r) => r.total).toFixed(0)} |`,
    `| busy (main thread) | ${med('tfx', (r) => r.busy).toFixed(0)} | ${med('minimal', (r) => r.busy).toFixed(0)} |`,
    ...['before the script runs', 'script → joined', 'joined → first frame'].map(
      (label, k) =>
        `| busy, ${label} | ${med('tfx', (r) => r.phases[k]).toFixed(0)} | ${med('minimal', (r) => r.phases[k]).toFixed(0)} |`,
    ),
    ...rows.map(([n, x, y]) => `| · ${n} (self) | ${x.toFixed(0)} | ${y.toFixed(0)} |`),
  ];
  const scripts = new Set(
    Object.values(results).flatMap((rs) => rs.flatMap((r) => Object.keys(r.byScript))),
  );
  lines.push(
    '',
    '| JS samples by script (median, ms) | TFX call page | minimal page |',
    '| --- | ---: | ---: |',
  );
  for (const u of [...scripts]
    .map((u) => [
      u,
      med('tfx', (r) => r.byScript[u] ?? 0),
      med('minimal', (r) => r.byScript[u] ?? 0),
    ])
    .filter(([, x, y]) => x >= 1 || y >= 1)
    .sort((p, q) => q[1] - p[1]))
    lines.push(`| ${u[0]} | ${u[1].toFixed(0)} | ${u[2].toFixed(0)} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(minimalDir, { recursive: true, force: true });
}
