/**
 * Screenshots of every screen, for looking at them (and docs/call.png for the README).
 * Skipped unless TFX_SCREENSHOTS=1:
 *   TFX_SCREENSHOTS=1 unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns npx playwright test screenshots
 */
import { test, expect, type Page } from '@playwright/test';
import {
  closeAll,
  expectMediaFromAll,
  join,
  roomUrl,
  startServer,
  type Participant,
} from './support.js';

test.skip(!process.env.TFX_SCREENSHOTS, 'set TFX_SCREENSHOTS=1 to take screenshots');

const dir = 'test-results/screens';
const shot = (page: Page, name: string): Promise<Buffer> =>
  page.screenshot({ path: `${dir}/${name}.png` });

test('screenshots of every screen', async ({ browser }) => {
  test.setTimeout(240_000);
  const server = await startServer(['--signalling-room-capacity', '3']);
  const ps: Participant[] = [];
  try {
    const homeCtx = await browser.newContext();
    const home = await homeCtx.newPage();
    await home.goto(server.url);
    await shot(home, 'home');
    await home.getByRole('button', { name: 'New room' }).click();
    await shot(home, 'home-created');
    await home.getByLabel('Room name').fill('not valid!');
    await home.getByRole('button', { name: 'Use this name' }).click();
    await shot(home, 'home-invalid');
    await home.setViewportSize({ width: 390, height: 844 });
    await home.getByRole('button', { name: 'New room' }).click();
    await shot(home, 'home-phone');

    const pre = await homeCtx.newPage();
    await pre.goto(roomUrl(server.url, 'design-review', 'Ann', { autojoin: false }));
    await expect(pre.locator('#app')).toHaveAttribute('data-screen', 'prejoin');
    await pre.waitForTimeout(800);
    await shot(pre, 'prejoin');
    await pre.setViewportSize({ width: 390, height: 844 });
    await shot(pre, 'prejoin-phone');
    await pre.close();

    ps.push(await join(browser, server.url, 'design-review', 'Ada Lovelace'));
    await ps[0]!.page.waitForTimeout(500);
    await shot(ps[0]!.page, 'call-alone');
    ps.push(await join(browser, server.url, 'design-review', 'Grace Hopper'));
    for (const p of ps) await expectMediaFromAll(p, 1);
    await ps[1]!.page.waitForTimeout(2500);
    await ps[1]!.page.screenshot({ path: 'docs/call.png' });
    await shot(ps[1]!.page, 'call-2');
    await ps[0]!.page.getByRole('button', { name: 'Mute microphone' }).click();
    await ps[1]!.page.getByRole('button', { name: 'Open chat' }).click();
    await ps[1]!.page.getByLabel('Message', { exact: true }).fill('Shall we look at the slides?');
    await ps[1]!.page.getByLabel('Message', { exact: true }).press('Enter');
    await ps[0]!.page.getByRole('button', { name: 'Present screen' }).click();
    await ps[1]!.page.waitForTimeout(2500);
    await shot(ps[1]!.page, 'call-share-chat');
    await ps[0]!.page.getByRole('button', { name: 'Stop presenting' }).click();
    ps.push(await join(browser, server.url, 'design-review', 'Alan Turing', { video: false }));
    await ps[2]!.page.waitForTimeout(2500);
    await shot(ps[2]!.page, 'call-3');
    await ps[2]!.page.setViewportSize({ width: 390, height: 844 });
    await ps[2]!.page.waitForTimeout(500);
    await shot(ps[2]!.page, 'call-3-phone');
    await ps[2]!.page.getByRole('button', { name: 'Open chat' }).click();
    await shot(ps[2]!.page, 'call-3-phone-chat');
    await ps[1]!.page.getByRole('button', { name: 'Devices' }).click();
    await ps[1]!.page.waitForTimeout(500);
    await shot(ps[1]!.page, 'devices');
    await ps[1]!.page.keyboard.press('Escape');

    const full = await homeCtx.newPage();
    await full.setViewportSize({ width: 1280, height: 800 });
    await full.goto(roomUrl(server.url, 'design-review', 'Late'));
    await expect(full.locator('#app')).toHaveAttribute('data-screen', 'room-full');
    await shot(full, 'room-full');

    await ps[0]!.page.getByRole('button', { name: 'Leave call' }).click();
    await expect(ps[0]!.page.locator('#app')).toHaveAttribute('data-screen', 'left');
    await shot(ps[0]!.page, 'left');

    const pw = await homeCtx.newPage();
    await pw.setViewportSize({ width: 1280, height: 800 });
    await pw.evaluate(() => undefined);
    await pw.goto(`${server.url}/`);
    await pw.evaluate(() => sessionStorage.setItem('tfx:pw:secret-room', 'pw1'));
    await pw.goto(roomUrl(server.url, 'secret-room', 'Owner'));
    await expect(pw.locator('#app')).toHaveAttribute('data-screen', 'call');
    const guest = await homeCtx.browser()!.newContext();
    const g = await guest.newPage();
    await g.goto(roomUrl(server.url, 'secret-room', 'Guest'));
    await expect(g.locator('#app')).toHaveAttribute('data-screen', 'wrong-password');
    await shot(g, 'password');
    await g.getByLabel('Password').fill('nope');
    await g.getByRole('button', { name: 'Join' }).click();
    await expect(g.getByText('That password is not right')).toBeVisible();
    await shot(g, 'password-wrong');
    await g.goto(`${server.url}/r/-bad`);
    await shot(g, 'invalid-room');
    await guest.close();

    const denied = await browser.newContext();
    await denied.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    const d = await denied.newPage();
    await d.goto(roomUrl(server.url, 'other-room', 'Dee', { autojoin: false }));
    await expect(d.locator('#media-warning')).toBeVisible();
    await shot(d, 'prejoin-denied');
    await denied.close();
    await homeCtx.close();
  } finally {
    await closeAll(ps);
    await server.stop();
  }
});
