/**
 * Live captions in the call (docs/language.md), in Chromium whose fake microphone plays a WAV
 * spoken by espeak-ng (`--use-file-for-fake-audio-capture`): A turns captions on; its speech goes
 * in short segments through the server to a fake OpenAI-compatible transcription server (known
 * text back; it refuses silence and what it cannot decode like a real one), the caption reaches B
 * over the data channel and is translated into B's Spanish by a REAL Apertium engine; nothing is
 * uploaded while A is muted; the transcript downloads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { closeAll, startServer, type Participant, type TfxServer } from './support.js';
import { joinIn, optIn } from './language-support.js';
import { startApertium, type Apertium } from '../helpers/apertium.js';
import {
  startFakeOpenAiStt,
  type FakeOpenAiStt,
} from '../../packages/server/test/language/fake-stt.js';
import type {} from '../../packages/web/src/language/index.js';

// The speech, made before the browser starts (its flags name the file).
const dir = mkdtempSync(join(tmpdir(), 'tfx-captions-'));
const speech = join(dir, 'speech.wav');
execFileSync('espeak-ng', ['-v', 'en', '-s', '150', '-w', speech, 'Good morning, my friends.']);

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${speech}`,
      '--allow-loopback-in-peer-connection',
      '--disable-gpu',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  },
});

test.describe('live captions', () => {
  let server: TfxServer;
  let apy: Apertium;
  let stt: FakeOpenAiStt;
  const ps: Participant[] = [];
  test.beforeAll(async () => {
    apy = await startApertium();
    stt = await startFakeOpenAiStt('Good morning, my friends.');
    server = await startServer([
      '--translation-provider',
      'apertium-apy',
      '--translation-url',
      apy.url,
      '--captions-provider',
      'openai-compatible',
      '--captions-url',
      stt.url,
    ]);
  });
  test.afterAll(async () => {
    await closeAll(ps);
    await server?.stop();
    await stt?.close();
    await apy?.stop();
  });

  test('A speaks, B reads the caption in Spanish; nothing is uploaded while A is muted', async ({
    browser,
  }) => {
    test.setTimeout(240_000);
    await optIn(server, 'captions-room', { translation: true, captions: true });
    const a = await joinIn(browser, server.url, 'captions-room', 'Ann', 'en');
    ps.push(a);
    const b = await joinIn(browser, server.url, 'captions-room', 'Bea', 'es');
    ps.push(b);
    // Nothing leaves before A turns captions on.
    await a.page.waitForTimeout(1500);
    expect(stt.uploads).toHaveLength(0);
    await expect(a.page.locator('#captions')).toBeVisible();
    await a.page.locator('#captions').click();
    await expect(a.page.locator('#captions-status')).toContainText('leaves the peer-to-peer path');
    // A's own line, as spoken.
    await expect(a.page.locator('#captions-lines .caption').first()).toHaveText(
      'You: Good morning, my friends.',
      { timeout: 60_000 },
    );
    // B's line: translated by Apertium, the original kept beside it.
    const line = b.page.locator('#captions-lines .caption').first();
    await expect(line).toHaveText('Ann: Buenos días, mis amigos.', { timeout: 60_000 });
    await expect(line).toHaveAttribute('title', 'Original (en): Good morning, my friends.');
    // Every upload was speech the fake accepted: the VAD sent no silence.
    expect(stt.uploads.length).toBeGreaterThan(0);
    for (const u of stt.uploads) expect(u).toMatchObject({ status: 200, language: 'en' });
    await b.page.screenshot({ path: 'test-results/language-captions.png' });

    // Muted: the segment in flight may land; after that nothing more is uploaded.
    await a.page.locator('#toggle-mic').click();
    await expect(a.page.locator('#toggle-mic')).toHaveAttribute('aria-pressed', 'false');
    await a.page.waitForTimeout(1500);
    const atMute = stt.uploads.length;
    const pageAtMute = await a.page.evaluate(() => window.__tfxLanguage!.captionUploads());
    await a.page.waitForTimeout(6000);
    expect(stt.uploads.length).toBe(atMute);
    expect(await a.page.evaluate(() => window.__tfxLanguage!.captionUploads())).toBe(pageAtMute);
    // Unmuted: speech is captioned again.
    await a.page.locator('#toggle-mic').click();
    await expect.poll(() => stt.uploads.length, { timeout: 60_000 }).toBeGreaterThan(atMute);

    // The transcript downloads as text.
    const [download] = await Promise.all([
      b.page.waitForEvent('download'),
      b.page.locator('#captions-download').click(),
    ]);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toMatch(/Ann: Buenos días, mis amigos\. \[en: Good morning, my friends\.\]/);
  });
});
