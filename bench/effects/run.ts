// bench/effects: what the video effects cost, in real Chromium (no GPU), 640×360 at 15 fps.
//   npm run bench:effects          (builds, then runs in a loopback-only namespace)
// For each processor (none, colour filter, blur, blur + face overlay, and blur with the canvas
// fallback): Ann's browser CPU (all its processes, from /proc, over a fixed window) while she
// sends her face clip to Bob, her outgoing frame rate (framesEncoded per second from getStats),
// the pipeline's composed-frame time p50/p95 and segmentation inference time p50/p95 and rate.
// Ann runs in a browser of her own, so its CPU is hers alone; Bob (receive only) in another.
// Bounded: WARM_MS + MEASURE_MS per processor. Prints a Markdown table; --write puts it in
// docs/benchmarks.md ("## Video effects").
import { chromium, type Browser, type Page } from '@playwright/test';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { startServer, roomUrl, uniqueRoom } from '../../test/e2e/support.js';
import { faceClip, launchWithCamera, withCamera } from '../../test/e2e/effects-support.js';

const WRITE = process.argv.includes('--write');
const WARM_MS = 20_000;
const MEASURE_MS = 20_000;
const TICK = 100; // USER_HZ on Linux

const CASES: Array<{ label: string; spec: unknown; canvas?: boolean }> = [
  { label: 'none (camera track sent as is)', spec: null },
  { label: 'colour filter (sepia)', spec: { type: 'filter', name: 'sepia' } },
  { label: 'blur', spec: { type: 'blur', strength: 10 } },
  {
    label: 'blur + face overlay',
    spec: [
      { type: 'blur', strength: 10 },
      { type: 'face-overlay', style: 'frame' },
    ],
  },
  { label: 'blur, canvas fallback path', spec: { type: 'blur', strength: 10 }, canvas: true },
];

/** CPU seconds of a process and all its descendants. */
function treeCpu(root: number): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      cpu.set(Number(d), (Number(f[11]) + Number(f[12])) / TICK);
    } catch {
      // gone
    }
  }
  let total = 0;
  for (const [pid, c] of cpu) {
    let p: number | undefined = pid;
    while (p && p !== root && p !== 1) p = parent.get(p);
    if (p === root) total += c;
  }
  return total;
}

/** The browser process whose fake camera plays this run's clip (Ann's; Bob's has none). */
function cameraBrowserPid(file: string): number {
  const has = (pid: number | string): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(
        `--use-file-for-fake-video-capture=${file}`,
      );
    } catch {
      return false;
    }
  };
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || !has(d)) continue;
    const st = readFileSync(`/proc/${d}/stat`, 'utf8');
    const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
    if (!has(ppid)) return Number(d);
  }
  throw new Error('the camera browser process was not found');
}

async function framesEncoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const h = window.__tfx!;
    const peer = h.peers[0];
    if (!peer) return 0;
    const s = await h.room!.getStats(peer.id);
    return (s?.outbound ?? [])
      .filter((o) => o.kind === 'video')
      .reduce((a, o) => a + (o.framesEncoded ?? 0), 0);
  });
}

interface Row {
  label: string;
  cpu: number;
  fps: number;
  composeP50: number;
  composeP95: number;
  inferP50: number;
  inferP95: number;
  inferPerSec: number;
  level: number;
  path: string;
}

async function runCase(
  clipFile: string,
  url: string,
  cam: Browser,
  bobBrowser: Browser,
  c: (typeof CASES)[number],
): Promise<Row> {
  const room = uniqueRoom('fxbench');
  const annCtx = await cam.newContext({
    permissions: ['camera', 'microphone'],
    ignoreHTTPSErrors: true,
  });
  const ann = await annCtx.newPage();
  const bobCtx = await bobBrowser.newContext({
    permissions: ['camera', 'microphone'],
    ignoreHTTPSErrors: true,
  });
  const bob = await bobCtx.newPage();
  try {
    await ann.goto(
      withCamera(
        roomUrl(url, room, 'Ann', {
          audio: false,
          query: `effectsBudget=100000${c.canvas ? '&effectsPath=canvas' : ''}`,
        }),
        '640x360@15',
      ),
    );
    await ann.waitForFunction(
      () => document.querySelector('#app')?.getAttribute('data-screen') === 'call',
    );
    await bob.goto(roomUrl(url, room, 'Bob', { audio: false, video: false }));
    await bob.waitForFunction(() => window.__tfx?.peers[0]?.connectionState === 'connected', null, {
      timeout: 60_000,
    });
    await ann.evaluate((s) => window.__tfx!.room!.setVideoProcessor(s as never), c.spec);
    await ann.waitForTimeout(WARM_MS);
    const pid = cameraBrowserPid(clipFile);
    const cpu0 = treeCpu(pid);
    const f0 = await framesEncoded(ann);
    const t0 = Date.now();
    const s0 = await ann.evaluate(() => window.__tfx!.room!.local.effectsStats());
    await ann.waitForTimeout(MEASURE_MS);
    const cpu1 = treeCpu(pid);
    const f1 = await framesEncoded(ann);
    const secs = (Date.now() - t0) / 1000;
    const s1 = await ann.evaluate(() => window.__tfx!.room!.local.effectsStats());
    return {
      label: c.label,
      cpu: ((cpu1 - cpu0) / secs) * 100,
      fps: (f1 - f0) / secs,
      composeP50: s1?.composeP50 ?? 0,
      composeP95: s1?.composeP95 ?? 0,
      inferP50: s1?.inferP50 ?? 0,
      inferP95: s1?.inferP95 ?? 0,
      inferPerSec: s1 && s0 ? (s1.inferences - s0.inferences) / secs : 0,
      level: s1?.level ?? 0,
      path: s1?.path ?? '-',
    };
  } finally {
    await annCtx.close();
    await bobCtx.close();
  }
}

async function main(): Promise<void> {
  const server = await startServer();
  const clip = faceClip('left');
  const bobBrowser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--disable-gpu',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const rows: Row[] = [];
  const load0 = loadavg()[0] ?? 0;
  try {
    for (const c of CASES) {
      // A browser per case: its process tree is Ann's alone, and nothing carries over.
      const cam = await launchWithCamera(clip);
      try {
        rows.push(await runCase(clip.file, server.url, cam, bobBrowser, c));
      } finally {
        await cam.close();
      }
      const r = rows[rows.length - 1]!;
      process.stderr.write(`${r.label}: cpu ${r.cpu.toFixed(0)} %, ${r.fps.toFixed(1)} fps\n`);
    }
  } finally {
    await bobBrowser.close();
    await server.stop();
  }
  const base = rows[0]!.cpu;
  const f = (n: number, d = 1): string => (Number.isFinite(n) && n > 0 ? n.toFixed(d) : '–');
  const table = [
    `Measured ${new Date().toISOString().slice(0, 16)} UTC on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${load0.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)}; Chromium headless, \`--disable-gpu\`, 640×360 at 15 fps face clip; ${WARM_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured per row.`,
    '',
    '| processor | Ann’s browser CPU, % of a core | vs none | outgoing fps | composed frame p50 / p95, ms | inference p50 / p95, ms | inferences/s | level | path |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${f(r.cpu, 0)} | ${r === rows[0] ? '–' : `+${f(r.cpu - base, 0)}`} | ${f(r.fps)} | ${f(r.composeP50)} / ${f(r.composeP95)} | ${f(r.inferP50, 0)} / ${f(r.inferP95, 0)} | ${f(r.inferPerSec)} | ${r.level} | ${r.path} |`,
    ),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (WRITE) {
    const path = 'docs/benchmarks.md';
    const doc = readFileSync(path, 'utf8');
    const start = doc.indexOf('<!-- bench:effects -->');
    const end = doc.indexOf('<!-- /bench:effects -->');
    if (start < 0 || end < 0)
      throw new Error('docs/benchmarks.md: markers for bench:effects missing');
    writeFileSync(
      path,
      `${doc.slice(0, start)}<!-- bench:effects -->\n${table}\n${doc.slice(end)}`,
    );
  }
}

await main();
