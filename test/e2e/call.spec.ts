import { test, expect } from './fixtures/index.js';
import { expectMediaFromAll, peerId, peerIds, type Participant } from './support.js';

test('two people in a room see and hear each other', async ({ call }) => {
  const ps = await call(['Ann', 'Bob']);
  for (const p of ps) await expectMediaFromAll(p, 1);
  // Names are shown on the tiles, and audio arrives too.
  await expect(ps[0]!.page.locator('.tile .tile-name')).toHaveText('Bob');
  await expect(ps[1]!.page.locator('.tile .tile-name')).toHaveText('Ann');
  const audio = await ps[0]!.page.evaluate(async () => {
    const h = window.__tfx!;
    const s = await h.room!.getStats(h.peers[0]!.id);
    return (
      s?.inbound.filter((i) => i.kind === 'audio').reduce((a, i) => a + i.bytesReceived, 0) ?? 0
    );
  });
  expect(audio).toBeGreaterThan(0);
});

test('a 3-party and then 4-party mesh connects everyone to everyone, and a peer leaving updates every grid', async ({
  call,
}) => {
  const ps: Participant[] = await call(['Ann', 'Bob', 'Cid']);
  for (const p of ps) await expectMediaFromAll(p, 2);
  ps.push(await call.join('Dee'));
  for (const p of ps) await expectMediaFromAll(p, 3);
  for (const p of ps) await expect(p.page.locator('.tile')).toHaveCount(3);
  // Each camera sender is capped for a 4-way mesh (three peers: cameraCaps(3) = 600 kbit/s at 24 fps).
  for (const p of ps) {
    await expect
      .poll(() =>
        p.page.evaluate(() =>
          window.__tfx!.peers.map((x) => {
            const e = x.link!.senderFor('camera')!.getParameters().encodings[0];
            return `${e?.maxBitrate}@${e?.maxFramerate}`;
          }),
        ),
      )
      .toEqual(['600000@24', '600000@24', '600000@24']);
  }

  // Everyone's peers are exactly the other three.
  const ids = await Promise.all(ps.map(peerId));
  for (const [i, p] of ps.entries())
    expect(await peerIds(p)).toEqual(ids.filter((_, j) => j !== i).sort());

  // Cid leaves with the Leave button: every remaining grid drops its tile.
  const leaver = ps[2]!;
  const leaverId = ids[2]!;
  await leaver.page.getByRole('button', { name: 'Leave call' }).click();
  await expect(leaver.page.locator('#app')).toHaveAttribute('data-screen', 'left');
  for (const p of [ps[0]!, ps[1]!, ps[3]!]) {
    await expect(p.page.locator('.tile')).toHaveCount(2);
    await expect(p.page.locator(`.tile[data-peer="${leaverId}"]`)).toHaveCount(0);
    await expect(p.page.locator('#participant-count')).toHaveText('3');
    await expectMediaFromAll(p, 2);
  }
});
