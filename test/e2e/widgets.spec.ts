/**
 * Widgets in real browsers (issue 8): the messaging widget, open/close for everyone, late
 * joiners, a cross-origin widget and blocked origins, isolation, forged and hostile input.
 * The server runs with a manifest and a widgets folder of the test's own (the probe widget).
 */
import { type Frame } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expectMediaFromAll,
  peerId,
  startServer,
  type Participant,
  type TfxServer,
} from './support.js';
import {
  MESSAGING,
  PROBE,
  hostCounters,
  openWidget,
  startStaticServer,
  transportDropped,
  widgetFrame,
  writeManifest,
  type StaticServer,
} from './widget-support.js';
import { encodeFrame } from '../../packages/protocol/src/widgets/wire.js';
import type { WidgetManifestEntry } from '../../packages/protocol/src/widgets/manifest.js';

interface Probe {
  tfx: {
    sendMessage(d: unknown, o?: { to?: string }): Promise<void>;
    self(): { id: string; name: string };
  };
  received: Array<{ data: unknown; from: { id: string; name: string } }>;
  sync: { status: string; ready: Promise<string> };
  state: { items: string[] };
}
const probe = (f: Frame): Promise<Probe['received']> =>
  f.evaluate(() => (window as unknown as { probe: Probe }).probe.received);

/** Screenshots to look at (not compared): $TMPDIR/tfx-widget-screens/. */
const shot = (name: string): string => join(tmpdir(), 'tfx-widget-screens', name);

let server: TfxServer;
let tmp: string;
let manifestPath: string;
const remotes: StaticServer[] = [];

test.beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tfx-widgets-e2e-'));
  manifestPath = join(tmp, 'widgetmanifest.json');
  writeManifest(manifestPath, [MESSAGING, PROBE]);
  // Local widgets: the probe fixture, and one made by the real `tfx widget new`.
  const dir = join(tmp, 'widgets');
  cpSync(join(process.cwd(), 'test/e2e/fixtures/widgets'), dir, { recursive: true });
  execFileSync(process.execPath, [
    'packages/cli/bin/tfx.js',
    'widget',
    'new',
    'hello',
    '--dir',
    dir,
    '--manifest',
    manifestPath,
  ]);
  server = await startServer(['--widgets-manifest', manifestPath, '--widgets-dir', dir]);
});
test.afterAll(async () => {
  for (const r of remotes) await r.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('the messaging widget opens for everyone, syncs messages with sender names, and closes for everyone', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: server.url, room }));
  ps.push(await call.join('Bob', { base: server.url, room }));
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.widget-btn[data-widget="messaging"]')).toBeVisible();
  await expect(bob.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'messaging');
  // Open for everyone, in a sandboxed frame without allow-same-origin (same-origin widget).
  for (const p of ps) {
    await expect(p.page.locator('.widget-panel[data-widget="messaging"]')).toBeVisible();
    const iframe = p.page.locator('.widget-panel[data-widget="messaging"] iframe');
    await expect(iframe).toHaveAttribute('sandbox', 'allow-scripts allow-forms');
    expect(await iframe.getAttribute('allow')).toBeNull();
  }
  const fa = await widgetFrame(ann.page, 'messaging');
  const fb = await widgetFrame(bob.page, 'messaging');
  await fa.locator('#text').fill('Hello from Ann');
  await fa.locator('#text').press('Enter');
  await expect(fb.locator('.msg .text')).toHaveText(['Hello from Ann']);
  await expect(fb.locator('.msg .name')).toHaveText(['Ann']);
  await fb.locator('#text').fill('Hi Ann, Bob here');
  await fb.locator('#text').press('Enter');
  await expect(fa.locator('.msg .text')).toHaveText(['Hello from Ann', 'Hi Ann, Bob here']);
  await expect(fa.locator('.msg .name')).toHaveText(['You', 'Bob']);
  await ann.page.screenshot({ path: shot('widgets-messaging.png') });
  // Bob closes it: gone for both.
  await bob.page.locator('.widget-panel[data-widget="messaging"] .widget-close').click();
  for (const p of ps) {
    await expect(p.page.locator('.widget-panel')).toHaveCount(0);
    await expect(p.page.locator('.widget-btn[data-widget="messaging"]')).toHaveAttribute(
      'aria-pressed',
      'false',
    );
  }
});

test('a widget scaffolded by `tfx widget new` works as made: shared clicks and state for a late joiner', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: server.url, room }));
  ps.push(await call.join('Bob', { base: server.url, room }));
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'hello');
  const ha = await widgetFrame(ann.page, 'hello');
  const hb = await widgetFrame(bob.page, 'hello');
  await ha.locator('#click').click();
  await ha.locator('#click').click();
  await hb.locator('#click').click();
  for (const f of [ha, hb]) await expect(f.locator('#count')).toHaveText('3');
  await expect(hb.locator('#log li').last()).toHaveText('Ann clicked');
  ps.push(await call.join('Cid', { base: server.url, room }));
  const hc = await widgetFrame(ps[2]!.page, 'hello');
  await expect(hc.locator('#count')).toHaveText('3');
});

test('a late joiner gets the open widgets and the message history; several widgets stay open together', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: server.url, room }));
  ps.push(await call.join('Bob', { base: server.url, room }));
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'messaging');
  await openWidget(bob.page, 'probe');
  for (const p of ps) await expect(p.page.locator('.widget-panel')).toHaveCount(2);
  const fa = await widgetFrame(ann.page, 'messaging');
  const fb = await widgetFrame(bob.page, 'messaging');
  await fa.locator('#text').fill('first');
  await fa.locator('#text').press('Enter');
  await expect(fb.locator('.msg .text')).toHaveText(['first']);
  await fb.locator('#text').fill('second');
  await fb.locator('#text').press('Enter');
  await expect(fa.locator('.msg .text')).toHaveText(['first', 'second']);

  ps.push(await call.join('Cid', { base: server.url, room }));
  const cid = ps[2]!;
  await expect(cid.page.locator('.widget-panel')).toHaveCount(2);
  const fc = await widgetFrame(cid.page, 'messaging');
  await expect(fc.locator('.msg .text')).toHaveText(['first', 'second']);
  await expect(fc.locator('.msg .name')).toHaveText(['Ann', 'Bob']);
  await expect(fc.locator('body')).toHaveAttribute('data-ready', 'received');
  // And Cid's own message reaches the others.
  await fc.locator('#text').fill('third, from Cid');
  await fc.locator('#text').press('Enter');
  await expect(fa.locator('.msg .text')).toHaveText(['first', 'second', 'third, from Cid']);
  await cid.page.screenshot({ path: shot('widgets-late-joiner.png') });
  await cid.page.setViewportSize({ width: 390, height: 760 });
  await cid.page.screenshot({ path: shot('widgets-phone.png') });
});

test('a widget reaches only its own instances: parent.document throws, and an envelope forged with another widget id is ignored and counted', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: server.url, room }));
  ps.push(await call.join('Bob', { base: server.url, room }));
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'probe');
  await openWidget(ann.page, 'messaging');
  const pa = await widgetFrame(ann.page, 'probe');
  const pb = await widgetFrame(bob.page, 'probe');
  const mb = await widgetFrame(bob.page, 'messaging');

  const escape = await pa.evaluate(() => {
    const out: string[] = [];
    for (const [name, f] of [
      ['parent.document', () => parent.document.title],
      ['top.location.href', () => top!.location.href],
      ['localStorage', () => localStorage.length],
      ['document.cookie', () => document.cookie],
    ] as const) {
      try {
        f();
        out.push(`${name}: reachable`);
      } catch {
        out.push(`${name}: threw`);
      }
    }
    return out;
  });
  expect(escape).toEqual([
    'parent.document: threw',
    'top.location.href: threw',
    'localStorage: threw',
    'document.cookie: threw',
  ]);
  // No network to the platform either (connect-src 'none'): signalling is out of reach.
  const fetched = await pa.evaluate(async () => {
    try {
      await fetch('/api/v1/widgets');
      return 'fetched';
    } catch {
      return 'blocked';
    }
  });
  expect(fetched).toBe('blocked');

  // A genuine message arrives …
  await pa.evaluate(() => (window as unknown as { probe: Probe }).probe.tfx.sendMessage({ n: 1 }));
  await expect.poll(() => probe(pb)).toHaveLength(1);
  // … a forged one (the probe claiming to be the messaging widget) does not, and is counted.
  const before = await hostCounters(ann.page);
  await pa.evaluate(() => {
    parent.postMessage(
      {
        tfx: 'tfx-widget',
        v: 1,
        type: 'send',
        widget: 'messaging',
        id: 99,
        data: { encoding: 'json', text: '{"id":"x","text":"forged","ts":1}' },
      },
      '*',
    );
  });
  await expect.poll(async () => (await hostCounters(ann.page)).forged).toBe(before.forged + 1);
  await pa.evaluate(() => (window as unknown as { probe: Probe }).probe.tfx.sendMessage({ n: 2 }));
  await expect.poll(() => probe(pb)).toHaveLength(2);
  await expect(mb.locator('.msg')).toHaveCount(0);

  // A widget id unknown to the manifest (opened by a peer) shows "not available".
  await ann.page.evaluate(() => window.__tfxWidgets!.transport.setOpen('no-such-widget', true));
  for (const p of ps)
    await expect(
      p.page.locator('.widget-panel[data-widget="no-such-widget"] .widget-unavailable'),
    ).toHaveText('Widget “no-such-widget” is not available');
  // A peer opening a flood of made-up ids gets no flood of panels: two "not available" panels
  // at most, the rest counted.
  const panels = (p: Participant) => p.page.locator('.widget-panel .widget-unavailable');
  await ann.page.evaluate(() => {
    for (let i = 0; i < 40; i++) window.__tfxWidgets!.transport.setOpen(`made-up-${i}`, true);
  });
  for (const p of ps) {
    await expect.poll(async () => (await hostCounters(p.page)).unknownHidden).toBe(39);
    await expect(panels(p)).toHaveCount(2);
  }
  // Closing the shown one lets the next one in.
  await ann.page.evaluate(() => window.__tfxWidgets!.transport.setOpen('no-such-widget', false));
  for (const p of ps) {
    await expect.poll(async () => (await hostCounters(p.page)).unknownHidden).toBe(38);
    await expect(panels(p)).toHaveCount(2);
  }
});

test('oversize and malformed widget messages are refused and counted, and the call goes on', async ({
  call,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: server.url, room }));
  ps.push(await call.join('Bob', { base: server.url, room }));
  const [ann, bob] = ps as [Participant, Participant];
  for (const p of ps) await expectMediaFromAll(p, 1);
  await openWidget(ann.page, 'probe');
  const pa = await widgetFrame(ann.page, 'probe');
  const pb = await widgetFrame(bob.page, 'probe');
  // The SDK refuses a message over widgets.maxMessageBytes (1 MiB) …
  const refused = await pa.evaluate(async () => {
    try {
      await (window as unknown as { probe: Probe }).probe.tfx.sendMessage('x'.repeat(1_100_000));
      return 'sent';
    } catch (err) {
      return (err as { code?: string }).code;
    }
  });
  expect(refused).toBe('widget-message-too-large');
  // … and one just under it is chunked (16 KiB frames) and arrives whole.
  await pa.evaluate(() =>
    (window as unknown as { probe: Probe }).probe.tfx.sendMessage(new Uint8Array(1_000_000)),
  );
  await expect.poll(async () => (await probe(pb))[0]?.data).toEqual({ bytes: 1_000_000 });

  // A hostile peer: raw frames on the widget channel, bypassing its own host's checks.
  const annId = await peerId(ann);
  const frame = (over: Partial<Parameters<typeof encodeFrame>[0]>): number[] => [
    ...encodeFrame({
      type: 'message',
      encoding: 'json',
      directed: false,
      widget: 'probe',
      sender: annId,
      seq: 1000,
      index: 0,
      count: 1,
      total: 2,
      payload: new TextEncoder().encode('{}'),
      ...over,
    }),
  ];
  const hostile = {
    tooLarge: frame({ count: 200, total: 3_000_000, payload: new Uint8Array(100) }),
    badJson: frame({ total: 5, payload: new TextEncoder().encode('{oops') }),
    forgedSender: frame({ sender: 'someone-else' }),
    badVersion: [9, ...frame({}).slice(1)],
    garbage: [1, 2, 3],
  };
  await ann.page.evaluate((frames) => {
    const ch = window.__tfx!.peers[0]!.link!.widgetChannel!;
    for (const f of Object.values(frames)) ch.send(new Uint8Array(f));
    ch.send('not binary');
  }, hostile);
  await expect
    .poll(() => transportDropped(bob.page))
    .toMatchObject({
      'too-large': 1,
      'malformed-json': 1,
      'sender-mismatch': 1,
      version: 1,
      'too-short': 1,
      'not-binary': 1,
    });
  // Nothing reached Bob's widget, and the call and the widget go on.
  expect(await probe(pb)).toHaveLength(1);
  await pa.evaluate(() =>
    (window as unknown as { probe: Probe }).probe.tfx.sendMessage({ after: true }),
  );
  await expect.poll(async () => (await probe(pb)).length).toBe(2);
  for (const p of ps) await expectMediaFromAll(p, 1);
});

test('a cross-origin widget works because the manifest lists its origin; unlisted origins are blocked with a message', async ({
  request,
  call,
}) => {
  const tls = {
    cert: readFileSync(join(server.dataDir, 'tls', 'cert.pem'), 'utf8'),
    key: readFileSync(join(server.dataDir, 'tls', 'key.pem'), 'utf8'),
  };
  const dice = join(process.cwd(), 'examples/widgets');
  const x = await startStaticServer(dice, tls);
  const y = await startStaticServer(dice, tls);
  const z = await startStaticServer(dice, tls);
  remotes.push(x, y, z);
  const entry = (id: string, origin: string, url: string): WidgetManifestEntry => ({
    plugintype: 'game',
    id,
    type: 'dice',
    title: `Dice ${id}`,
    icon: `${origin}/dice/icon.svg`,
    url,
    origin,
  });
  // The manifest changes while the server runs: it reloads by itself.
  const current = JSON.parse(readFileSync(manifestPath, 'utf8')) as WidgetManifestEntry[];
  writeManifest(manifestPath, [
    ...current,
    entry('dice', x.origin, `${x.origin}/dice/`),
    entry('stray', x.origin, `${y.origin}/dice/`), // url outside its origin
    entry('other', y.origin, `${y.origin}/dice/`),
  ]);
  await expect
    .poll(async () => {
      const r = await request.get(`${server.url}/api/v1/widgets`);
      return ((await r.json()) as { widgets: unknown[] }).widgets.length;
    })
    .toBe(current.length + 3);

  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: server.url, room }));
  ps.push(await call.join('Bob', { base: server.url, room }));
  const [ann, bob] = ps as [Participant, Participant];
  await expect(ann.page.locator('.tile')).toHaveCount(1);
  await openWidget(ann.page, 'dice');
  const da = await widgetFrame(ann.page, 'dice');
  const db = await widgetFrame(bob.page, 'dice');
  await expect(ann.page.locator('.widget-panel[data-widget="dice"] iframe')).toHaveAttribute(
    'sandbox',
    'allow-scripts allow-forms allow-same-origin',
  );
  expect(da.url().startsWith(x.origin)).toBe(true);
  await da.locator('#roll').click();
  await expect(db.locator('#rolls li')).toHaveCount(1);
  await expect(db.locator('#rolls li').first()).toContainText('Ann rolled');

  // An entry whose url lies outside its origin never loads.
  await openWidget(ann.page, 'stray');
  for (const p of ps)
    await expect(p.page.locator('.widget-panel[data-widget="stray"] .widget-blocked')).toHaveText(
      `Widget blocked: origin ${y.origin} not allowed`,
    );
  await expect(ann.page.locator('.widget-panel[data-widget="stray"] iframe')).toHaveCount(0);

  // The dice frame navigates to another listed origin (not its own): unloaded on its hello.
  await db.evaluate((url) => {
    location.href = url;
  }, `${y.origin}/dice/`);
  await expect(bob.page.locator('.widget-panel[data-widget="dice"] .widget-blocked')).toHaveText(
    `Widget blocked: origin ${y.origin} not allowed`,
  );
  await expect(bob.page.locator('.widget-panel[data-widget="dice"] iframe')).toHaveCount(0);

  // The frame navigates to an origin the manifest does not list at all: CSP frame-src stops
  // it, and the host unloads the frame naming the origin.
  await da.evaluate((url) => {
    location.href = url;
  }, `${z.origin}/dice/`);
  await expect(ann.page.locator('.widget-panel[data-widget="dice"] .widget-blocked')).toHaveText(
    `Widget blocked: origin ${z.origin} not allowed`,
    { timeout: 15_000 },
  );
  expect((await hostCounters(ann.page)).blocked).toBeGreaterThanOrEqual(2);
  await ann.page.screenshot({ path: shot('widgets-blocked.png') });
  for (const p of ps) await expectMediaFromAll(p, 1);
});
