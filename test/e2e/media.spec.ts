import { test, expect } from '@playwright/test';
import {
  closeAll,
  expectMediaFromAll,
  join,
  offersSent,
  peerId,
  snapshot,
  startServer,
  uniqueRoom,
  type Participant,
  type TfxServer,
} from './support.js';

let server: TfxServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

type WithShare = Window & { __share?: MediaStream };

/** Main video size of the (only) remote tile, and which source it shows. */
const remoteMain = (p: Participant): Promise<{ source: string; w: number; h: number }> =>
  p.page
    .locator('.tile')
    .first()
    .evaluate((tile) => {
      const main =
        (tile as HTMLElement).dataset.source === 'screen'
          ? 'video.tile-screen'
          : 'video.tile-camera';
      const v = tile.querySelector(main) as HTMLVideoElement;
      return {
        source: (tile as HTMLElement).dataset.source ?? '',
        w: v.videoWidth,
        h: v.videoHeight,
      };
    });

test('glare: both start a screen share in the same tick; the polite side rolls back, both stay connected and see each other’s 1280×720 share, then the camera again', async ({
  browser,
}) => {
  const room = uniqueRoom('glare');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann'),
      await join(browser, server.url, room, 'Bob'),
    );
    for (const p of ps) await expectMediaFromAll(p, 1);
    const ids = await Promise.all(ps.map(peerId));
    const politeIdx = ids[0]! < ids[1]! ? 0 : 1;
    const counters = (p: Participant) =>
      p.page.evaluate(() => ({ ...window.__tfx!.peers[0]!.link!.counters }));

    // Glare needs the two offers to cross; if scheduling kept them apart, stop and try again.
    let collided = false;
    for (let attempt = 0; attempt < 5 && !collided; attempt++) {
      for (const p of ps)
        await p.page.evaluate(
          async () =>
            ((window as WithShare).__share = await navigator.mediaDevices.getDisplayMedia({
              video: true,
            })),
        );
      const before = await counters(ps[politeIdx]!);
      await Promise.all(
        ps.map((p) =>
          p.page.evaluate(
            () =>
              void window.__tfx!.room!.startScreenShare({ stream: (window as WithShare).__share! }),
          ),
        ),
      );
      for (const p of ps)
        await expect.poll(async () => (await remoteMain(p)).source).toBe('screen');
      const after = await counters(ps[politeIdx]!);
      collided = after.rollbacks > before.rollbacks;
      if (!collided) {
        for (const p of ps) await p.page.evaluate(() => window.__tfx!.room!.stopScreenShare());
        for (const p of ps)
          await expect.poll(async () => (await remoteMain(p)).source).toBe('camera');
      }
    }
    expect(collided, 'the two offers collided and the polite side rolled back').toBe(true);
    const impolite = await counters(ps[1 - politeIdx]!);
    expect(impolite.ignoredOffers).toBeGreaterThan(0);
    expect(impolite.rollbacks).toBe(0);

    for (const p of ps) {
      await expect
        .poll(() => p.page.evaluate(() => window.__tfx!.peers[0]!.connectionState))
        .toBe('connected');
      await expect.poll(() => remoteMain(p)).toEqual({ source: 'screen', w: 1280, h: 720 });
      await expectMediaFromAll(p, 1);
    }

    // Stopping restores the camera on the other side.
    for (const p of ps) await p.page.getByRole('button', { name: 'Stop presenting' }).click();
    for (const p of ps) {
      await expect.poll(async () => (await remoteMain(p)).source).toBe('camera');
      await expect
        .poll(async () => {
          const m = await remoteMain(p);
          return m.w > 0 && m.w <= 320 && m.h <= 240;
        })
        .toBe(true);
      await expectMediaFromAll(p, 1);
    }
  } finally {
    await closeAll(ps);
  }
});

test('muting the microphone and the camera is seen by the peer', async ({ browser }) => {
  const room = uniqueRoom('mute');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann'),
      await join(browser, server.url, room, 'Bob'),
    );
    const [ann, bob] = ps as [Participant, Participant];
    await expectMediaFromAll(bob, 1);
    const annTile = bob.page.locator('.tile');
    await expect(annTile).toHaveAttribute('data-audio', 'on');
    await expect(annTile.locator('.tile-muted')).toBeHidden();

    await ann.page.getByRole('button', { name: 'Mute microphone' }).click();
    await expect(ann.page.getByRole('button', { name: 'Unmute microphone' })).toHaveAttribute(
      'aria-pressed',
      'false',
    );
    await expect(annTile).toHaveAttribute('data-audio', 'off');
    await expect(annTile.locator('.tile-muted')).toBeVisible();

    await ann.page.getByRole('button', { name: 'Turn camera off' }).click();
    await expect(annTile).toHaveAttribute('data-video', 'off');
    await expect(annTile).toHaveClass(/no-video/);
    await expect(annTile.locator('.avatar')).toBeVisible();

    await ann.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await ann.page.getByRole('button', { name: 'Turn camera on' }).click();
    await expect(annTile).toHaveAttribute('data-audio', 'on');
    await expect(annTile).toHaveAttribute('data-video', 'on');
    await expect(annTile.locator('.tile-muted')).toBeHidden();
  } finally {
    await closeAll(ps);
  }
});

test('raising a hand shows on every other tile with a notice, and on one’s own self-view; a late joiner sees it; lowering clears it', async ({
  browser,
}) => {
  const room = uniqueRoom('hand');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann'),
      await join(browser, server.url, room, 'Bob'),
    );
    const [ann, bob] = ps as [Participant, Participant];
    await expectMediaFromAll(bob, 1);
    const annId = await peerId(ann);
    const annAtBob = bob.page.locator(`.tile[data-peer="${annId}"]`);
    await expect(annAtBob).toHaveAttribute('data-hand', 'down');
    await expect(annAtBob.locator('.tile-hand')).toBeHidden();

    await ann.page.getByRole('button', { name: 'Raise hand' }).click();
    await expect(ann.page.getByRole('button', { name: 'Lower hand' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    await expect(ann.page.locator('.self .tile-hand')).toBeVisible();
    await expect(annAtBob).toHaveAttribute('data-hand', 'up');
    await expect(annAtBob.locator('.tile-hand')).toBeVisible();
    await expect(annAtBob).toHaveAttribute('aria-label', /hand raised/);
    await expect(bob.page.getByText('Ann raised a hand')).toBeVisible();

    // Someone who joins while the hand is up sees it at once.
    ps.push(await join(browser, server.url, room, 'Cid'));
    const cid = ps[2]!;
    await expectMediaFromAll(cid, 2);
    const annAtCid = cid.page.locator(`.tile[data-peer="${annId}"]`);
    await expect(annAtCid).toHaveAttribute('data-hand', 'up');

    await ann.page.getByRole('button', { name: 'Lower hand' }).click();
    await expect(annAtBob).toHaveAttribute('data-hand', 'down');
    await expect(annAtBob.locator('.tile-hand')).toBeHidden();
    await expect(annAtCid).toHaveAttribute('data-hand', 'down');
    await expect(ann.page.locator('.self .tile-hand')).toBeHidden();
  } finally {
    await closeAll(ps);
  }
});

test('joining with ?audio=0&video=0 starts muted, and the peer sees it', async ({ browser }) => {
  const room = uniqueRoom('muted');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann', { audio: false, video: false }),
      await join(browser, server.url, room, 'Bob'),
    );
    const [ann, bob] = ps as [Participant, Participant];
    await expect(ann.page.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
    await expect(ann.page.getByRole('button', { name: 'Turn camera on' })).toBeVisible();
    await expect(bob.page.locator('.tile')).toHaveAttribute('data-audio', 'off');
    await expect(bob.page.locator('.tile')).toHaveAttribute('data-video', 'off');
  } finally {
    await closeAll(ps);
  }
});

test('switching camera and microphone mid-call changes the device with replaceTrack: no new offer, frames keep rising', async ({
  browser,
}) => {
  const room = uniqueRoom('switch');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann'),
      await join(browser, server.url, room, 'Bob'),
    );
    const [ann, bob] = ps as [Participant, Participant];
    for (const p of ps) await expectMediaFromAll(p, 1);
    const offersBefore = [await offersSent(ann), await offersSent(bob)];
    const camBefore = await ann.page.evaluate(
      () => window.__tfx!.room!.local.videoTrack!.getSettings().deviceId,
    );
    const micBefore = await ann.page.evaluate(
      () => window.__tfx!.room!.local.audioTrack!.getSettings().deviceId,
    );

    await ann.page.getByRole('button', { name: 'Devices' }).click();
    const dialog = ann.page.getByRole('dialog', { name: 'Devices' });
    await expect(dialog).toBeVisible();
    // The lists fill asynchronously (enumerateDevices) once the dialog opens.
    await expect(dialog.locator('#camera-select option')).toHaveCount(3);
    // fake_device_1 gives Y16 depth frames no encoder takes (see playwright.config.ts).
    await dialog.getByLabel('Camera').selectOption({ label: 'fake_device_2' });
    const mics = await dialog
      .locator('#mic-select option')
      .evaluateAll((os) => (os as HTMLOptionElement[]).map((o) => o.value));
    await dialog
      .getByLabel('Microphone')
      .selectOption(mics.find((m) => m !== micBefore && m !== 'default')!);
    await dialog.getByRole('button', { name: 'Done' }).click();

    await expect
      .poll(() =>
        ann.page.evaluate(() => window.__tfx!.room!.local.videoTrack!.getSettings().deviceId),
      )
      .not.toBe(camBefore);
    await expect
      .poll(() =>
        ann.page.evaluate(() => window.__tfx!.room!.local.audioTrack!.getSettings().deviceId),
      )
      .not.toBe(micBefore);
    // The senders carry the new tracks.
    expect(
      await ann.page.evaluate(() => {
        const r = window.__tfx!.room!;
        const link = window.__tfx!.peers[0]!.link!;
        return (
          link.senderFor('camera')?.track === r.local.videoTrack &&
          link.senderFor('mic')?.track === r.local.audioTrack
        );
      }),
    ).toBe(true);
    await expectMediaFromAll(bob, 1);
    expect([await offersSent(ann), await offersSent(bob)]).toEqual(offersBefore);
    // And the stream Bob decodes keeps its size (the same sender, a new source).
    const s = await snapshot(bob);
    expect(s[0]!.width).toBeGreaterThan(0);
  } finally {
    await closeAll(ps);
  }
});

test('chat goes both ways over the data channel, and a late joiner gets the history once', async ({
  browser,
}) => {
  const room = uniqueRoom('chat');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann'),
      await join(browser, server.url, room, 'Bob'),
    );
    const [ann, bob] = ps as [Participant, Participant];
    await expect
      .poll(() => ann.page.evaluate(() => window.__tfx!.peers[0]?.link?.channelOpen ?? false))
      .toBe(true);
    await expect
      .poll(() => bob.page.evaluate(() => window.__tfx!.peers[0]?.link?.channelOpen ?? false))
      .toBe(true);

    await ann.page.getByRole('button', { name: 'Open chat' }).click();
    await ann.page.getByLabel('Message', { exact: true }).fill('hello from Ann');
    await ann.page.getByLabel('Message', { exact: true }).press('Enter');
    await expect(bob.page.locator('#toggle-chat .badge')).toHaveText('1');
    await bob.page.getByRole('button', { name: 'Open chat' }).click();
    await expect(bob.page.locator('#chat-list .msg')).toHaveCount(1);
    await expect(bob.page.locator('#chat-list .msg')).toContainText('hello from Ann');
    await bob.page.getByLabel('Message', { exact: true }).fill('hi Ann, Bob here');
    await bob.page.getByRole('button', { name: 'Send message' }).click();
    await expect(ann.page.locator('#chat-list .msg')).toHaveCount(2);
    await expect(ann.page.locator('#chat-list .msg').nth(1)).toContainText('hi Ann, Bob here');

    ps.push(await join(browser, server.url, room, 'Cid'));
    const cid = ps[2]!;
    await cid.page.getByRole('button', { name: 'Open chat' }).click();
    await expect(cid.page.locator('#chat-list .msg')).toHaveCount(2);
    await expect(cid.page.locator('#chat-list .msg').nth(0)).toContainText('hello from Ann');
    await expect(cid.page.locator('#chat-list .msg').nth(1)).toContainText('hi Ann, Bob here');
    // Only the longest-present peer (Ann) offered it: still exactly two messages a moment later.
    await cid.page.waitForTimeout(1000);
    await expect(cid.page.locator('#chat-list .msg')).toHaveCount(2);
  } finally {
    await closeAll(ps);
  }
});

test('audio-only mode sends and receives no video but keeps audio; turning it off brings video back', async ({
  browser,
}) => {
  const room = uniqueRoom('audio');
  const ps: Participant[] = [];
  try {
    ps.push(
      await join(browser, server.url, room, 'Ann'),
      await join(browser, server.url, room, 'Bob'),
    );
    const [ann, bob] = ps as [Participant, Participant];
    for (const p of ps) await expectMediaFromAll(p, 1);

    await ann.page.getByRole('button', { name: 'Devices' }).click();
    await ann.page.getByLabel(/Audio only/).check();
    await ann.page.getByRole('button', { name: 'Done' }).click();

    await expect(bob.page.locator('.tile')).toHaveAttribute('data-video', 'off');
    await expect(ann.page.locator('.tile')).toHaveClass(/no-video/);
    // No video transceiver sends or receives any more, on either side.
    const videoDirections = (p: Participant) =>
      p.page.evaluate(() =>
        window
          .__tfx!.peers[0]!.link!.pc.getTransceivers()
          .filter((t) => t.receiver.track.kind === 'video' && t.currentDirection !== 'stopped')
          .map((t) => t.currentDirection),
      );
    await expect
      .poll(async () => (await videoDirections(ann)).every((d) => d === 'inactive'))
      .toBe(true);
    await expect
      .poll(async () => (await videoDirections(bob)).every((d) => d === 'inactive'))
      .toBe(true);
    // Audio still flows to Ann.
    const audioIn = () =>
      ann.page.evaluate(async () => {
        const s = await window.__tfx!.room!.getStats(window.__tfx!.peers[0]!.id);
        return s!.inbound
          .filter((i) => i.kind === 'audio')
          .reduce((a, i) => a + i.bytesReceived, 0);
      });
    const a0 = await audioIn();
    await expect.poll(audioIn).toBeGreaterThan(a0);

    await ann.page.getByRole('button', { name: 'Devices' }).click();
    await ann.page.getByLabel(/Audio only/).uncheck();
    await ann.page.getByRole('button', { name: 'Done' }).click();
    await expect(bob.page.locator('.tile')).toHaveAttribute('data-video', 'on');
    for (const p of ps) await expectMediaFromAll(p, 1);
  } finally {
    await closeAll(ps);
  }
});
