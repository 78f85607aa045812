/**
 * Video effects, end to end in Chromium (docs/effects.md): Ann's fake camera shows a face (a clip
 * made at test time); Bob receives her video. Every check is on Bob's DECODED frames of Ann
 * (pixel statistics of canvas snapshots of the remote <video>), never on Ann's own canvas.
 * Budgets are generous (no GPU here: seconds per first inference); only the auto-off test sets a
 * tiny one.
 */
import { type Browser } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import {
  closeAll,
  expectMediaFromAll,
  offersSent,
  roomUrl,
  startServer,
  uniqueRoom,
  type JoinParams,
  type Participant,
  type TfxServer,
} from './support.js';
import {
  faceClip,
  launchWithCamera,
  settledStats,
  watchForeignRequests,
  withCamera,
  type Clip,
} from './effects-support.js';

let server: TfxServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});
test.setTimeout(240_000);

const GENEROUS = 'effectsBudget=5000';

async function joinWatched(
  browser: Browser,
  room: string,
  name: string,
  p: JoinParams,
  camera?: string,
): Promise<Participant & { foreign: string[] }> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] pageerror: ${e.message}`));
  const part = { name, context, page };
  const foreign = watchForeignRequests(part, server.url);
  const url = roomUrl(server.url, room, name, p);
  await page.goto(camera ? withCamera(url, camera) : url);
  await expect(page.locator('#app')).toHaveAttribute('data-screen', 'call');
  return { ...part, foreign };
}

/** Ann (face camera, 640×360@15) and Bob (no camera) in one room, media flowing to Bob. */
async function pair(
  clip: Clip,
  browser: Browser,
  query = GENEROUS,
): Promise<{
  ann: Participant & { foreign: string[] };
  bob: Participant & { foreign: string[] };
  cam: Browser;
}> {
  const cam = await launchWithCamera(clip);
  const room = uniqueRoom('fx');
  const ann = await joinWatched(cam, room, 'Ann', { audio: false, query }, '640x360@15');
  const bob = await joinWatched(browser, room, 'Bob', { audio: false, video: false });
  await expectMediaFromAll(bob, 1);
  return { ann, bob, cam };
}

const setProcessor = (p: Participant, spec: unknown): Promise<unknown> =>
  p.page.evaluate((s) => window.__tfx!.room!.setVideoProcessor(s as never), spec);

const effectsStats = (p: Participant) =>
  p.page.evaluate(() => window.__tfx!.room!.local.effectsStats());

for (const at of ['left', 'right'] as const) {
  test(`blur (${at} clip): Bob's decoded frames lose background detail, the face region stays sharp, the overlay frames the face; no renegotiation, no other host`, async ({
    browser,
    defer,
  }) => {
    const clip = faceClip(at);
    const { ann, bob, cam } = await pair(clip, browser);
    defer(async () => {
      await closeAll([ann, bob]);
      await cam.close();
    });
    const bgBefore = await settledStats(bob, clip.background);
    const faceBefore = await settledStats(bob, clip.face);
    expect(bgBefore.detail, 'the checkerboard arrives with detail').toBeGreaterThan(20);
    const offers = await offersSent(ann);

    await setProcessor(ann, [
      { type: 'blur', strength: 12 },
      { type: 'face-overlay', style: 'frame', color: '#00ff00' },
    ]);
    // The model loads and runs in a worker: wait for masks and a detection.
    await expect
      .poll(async () => (await effectsStats(ann))?.inferences ?? 0, { timeout: 90_000 })
      .toBeGreaterThan(2);
    await expect
      .poll(async () => (await effectsStats(ann))?.faces ?? 0, {
        timeout: 120_000,
        message: 'the detector reports at least one face',
      })
      .toBeGreaterThanOrEqual(1);

    await expect
      .poll(async () => (await settledStats(bob, clip.background)).detail, {
        timeout: 60_000,
        message: 'background detail drops at the remote peer',
      })
      .toBeLessThan(bgBefore.detail * 0.4);
    const faceAfter = await settledStats(bob, clip.face);
    expect(faceAfter.detail, 'the face stays sharp').toBeGreaterThan(faceBefore.detail * 0.5);
    // The overlay: green pixels around the face (box grown by the frame's margin), none far away.
    const around = {
      x: clip.face.x - 0.08,
      y: Math.max(0, clip.face.y - 0.1),
      w: clip.face.w + 0.16,
      h: clip.face.h + 0.25,
    };
    await expect
      .poll(async () => (await settledStats(bob, around)).green, {
        timeout: 60_000,
        message: 'the face frame is drawn where the face is, in the remote frames',
      })
      .toBeGreaterThan(0.01);
    expect((await settledStats(bob, clip.background)).green).toBeLessThan(0.002);

    expect(await offersSent(ann), 'replaceTrack only: no new offer').toBe(offers);
    expect(ann.foreign, 'requests to other hosts').toEqual([]);
    expect(bob.foreign, 'requests to other hosts').toEqual([]);
  });
}

test('colour filter: grayscale takes the colour out of the remote frames, off restores it; the self-view shows it; remembered per browser', async ({
  browser,
  defer,
}) => {
  const clip = faceClip('left');
  const { ann, bob, cam } = await pair(clip, browser);
  defer(async () => {
    await closeAll([ann, bob]);
    await cam.close();
  });
  const photo = { x: 50 / 640, y: 40 / 360, w: 210 / 640, h: 300 / 360 };
  const before = await settledStats(bob, photo);
  expect(before.chroma).toBeGreaterThan(15);
  const offers = await offersSent(ann);
  await setProcessor(ann, { type: 'filter', name: 'grayscale' });
  await expect
    .poll(async () => (await settledStats(bob, photo)).chroma, { timeout: 60_000 })
    .toBeLessThan(before.chroma * 0.3);
  // The self-view plays the processed track; the choice is stored in this browser.
  const selfIsProcessed = await ann.page.evaluate(() => {
    const v = document.querySelector('video.self-video, .self video') as HTMLVideoElement | null;
    const t = (v?.srcObject as MediaStream | null)?.getVideoTracks()[0];
    return (
      t !== undefined &&
      t === window.__tfx!.room!.local.videoTrack &&
      t !== window.__tfx!.room!.local.cameraTrack
    );
  });
  expect(selfIsProcessed).toBe(true);
  expect(await ann.page.evaluate(() => localStorage.getItem('tfx:effects'))).toContain('grayscale');
  await expect(ann.page.locator('#effects-chip')).toContainText('Black & white');

  await ann.page.locator('#effects-off').click();
  await expect
    .poll(async () => (await settledStats(bob, photo)).chroma, { timeout: 60_000 })
    .toBeGreaterThan(before.chroma * 0.7);
  expect(await offersSent(ann)).toBe(offers);
  expect(await ann.page.evaluate(() => localStorage.getItem('tfx:effects'))).toBeNull();
});

test('auto-off: under a tiny frame budget the pipeline steps down twice, then switches itself off with a notice and the camera track goes out again', async ({
  browser,
  defer,
}) => {
  const clip = faceClip('left');
  const { ann, bob, cam } = await pair(clip, browser, 'effectsBudget=0.001');
  defer(async () => {
    await closeAll([ann, bob]);
    await cam.close();
  });
  await ann.page.evaluate(() => {
    const w = window as Window & { __fxNotices?: string[] };
    w.__fxNotices = [];
    window.__tfx!.room!.local.on('effects', (st) => {
      if (st.notice) w.__fxNotices!.push(st.notice.kind);
    });
  });
  const photo = { x: 50 / 640, y: 40 / 360, w: 210 / 640, h: 300 / 360 };
  const before = await settledStats(bob, photo);
  await setProcessor(ann, { type: 'filter', name: 'grayscale' });
  await expect
    .poll(
      () =>
        ann.page.evaluate(() => (window as Window & { __fxNotices?: string[] }).__fxNotices ?? []),
      { timeout: 90_000 },
    )
    .toEqual(['level', 'level', 'auto-off']);
  await expect(ann.page.locator('.toast')).toContainText(['Video effects turned off']);
  expect(await ann.page.evaluate(() => window.__tfx!.room!.local.effects)).toMatchObject({
    chain: [],
    active: false,
  });
  expect(
    await ann.page.evaluate(
      () => window.__tfx!.room!.local.videoTrack === window.__tfx!.room!.local.cameraTrack,
    ),
  ).toBe(true);
  await expect
    .poll(async () => (await settledStats(bob, photo)).chroma, { timeout: 60_000 })
    .toBeGreaterThan(before.chroma * 0.7);
});
