/**
 * The call on phone-sized screens (issue 25): 360×640, 390×844, 414×896 portrait and 844×390
 * landscape, with touch. Every screen: no horizontal scrolling, every control inside the
 * viewport and tappable; controls that do not fit are in the More sheet; tiles reflow; panels
 * and widgets fill the screen with a way back; the chat input stays above the keyboard (a
 * shorter viewport); the self-view moves by touch.
 *
 * With TFX_SCREENSHOTS=1 the 390 px screens are also written to docs/img/phone-*.png.
 */
import { type Page } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import {
  PHONES,
  closeAll,
  expectFitsScreen,
  phoneContext,
  pressControl,
  roomUrl,
  touchDrag,
  uniqueRoom,
  type Participant,
  type ScreenSize,
} from './support.js';

// Pages recording traces (screencasts) weigh too much here with six of them: no traces.
test.use({ trace: 'off' });

const shot = async (page: Page, name: string): Promise<void> => {
  if (!process.env.TFX_SCREENSHOTS || page.viewportSize()?.width !== 390) return;
  await page.waitForTimeout(400); // let the last transition settle
  await page.screenshot({ path: `docs/img/phone-${name}.png` });
};

/** The panel fills the viewport (a full-screen sheet on a phone). */
async function expectFullScreen(page: Page, selector: string): Promise<void> {
  await expect(page.locator(selector)).toBeVisible();
  const box = (await page.locator(selector).boundingBox())!;
  const vp = page.viewportSize()!;
  expect(box.x).toBeLessThanOrEqual(1);
  expect(box.y).toBeLessThanOrEqual(1);
  expect(box.width).toBeGreaterThanOrEqual(vp.width - 1);
  expect(box.height).toBeGreaterThanOrEqual(vp.height - 1);
}

const sizes: Array<[string, ScreenSize]> = [
  ['360×640', PHONES.small],
  ['390×844', PHONES.medium],
  ['414×896', PHONES.large],
  ['844×390 landscape', PHONES.landscape],
];

for (const [label, size] of sizes) {
  test(`on a ${label} phone the home page, pre-join and the call fit, and every control is tappable (the rest in More)`, async ({
    browser,
    defer,
    server,
  }) => {
    const ctx = await phoneContext(browser, size);
    defer(async () => {
      await ctx.close();
    });
    const page = await ctx.newPage();
    await page.goto(server.url);
    await expectFitsScreen(page, 'home');
    await shot(page, 'home');
    await page.getByRole('button', { name: 'New room' }).tap();
    await expect(page.getByLabel('Room link')).toBeVisible();
    await expectFitsScreen(page, 'home with a link');
    await shot(page, 'home-created');

    const room = uniqueRoom('phone');
    await page.goto(roomUrl(server.url, room, 'Ann', { autojoin: false }));
    await expect(page.locator('#app')).toHaveAttribute('data-screen', 'prejoin');
    await expectFitsScreen(page, 'pre-join');
    await shot(page, 'prejoin');
    await page.getByRole('button', { name: 'Join call' }).tap();
    await expect(page.locator('#app')).toHaveAttribute('data-screen', 'call');
    await expect(page.locator('.controls')).toBeVisible();
    // The widget catalogue arrives after the call starts; the bar settles after it.
    await expect(page.locator('#more-widgets .widget-btn').first()).toBeAttached();
    const inBar = await expectFitsScreen(page, 'call, alone');
    expect(inBar).toBeGreaterThan(4);
    await shot(page, 'call-alone');

    // Whatever is not in the bar is in the More sheet, and fits there too.
    await page.getByRole('button', { name: 'More', exact: true }).tap();
    await expect(page.locator('#more-sheet')).toBeVisible();
    for (const id of ['toggle-mic', 'toggle-camera', 'toggle-chat', 'leave'])
      await expect(page.locator(`#${id}`)).toBeVisible();
    for (const id of ['toggle-screen', 'toggle-hand', 'open-devices', 'toggle-record'])
      await expect(page.locator(`#${id}`)).toBeAttached();
    await expect(page.locator('#more-sheet .widget-btn')).not.toHaveCount(0);
    await expectFitsScreen(page, 'More sheet');
    await shot(page, 'more');
    await page.getByRole('button', { name: 'Close menu' }).tap();
    await expect(page.locator('#more-sheet')).toBeHidden();

    // A control from the sheet works: raise the hand from it.
    await pressControl(page, 'Raise hand');
    await expect(page.locator('#toggle-hand')).toHaveAttribute('aria-pressed', 'true');
    await pressControl(page, 'Lower hand');
    await expect(page.locator('#toggle-hand')).toHaveAttribute('aria-pressed', 'false');
    // And one from the bar.
    await page.getByRole('button', { name: 'Mute microphone' }).tap();
    await expect(page.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'false');

    await pressControl(page, 'Devices');
    await expect(page.locator('#devices-dialog')).toBeVisible();
    await expectFitsScreen(page, 'devices dialog');
    await shot(page, 'devices');
    await page.getByRole('button', { name: 'Done' }).tap();

    await page.getByRole('button', { name: 'Leave call' }).tap();
    await expect(page.locator('#app')).toHaveAttribute('data-screen', 'left');
    await expectFitsScreen(page, 'left');
  });
}

test('on a desktop every control is in the bar and More is hidden; a narrower window moves the least used into More', async ({
  call,
}) => {
  const ps = [await call.join('Ann', { room: uniqueRoom('desk') })];
  const page = ps[0]!.page;
  await expect(page.locator('#widget-bar .widget-btn').first()).toBeVisible();
  await expect(page.locator('.controls')).toHaveAttribute('data-overflow', '0');
  await expect(page.locator('#more-controls')).toBeHidden();
  for (const id of [
    'toggle-screen',
    'toggle-hand',
    'open-devices',
    'toggle-record',
    'toggle-stats',
  ])
    await expect(page.locator(`.controls #${id}`)).toBeVisible();
  await expectFitsScreen(page, 'desktop call');
  await page.setViewportSize({ width: 900, height: 700 });
  await expect(page.locator('#more-controls')).toBeVisible();
  await expect(page.locator('#widget-bar .widget-btn').first()).toBeVisible(); // still beside
  await expectFitsScreen(page, 'narrow desktop call');
  await pressControl(page, 'Stats');
  await expect(page.locator('#stats-panel')).toBeVisible();
});

test('a phone in a call of three: one column, chat above the keyboard, full-screen panels and widgets with a way back, self-view dragged by touch, speaker view for a share, landscape side by side', async ({
  call,
  defer,
}) => {
  test.setTimeout(360_000);
  const room = call.room;
  const ps: Participant[] = [];
  defer(async () => {
    await closeAll(ps);
  });
  ps.push(await call.join('Bob', { room }));
  ps.push(await call.join('Cid', { room, params: { video: false } }));
  ps.push(await call.join('Ann', { room, params: { phone: PHONES.medium } }));
  const [bob, , ann] = ps as [Participant, Participant, Participant];
  const page = ann.page;
  await expect(page.locator('.tile')).toHaveCount(2);

  // Portrait: one column, each tile the grid's width, one above the other.
  const tiles = page.locator('.tile');
  const [t1, t2] = [(await tiles.nth(0).boundingBox())!, (await tiles.nth(1).boundingBox())!];
  const grid = (await page.locator('#grid').boundingBox())!;
  expect(Math.abs(t1.x - t2.x)).toBeLessThan(1);
  expect(t1.width).toBeGreaterThan(grid.width - 2);
  expect(t2.y).toBeGreaterThan(t1.y + t1.height - 1);
  await expect(page.locator('#more-widgets .widget-btn').first()).toBeAttached();
  await expectFitsScreen(page, 'call of three');
  await shot(page, 'call-3');

  // The self-view, dragged by a finger to the top left, settles in that corner.
  const self = page.locator('.self');
  await expect(self).toHaveAttribute('data-corner', 'br');
  const s = (await self.boundingBox())!;
  const wrap = (await page.locator('.grid-wrap').boundingBox())!;
  await touchDrag(
    page,
    { x: s.x + s.width / 2, y: s.y + s.height / 2 },
    { x: wrap.x + 40, y: wrap.y + 40 },
  );
  await expect(self).toHaveAttribute('data-corner', 'tl');
  const moved = (await self.boundingBox())!;
  expect(moved.x).toBeLessThan(wrap.x + 20);
  expect(moved.y).toBeLessThan(wrap.y + 20);

  // Chat: full screen; with the keyboard open (a shorter viewport) the input stays visible.
  // click(), not tap(): after the CDP touch drag above, this Chromium turns the next
  // synthesized tap into pointer events without a click (pointerdown seen, no click; a 500 ms
  // pause did not help). Taps on controls are proven in the screen-size tests above.
  await page.getByRole('button', { name: 'Open chat' }).click();
  await expectFullScreen(page, '#chat-panel');
  await bob.page.getByRole('button', { name: 'Open chat' }).click();
  await bob.page.getByLabel('Message', { exact: true }).fill('Can you see my slides?');
  await bob.page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page.locator('#chat-list .msg-text')).toHaveText(['Can you see my slides?']);
  await expectFitsScreen(page, 'chat', '#chat-panel');
  await shot(page, 'chat');
  await page.setViewportSize({ width: 390, height: 420 });
  const input = page.getByLabel('Message', { exact: true });
  await input.tap();
  await expect(input).toBeFocused();
  await expect(input).toBeInViewport({ ratio: 1 });
  await expectFullScreen(page, '#chat-panel');
  await input.fill('Yes, all of them');
  await page.getByRole('button', { name: 'Send message' }).tap();
  await expect(bob.page.locator('#chat-list .msg-text')).toHaveText([
    'Can you see my slides?',
    'Yes, all of them',
  ]);
  await expect(page.locator('#chat-list .msg').last()).toBeInViewport();
  await expectFitsScreen(page, 'chat with the keyboard open', '#chat-panel');
  await shot(page, 'chat-keyboard');
  await page.setViewportSize(PHONES.medium);
  await page.locator('#chat-panel').getByRole('button', { name: 'Close chat' }).tap();
  await expect(page.locator('#chat-panel')).toBeHidden();

  // Stats and moderation: full screen, closed with their button.
  await pressControl(page, 'Stats');
  await expectFullScreen(page, '#stats-panel');
  await expect(page.locator('#stats-panel .stats-peer')).toHaveCount(2);
  await expectFitsScreen(page, 'stats', '#stats-panel');
  await shot(page, 'stats');
  await page.getByRole('button', { name: 'Close stats' }).tap();
  await expect(page.locator('#stats-panel')).toBeHidden();
  await pressControl(page, 'Moderate');
  await expectFullScreen(page, '#moderation-panel');
  await expectFitsScreen(page, 'moderation', '#moderation-panel');
  await shot(page, 'moderation');
  await page.getByRole('button', { name: 'Close moderation' }).tap();
  await expect(page.locator('#moderation-panel')).toBeHidden();

  // A widget: opened from the More sheet, full screen; "Back to call" keeps it open for
  // everyone; the chip brings it back; its × closes it for everyone.
  await pressControl(page, 'Messages');
  await expect(page.locator('.widget-panel')).toHaveCount(1);
  await expect(bob.page.locator('.widget-panel')).toHaveCount(1);
  await expectFullScreen(page, '#widget-area');
  await expect(page.frameLocator('.widget-frame').locator('#text')).toBeVisible();
  await expectFitsScreen(page, 'widget', '#widget-area');
  await shot(page, 'widget');
  await page.getByRole('button', { name: 'Back to call' }).tap();
  await expect(page.locator('#widget-area')).toBeHidden();
  await expect(page.locator('.tile').first()).toBeInViewport();
  await expect(bob.page.locator('.widget-panel')).toHaveCount(1);
  await expectFitsScreen(page, 'call with a widget in the background');
  await shot(page, 'widget-minimized');
  await page.getByRole('button', { name: 'Show widgets' }).tap();
  await expect(page.locator('#widget-area')).toBeVisible();
  await page.getByRole('button', { name: 'Close Messages for everyone' }).tap();
  await expect(page.locator('.widget-panel')).toHaveCount(0);
  await expect(bob.page.locator('.widget-panel')).toHaveCount(0);
  await expect(page.locator('#widget-return')).toBeHidden();

  // Bob presents: speaker view, his screen large and the others in a strip.
  await bob.page.getByRole('button', { name: 'Present screen' }).click();
  const presenting = page.locator('.tile.sharing');
  await expect(presenting).toHaveCount(1);
  const big = (await presenting.boundingBox())!;
  const small = (await page.locator('.tile:not(.sharing)').boundingBox())!;
  expect(big.width).toBeGreaterThan(grid.width - 2);
  expect(big.height).toBeGreaterThan(small.height * 2);
  await expectFitsScreen(page, 'speaker view');
  await shot(page, 'speaker-view');

  await bob.page.getByRole('button', { name: 'Stop presenting' }).click();
  await expect(page.locator('.tile.sharing')).toHaveCount(0);

  // Landscape: the tiles side by side, everything still in view.
  await page.setViewportSize(PHONES.landscape);
  await expect
    .poll(async () => {
      const [a, b] = [(await tiles.nth(0).boundingBox())!, (await tiles.nth(1).boundingBox())!];
      return Math.abs(a.y - b.y) < 1 && Math.abs(a.x - b.x) > 10;
    })
    .toBe(true);
  await expectFitsScreen(page, 'landscape call');
  await page.setViewportSize(PHONES.medium);
});

test('a phone in a call of six: two columns of tiles, all in view, at 390×844 and at 360×640', async ({
  call,
}) => {
  test.setTimeout(360_000);
  const room = call.room;
  const ps: Participant[] = [];
  // Ann on the phone, Bob with video, the others without media (light on a shared machine).
  const timeout = 90_000; // six pages on a shared machine: joining can be slow
  ps.push(await call.join('Ann', { room, params: { phone: PHONES.medium, timeout } }));
  ps.push(await call.join('Bob', { room, params: { timeout } }));
  for (const name of ['Cid', 'Dee', 'Eve', 'Fay'])
    ps.push(await call.join(name, { room, params: { audio: false, video: false, timeout } }));
  const page = ps[0]!.page;
  await expect(page.locator('.tile')).toHaveCount(5, { timeout: 90_000 });
  await expect(page.locator('#participant-count')).toHaveText('6');
  for (const size of [PHONES.medium, PHONES.small]) {
    await page.setViewportSize(size);
    // Two columns: two distinct left edges among the tiles.
    let seen = '';
    const columns = async (): Promise<number> => {
      const r = await page.evaluate(() => {
        const g = document.getElementById('grid')!;
        const xs = [...g.querySelectorAll('.tile')].map((t) =>
          Math.round(t.getBoundingClientRect().x),
        );
        return { tracks: getComputedStyle(g).gridTemplateColumns, count: g.dataset.count, xs };
      });
      seen = JSON.stringify(r);
      return new Set(r.xs).size;
    };
    await expect
      .poll(columns, { timeout: 60_000 })
      .toBe(2)
      .catch((e: unknown) => {
        throw new Error(`two columns at ${size.width}×${size.height}: ${seen}\n${String(e)}`);
      });
    for (const t of await page.locator('.tile').all()) await expect(t).toBeInViewport({ ratio: 1 });
    await expectFitsScreen(page, `call of six at ${size.width}×${size.height}`);
    await shot(page, 'call-6');
  }
});
