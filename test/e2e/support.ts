/**
 * E2E support: the real TFX server (and coturn) started by the tests, one browser context per
 * participant, and media proofs from getStats (two snapshots: bytes and frames rising).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join as pathJoin, normalize } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
// The read-only debug handle window.__tfx (its type lives with the web app).
import type {} from '../../packages/web/src/debug.js';

export interface TfxServer {
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  adminToken(): string;
  /** Stdout/stderr lines so far (JSON logs). */
  readonly logs: string[];
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      if (child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Starts `tfx start` on a free port; resolves with its URL from the `ready` line. Retried once:
 * in a shared checkout another build may be rewriting `dist/` at that very moment.
 */
export async function startServer(extra: string[] = []): Promise<TfxServer> {
  try {
    return await startServerOnce(extra);
  } catch {
    await new Promise((r) => setTimeout(r, 3000));
    return startServerOnce(extra);
  }
}

async function startServerOnce(extra: string[]): Promise<TfxServer> {
  const dataDir = mkdtempSync(pathJoin(tmpdir(), 'tfx-e2e-'));
  const args = [
    'packages/cli/bin/tfx.js',
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
    ...extra,
  ];
  // The server refuses unknown TFX_* variables: keep the test's own out of its environment.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TFX_')),
  );
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => logs.push(l));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`server did not start:\n${logs.join('\n')}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
      reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const j = JSON.parse(line) as { event?: string; url?: string };
        if (j.event === 'ready' && j.url) {
          clearTimeout(t);
          resolve(j.url);
        }
      } catch {
        // a log line
      }
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    pid: child.pid!,
    dataDir,
    logs,
    adminToken: () => readFileSync(pathJoin(dataDir, 'admin-token'), 'utf8').trim(),
    // Idempotent: a test may stop its server and the fixture stops it again after the test.
    stop() {
      stopping ??= (async () => {
        if (child.pid && child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(child.pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
        await waitExit(child, 8000);
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

export interface Coturn {
  readonly port: number;
  readonly secret: string;
  readonly pid: number;
  /** SIGKILL: the relay disappears at once, allocations and all. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts coturn on 127.0.0.1 with a TURN REST shared secret (config per TESTING.md). */
export async function startCoturn(
  port: number,
  secret: string,
  dir = mkdtempSync(pathJoin(tmpdir(), 'tfx-coturn-')),
): Promise<Coturn> {
  const conf = pathJoin(dir, 'turnserver.conf');
  writeFileSync(
    conf,
    [
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      `listening-port=${port}`,
      `min-port=${port + 10}`,
      `max-port=${port + 200}`,
      'realm=tfx.test',
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      'allow-loopback-peers',
      'no-tls',
      'no-dtls',
      'no-cli',
      'fingerprint',
      `userdb=${pathJoin(dir, 'turndb')}`,
      `pidfile=${pathJoin(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'no-stdout-log=false',
      '',
    ].join('\n'),
  );
  const child = spawn('turnserver', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`coturn did not start:\n${lines.join('\n')}`)),
      15_000,
    );
    child.once('exit', (code) =>
      reject(new Error(`coturn exited with ${code}:\n${lines.join('\n')}`)),
    );
    const onLine = (l: string): void => {
      lines.push(l);
      if (/listener opened on|Total General servers|relay .* initialized/i.test(l)) {
        clearTimeout(t);
        setTimeout(resolve, 300);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
  });
  child.removeAllListeners('exit');
  return {
    port,
    secret,
    pid: child.pid!,
    async kill() {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      await waitExit(child, 5000);
    },
    async stop() {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
      await waitExit(child, 5000);
    },
  };
}

export interface Participant {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

export interface JoinParams {
  readonly audio?: boolean;
  readonly video?: boolean;
  readonly relay?: boolean;
  readonly autojoin?: boolean;
  /** Extra query string. */
  readonly query?: string;
  /** A phone of this size (touch, mobile viewport) instead of the desktop default. */
  readonly phone?: ScreenSize;
  /** How long to wait for the call screen, ms (default: the expect timeout). */
  readonly timeout?: number;
}

export interface ScreenSize {
  readonly width: number;
  readonly height: number;
}

/** Phone sizes the mobile layouts are tested at (portrait, and one landscape). */
export const PHONES = {
  small: { width: 360, height: 640 },
  medium: { width: 390, height: 844 },
  large: { width: 414, height: 896 },
  landscape: { width: 844, height: 390 },
} as const satisfies Record<string, ScreenSize>;

/** A browser context that behaves like a phone: its viewport, touch, a mobile meta viewport. */
export function phoneContext(browser: Browser, size: ScreenSize): Promise<BrowserContext> {
  return browser.newContext({ viewport: size, hasTouch: true, isMobile: true });
}

/** The room URL with test parameters: autojoin, a small camera (320x240 at 15 fps). */
export function roomUrl(base: string, room: string, name: string, p: JoinParams = {}): string {
  const q = new URLSearchParams({ name, cam: '320x240@15' });
  if (p.autojoin !== false) q.set('autojoin', '1');
  if (p.audio === false) q.set('audio', '0');
  if (p.video === false) q.set('video', '0');
  if (p.relay) q.set('relay', '1');
  return `${base}/r/${room}?${q.toString()}${p.query ? `&${p.query}` : ''}`;
}

/** Opens a participant in its own browser context and waits for the call screen. */
export async function join(
  browser: Browser,
  base: string,
  room: string,
  name: string,
  p: JoinParams = {},
): Promise<Participant> {
  const context = p.phone ? await phoneContext(browser, p.phone) : await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] pageerror: ${e.message}`));
  await page.goto(roomUrl(base, room, name, p));
  if (p.autojoin !== false)
    await expect(page.locator('#app')).toHaveAttribute('data-screen', 'call', {
      ...(p.timeout ? { timeout: p.timeout } : {}),
    });
  return { name, context, page };
}

export async function closeAll(ps: readonly Participant[]): Promise<void> {
  for (const p of ps) await p.context.close().catch(() => undefined);
}

export const peerId = (p: Participant): Promise<string> =>
  p.page.evaluate(() => window.__tfx!.room!.peerId);

/** Peer ids this participant has in its room. */
export const peerIds = (p: Participant): Promise<string[]> =>
  p.page.evaluate(() => window.__tfx!.peers.map((x) => x.id).sort());

export interface InboundSnapshot {
  readonly peer: string;
  readonly bytes: number;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly local?: string;
  readonly remote?: string;
  readonly state: string;
}

/** One getStats snapshot per remote peer (video inbound totals, selected pair types). */
export function snapshot(p: Participant): Promise<InboundSnapshot[]> {
  return p.page.evaluate(async () => {
    const h = window.__tfx!;
    const out: InboundSnapshot[] = [];
    for (const peer of h.peers) {
      const s = await h.room!.getStats(peer.id);
      if (!s) continue;
      const video = s.inbound.filter((i) => i.kind === 'video');
      const main = video.find((v) => (v.framesDecoded ?? 0) > 0) ?? video[0];
      out.push({
        peer: peer.id,
        bytes: video.reduce((a, v) => a + v.bytesReceived, 0),
        frames: video.reduce((a, v) => a + (v.framesDecoded ?? 0), 0),
        width: main?.frameWidth ?? 0,
        height: main?.frameHeight ?? 0,
        ...(s.localCandidateType ? { local: s.localCandidateType } : {}),
        ...(s.remoteCandidateType ? { remote: s.remoteCandidateType } : {}),
        state: peer.connectionState,
      });
    }
    return out;
  });
}

/**
 * Proves media flows from every other participant: two getStats snapshots a few seconds apart
 * with rising video bytes and decoded frames, and every remote <video> showing frames.
 */
export async function expectMediaFromAll(
  p: Participant,
  expectedPeers: number,
): Promise<InboundSnapshot[]> {
  await expect
    .poll(async () => (await snapshot(p)).filter((s) => s.frames > 0).length, {
      message: `${p.name} decodes video from ${expectedPeers} peers`,
    })
    .toBe(expectedPeers);
  const a = await snapshot(p);
  let b: InboundSnapshot[] = [];
  await expect
    .poll(
      async () => {
        b = await snapshot(p);
        return b.filter((s) => {
          const before = a.find((x) => x.peer === s.peer);
          return before !== undefined && s.bytes > before.bytes && s.frames > before.frames;
        }).length;
      },
      { message: `${p.name}: bytes and frames rising from every peer`, intervals: [1500, 1000] },
    )
    .toBe(expectedPeers);
  await expect
    .poll(() =>
      p.page
        .locator('.tile video.tile-camera')
        .evaluateAll((vs) => (vs as HTMLVideoElement[]).filter((v) => v.videoWidth > 0).length),
    )
    .toBe(expectedPeers);
  return b;
}

/** Offers sent so far by a participant, per peer (from the SDK's negotiation counters). */
export function offersSent(p: Participant): Promise<number> {
  return p.page.evaluate(() =>
    window.__tfx!.peers.reduce((a, x) => a + (x.link?.counters.offersSent ?? 0), 0),
  );
}

export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A tiny static server on 127.0.0.1 (another origin than TFX), for host pages. */
export async function serveDir(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript',
  };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    const file = pathJoin(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * The screen fits the phone: no horizontal scrolling (`scrollWidth ≤ innerWidth`, and no box
 * scrolled sideways), and every visible control (button, link, input, select) lies inside the
 * viewport (scrolled to, if the page or a sheet scrolls vertically) and is what a tap at its
 * centre hits (nothing covers it). Controls are looked for in `within` (a full-screen panel),
 * else in an open modal dialog, else in the whole page. Returns how many controls were checked.
 */
export async function expectFitsScreen(page: Page, what: string, within?: string): Promise<number> {
  const r = await page.evaluate((sel) => {
    const w = innerWidth;
    const h = innerHeight;
    const root =
      (sel ? document.querySelector(sel) : document.querySelector('dialog:modal')) ?? document.body;
    const controls = [
      ...root.querySelectorAll('button, a[href], input:not([type=hidden]), select'),
    ].filter((e) => {
      const b = e.getBoundingClientRect();
      return b.width > 0 && b.height > 0 && getComputedStyle(e).visibility !== 'hidden';
    });
    const problems: string[] = [];
    for (const c of controls) {
      const name =
        c.getAttribute('aria-label') || c.id || (c.textContent ?? '').trim().slice(0, 30);
      let b = c.getBoundingClientRect();
      if (b.left < -0.5 || b.right > w + 0.5) {
        problems.push(`"${name}" is off the screen sideways (x ${b.left}…${b.right})`);
        continue;
      }
      if (b.top < -0.5 || b.bottom > h + 0.5) {
        c.scrollIntoView({ block: 'nearest' });
        b = c.getBoundingClientRect();
      }
      if (b.top < -0.5 || b.bottom > h + 0.5) {
        problems.push(`"${name}" is out of view (y ${b.top}…${b.bottom})`);
        continue;
      }
      const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
      if (!hit || !(hit === c || c.contains(hit)))
        problems.push(`"${name}" is covered by ${hit?.tagName.toLowerCase()}.${hit?.className}`);
    }
    const sideways = [...document.querySelectorAll('*')]
      .filter((e) => e.scrollLeft !== 0)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
    return {
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      w,
      count: controls.length,
      problems,
      sideways,
    };
  }, within);
  expect(r.doc, `${what}: page scrollWidth ≤ innerWidth`).toBeLessThanOrEqual(r.w);
  expect(r.body, `${what}: body scrollWidth ≤ innerWidth`).toBeLessThanOrEqual(r.w);
  expect(r.sideways, `${what}: boxes scrolled sideways`).toEqual([]);
  expect(r.problems, `${what}: controls out of view or covered`).toEqual([]);
  expect(r.count, `${what}: controls found`).toBeGreaterThan(0);
  return r.count;
}

/**
 * Uses a call control wherever it is: in the control bar, or in the More sheet when the bar had
 * no room for it (a phone, a narrow window; docs/browsers.md, "Phones"). Taps on a touch page,
 * clicks elsewhere.
 */
export async function pressControl(page: Page, name: string | RegExp): Promise<void> {
  const touch = await page.evaluate(() => navigator.maxTouchPoints > 0);
  const press = (l: ReturnType<Page['locator']>): Promise<void> => (touch ? l.tap() : l.click());
  const inBar = page.locator('.controls').getByRole('button', { name, exact: true });
  if (await inBar.isVisible()) return press(inBar);
  await press(page.getByRole('button', { name: 'More', exact: true }));
  const sheet = page.locator('#more-sheet');
  await expect(sheet).toBeVisible();
  await press(sheet.getByRole('button', { name, exact: true }));
  await expect(sheet).toBeHidden();
}

/** A one-finger drag through the browser's touch input (pointer events of type "touch"). */
export async function touchDrag(
  page: Page,
  from: { x: number; y: number },
  to: { x: number; y: number },
  steps = 8,
): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const point = (t: number) => ({
      x: Math.round(from.x + (to.x - from.x) * t),
      y: Math.round(from.y + (to.y - from.y) * t),
    });
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchStart',
      touchPoints: [point(0)],
    });
    for (let i = 1; i <= steps; i++)
      await cdp.send('Input.dispatchTouchEvent', {
        type: 'touchMove',
        touchPoints: [point(i / steps)],
      });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } finally {
    await cdp.detach();
  }
}
