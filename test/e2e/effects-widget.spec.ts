/**
 * The video filters widget (docs/effects.md): a sandboxed widget that turns a built-in filter on
 * through `media.processor.set` (granted by its manifest entry), for its own user only, and shows
 * that it did. Checked on the remote peer's decoded frames.
 */
import { test, expect } from './fixtures/index.js';
import { closeAll, expectMediaFromAll, roomUrl, uniqueRoom, type Participant } from './support.js';
import {
  openWidget,
  screenshotPath,
  startWithBuiltins,
  widgetFrame,
  type BuiltinsServer,
} from './widget-support.js';
import { faceClip, launchWithCamera, settledStats, withCamera } from './effects-support.js';

let s: BuiltinsServer;
test.beforeAll(async () => {
  s = await startWithBuiltins('effects-widget');
});
test.afterAll(async () => {
  await s?.stop();
});
test.setTimeout(240_000);

test('the video filters widget turns grayscale on for its user only; the call page names the widget; off restores colour', async ({
  browser,
  defer,
}) => {
  const clip = faceClip('left');
  const cam = await launchWithCamera(clip);
  const room = uniqueRoom('fxw');
  const ps: Participant[] = [];
  defer(async () => {
    await closeAll(ps);
    await cam.close();
  });
  for (const [b, name, q] of [
    [cam, 'Ann', 'effectsBudget=5000'],
    [browser, 'Bob', ''],
  ] as const) {
    const context = await b.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    const url = roomUrl(s.server.url, room, name, {
      audio: false,
      ...(name === 'Bob' ? { video: false } : {}),
      query: q,
    });
    await page.goto(name === 'Ann' ? withCamera(url, '640x360@15') : url);
    await expect(page.locator('#app')).toHaveAttribute('data-screen', 'call');
    ps.push({ name, context, page });
  }
  const [ann, bob] = ps as [Participant, Participant];
  await expectMediaFromAll(bob, 1);
  const photo = { x: 50 / 640, y: 40 / 360, w: 210 / 640, h: 300 / 360 };
  const before = await settledStats(bob, photo);

  await openWidget(ann.page, 'filters');
  const frame = await widgetFrame(ann.page, 'filters');
  await frame.locator('#colour button[data-value="grayscale"]').click();
  await expect(frame.locator('#colour button[data-value="grayscale"]')).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expect
    .poll(async () => (await settledStats(bob, photo)).chroma, { timeout: 60_000 })
    .toBeLessThan(before.chroma * 0.3);
  // Shown to the user: the chip names the widget, the widget's header says what it does.
  await expect(ann.page.locator('#effects-chip')).toContainText('Video filters');
  await expect(
    ann.page.locator('.widget-panel[data-widget="filters"] .widget-media-badge'),
  ).toContainText('changing your video');
  // For docs/effects.md (looked at, not compared).
  await ann.page.screenshot({ path: screenshotPath('effects-widget.png') });
  await ann.page.locator('#open-effects').click();
  await ann.page.screenshot({ path: screenshotPath('effects-panel.png') });
  await ann.page.locator('#effects-done').click();
  // Its user only: Bob's own effects are untouched (the widget is open for him too).
  expect(await bob.page.evaluate(() => window.__tfx!.room!.local.effects.chain)).toEqual([]);

  await frame.locator('#colour button[data-value="none"]').click();
  await expect
    .poll(async () => (await settledStats(bob, photo)).chroma, { timeout: 60_000 })
    .toBeGreaterThan(before.chroma * 0.7);
  expect(await ann.page.evaluate(() => window.__tfx!.room!.local.effects.chain)).toEqual([]);
});
