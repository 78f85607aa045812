import { type APIRequestContext } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import {
  closeAll,
  expectMediaFromAll,
  peerId,
  peerIds,
  snapshot,
  startCoturn,
  type Coturn,
  type Participant,
  type TfxServer,
} from './support.js';

type WithStates = Window & { __states?: string[] };

/** Peer ids the server lists as present (no leftAt) in the room's live session. */
async function serverPeers(
  request: APIRequestContext,
  server: TfxServer,
  room: string,
): Promise<string[]> {
  const res = await request.get(`${server.url}/api/v1/sessions?state=live&room=${room}`, {
    headers: { authorization: `Bearer ${server.adminToken()}` },
    ignoreHTTPSErrors: true,
  });
  expect(res.ok()).toBe(true);
  const body = (await res.json()) as {
    items: Array<{ participants: Array<{ id: string; leftAt?: string }> }>;
  };
  return body.items.flatMap((s) => s.participants.filter((p) => !p.leftAt).map((p) => p.id)).sort();
}

const recordStates = (p: Participant): Promise<void> =>
  p.page.evaluate(() => {
    const w = window as WithStates;
    w.__states = [];
    window.__tfx!.room!.signalling.on('state', (s) => w.__states!.push(s));
  });

test('a signalling socket cut mid-call resumes: same peer id on the server, no peer-left, and a screen share started afterwards reaches the peer', async ({
  request,
  call,
  defer,
  startTfx,
}) => {
  const server = await startTfx();
  const room = call.room;
  const ps: Participant[] = [];
  defer(async () => {
    await closeAll(ps);
  });
  ps.push(
    await call.join('Ann', { base: server.url, room }),
    await call.join('Bob', { base: server.url, room }),
  );
  const [ann, bob] = ps as [Participant, Participant];
  for (const p of ps) await expectMediaFromAll(p, 1);
  const annId = await peerId(ann);
  const before = await ann.page.evaluate(() => window.__tfx!.room!.signalling.socket.id);
  await recordStates(ann);

  await ann.page.evaluate(() => window.__tfx!.room!.signalling.dropTransport());
  await expect
    .poll(() => ann.page.evaluate(() => (window as WithStates).__states))
    .toEqual(['reconnecting', 'connected']);
  expect(await ann.page.evaluate(() => window.__tfx!.room!.signalling.socket.id)).not.toBe(before);
  expect(await peerId(ann)).toBe(annId);
  expect(await serverPeers(request, server, room)).toEqual([annId, await peerId(bob)].sort());
  expect(
    await bob.page.evaluate(() => window.__tfx!.log.presence.filter((e) => e.event === 'left')),
  ).toEqual([]);
  expect(await peerIds(bob)).toEqual([annId]);

  // Signalling works after the resume: a new negotiation (screen share) reaches Bob.
  await ann.page.getByRole('button', { name: 'Present screen' }).click();
  await expect
    .poll(() =>
      bob.page.locator('.tile').evaluate((t) => {
        const v = t.querySelector('video.tile-screen') as HTMLVideoElement;
        return `${(t as HTMLElement).dataset.source} ${v.videoWidth}x${v.videoHeight}`;
      }),
    )
    .toBe('screen 1280x720');
  await expectMediaFromAll(bob, 1);
  expect(
    await bob.page.evaluate(() => window.__tfx!.log.presence.filter((e) => e.event === 'left')),
  ).toEqual([]);
});

test('a signalling cut longer than the grace period is seen as peer-left, and the page rejoins as a new peer', async ({
  call,
  defer,
  startTfx,
}) => {
  const server = await startTfx(['--signalling-resume-grace-ms', '2000']);
  const room = call.room;
  const ps: Participant[] = [];
  defer(async () => {
    await closeAll(ps);
  });
  ps.push(
    await call.join('Ann', { base: server.url, room }),
    await call.join('Bob', { base: server.url, room }),
  );
  const [ann, bob] = ps as [Participant, Participant];
  await expectMediaFromAll(bob, 1);
  const annId = await peerId(ann);
  // Cut Ann's network (Chromium's offline emulation refuses new WebSockets) and her socket.
  await ann.context.setOffline(true);
  await ann.page.evaluate(() => window.__tfx!.room!.signalling.dropTransport());
  await expect
    .poll(() =>
      bob.page.evaluate(() =>
        window.__tfx!.log.presence.filter((e) => e.event === 'left').map((e) => e.peer),
      ),
    )
    .toEqual([annId]);
  await expect(bob.page.locator('.tile')).toHaveCount(0);

  // The network comes back: the old resume token is refused, the page joins afresh.
  await ann.context.setOffline(false);
  await expect.poll(() => peerId(ann)).not.toBe(annId);
  await expect(bob.page.locator('.tile')).toHaveCount(1);
  await expectMediaFromAll(bob, 1);
  await expectMediaFromAll(ann, 1);
});

test('relay only through a real coturn with server-minted credentials; coturn killed and restarted: ICE restarts, media flows again, and the quality indicator showed the outage', async ({
  call,
  defer,
  startTfx,
}) => {
  const secret = `s${Math.random().toString(36).slice(2)}`;
  const port = 40000 + Math.floor(Math.random() * 20000);
  let coturn: Coturn | undefined = await startCoturn(port, secret);
  const server = await startTfx([
    '--turn-secret',
    secret,
    '--turn-urls',
    `turn:127.0.0.1:${port}?transport=udp`,
  ]);
  const room = call.room;
  const ps: Participant[] = [];
  defer(async () => {
    await closeAll(ps);
    await coturn?.stop();
  });
  ps.push(
    await call.join('Ann', { base: server.url, room, params: { relay: true } }),
    await call.join('Bob', { base: server.url, room, params: { relay: true } }),
  );
  for (const p of ps) {
    // The ICE servers came from the server: REST credentials `<expiry>:<peer id>`.
    const ice = await p.page.evaluate(() => window.__tfx!.room!.iceServers);
    expect(ice.some((s) => /^\d+:/.test(s.username ?? ''))).toBe(true);
    const s = await expectMediaFromAll(p, 1);
    expect([s[0]!.local, s[0]!.remote]).toEqual(['relay', 'relay']);
  }

  // Let the credentials age past the SDK's freshness window (30 s), so the ICE restart must
  // fetch new ones first (through a signalling resume).
  const joinedAt = Date.now();
  const usernames = () =>
    Promise.all(
      ps.map((p) =>
        p.page.evaluate(() => window.__tfx!.room!.iceServers.map((s) => s.username ?? '').join()),
      ),
    );
  const before = await usernames();
  await ps[0]!.page.waitForTimeout(Math.max(0, 31_000 - (Date.now() - joinedAt)));

  await coturn.kill();
  coturn = undefined;
  for (const p of ps) await expect(p.page.locator('.tile')).toHaveAttribute('data-quality', 'lost');

  coturn = await startCoturn(port, secret);
  for (const p of ps) {
    await expect
      .poll(() => p.page.evaluate(() => window.__tfx!.peers[0]!.connectionState), {
        timeout: 60_000,
      })
      .toBe('connected');
    const s = await expectMediaFromAll(p, 1);
    expect([s[0]!.local, s[0]!.remote]).toEqual(['relay', 'relay']);
    await expect(p.page.locator('.tile')).not.toHaveAttribute('data-quality', 'lost');
    expect(await p.page.evaluate(() => window.__tfx!.log.quality.map((q) => q.quality))).toContain(
      'lost',
    );
  }
  const restarts = await Promise.all(
    ps.map((p) => p.page.evaluate(() => window.__tfx!.peers[0]!.link!.counters.iceRestarts)),
  );
  expect(restarts[0]! + restarts[1]!).toBeGreaterThan(0);
  // The restart came with fresh TURN credentials (a later expiry in the REST username).
  const after = await usernames();
  expect(after[0] !== before[0] || after[1] !== before[1]).toBe(true);
  // Frames keep rising after the restart (second proof, a little later).
  for (const p of ps) expect((await snapshot(p))[0]!.frames).toBeGreaterThan(0);
});
