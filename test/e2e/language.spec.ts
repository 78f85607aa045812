/**
 * Audio and language in the call (docs/language.md), in Chromium with fake devices:
 * - the audio visualizer shows non-zero levels for the local and a remote participant (the fake
 *   microphone beeps), the remote falls to zero when that participant mutes, and the tiles get
 *   the active-speaker ring from the same levels;
 * - multilingual chat with a REAL Apertium engine (Debian apertium-apy + apertium-eng-spa):
 *   English typed by A is read in Spanish by B and in English by C, "show original" works;
 * - a provider that hangs, answers garbage or 500s: the chat still delivers the original, with a
 *   notice;
 * - introduction cards reach a late joiner through widget state; the room agenda (REST) shows;
 *   the first-visit tour shows once and is remembered.
 */
import { expect, test } from '@playwright/test';
import { closeAll, startServer, type Participant, type TfxServer } from './support.js';
import { joinIn, openAndGet, optIn } from './language-support.js';
import { startApertium, type Apertium } from '../helpers/apertium.js';
// The read-only debug handle window.__tfxLanguage (its type lives with the web app).
import type {} from '../../packages/web/src/language/index.js';
import {
  startFakeLibreTranslate,
  type FakeLibreTranslate,
} from '../../packages/server/test/language/fake-libretranslate.js';

interface LevelRow {
  peer: string;
  self: boolean;
  level: number;
  max: number;
}

test.describe('audio levels', () => {
  let server: TfxServer;
  const ps: Participant[] = [];
  test.beforeAll(async () => {
    server = await startServer();
  });
  test.afterAll(async () => {
    await closeAll(ps);
    await server?.stop();
  });

  test('the visualizer shows local and remote levels; a remote mute falls to zero; speaker ring', async ({
    browser,
  }) => {
    test.setTimeout(240_000);
    const t0 = Date.now();
    const mark = (what: string) =>
      console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
    const a = await joinIn(browser, server.url, 'levels-room', 'Ann', 'en');
    ps.push(a);
    const b = await joinIn(browser, server.url, 'levels-room', 'Ben', 'en');
    ps.push(b);
    const bId = await b.page.evaluate(() => window.__tfx!.room!.peerId);
    // Chromium needs the received audio on a media element for Web Audio to hear it.
    await expect
      .poll(() =>
        a.page.evaluate(
          (id) =>
            !!(document.querySelector(`.tile[data-peer="${id}"] audio`) as HTMLAudioElement | null)
              ?.srcObject,
          bId,
        ),
      )
      .toBe(true);
    mark('joined');
    const viz = await openAndGet(a, 'visualizer', true);
    mark('visualizer open');
    const rows = (): Promise<LevelRow[]> =>
      viz.evaluate(() => JSON.parse(document.body.dataset.levels ?? '[]') as LevelRow[]);
    // The fake microphone beeps about once a second: the highest bin seen rises above zero.
    const seen = { self: 0, remote: 0 };
    await expect
      .poll(
        async () => {
          for (const r of await rows()) {
            if (r.self) seen.self = Math.max(seen.self, r.max);
            else if (r.peer === bId) seen.remote = Math.max(seen.remote, r.max);
          }
          return seen.self > 0 && seen.remote > 0;
        },
        { timeout: 30_000, intervals: [100] },
      )
      .toBe(true);
    mark('levels seen');
    await a.page.screenshot({ path: 'test-results/language-visualizer.png' });
    // The same levels ring the speaking tile. The ring lasts 400 ms after each beep (about one a
    // second), so polling the DOM from here can keep missing it in phase; the page records it.
    await a.page.waitForFunction(
      (id) => {
        const tile = document.querySelector<HTMLElement>(`.tile[data-peer="${id}"]`);
        return tile?.dataset.speaking === 'true';
      },
      bId,
      { polling: 'raf', timeout: 30_000 },
    );
    mark('ring seen');
    await b.page.locator('#toggle-mic').click();
    await expect(b.page.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'false');
    // Muted: B's received audio is silence; its row stays at zero for a whole second of samples.
    await expect
      .poll(
        async () => {
          const samples: number[] = [];
          for (let i = 0; i < 10; i++) {
            const r = (await rows()).find((x) => x.peer === bId);
            samples.push(r ? r.max + r.level : 0);
            await a.page.waitForTimeout(100);
          }
          return Math.max(...samples);
        },
        { timeout: 30_000 },
      )
      .toBe(0);
    // Our own microphone keeps beeping.
    await expect
      .poll(async () => (await rows()).find((r) => r.self)?.max ?? 0, { intervals: [50] })
      .toBeGreaterThan(0);
  });
});

test.describe('multilingual chat with a real Apertium engine', () => {
  let server: TfxServer;
  let apy: Apertium;
  const ps: Participant[] = [];
  test.beforeAll(async () => {
    apy = await startApertium();
    server = await startServer([
      '--translation-provider',
      'apertium-apy',
      '--translation-url',
      apy.url,
    ]);
  });
  test.afterAll(async () => {
    await closeAll(ps);
    await server?.stop();
    await apy?.stop();
  });

  test('English typed by A is read in Spanish by B and in English by C; show original', async ({
    browser,
  }) => {
    test.setTimeout(240_000);
    const t0 = Date.now();
    const mark = (what: string) =>
      console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
    await optIn(server, 'polyglot-room', { translation: true });
    const a = await joinIn(browser, server.url, 'polyglot-room', 'Ann', 'en');
    ps.push(a);
    const b = await joinIn(browser, server.url, 'polyglot-room', 'Bea', 'es');
    ps.push(b);
    const c = await joinIn(browser, server.url, 'polyglot-room', 'Cal', 'en');
    ps.push(c);
    const fa = await openAndGet(a, 'polyglot', true);
    const fb = await openAndGet(b, 'polyglot', false);
    const fc = await openAndGet(c, 'polyglot', false);
    mark('three in, widget open');
    await expect(fb.locator('#privacy')).toContainText('leaves the peer-to-peer path');
    await expect(fb.locator('#lang')).toHaveValue('es');
    await fa.locator('#text').fill('Good morning, my friends.');
    await fa.locator('#text').press('Enter');
    const mb = fb.locator('.msg').last();
    await expect(mb).toHaveAttribute('data-state', 'translated');
    await expect(mb.locator('.text')).toHaveText('Buenos días, mis amigos.');
    await expect(mb.locator('.text')).toHaveAttribute('lang', 'es');
    const mc = fc.locator('.msg').last();
    await expect(mc.locator('.text')).toHaveText('Good morning, my friends.');
    await expect(mc.locator('.toggle-original')).toHaveCount(0);
    await mb.locator('.toggle-original').click();
    await expect(mb.locator('.text')).toHaveText('Good morning, my friends.');
    await mb.locator('.toggle-original').click();
    await expect(mb.locator('.text')).toHaveText('Buenos días, mis amigos.');
    mark('A → B, C done');
    // B writes without saying the language: detected (offline) and translated for A.
    await fb.locator('#write-lang').selectOption('auto');
    await fb.locator('#text').fill('Gracias por la reunión de hoy, amigos.');
    await fb.locator('#text').press('Enter');
    const ma = fa.locator('.msg').last();
    await expect(ma).toHaveAttribute('data-state', 'translated');
    await expect(ma.locator('.text')).toHaveText(/^Thank you/);
    await expect(ma.locator('.notice')).toHaveText('detected es');
    mark('B → A detected');
    // C switches to Spanish: the history is read again in Spanish.
    await fc.locator('#lang').selectOption('es');
    await expect(fc.locator('.msg').first().locator('.text')).toHaveText(
      'Buenos días, mis amigos.',
    );
    await b.page.screenshot({ path: 'test-results/language-polyglot.png' });
  });
});

test.describe('a translation provider that fails', () => {
  let server: TfxServer;
  let lt: FakeLibreTranslate;
  const ps: Participant[] = [];
  test.beforeAll(async () => {
    lt = await startFakeLibreTranslate();
    server = await startServer([
      '--translation-provider',
      'libretranslate',
      '--translation-url',
      lt.url,
      '--translation-timeout-ms',
      '1500',
      '--translation-rooms-by-default',
    ]);
  });
  test.afterAll(async () => {
    await closeAll(ps);
    await server?.stop();
    await lt?.close();
  });

  test('hangs, garbage, 500: the original is delivered with a notice', async ({ browser }) => {
    const a = await joinIn(browser, server.url, 'bad-provider', 'Ann', 'en');
    ps.push(a);
    const b = await joinIn(browser, server.url, 'bad-provider', 'Bea', 'es');
    ps.push(b);
    const fa = await openAndGet(a, 'polyglot', true);
    const fb = await openAndGet(b, 'polyglot', false);
    let n = 0;
    for (const mode of ['hang', 'garbage', 'error500'] as const) {
      lt.mode = mode;
      const text = `Hello number ${++n}`;
      await fa.locator('#text').fill(text);
      await fa.locator('#text').press('Enter');
      const m = fb.locator('.msg').nth(n - 1);
      await expect(m.locator('.text')).toHaveText(text);
      await expect(m).toHaveAttribute('data-state', 'original-notice');
      await expect(m.locator('.notice')).toHaveText(
        'not translated (translation-unavailable): showing the original',
      );
    }
    lt.mode = 'ok';
    await fa.locator('#text').fill('hello');
    await fa.locator('#text').press('Enter');
    await expect(fb.locator('.msg').nth(3).locator('.text')).toHaveText('hola');
  });
});

test.describe('introductions', () => {
  let server: TfxServer;
  const ps: Participant[] = [];
  test.beforeAll(async () => {
    server = await startServer();
  });
  test.afterAll(async () => {
    await closeAll(ps);
    await server?.stop();
  });

  test('cards reach a late joiner; the agenda shows; the language on the card is the user’s', async ({
    browser,
  }) => {
    await optIn(server, 'intro-room', {
      title: 'Weekly sync',
      agenda: '1. Introductions\n2. Roadmap',
    });
    const a = await joinIn(browser, server.url, 'intro-room', 'Ann', 'en');
    ps.push(a);
    const fa = await openAndGet(a, 'intro', true);
    await expect(fa.locator('#agenda-title')).toHaveText('Weekly sync');
    await expect(fa.locator('#agenda-text')).toHaveText('1. Introductions\n2. Roadmap');
    await fa.locator('#role').fill('Engineer, ACME');
    await fa.locator('#link').fill('https://example.org/ann');
    await fa.locator('#share').click();
    const b = await joinIn(browser, server.url, 'intro-room', 'Ben', 'en');
    ps.push(b);
    const fb = await openAndGet(b, 'intro', false);
    await fb.locator('#role').fill('Designer');
    await fb.locator('#card-lang').selectOption('es');
    await fb.locator('#share').click();
    await expect.poll(() => b.page.evaluate(() => window.__tfxLanguage!.lang())).toBe('es');
    // C joins after both shared: the cards come through widget state.
    const c = await joinIn(browser, server.url, 'intro-room', 'Cy', 'en');
    ps.push(c);
    const fc = await openAndGet(c, 'intro', false);
    await expect(fc.locator('.card')).toHaveCount(2);
    await expect(fc.locator('.card', { hasText: 'Ann' })).toContainText('Engineer, ACME');
    await expect(fc.locator('.card', { hasText: 'Ann' }).locator('a')).toHaveAttribute(
      'href',
      'https://example.org/ann',
    );
    await expect(fc.locator('.card', { hasText: 'Ben' })).toContainText('Speaks Spanish');
    await fc.locator('body').screenshot({ path: 'test-results/language-intro.png' });
  });

  test('the first-visit tour shows once, can be dismissed, and is remembered', async ({
    browser,
  }) => {
    // Automated browsers skip the tour unless the URL asks for it (tour=1).
    const a = await joinIn(browser, server.url, 'tour-room', 'Tia', 'en', {
      tourDone: false,
      query: 'tour=1',
    });
    ps.push(a);
    await expect(a.page.locator('#tour')).toBeVisible();
    await expect(a.page.locator('#tour')).toContainText('Microphone');
    await a.page.locator('#tour-next').click();
    await expect(a.page.locator('#tour')).toContainText('Camera');
    await a.page.locator('#tour-skip').click();
    await expect(a.page.locator('#tour')).toHaveCount(0);
    await a.page.reload();
    await expect(a.page.locator('#app')).toHaveAttribute('data-screen', 'call');
    await expect(a.page.locator('#tour')).toHaveCount(0);
  });
});
