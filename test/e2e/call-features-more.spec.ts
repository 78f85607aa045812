/**
 * More call features in real Chromium: "mute everyone" from the moderation panel, the embed
 * `hangup-all` command (a moderator's ends the call for everyone, anyone else's is refused), the
 * launcher's own window, and recording one peer (not the grid).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from '@playwright/test';
import { expect, test } from './fixtures/index.js';
import {
  closeAll,
  expectMediaFromAll,
  peerId,
  serveDir,
  startServer,
  uniqueRoom,
  type Participant,
  type TfxServer,
} from './support.js';

type HostEvents = Array<{ event: string; data: Record<string, unknown> }>;

let server: TfxServer;
let host: { origin: string; close(): Promise<void> };

test.beforeAll(async () => {
  host = await serveDir(join(process.cwd(), 'examples/embed'));
  server = await startServer(['--embed-allowed-origins', host.origin]);
});
test.afterAll(async () => {
  await server?.stop();
  await host?.close();
});

const screenOf = (p: Page): Promise<string | null> => p.locator('#app').getAttribute('data-screen');

/** The embed example page (another origin) with a call of `room` in it, joined. */
async function embedHost(
  browser: Browser,
  room: string,
  name: string,
): Promise<Participant & { events(): Promise<HostEvents> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] pageerror: ${e.message}`));
  const q = new URLSearchParams({
    tfx: server.url,
    room,
    name,
    video: '0',
    cam: '320x240@15',
  });
  await page.goto(`${host.origin}/?${q.toString()}`);
  await expect(page.locator('#status')).toHaveText('in the call');
  await expect(page.frameLocator('#call iframe').locator('#app')).toHaveAttribute(
    'data-screen',
    'call',
  );
  return {
    name,
    context,
    page,
    events: () => page.evaluate(() => (window as unknown as { tfxEvents: HostEvents }).tfxEvents),
  };
}

const sendCommand = (p: Page, command: string, id: string): Promise<void> =>
  p.evaluate(
    ([c, i]) =>
      (window as unknown as { tfxCall: { command(c: string, id: string): void } }).tfxCall.command(
        c,
        i,
      ),
    [command, id] as const,
  );

test('"Mute everyone" from the moderation panel mutes the other peer: its mic, its UI and the moderator\'s view', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const mod = await call.join('Mod', { base: server.url, room, params: { video: false } });
  const bob = await call.join('Bob', { base: server.url, room, params: { video: false } });
  ps.push(mod, bob);
  const bobId = await peerId(bob);
  const bobTile = mod.page.locator(`.tile[data-peer="${bobId}"]`);
  await expect(bobTile).toHaveAttribute('data-audio', 'on');
  await expect(bob.page.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'true');
  const bobMic = (): Promise<{ enabled: boolean | undefined; state: boolean }> =>
    bob.page.evaluate(() => ({
      enabled: window.__tfx!.room!.local.audioTrack?.enabled,
      state: window.__tfx!.room!.localState.audio,
    }));
  expect(await bobMic()).toEqual({ enabled: true, state: true });

  await mod.page.locator('#toggle-moderation').click();
  await expect(mod.page.locator('#moderation-panel')).toBeVisible();
  await expect(mod.page.locator('#mod-status')).toContainText('You are a moderator');
  await mod.page.locator('#mod-mute-all').click();

  await expect(bob.page.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(bobMic).toEqual({ enabled: false, state: false });
  await expect(bobTile).toHaveAttribute('data-audio', 'off');
  await expect(bobTile.locator('.tile-muted')).toBeVisible();
  await expect(mod.page.locator('#moderation-error')).toHaveText('');
  // The moderator keeps its own microphone.
  await expect(mod.page.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'true');
  expect(await screenOf(bob.page)).toBe('call');
});

test('embed hangup-all: a moderator host page ends the call for everyone; a non-moderator one is refused', async ({
  browser,
  call,
}) => {
  const ps: Participant[] = [];
  // Refused: the embedded call joins second, so it is no moderator.
  const room1 = uniqueRoom('hang-no');
  const first = await call.join('First', {
    base: server.url,
    room: room1,
    params: { video: false },
  });
  ps.push(first);
  const guest = await embedHost(browser, room1, 'Guest');
  ps.push(guest);
  await expect
    .poll(async () => (await guest.events()).find((e) => e.event === 'joined')?.data)
    .toMatchObject({ moderator: false });
  await expect(guest.page.locator('#count')).toHaveText('2');
  await sendCommand(guest.page, 'hangup-all', 'nope');
  await expect
    .poll(async () => (await guest.events()).find((e) => e.data.id === 'nope')?.data)
    .toMatchObject({ command: 'hangup-all', ok: false });
  expect(await screenOf(first.page)).toBe('call');
  await expect(first.page.locator('#participant-count')).toHaveText('2');
  await expect(guest.page.locator('#status')).toHaveText('in the call');

  // A moderator's: the embedded call joins first.
  const room2 = uniqueRoom('hang-mod');
  const boss = await embedHost(browser, room2, 'Boss');
  ps.push(boss);
  await expect
    .poll(async () => (await boss.events()).find((e) => e.event === 'joined')?.data)
    .toMatchObject({ moderator: true });
  const other = await call.join('Other', {
    base: server.url,
    room: room2,
    params: { video: false },
  });
  ps.push(other);
  await expect(boss.page.locator('#count')).toHaveText('2');
  await boss.page.locator('#hangup-all').click();
  await expect(other.page.locator('#app')).toHaveAttribute('data-screen', 'kicked');
  await expect(boss.page.locator('#status')).toHaveText('left');
  const evs = await boss.events();
  expect(evs.find((e) => e.event === 'left')?.data).toMatchObject({ reason: 'left' });
  await expect
    .poll(async () => (await boss.events()).find((e) => e.event === 'command-result')?.data)
    .toMatchObject({ command: 'hangup-all', ok: true });
});

test('the launcher opens the call in its own window from a website page', async ({ browser }) => {
  const room = uniqueRoom('launch');
  const ps: Participant[] = [];
  const site = await embedHost(browser, room, 'Site');
  ps.push(site);
  const popupP = site.page.waitForEvent('popup');
  await site.page.locator('#launch').click();
  const popup = await popupP;
  await popup.waitForLoadState();
  const url = new URL(popup.url());
  expect(url.origin).toBe(new URL(server.url).origin);
  expect(url.pathname).toBe(`/r/${room}`);
  expect(url.searchParams.get('name')).toBe('Site');
  expect(url.searchParams.get('parent')).toBeNull();
  // The call runs in that window: it joins the room next to the embedded one.
  await expect(popup.locator('#app')).toHaveAttribute('data-screen', 'call');
  await expect(popup.locator('#participant-count')).toHaveText('2');
  await expect(site.page.locator('#count')).toHaveText('2');
});

test('recording one peer downloads a webm with a vp8 stream of at least 2 s', async ({
  call,
  defer,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tfx-rec-peer-'));
  defer(async () => {
    await closeAll(ps);
    rmSync(dir, { recursive: true, force: true });
  });
  const a = await call.join('Ann', { base: server.url, room });
  const b = await call.join('Ben', { base: server.url, room });
  const c = await call.join('Cat', { base: server.url, room });
  ps.push(a, b, c);
  await expectMediaFromAll(a, 2);
  const benId = await peerId(b);
  await a.page.locator('#record-source').selectOption(benId);
  await a.page.locator('#toggle-record').click();
  await expect(a.page.locator('#recording-indicator')).toContainText('You');
  await expect(b.page.locator('#recording-indicator')).toContainText('Ann');
  // Record a few seconds of media (a wait, not a timing assertion).
  await a.page.waitForTimeout(3000);
  const download = a.page.waitForEvent('download');
  await a.page.locator('#toggle-record').click();
  const file = join(dir, 'peer.webm');
  await (await download).saveAs(file);

  const probe = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], {
      encoding: 'utf8',
    }),
  ) as { streams: Array<{ codec_name: string; codec_type: string; width?: number }> };
  const video = probe.streams.filter((s) => s.codec_type === 'video');
  expect(video.map((s) => s.codec_name)).toEqual(['vp8']);
  // The peer's own camera, not the 1280x720 grid canvas.
  expect(video[0]?.width ?? 0).toBeLessThanOrEqual(320);
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
