/**
 * Call features (issue 7) in real Chromium: moderation with the lobby, the live stats panel,
 * recording with the indicator every peer sees, embedding from another origin, and the
 * installable app (manifest, service worker, offline page).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type Page } from '@playwright/test';
import { expect, test } from './fixtures/index.js';
import {
  closeAll,
  expectMediaFromAll,
  roomUrl,
  startServer,
  type Participant,
  type TfxServer,
} from './support.js';

/** A tiny static server on 127.0.0.1 (another origin than TFX). */
async function serveDir(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript',
  };
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    const file = join(dir, path === '/' ? 'index.html' : path);
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

const screenOf = (p: Page): Promise<string | null> => p.locator('#app').getAttribute('data-screen');

async function openPanel(p: Participant, which: 'stats' | 'moderation'): Promise<void> {
  await p.page.locator(which === 'stats' ? '#toggle-stats' : '#toggle-moderation').click();
  await expect(p.page.locator(`#${which}-panel`)).toBeVisible();
}

let server: TfxServer;
let host: { origin: string; close(): Promise<void> };
let evil: { origin: string; close(): Promise<void> };

test.beforeAll(async () => {
  host = await serveDir(join(process.cwd(), 'examples/embed'));
  evil = await serveDir(join(process.cwd(), 'test/e2e/fixtures/embed'));
  server = await startServer(['--embed-allowed-origins', host.origin]);
});
test.afterAll(async () => {
  await server?.stop();
  await host?.close();
  await evil?.close();
});

test('moderation from the UI: kick, lock and the lobby (admit and deny); refused without the token', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const mod = await call.join('Mod', { base: server.url, room, params: { video: false } });
  const bob = await call.join('Bob', { base: server.url, room, params: { video: false } });
  ps.push(mod, bob);

  // Not a moderator: the server refuses, and the UI says so.
  await openPanel(bob, 'moderation');
  await expect(bob.page.locator('#mod-status')).toContainText('not a moderator');
  await bob.page.locator('#mod-lock').click();
  await expect(bob.page.locator('#moderation-error')).toContainText('only a moderator');
  await expect(bob.page.locator('#mod-lock')).not.toBeChecked();
  await bob.page.locator('#mod-people [data-kick]').first().click();
  await expect(bob.page.locator('#moderation-error')).toContainText('only a moderator');
  expect(await screenOf(mod.page)).toBe('call');

  // Lock: a newcomer is refused; unlock lets it in.
  await openPanel(mod, 'moderation');
  await expect(mod.page.locator('#mod-status')).toContainText('You are a moderator');
  await mod.page.locator('#mod-lock').check();
  const late = await call.join('Late', {
    base: server.url,
    room,
    params: {
      video: false,
      autojoin: false,
    },
  });
  ps.push(late);
  await late.page.goto(roomUrl(server.url, room, 'Late', { video: false }));
  await expect(late.page.locator('#app')).toHaveAttribute('data-screen', 'room-locked');
  await mod.page.locator('#mod-lock').uncheck();
  await late.page.locator('#retry').click();
  await expect(late.page.locator('#app')).toHaveAttribute('data-screen', 'call');

  // Kick.
  await mod.page.locator(`#mod-people li:has-text("Late") [data-kick]`).click();
  await expect(late.page.locator('#app')).toHaveAttribute('data-screen', 'kicked');
  await expect(mod.page.locator('#participant-count')).toHaveText('2');

  // Lobby: one is admitted, one is denied.
  await mod.page.locator('#mod-lobby').check();
  await expect(mod.page.locator('#lobby-queue')).toContainText('Nobody is waiting');
  const dan = await call.join('Dan', {
    base: server.url,
    room,
    params: { video: false, autojoin: false },
  });
  const eve = await call.join('Eve', {
    base: server.url,
    room,
    params: { video: false, autojoin: false },
  });
  ps.push(dan, eve);
  await dan.page.goto(roomUrl(server.url, room, 'Dan', { video: false }));
  await expect(dan.page.locator('#app')).toHaveAttribute('data-screen', 'lobby');
  await eve.page.goto(roomUrl(server.url, room, 'Eve', { video: false }));
  await expect(eve.page.locator('#app')).toHaveAttribute('data-screen', 'lobby');
  await expect(mod.page.locator('#lobby-queue [data-waiting]')).toHaveCount(2);
  await expect(mod.page.locator('#lobby-badge')).toHaveText('2');
  await mod.page.screenshot({ path: 'test-results/e2e/moderation-panel.png' });
  await mod.page.locator('#lobby-queue li:has-text("Dan") [data-admit]').click();
  await expect(dan.page.locator('#app')).toHaveAttribute('data-screen', 'call');
  await expect(dan.page.locator('#participant-count')).toHaveText('3');
  await mod.page.locator('#lobby-queue li:has-text("Eve") [data-deny]').click();
  await expect(eve.page.locator('#app')).toHaveAttribute('data-screen', 'lobby-denied');
  await expect(mod.page.locator('#lobby-queue [data-waiting]')).toHaveCount(0);
  await expect(bob.page.locator('#participant-count')).toHaveText('3');
});

test('the stats panel shows a rising bitrate, codecs and the candidate pair types for each peer', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const a = await call.join('Ann', { base: server.url, room });
  const b = await call.join('Ben', { base: server.url, room });
  ps.push(a, b);
  await expectMediaFromAll(a, 1);
  await openPanel(a, 'stats');
  const row = a.page.locator('#stats-panel .stats-peer').first();
  await expect(row.locator('h3')).toHaveText('Ben');
  await expect
    .poll(async () => Number(await row.getAttribute('data-kbps-in')), {
      message: 'inbound bitrate above zero',
    })
    .toBeGreaterThan(0);
  await expect(row.locator('[data-stat="bitrate-in"]')).not.toHaveText(/^(—|0 kbit\/s)$/);
  await expect(row.locator('[data-stat="candidates"]')).toHaveText(
    /(host|prflx|srflx|relay) ↔ (host|prflx|srflx|relay)/,
  );
  await expect(row.locator('[data-stat="codec"]')).toContainText('VP8');
  await expect(row.locator('[data-stat="resolution"]')).toHaveText(/^\d+×\d+$/);
  await expect(row.locator('[data-stat="rtt"]')).toHaveText(/^\d+ ms$/);
  // The sparkline draws as samples arrive, once a second.
  await expect
    .poll(
      async () =>
        ((await row.locator('svg.spark polyline').first().getAttribute('points')) ?? '').split(' ')
          .length,
    )
    .toBeGreaterThan(2);
  await a.page.screenshot({ path: 'test-results/e2e/stats-panel.png' });
});

test('recording the whole call downloads a webm with vp8 and opus of at least 2 s; the other peer sees the indicator', async ({
  call,
  defer,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tfx-rec-'));
  defer(async () => {
    await closeAll(ps);
    rmSync(dir, { recursive: true, force: true });
  });
  const a = await call.join('Ann', { base: server.url, room });
  const b = await call.join('Ben', { base: server.url, room });
  ps.push(a, b);
  await expectMediaFromAll(a, 1);
  await expect(b.page.locator('#recording-indicator')).toBeHidden();
  await a.page.locator('#record-source').selectOption('grid');
  await a.page.locator('#toggle-record').click();
  await expect(a.page.locator('#recording-indicator')).toContainText('You');
  await expect(b.page.locator('#recording-indicator')).toBeVisible();
  await expect(b.page.locator('#recording-indicator')).toContainText('Ann');
  // A late joiner is told too.
  const c = await call.join('Cat', { base: server.url, room, params: { video: false } });
  ps.push(c);
  await expect(c.page.locator('#recording-indicator')).toContainText('Ann');
  await b.page.screenshot({ path: 'test-results/e2e/recording-indicator.png' });
  // Record a few seconds of media (a wait, not a timing assertion).
  await a.page.waitForTimeout(3000);
  const download = a.page.waitForEvent('download');
  await a.page.locator('#toggle-record').click();
  const file = join(dir, 'call.webm');
  await (await download).saveAs(file);
  await expect(b.page.locator('#recording-indicator')).toBeHidden();

  const probe = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], {
      encoding: 'utf8',
    }),
  ) as { streams: Array<{ codec_name: string; codec_type: string }> };
  expect(probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual([
    'audio:opus',
    'video:vp8',
  ]);
  // MediaRecorder's webm has no duration in its header: take the last packet's time.
  const times = execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  )
    .split('\n')
    .map(Number)
    .filter((n) => Number.isFinite(n));
  expect(Math.max(...times)).toBeGreaterThanOrEqual(2);
});

test('the embed example on another origin joins a call, gets its events and obeys its commands; a third origin is ignored', async ({
  browser,
  call,
  defer,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  defer(async () => {
    await closeAll(ps);
  });
  const peer = await call.join('Peer', { base: server.url, room, params: { video: false } });
  ps.push(peer);
  const context = await browser.newContext();
  ps.push({ name: 'Host', context, page: await context.newPage() });
  const page = ps[1]!.page;
  const q = new URLSearchParams({ tfx: server.url, room, name: 'Embedded', cam: '320x240@15' });
  await page.goto(`${host.origin}/?${q.toString()}`);
  const events = (): Promise<Array<{ event: string; data: Record<string, unknown> }>> =>
    page.evaluate(() => (window as unknown as { tfxEvents: never[] }).tfxEvents);
  const last = async (name: string): Promise<Record<string, unknown> | undefined> =>
    (await events()).filter((e) => e.event === name).at(-1)?.data;

  await expect(page.locator('#status')).toHaveText('in the call');
  expect(await last('joined')).toMatchObject({ room, moderator: false });
  await expect(page.locator('#count')).toHaveText('2');
  const frame = page.frameLocator('#call iframe');
  await expect(frame.locator('#app')).toHaveAttribute('data-screen', 'call');
  expect(await page.locator('#call iframe').getAttribute('allow')).toBe(
    'camera; microphone; display-capture; autoplay; fullscreen',
  );
  await expect.poll(async () => (await last('media'))?.audio).toBe(true);

  // A page of a third origin, framed next to the call, commands it and fakes events.
  await page.evaluate((src) => {
    const f = document.createElement('iframe');
    f.src = src;
    f.id = 'evil';
    document.body.append(f);
    return new Promise((r) => f.addEventListener('load', r));
  }, `${evil.origin}/evil.html`);
  const evilFrame = page.frames().find((f) => f.url().startsWith(evil.origin));
  expect(evilFrame).toBeDefined();
  await evilFrame!.evaluate(() => {
    const call = parent.frames[0] as Window;
    call.postMessage({ tfx: 'command', command: 'mute', id: 'evil' }, '*');
    parent.postMessage({ tfx: 'event', event: 'participants', data: { count: 99 } }, '*');
  });
  // The host's own command, sent after: once its result is in, the evil one was handled too.
  await page.evaluate(() =>
    (window as unknown as { tfxCall: { command(c: string, id: string): void } }).tfxCall.command(
      'mute-video',
      'after',
    ),
  );
  await expect
    .poll(async () =>
      (await events()).some((e) => e.event === 'command-result' && e.data.id === 'after'),
    )
    .toBe(true);
  const all = await events();
  expect(all.some((e) => e.data.id === 'evil')).toBe(false);
  expect(all.some((e) => e.event === 'participants' && e.data.count === 99)).toBe(false);
  expect(await last('media')).toMatchObject({ audio: true });
  await expect(frame.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'true');

  // The host's commands are obeyed: mute, then unmute; the peer sees the state.
  await page.locator('#mute').click();
  await expect.poll(async () => (await last('media'))?.audio).toBe(false);
  await expect(frame.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'false');
  await page.locator('#unmute').click();
  await expect.poll(async () => (await last('media'))?.audio).toBe(true);

  // Recording started by the peer reaches the host page as an event.
  await peer.page.locator('#toggle-record').click();
  await expect.poll(async () => (await last('recording'))?.on).toBe(true);
  await expect(page.locator('#rec')).toBeVisible();
  const stopped = peer.page.waitForEvent('download');
  await peer.page.locator('#toggle-record').click();
  await stopped;

  // Leave: the host hears of it, the peer sees one participant.
  await page.locator('#leave').click();
  await expect(page.locator('#status')).toHaveText('left');
  expect(await last('left')).toMatchObject({ reason: 'left' });
  await expect(peer.page.locator('#participant-count')).toHaveText('1');
  await page.screenshot({ path: 'test-results/e2e/embed-host.png' });
});

test('the app is installable: manifest, service worker registered, offline page served when offline', async ({
  browser,
  defer,
  startTfx,
}) => {
  // Chromium registers no service worker over a certificate it does not trust (the tests' self-
  // signed one), so this test talks plain HTTP on loopback, which is a secure context too.
  const server = await startTfx(['--insecure-http']);
  const context = await browser.newContext();
  defer(async () => {
    await context.close();
  });
  const page = await context.newPage();
  const manifest = await (await page.request.get(`${server.url}/manifest.webmanifest`)).json();
  expect(manifest).toMatchObject({ display: 'standalone', start_url: '/' });
  const sizes = (manifest.icons as Array<{ sizes: string }>).map((i) => i.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  for (const i of manifest.icons as Array<{ src: string }>)
    expect((await page.request.get(server.url + i.src)).status()).toBe(200);
  const embedJs = await page.request.get(`${server.url}/embed.js`);
  expect(embedJs.headers()['cross-origin-resource-policy']).toBe('cross-origin');

  await page.goto(`${server.url}/`);
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute(
    'href',
    '/manifest.webmanifest',
  );
  const sw = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return { script: reg.active?.scriptURL, scope: reg.scope };
  });
  expect(sw).toEqual({
    script: new URL('/sw.js', server.url).href,
    scope: new URL('/', server.url).href,
  });
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const names = await caches.keys();
        const c = await caches.open(names.find((n) => n.startsWith('tfx-shell-')) ?? 'none');
        return (await c.keys()).map((r) => new URL(r.url).pathname);
      }),
    )
    .toEqual(expect.arrayContaining(['/', '/offline.html', '/room.html']));
  // The REST API is never cached.
  await page.evaluate(() => fetch('/api/v1/embed').then((r) => r.json()));
  const cachedApi = await page.evaluate(async () => {
    for (const n of await caches.keys())
      for (const r of await (await caches.open(n)).keys())
        if (new URL(r.url).pathname.startsWith('/api')) return true;
    return false;
  });
  expect(cachedApi).toBe(false);

  await context.setOffline(true);
  await page.goto(`${server.url}/some/page`);
  await expect(page.locator('#offline h1')).toHaveText('You are offline');
  await page.goto(`${server.url}/`);
  await expect(page.locator('#create-room, form, h1').first()).toBeVisible();
  await context.setOffline(false);
});
