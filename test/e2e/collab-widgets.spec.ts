/**
 * The built-in collaboration widgets in real browsers (issue 9): the code editor (CodeMirror +
 * Yjs over the widget channel) and the drawing board. Run inside the loopback-only namespace:
 *   npm run build && unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns npx playwright test test/e2e/collab-widgets.spec.ts
 */
import { type Frame, type Page } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import { readFileSync } from 'node:fs';
import { type Participant, type TfxServer } from './support.js';
import {
  type BuiltinsServer,
  joinWatched,
  MESSAGING,
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
  expect(BUILTIN_WIDGETS.map((w) => w.id)).toContain(MESSAGING.id);
  env = await startWithBuiltins('collab');
  ({ server } = env);
});
test.afterAll(() => env?.stop());

const content = (f: Frame) => f.locator('.cm-content');
/** The editor's lines as text, without the remote carets' name labels (widgets in the DOM). */
const lines = (f: Frame): Promise<string[]> =>
  f.locator('.cm-content').evaluate((el) =>
    [...el.querySelectorAll('.cm-line')].map((l) => {
      let text = '';
      const walk = document.createTreeWalker(l, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode())
        if (!n.parentElement?.closest('.cm-ySelectionCaret')) text += n.nodeValue ?? '';
      return text.replace(/[\u200b\u2060\ufeff]/g, '').replace(/\u00a0/g, ' ');
    }),
  );

test('code editor: typed text appears for everyone with the typist’s cursor; a late joiner gets the document and language', async ({
  browser,
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const problems: string[] = [];
  await joinWatched(browser, server.url, room, ['Ann', 'Bob'], ps, problems);
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'editor');
  const fa = await widgetFrame(ann.page, 'editor');
  const fb = await widgetFrame(bob.page, 'editor');
  for (const f of [fa, fb]) await expect(f.locator('body')).toHaveAttribute('data-ready', /.+/);

  await content(fa).focus(); // (a click could land on a remote caret's label)
  await ann.page.keyboard.type('const answer = 42;');
  await expect.poll(() => lines(fb)).toEqual(['const answer = 42;']);
  // Syntax highlighting is on (JavaScript by default): the keyword is its own styled span.
  await expect(content(fb).locator('span', { hasText: /^const$/ })).toHaveCount(1);
  // Ann's cursor is drawn on Bob's side with her name.
  await expect(fb.locator('.cm-ySelectionInfo')).toHaveText('Ann');

  // Bob edits too: both see the merged text.
  await content(fb).focus();
  await bob.page.keyboard.press('End');
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.type('print(answer)');
  for (const f of [fa, fb])
    await expect.poll(() => lines(f)).toEqual(['const answer = 42;', 'print(answer)']);
  await expect(fa.locator('.cm-ySelectionInfo')).toHaveText('Bob');

  // The language is shared.
  await fb.locator('#lang').selectOption('python');
  await expect(fa.locator('body')).toHaveAttribute('data-lang', 'python');
  await expect(fa.locator('#lang')).toHaveValue('python');
  await ann.page.screenshot({ path: shot('widgets-editor.png') });

  // A late joiner gets the whole document and the language.
  ps.push(await call.join('Cid', { base: server.url, room }));
  watchProblems(ps[2]!.page, problems);
  const fc = await widgetFrame(ps[2]!.page, 'editor');
  await expect.poll(() => lines(fc)).toEqual(['const answer = 42;', 'print(answer)']);
  await expect(fc.locator('#lang')).toHaveValue('python');
  await expect(fc.locator('body')).toHaveAttribute('data-ready', 'received');
  // …and its edits reach the others.
  await content(fc).focus();
  await ps[2]!.page.keyboard.press('Control+End');
  await ps[2]!.page.keyboard.type('\n# by Cid');
  for (const f of [fa, fb]) await expect.poll(async () => (await lines(f)).at(-1)).toBe('# by Cid');
  expect(problems).toEqual([]);
});

/** Draws a stroke with the mouse across the board's canvas (fractions of its box). */
async function drawStroke(page: Page, f: Frame, from: [number, number], to: [number, number]) {
  const box = (await f.locator('#board').boundingBox())!;
  const at = (p: [number, number]): [number, number] => [
    box.x + box.width * p[0],
    box.y + box.height * p[1],
  ];
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 12 });
  await page.mouse.up();
}

/** Pixels on the canvas close to an RGB colour. */
const pixels = (f: Frame, rgb: [number, number, number]): Promise<number> =>
  f.locator('#board').evaluate((c: HTMLCanvasElement, [r, g, b]) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i]! - r) + Math.abs(d[i + 1]! - g) + Math.abs(d[i + 2]! - b) < 40) n++;
    return n;
  }, rgb);

const RED: [number, number, number] = [0xe5, 0x48, 0x4d];
const BLUE: [number, number, number] = [0x00, 0x91, 0xff];
const strokes = (f: Frame) => expect(f.locator('body'));

test('drawing board: a stroke appears on every side; undo of one’s own strokes; a late joiner gets the board; clear for everyone; PNG export', async ({
  browser,
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const problems: string[] = [];
  await joinWatched(browser, server.url, room, ['Ann', 'Bob'], ps, problems);
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'draw');
  const fa = await widgetFrame(ann.page, 'draw');
  const fb = await widgetFrame(bob.page, 'draw');
  await expect(ann.page.locator('.widget-panel[data-widget="draw"] iframe')).toHaveAttribute(
    'sandbox',
    'allow-scripts allow-forms allow-downloads',
  );
  for (const f of [fa, fb]) await expect(f.locator('body')).toHaveAttribute('data-ready', /.+/);

  // Ann draws in red, wide: the stroke appears on Bob's board, in red.
  await fa.locator('.swatch[data-color="#e5484d"]').click();
  await fa.locator('.width[data-w="16"]').click();
  await drawStroke(ann.page, fa, [0.2, 0.3], [0.8, 0.4]);
  await strokes(fb).toHaveAttribute('data-strokes', '1');
  await expect.poll(() => pixels(fb, RED)).toBeGreaterThan(200);
  // Bob draws in blue; Ann draws a second stroke.
  await fb.locator('.swatch[data-color="#0091ff"]').click();
  await drawStroke(bob.page, fb, [0.3, 0.7], [0.6, 0.8]);
  await drawStroke(ann.page, fa, [0.2, 0.5], [0.5, 0.6]);
  for (const f of [fa, fb]) await strokes(f).toHaveAttribute('data-strokes', '3');
  await expect.poll(() => pixels(fa, BLUE)).toBeGreaterThan(50);

  // Undo removes only one's own strokes, for everyone: Ann's two, never Bob's.
  await fa.locator('#undo').click();
  for (const f of [fa, fb]) await strokes(f).toHaveAttribute('data-strokes', '2');
  await fa.locator('#undo').click();
  for (const f of [fa, fb]) await strokes(f).toHaveAttribute('data-strokes', '1');
  await expect(fa.locator('#undo')).toBeDisabled();
  await expect.poll(() => pixels(fb, RED)).toBe(0);
  expect(await pixels(fa, BLUE)).toBeGreaterThan(50);
  await drawStroke(ann.page, fa, [0.1, 0.1], [0.4, 0.2]);
  for (const f of [fa, fb]) await strokes(f).toHaveAttribute('data-strokes', '2');
  await ann.page.screenshot({ path: shot('widgets-draw.png') });

  // A late joiner gets the board.
  ps.push(await call.join('Cid', { base: server.url, room }));
  watchProblems(ps[2]!.page, problems);
  const cid = ps[2]!;
  const fc = await widgetFrame(cid.page, 'draw');
  await expect(fc.locator('body')).toHaveAttribute('data-ready', 'received');
  await strokes(fc).toHaveAttribute('data-strokes', '2');
  await expect.poll(() => pixels(fc, RED)).toBeGreaterThan(100);
  await expect.poll(() => pixels(fc, BLUE)).toBeGreaterThan(50);

  // Export as PNG (the manifest grants downloads).
  const download = cid.page.waitForEvent('download');
  await fc.locator('#export').click();
  const file = await (await download).path();
  expect((await download).suggestedFilename()).toMatch(/^board-.*\.png$/);
  expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');

  // Clear, confirmed, for everyone.
  await fc.locator('#clear').click();
  await expect(fc.locator('#confirm')).toBeVisible();
  await fc.locator('#clear-no').click();
  await strokes(fa).toHaveAttribute('data-strokes', '2');
  await fc.locator('#clear').click();
  await fc.locator('#clear-yes').click();
  for (const f of [fa, fb, fc]) await strokes(f).toHaveAttribute('data-strokes', '0');
  expect(problems).toEqual([]);
});
