/**
 * The file-transfer widget in real browsers (issue 9): a 20 MB file to everyone arrives with the
 * right SHA-256 — each receiver hashes it itself — while a chat message sent during the transfer
 * also arrives, and is saved with the browser's download; a file to one person only; cancel on
 * either side; hostile input from a peer is dropped and counted while a transfer goes on.
 * Run inside the loopback-only namespace:
 *   npm run build && unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns npx playwright test test/e2e/file-transfer.spec.ts
 */
import { type Frame, type Locator } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAll, peerId, uniqueRoom, type Participant, type TfxServer } from './support.js';
import {
  type BuiltinsServer,
  joinWatched,
  openWidget,
  screenshotPath,
  startWithBuiltins,
  transportDropped,
  widgetFrame,
} from './widget-support.js';
import { BUILTIN_WIDGETS } from '../../packages/server/src/widgets/builtins.js';

const MB = 1024 * 1024;
const shot = screenshotPath;

let env: BuiltinsServer;
let server: TfxServer;
let tmp: string;

test.beforeAll(async () => {
  expect(BUILTIN_WIDGETS.map((w) => w.id)).toContain('files');
  env = await startWithBuiltins('files');
  ({ server, tmp } = env);
});
test.afterAll(() => env?.stop());

/** A file of random bytes on disk and its SHA-256 as computed here. */
function makeFile(name: string, bytes: number): { path: string; sha256: string } {
  const path = join(tmp, name);
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return { path, sha256: createHash('sha256').update(data).digest('hex') };
}

const rowsIn = (f: Frame): Locator => f.locator('.transfer[data-dir="in"]');
const rowOut = (f: Frame): Locator => f.locator('.transfer[data-dir="out"]').first();
const attr = async (l: Locator, name: string): Promise<string | null> => l.getAttribute(name);

async function openFiles(ps: Participant[]): Promise<Frame[]> {
  await openWidget(ps[0]!.page, 'files');
  const frames: Frame[] = [];
  for (const p of ps) frames.push(await widgetFrame(p.page, 'files'));
  for (const f of frames) await expect(f.locator('body')).toHaveAttribute('data-ready', 'true');
  return frames;
}

test('a 20 MB file to everyone arrives with the SHA-256 each receiver computes itself, while a chat message sent during the transfer arrives too; Save downloads it', async ({
  browser,
  defer,
}) => {
  const room = uniqueRoom('wfiles');
  const ps: Participant[] = [];
  const problems: string[] = [];
  defer(async () => {
    await closeAll(ps);
  });
  await joinWatched(browser, server.url, room, ['Ann', 'Bob', 'Cid'], ps, problems);
  const [ann, bob, cid] = ps as [Participant, Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(2);
  const [fa, fb, fc] = (await openFiles(ps)) as [Frame, Frame, Frame];
  await expect(ann.page.locator('.widget-panel[data-widget="files"] iframe')).toHaveAttribute(
    'sandbox',
    'allow-scripts allow-forms allow-downloads',
  );
  for (const p of ps) await p.page.getByRole('button', { name: 'Open chat' }).click();
  const chat = ann.page.locator('#chat-input');
  await chat.fill('sent while the file is on its way');

  const file = makeFile('report-20MB.bin', 20 * MB);
  await fa.locator('#file').setInputFiles(file.path);
  // A chat message sent during the transfer (the 20 MB take seconds; one key press does not) …
  await chat.press('Enter');
  const during = await attr(rowOut(fa), 'data-state');
  expect(['sending', 'sent']).toContain(during); // the transfer was still going on
  // Both receivers see the offer and the bytes flowing.
  for (const f of [fb, fc]) {
    await expect(rowsIn(f)).toHaveCount(1);
    await expect(rowsIn(f).first().locator('.name')).toHaveText('report-20MB.bin');
    await expect(rowsIn(f).first()).toContainText('from Ann');
  }
  await ann.page.screenshot({ path: shot('widgets-files-progress.png') });
  // … arrives (the widget's chunks do not starve the call's chat).
  for (const p of [bob, cid])
    await expect(p.page.locator('#chat-list .msg')).toContainText([
      'sent while the file is on its way',
    ]);

  // Each receiver hashes what it received itself: it matches the file's SHA-256.
  for (const f of [fb, fc]) {
    const row = rowsIn(f).first();
    await expect(row).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
    await expect(row).toHaveAttribute('data-bytes', String(20 * MB));
    await expect(row).toHaveAttribute('data-sha256', file.sha256);
    await expect(row.locator('.detail')).toContainText('SHA-256 verified');
  }
  // The sender learns that both verified it.
  await expect(rowOut(fa)).toHaveAttribute('data-state', 'done');
  await expect(rowOut(fa).locator('.chip[data-state="verified"]')).toHaveCount(2);
  await expect(rowOut(fa).locator('.detail')).toHaveText('Delivered: 2 of 2 verified the SHA-256');
  await bob.page.screenshot({ path: shot('widgets-files.png') });

  // Save = the browser's download (the manifest grants downloads): the same bytes.
  const download = bob.page.waitForEvent('download');
  await rowsIn(fb).first().getByRole('button', { name: 'Save' }).click();
  const saved = await download;
  expect(saved.suggestedFilename()).toBe('report-20MB.bin');
  const savedPath = await saved.path();
  expect(createHash('sha256').update(readFileSync(savedPath)).digest('hex')).toBe(file.sha256);

  // Nothing was dropped on the way, and the call is intact.
  for (const p of ps) expect(await transportDropped(p.page)).toEqual({});
  for (const f of [fa, fb, fc])
    expect(await f.locator('body').getAttribute('data-dropped')).toBeNull();
  expect(problems).toEqual([]);
});

test('a file to one person reaches only them; the receiver and the sender can cancel', async ({
  browser,
  defer,
}) => {
  const room = uniqueRoom('wfiles1');
  const ps: Participant[] = [];
  const problems: string[] = [];
  defer(async () => {
    await closeAll(ps);
  });
  await joinWatched(browser, server.url, room, ['Ann', 'Bob', 'Cid'], ps, problems);
  const [ann, bob] = ps as [Participant, Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(2);
  const [fa, fb, fc] = (await openFiles(ps)) as [Frame, Frame, Frame];

  // To Bob only: a small file arrives verified at Bob; Cid sees nothing.
  const small = makeFile('notes.txt', 300_000);
  await fa.locator('#to').selectOption({ label: 'Bob' });
  await expect(fa.locator('#to')).toHaveValue(await peerId(bob));
  await fa.locator('#file').setInputFiles(small.path);
  await expect(rowsIn(fb).first()).toHaveAttribute('data-sha256', small.sha256);
  await expect(rowOut(fa)).toHaveAttribute('data-state', 'done');
  await expect(rowOut(fa)).toContainText('to Bob');
  expect(await rowsIn(fc).count()).toBe(0);

  // Bob cancels a big one while it arrives: Ann sees "declined" and stops sending.
  const big = makeFile('big.bin', 150 * MB);
  await fa.locator('#file').setInputFiles(big.path);
  const bobRow = rowsIn(fb).first();
  await expect(bobRow.locator('.name')).toHaveText('big.bin');
  await expect.poll(async () => Number(await attr(bobRow, 'data-bytes'))).toBeGreaterThan(0);
  await bobRow.getByRole('button', { name: 'Cancel' }).click();
  await expect(bobRow).toHaveAttribute('data-state', 'cancelled');
  await expect(rowOut(fa).locator('.chip')).toHaveAttribute('data-state', 'declined');
  await expect(rowOut(fa)).toHaveAttribute('data-state', 'failed');
  const sentAtCancel = Number(await attr(rowOut(fa), 'data-sent'));
  expect(sentAtCancel).toBeLessThan(150 * MB);
  expect(await rowsIn(fc).count()).toBe(0);

  // Ann sends the big one to everyone and cancels it herself: both receivers are told.
  await fa.locator('#to').selectOption({ label: 'Everyone' });
  await fa.locator('#file').setInputFiles(big.path);
  const cidRow = rowsIn(fc).first();
  await expect(cidRow.locator('.name')).toHaveText('big.bin');
  await expect.poll(async () => Number(await attr(cidRow, 'data-bytes'))).toBeGreaterThan(0);
  await rowOut(fa).getByRole('button', { name: 'Cancel' }).click();
  await expect(rowOut(fa)).toHaveAttribute('data-state', 'cancelled');
  for (const f of [fb, fc]) {
    const row = rowsIn(f).first();
    await expect(row).toHaveAttribute('data-state', 'failed');
    await expect(row.locator('.detail')).toHaveText('Failed: the sender cancelled');
    await expect(row.getByRole('button', { name: 'Save' })).toHaveCount(0);
  }
  await ann.page.screenshot({ path: shot('widgets-files-cancel.png') });
  expect(problems).toEqual([]);
});

test('hostile input from a peer is dropped and counted; a transfer from someone else goes on and verifies', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  for (const n of ['Ann', 'Bob', 'Mal']) ps.push(await call.join(n, { base: server.url, room }));
  const [ann, bob, mal] = ps as [Participant, Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(2);
  const [fa, fb] = (await openFiles(ps)) as [Frame, Frame, Frame];
  const bobId = await peerId(bob);

  const file = makeFile('data.bin', 8 * MB);
  await fa.locator('#file').setInputFiles(file.path);
  const annRow = rowsIn(fb).first();
  await expect(annRow).toHaveAttribute('data-id', /^[0-9a-f]{16}$/);
  const annTransfer = (await annRow.getAttribute('data-id'))!;

  // Mal's page sends what its own widget never would, straight into the widget transport.
  const id = 'a'.repeat(16);
  const json = [
    'not an object',
    { t: 'offer', id: '../../x', name: 'a', size: 1 },
    { t: 'offer', id, name: 'a', size: -1 },
    { t: 'offer', id, name: 'a', size: 1e30 },
    { t: 'end', id: annTransfer, sha256: '0'.repeat(64) }, // claims Ann's transfer: not Mal's
    { t: 'cancel', id: annTransfer }, // likewise
    { t: 'result', id, ok: true, sha256: 'x' },
  ];
  const chunkForAnnsTransfer = [1, ...Buffer.from(annTransfer, 'hex'), 0, 0, 0, 0, 9, 9, 9];
  await mal.page.evaluate(
    async ([to, msgs, chunk]) => {
      const t = window.__tfxWidgets!.transport;
      for (const m of msgs)
        await t.send('files', 'message', { encoding: 'json', text: JSON.stringify(m) }, to);
      const bin = (b: number[]) => ({
        encoding: 'binary' as const,
        bytes: new Uint8Array(b).buffer,
      });
      await t.send('files', 'message', bin(chunk), to);
      await t.send('files', 'message', bin([1, 2, 3]), to);
      await t.send('files', 'message', bin([7, ...new Array(20).fill(0)]), to);
    },
    [bobId, json, chunkForAnnsTransfer] as const,
  );
  // Every piece was dropped and counted in Bob's widget (10 messages).
  await expect(fb.locator('body')).toHaveAttribute('data-dropped', '10');
  expect(await rowsIn(fb).count()).toBe(1);
  // Ann's transfer was not disturbed: it completes and verifies.
  await expect(annRow).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(annRow).toHaveAttribute('data-sha256', file.sha256);
  await expect(rowOut(fa)).toHaveAttribute('data-state', 'done');
});
