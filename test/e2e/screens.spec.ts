import { test, expect } from './fixtures/index.js';
import { closeAll, expectMediaFromAll, roomUrl, uniqueRoom, type Participant } from './support.js';

test.use({ serverArgs: ['--signalling-room-capacity', '2'] });

test('a third person gets the “room is full” screen when capacity is 2', async ({
  browser,
  call,
  defer,
  server,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  try {
    ps.push(await call.join('Ann', { room }), await call.join('Bob', { room }));
  } catch (err) {
    await closeAll(ps);
    throw err;
  }
  const cidCtx = await browser.newContext();
  defer(async () => {
    await cidCtx.close();
    await closeAll(ps);
  });
  const cid = await cidCtx.newPage();
  await cid.goto(roomUrl(server.url, room, 'Cid'));
  await expect(cid.locator('#app')).toHaveAttribute('data-screen', 'room-full');
  await expect(cid.getByRole('heading', { name: 'This room is full' })).toBeVisible();
  await expect(cid.getByRole('button', { name: 'Try again' })).toBeVisible();
  // Once someone leaves, "Try again" gets in.
  await ps[1]!.page.getByRole('button', { name: 'Leave call' }).click();
  await expect(ps[0]!.page.locator('.tile')).toHaveCount(0);
  await cid.getByRole('button', { name: 'Try again' }).click();
  await expect(cid.locator('#app')).toHaveAttribute('data-screen', 'call');
});

test('a room made on the home page with a password asks for it, refuses a wrong one, and accepts the right one', async ({
  browser,
  defer,
  server,
}) => {
  const room = uniqueRoom('pw');
  const ps: Participant[] = [];
  const annCtx = await browser.newContext();
  defer(async () => {
    await annCtx.close();
    await closeAll(ps);
  });
  // Ann creates the room on the home page, with a password, and joins through the pre-join screen.
  const ann = await annCtx.newPage();
  await ann.goto(server.url);
  await ann.getByLabel('Room name').fill(room);
  await ann.getByLabel('Password').fill('open sesame');
  await ann.getByRole('button', { name: 'Use this name' }).click();
  await expect(ann.getByLabel('Room link')).toHaveValue(`${server.url}/r/${room}`);
  await ann.getByRole('link', { name: 'Join now' }).click();
  await expect(ann.locator('#app')).toHaveAttribute('data-screen', 'prejoin');
  await ann.getByLabel('Your name').fill('Ann');
  await ann.getByRole('button', { name: 'Join call' }).click();
  await expect(ann.locator('#app')).toHaveAttribute('data-screen', 'call');

  // Bob follows the link: asked for the password; a wrong one is refused.
  const bobCtx = await browser.newContext();
  const bob = await bobCtx.newPage();
  ps.push({ name: 'Bob', context: bobCtx, page: bob });
  await bob.goto(roomUrl(server.url, room, 'Bob'));
  await expect(bob.locator('#app')).toHaveAttribute('data-screen', 'wrong-password');
  await expect(bob.getByRole('heading', { name: 'Password required' })).toBeVisible();
  await bob.getByLabel('Password').fill('guess');
  await bob.getByRole('button', { name: 'Join' }).click();
  await expect(bob.getByText('That password is not right')).toBeVisible();
  await bob.getByLabel('Password').fill('open sesame');
  await bob.getByRole('button', { name: 'Join' }).click();
  await expect(bob.locator('#app')).toHaveAttribute('data-screen', 'call');
  await expectMediaFromAll({ name: 'Bob', context: bobCtx, page: bob }, 1);
});

test('a room created with an expiry refuses joins after it: “room expired”', async ({
  browser,
  request,
  call,
  defer,
  server,
}) => {
  const room = call.room;
  const expiresAt = Date.now() + 4000;
  const res = await request.post(`${server.url}/api/v1/rooms`, {
    headers: { authorization: `Bearer ${server.adminToken()}` },
    data: { name: room, expiresAt: new Date(expiresAt).toISOString() },
    ignoreHTTPSErrors: true,
  });
  expect(res.status()).toBe(201);
  const created = (await res.json()) as { url: string };
  expect(created.url).toBe(`${server.url}/r/${room}`);
  // Ann is in before the expiry (the server forgets an expired room once it is empty).
  const ps: Participant[] = [await call.join('Ann', { room })];
  const ctx = await browser.newContext();
  defer(async () => {
    await ctx.close();
    await closeAll(ps);
  });
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 500)));
  const page = await ctx.newPage();
  await page.goto(roomUrl(server.url, room, 'Bob'));
  await expect(page.locator('#app')).toHaveAttribute('data-screen', 'room-expired');
  await expect(page.getByRole('heading', { name: 'This room has expired' })).toBeVisible();
  await page.getByRole('button', { name: 'Start a new call' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
});

test('without a camera the pre-join screen says so and the call goes on with audio only', async ({
  browser,
  call,
  defer,
  server,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const ctx = await browser.newContext();
  defer(async () => {
    await ctx.close();
    await closeAll(ps);
  });
  await ctx.addInitScript(() => {
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (c?: MediaStreamConstraints) =>
      c?.video
        ? Promise.reject(new DOMException('Requested device not found', 'NotFoundError'))
        : gum(c);
  });
  const ann = await ctx.newPage();
  await ann.goto(roomUrl(server.url, room, 'Ann', { autojoin: false }));
  await expect(ann.locator('#media-warning')).toContainText('No camera was found');
  await expect(ann.locator('#media-warning')).toContainText('microphone only');
  await ann.getByRole('button', { name: 'Join call' }).click();
  await expect(ann.locator('#app')).toHaveAttribute('data-screen', 'call');
  ps.push(await call.join('Bob', { room }));
  await expect(ps[0]!.page.locator('.tile')).toHaveAttribute('data-video', 'off');
  await expect(ps[0]!.page.locator('.tile')).toHaveAttribute('data-audio', 'on');
  // Ann still receives Bob's video.
  await expectMediaFromAll({ name: 'Ann', context: ctx, page: ann }, 1);
});

test('with camera and microphone permission denied, the person joins receive-only and still sees the others', async ({
  browser,
  call,
  defer,
  server,
}) => {
  const room = call.room;
  const ps: Participant[] = [];
  const ctx = await browser.newContext();
  defer(async () => {
    await ctx.close();
    await closeAll(ps);
  });
  await ctx.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  ps.push(await call.join('Bob', { room }));
  const ann = await ctx.newPage();
  await ann.goto(roomUrl(server.url, room, 'Ann', { autojoin: false }));
  await expect(ann.locator('#media-warning')).toContainText('blocked');
  await expect(ann.locator('#media-warning')).toContainText('see and hear the others');
  await ann.getByRole('button', { name: 'Join call' }).click();
  await expect(ann.locator('#app')).toHaveAttribute('data-screen', 'call');
  await expectMediaFromAll({ name: 'Ann', context: ctx, page: ann }, 1);
  await expect(ps[0]!.page.locator('.tile')).toHaveAttribute('data-video', 'off');
});
