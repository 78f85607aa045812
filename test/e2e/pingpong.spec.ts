/**
 * The built-in ping-pong widget in real browsers (issue 9 item 4): two players and a watcher see
 * the same paddle moves and the same score. Run inside the loopback-only namespace:
 *   npm run build && unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns npx playwright test test/e2e/pingpong.spec.ts
 */
import { type Frame, type Page } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import { type Participant, type TfxServer } from './support.js';
import {
  type BuiltinsServer,
  joinWatched,
  openWidget,
  screenshotPath,
  startWithBuiltins,
  watchProblems,
  widgetFrame,
} from './widget-support.js';
import { BUILTIN_WIDGETS } from '../../packages/server/src/widgets/builtins.js';

const shot = screenshotPath;

let env: BuiltinsServer;
let server: TfxServer;

test.beforeAll(async () => {
  expect(BUILTIN_WIDGETS.map((w) => w.id)).toContain('pingpong');
  env = await startWithBuiltins('pingpong');
  ({ server } = env);
});
test.afterAll(() => env?.stop());

const hooks = (f: Frame) => expect(f.locator('body'));
const attr = (f: Frame, name: string): Promise<string | null> =>
  f.locator('body').getAttribute(name);

/** Drags on the court with the mouse, from one point to another (fractions of its box). */
async function drag(page: Page, f: Frame, from: [number, number], to: [number, number]) {
  const box = (await f.locator('#court').boundingBox())!;
  const at = (p: [number, number]): [number, number] => [
    box.x + box.width * p[0],
    box.y + box.height * p[1],
  ];
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 10 });
  await page.mouse.up();
}

test('ping-pong: seats for two, a watcher; a paddle move and a scored point appear for both players and the watcher; a player who leaves frees the seat', async ({
  browser,
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const problems: string[] = [];
  await joinWatched(browser, server.url, room, ['Ann', 'Bob'], ps, problems);
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'pingpong');
  const fa = await widgetFrame(ann.page, 'pingpong');
  const fb = await widgetFrame(bob.page, 'pingpong');
  for (const f of [fa, fb]) await hooks(f).toHaveAttribute('data-ready', /.+/);

  // Ann and Bob take the seats: Ann the left one, Bob the right one.
  await fa.locator('#play').click();
  for (const f of [fa, fb]) await hooks(f).toHaveAttribute('data-left-name', 'Ann');
  await fb.locator('#play').click();
  for (const f of [fa, fb]) {
    await hooks(f).toHaveAttribute('data-right-name', 'Bob');
    await hooks(f).toHaveAttribute('data-phase', 'ready');
  }
  await hooks(fa).toHaveAttribute('data-role', 'left');
  await hooks(fb).toHaveAttribute('data-role', 'right');
  await expect(fa.locator('#left-name')).toHaveText('Ann (you)');
  await expect(fb.locator('#left-name')).toHaveText('Ann');

  // Cid joins later: he gets the seats through state sync and watches.
  ps.push(await call.join('Cid', { base: server.url, room }));
  const cid = ps[2]!;
  watchProblems(cid.page, problems);
  const fc = await widgetFrame(cid.page, 'pingpong');
  await hooks(fc).toHaveAttribute('data-ready', 'received');
  await hooks(fc).toHaveAttribute('data-role', 'watcher');
  await hooks(fc).toHaveAttribute('data-left-name', 'Ann');
  await hooks(fc).toHaveAttribute('data-right-name', 'Bob');
  await expect(fc.locator('#play')).toBeHidden();
  await expect(fc.locator('#ready')).toBeHidden();
  await expect(fc.locator('#status')).toContainText('Watching');

  // Ann drags her paddle to the top: Bob and Cid see it there.
  await drag(ann.page, fa, [0.3, 0.5], [0.3, 0.02]);
  await hooks(fa).toHaveAttribute('data-left-y', '45');
  for (const f of [fb, fc]) await hooks(f).toHaveAttribute('data-left-y', '45');
  // Bob holds the up arrow: his paddle glides to the top, for Ann and Cid too.
  await fb.locator('#court').click({ position: { x: 10, y: 10 } });
  await bob.page.keyboard.down('ArrowUp');
  await hooks(fb).toHaveAttribute('data-right-y', '45');
  await bob.page.keyboard.up('ArrowUp');
  for (const f of [fa, fc]) await hooks(f).toHaveAttribute('data-right-y', '45');
  // …and back down a little with S: the new position reaches everyone.
  await bob.page.keyboard.down('s');
  await expect.poll(async () => Number(await attr(fb, 'data-right-y'))).toBeGreaterThan(120);
  await bob.page.keyboard.up('s');
  const bobY = (await attr(fb, 'data-right-y'))!;
  for (const f of [fa, fc]) await hooks(f).toHaveAttribute('data-right-y', bobY);
  // Back to the top, so the serves (within ±20° of the centre line) cannot meet his paddle.
  await drag(bob.page, fb, [0.7, 0.5], [0.7, 0.0]);
  for (const f of [fa, fb, fc]) await hooks(f).toHaveAttribute('data-right-y', '45');

  // Both press Ready (enabled once their clocks are synced): the countdown, then play.
  await fa.locator('#ready').click();
  await expect(fa.locator('#ready')).toBeHidden();
  await hooks(fc).toHaveAttribute('data-phase', 'ready');
  await fb.locator('#ready').click();
  for (const f of [fa, fb, fc]) await hooks(f).toHaveAttribute('data-phase', /countdown|play/);
  await hooks(fa).toHaveAttribute('data-phase', 'play'); // served after 3-2-1
  await ann.page.screenshot({ path: shot('widgets-pingpong.png') });

  // Nobody can reach the ball: the first serve scores, and everyone shows the same score.
  await expect.poll(() => attr(fa, 'data-score'), { timeout: 30_000 }).toMatch(/^(1-0|0-1)$/);
  const score = (await attr(fa, 'data-score'))!;
  for (const f of [fb, fc]) await hooks(f).toHaveAttribute('data-score', score);
  for (const f of [fa, fb, fc]) await expect(f.locator('.points.left')).toHaveText(/^\d+$/);
  await cid.page.screenshot({ path: shot('widgets-pingpong-watcher.png') });
  // Nothing anyone sent was refused.
  for (const f of [fa, fb, fc]) await hooks(f).toHaveAttribute('data-dropped', '0');

  // Bob leaves the call: his seat is free again, for Ann and Cid; Cid may now play.
  await bob.context.close();
  for (const f of [fa, fc]) {
    await hooks(f).toHaveAttribute('data-right-name', '');
    await hooks(f).toHaveAttribute('data-phase', 'waiting');
  }
  await fc.locator('#play').click();
  for (const f of [fa, fc]) await hooks(f).toHaveAttribute('data-right-name', 'Cid');
  await hooks(fc).toHaveAttribute('data-role', 'right');
  await hooks(fa).toHaveAttribute('data-score', '0-0'); // a new match
  expect(problems).toEqual([]);
});
