/**
 * The web app's own "Call a phone" dial pad (issue #20, item 5), end to end through the SBC on the
 * built-in engine. The page is `/dial.html`, built on the SDK's SIP client (`@tfx/sdk/sip`); it
 * signs in over WSS `/sip` (the `webrtc: true` public zone) with digest against `sip.users`, and
 * sipp is the phone in the trusted core zone:
 * - the dial pad's keypad dials a sipp UAS running `-rtp_echo` through the SBC's routes: the call
 *   connects, the browser's inbound audio energy rises (its fake microphone comes back), keypad
 *   presses during the call go out as DTMF, Hang up sends BYE (the sipp scenario needs it to pass);
 * - a sipp UAC playing `g711a.pcap` calls the signed-in browser (registered by the SDK's client):
 *   the dial pad shows the ringing notice, Answer connects, inbound audio rises, the phone's BYE
 *   ends the call;
 * - with `gateway.roomDialOut: acme`: an anonymous participant of a room (not its moderator),
 *   on a 390 px wide window, opens the dial pad from the call's controls (an overlay of the call
 *   page, loaded on demand) and is refused with the message, no call reaching the SBC; the
 *   room's moderator opens it too, gets a short-lived credential billed to acme, and calls the
 *   echo phone through the SBC (audio rises, the CDR's caller is acme, BYE on hang-up) while the
 *   room call goes on: after the hang-up its peer is still connected and its audio still arrives;
 * - screenshots of the dial pad at 1280 and 390 px wide, alone and over a call, go to docs/img/.
 * One browser context. Run inside the loopback namespace after `npm run build`:
 *   /work/shared/tools/netns npx playwright test test/e2e/gateway-dialpad.spec.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIRequestContext, Page } from '@playwright/test';
import type { SbcCallList } from '@tfx/protocol';
import { test, expect } from './fixtures/index.js';
import {
  toneMicrophone,
  zoneYaml,
  randomPort,
  echoTrunk,
  pcapPhone,
  sbcZones,
} from './sbc-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMG = join(ROOT, 'docs/img/');
// 127.0.47.x: this slice's own loopback addresses (other tests use others at the same time).
const PUBLIC = '127.0.47.20';
const CORE = '127.0.47.10';
const PHONE = '127.0.47.21';
const TRUNK = '127.0.47.11';
const DOMAIN = 'tfx.test';
const USER = 'carol';
const PASSWORD = 'carol-secret-3';
/** The account billed for room dial-out (gateway.roomDialOut). */
const BILLED = 'acme';
const ANONYMOUS_REFUSAL =
  'Anonymous room participants cannot dial out. Sign in with a SIP account to call a phone.';

const dir = mkdtempSync(join(tmpdir(), 'tfx-dialpad-'));

test.use({ launchOptions: toneMicrophone(dir, 90) });

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(trunkPort: number, mediaMin: number): string {
  const file = join(dir, `tfx-${mediaMin}.yaml`);
  writeFileSync(
    file,
    [
      'media:',
      `  portMin: ${mediaMin}`,
      `  portMax: ${mediaMin + 39}`,
      '  workers: 1',
      'sip:',
      '  port: 0',
      '  tlsPort: 0',
      `  domain: ${DOMAIN}`,
      `  users: [{ username: ${USER}, password: ${PASSWORD} }, { username: ${BILLED}, password: acme-secret-1 }]`,
      'gateway:',
      `  roomDialOut: ${BILLED}`,
      'sbc:',
      '  zones:',
      ...zoneYaml('public', PUBLIC, 'webrtc: true'),
      ...zoneYaml('core', CORE, 'trusted: true'),
      '  trunks:',
      `    - { name: carrier-a, zone: core, uri: "sip:${TRUNK}:${trunkPort}" }`,
      '  routes:',
      '    - { match: { zone: public }, to: [carrier-a] }',
      '',
    ].join('\n'),
  );
  return file;
}

const status = (page: Page): Promise<string> => page.locator('#call-status').innerText();

/** The tone the dial pad plays now (ring.ts): 'ring', 'ringback' or 'off'. */
const tone = (page: Page): Promise<string> =>
  page.evaluate(
    () =>
      (window as unknown as { __tfxPhone: { tones?: { state: string } } }).__tfxPhone.tones
        ?.state ?? 'off',
  );

/** The dial pad's call's inbound audio (getStats on the SDK call's peer connection). */
const inbound = (page: Page): Promise<{ energy: number; packets: number }> =>
  page.evaluate(async () => {
    const dbg = (
      window as unknown as { __tfxPhone: { call?: { peerConnection?: RTCPeerConnection } } }
    ).__tfxPhone;
    const pc = dbg.call?.peerConnection;
    if (!pc) return { energy: 0, packets: 0 };
    let energy = 0;
    let packets = 0;
    (await pc.getStats()).forEach(
      (s: { type: string; kind?: string; totalAudioEnergy?: number; packetsReceived?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          energy = s.totalAudioEnergy ?? 0;
          packets = s.packetsReceived ?? 0;
        }
      },
    );
    return { energy, packets };
  });

/** Inbound audio rises: packets and energy both grow between two readings (no timing check). */
async function expectAudioRising(page: Page): Promise<{ energy: number; packets: number }> {
  await expect
    .poll(async () => (await inbound(page)).packets, { timeout: 30_000 })
    .toBeGreaterThan(50);
  const first = await inbound(page);
  await expect
    .poll(async () => (await inbound(page)).energy, { timeout: 30_000 })
    .toBeGreaterThan(first.energy);
  const later = await inbound(page);
  expect(later.packets).toBeGreaterThan(first.packets);
  return later;
}

/** The connection state of each of the room's other participants (the call page's `__tfx`). */
const roomPeers = (p: Page): Promise<string[]> =>
  p.evaluate(() => window.__tfx!.peers.map((x) => x.connectionState));

/** Audio bytes received in the room call from its other participants. */
const roomInbound = (p: Page): Promise<number> =>
  p.evaluate(async () => {
    const h = window.__tfx!;
    let bytes = 0;
    for (const peer of h.peers) {
      const s = await h.room!.getStats(peer.id);
      for (const i of s?.inbound ?? []) if (i.kind === 'audio') bytes += i.bytesReceived;
    }
    return bytes;
  });

async function sbcCalls(
  api: APIRequestContext,
  base: string,
  headers: Record<string, string>,
): Promise<SbcCallList['calls']> {
  return ((await (await api.get(`${base}/api/v1/sbc/calls`, { headers })).json()) as SbcCallList)
    .calls;
}

test('the dial pad signs in with a SIP account, calls a sipp echo phone through the SBC and hangs up; a sipp phone calls it and it answers from the ringing notice; an anonymous room participant is refused and the room moderator dials out billed to gateway.roomDialOut', async ({
  page,
  request,
  startTfx,
  defer,
}) => {
  test.setTimeout(300_000);
  const trunkPort = randomPort(21000, 8000);
  const mediaMin = randomPort(42000, 8000);
  const server = await startTfx(['--config', config(trunkPort, mediaMin), '--sip-enabled']);
  const auth = { authorization: `Bearer ${server.adminToken()}` };
  const zones = await sbcZones(request, server);
  const corePort = zones.zones.find((z) => z.name === 'core')!.listeners[0]!.port;

  const pageLog: string[] = [];
  page.on('console', (m) => pageLog.push(m.text()));
  defer(() => {
    if (test.info().status === test.info().expectedStatus) return;
    console.log(server.logs.filter((l) => /sbc|sip|media|error/i.test(l)).join('\n'));
    console.log(pageLog.join('\n'));
  });

  // 0. The home page leads to the dial pad.
  await page.goto(server.url);
  await page.locator('#call-a-phone').click();
  await expect(page).toHaveURL(/\/dial\.html$/);
  await expect(page.locator('h1')).toHaveText('Call a phone');

  // Calling before signing in is refused with a sentence, and nothing is sent.
  await page.locator('#dial-target').fill('4420001');
  await page.locator('#dial-call').click();
  await expect(page.locator('#call-status')).toHaveText(
    'Sign in with a SIP account to call a phone.',
  );
  await page.locator('#dial-target').fill('');

  // A wrong password: the zone's digest refuses it (403), the form says so.
  await page.locator('#sip-account').fill(`${USER}@${DOMAIN}`);
  await page.locator('#sip-password').fill('not-the-password');
  await page.locator('#sip-sign-in').click();
  await expect(page.locator('#sign-in-error')).toHaveText(
    'Sign-in failed: wrong user name or password',
  );

  // 1. Signed in (REGISTER with digest over WSS), the keypad dials the echo phone.
  await page.locator('#sip-password').fill(PASSWORD);
  await page.locator('#sip-sign-in').click();
  await expect(page.locator('#signed-in')).toContainText(`${USER}@${DOMAIN}`);

  const trunkMedia = randomPort(30000, 4000);
  const uas = echoTrunk({ address: TRUNK, port: trunkPort, media: trunkMedia }, 150);
  defer(() => uas.child.exitCode === null && uas.child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
  for (const key of '4420001') await page.locator(`.key[data-key="${key}"]`).click();
  await expect(page.locator('#dial-target')).toHaveValue('4420001');
  await page.locator('#dial-call').click();
  await expect(page.locator('#call-status')).toContainText('Connected', { timeout: 45_000 });
  const echoed = await expectAudioRising(page);
  // It is the SBC's call, public → core.
  await expect
    .poll(
      async () =>
        (await sbcCalls(request, server.url, auth)).map((c) => [c.state, c.a.zone, c.b.zone]),
      {
        timeout: 30_000,
      },
    )
    .toEqual([['confirmed', 'public', 'core']]);
  // Keypad presses during the call go out as DTMF (RTCDTMFSender.insertDTMF).
  await page.locator('.key[data-key="1"]').click();
  await expect(page.locator('#call-status')).toContainText('sent 1');
  await page.locator('.key[data-key="#"]').click();
  // The digits sent stay on the status line with the call's duration.
  await expect(page.locator('#call-status')).toContainText('sent 1#');
  await expect(page.locator('#dial-target')).toHaveValue('4420001'); // not typed into the number
  await page.screenshot({ path: join(IMG, 'dialpad-1280.png'), fullPage: true });
  await page.locator('#dial-hangup').click();
  await expect(page.locator('#call-status')).toHaveText('Call ended: Hung up');
  const trunk = await uas.done;
  // uas-echo.xml passes only when the BYE arrived (and was answered).
  expect(trunk.code, `uas sipp:\n${trunk.output}`).toBe(0);
  await expect.poll(async () => (await sbcCalls(request, server.url, auth)).length).toBe(0);

  // 2. A phone calls the browser registered by the SDK's client: the ringing notice, Answer.
  const phoneMedia = randomPort(34000, 4000);
  const uac = pcapPhone(
    {
      target: `${CORE}:${corePort}`,
      address: PHONE,
      media: phoneMedia,
      caller: 'dave',
      service: USER,
      pauseMs: 20000,
    },
    150,
  );
  defer(() => uac.child.exitCode === null && uac.child.kill('SIGKILL'));
  await expect(page.locator('#dial-answer')).toBeVisible({ timeout: 30_000 });
  expect(await status(page)).toMatch(/^Incoming call from .*dave/);
  expect(await tone(page)).toBe('ring'); // the ring plays while it rings (ring.ts)
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(IMG, 'dialpad-390-incoming.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator('#dial-answer').click();
  await expect(page.locator('#call-status')).toContainText('Connected', { timeout: 30_000 });
  expect(await tone(page)).toBe('off');
  const heard = await expectAudioRising(page);
  await expect
    .poll(
      async () =>
        (await sbcCalls(request, server.url, auth)).map((c) => [c.state, c.a.zone, c.b.zone]),
      {
        timeout: 30_000,
      },
    )
    .toEqual([['confirmed', 'core', 'public']]);
  const phone = await uac.done;
  expect(phone.code, `uac sipp:\n${phone.output}`).toBe(0);
  await expect(page.locator('#call-status')).toHaveText('Call ended: The other side hung up');

  // 3. A room: its first joiner is its moderator; the second is an anonymous participant. The
  //    Phone button opens the dial pad over the call page (loaded on demand), the room call
  //    going on underneath.
  const room = `dial-${Date.now().toString(36)}`;
  const moderator = await page.context().newPage();
  await moderator.goto(`${server.url}/r/${room}?name=Mod&autojoin=1&video=0`);
  await expect(moderator.locator('#open-dialpad')).toBeAttached({ timeout: 30_000 });
  const guest = await page.context().newPage();
  // The guest on a phone-sized window: the Phone button sits in the More sheet there.
  await guest.setViewportSize({ width: 390, height: 844 });
  await guest.goto(`${server.url}/r/${room}?name=Guest&autojoin=1&video=0`);
  await expect(guest.locator('#open-dialpad')).toBeAttached({ timeout: 30_000 });
  await expect.poll(() => roomPeers(moderator), { timeout: 30_000 }).toEqual(['connected']);
  if (await guest.locator('#more-controls').isVisible())
    await guest.locator('#more-controls').click();
  await guest.locator('#open-dialpad').click();
  await expect(guest.locator('#dial-overlay')).toBeVisible({ timeout: 30_000 });
  await expect(guest.locator('#dial-overlay .dial-sub')).toContainText(`From room ${room}`);
  await guest.locator('#dial-target').fill('4420001');
  await guest.locator('#dial-call').click();
  await expect(guest.locator('#call-status')).toHaveText(ANONYMOUS_REFUSAL);
  await guest.screenshot({ path: join(IMG, 'dialpad-390-room.png') });
  expect(await sbcCalls(request, server.url, auth)).toEqual([]);
  // Close hides the pad; the guest is still in the room.
  await guest.locator('#dialpad-close').click();
  await expect(guest.locator('#dial-overlay')).toBeHidden();
  await expect(guest.locator('#leave')).toBeAttached();

  // The moderator's dial pad: a dial-out credential billed to acme, and the call goes through
  // while the room call with the guest goes on.
  const uas2 = echoTrunk({ address: TRUNK, port: trunkPort, media: trunkMedia }, 150);
  defer(() => uas2.child.exitCode === null && uas2.child.kill('SIGKILL'));
  const roomBefore = await roomInbound(moderator);
  await moderator.locator('#open-dialpad').click();
  await expect(moderator.locator('#dial-overlay')).toBeVisible({ timeout: 30_000 });
  await expect(moderator.locator('#billed-account')).toHaveText(`${BILLED}@${DOMAIN}`, {
    timeout: 30_000,
  });
  expect(moderator.url()).not.toContain('moderator='); // the token never was in the address bar
  await moderator.locator('#dial-target').fill('4420001');
  await moderator.locator('#dial-call').click();
  await expect(moderator.locator('#call-status')).toContainText('Connected', { timeout: 45_000 });
  const roomEcho = await expectAudioRising(moderator);
  await moderator.screenshot({ path: join(IMG, 'dialpad-room-1280.png') });
  await moderator.locator('#dial-hangup').click();
  await expect(moderator.locator('#call-status')).toHaveText('Call ended: Hung up');
  const trunk2 = await uas2.done;
  expect(trunk2.code, `uas sipp:\n${trunk2.output}`).toBe(0);
  // The room call is still connected, its audio from the guest still arriving.
  expect(await roomPeers(moderator)).toEqual(['connected']);
  await expect.poll(() => roomInbound(moderator), { timeout: 30_000 }).toBeGreaterThan(roomBefore);
  await expect(moderator.locator('#dial-overlay')).toBeVisible();
  await moderator.locator('#dialpad-close').click();
  await expect(moderator.locator('#dial-overlay')).toBeHidden();
  await guest.close();
  // The call was billed to the account: the CDR's caller is acme.
  await expect
    .poll(
      async () => {
        const r = await request.get(`${server.url}/api/v1/sbc/cdrs`, { headers: auth });
        const cdrs = ((await r.json()) as { cdrs: Array<{ caller: { from?: string } }> }).cdrs;
        return cdrs.map((c) => c.caller.from);
      },
      { timeout: 30_000 },
    )
    .toContain(BILLED);

  const fig = (e: { packets: number; energy: number }): string =>
    `${e.packets} packets, energy ${e.energy.toFixed(3)}`;
  const figures = `echo: ${fig(echoed)}; pcap: ${fig(heard)}; room dial-out echo: ${fig(roomEcho)}`;
  console.log(`gateway-dialpad inbound audio — ${figures}`);
  test.info().annotations.push({ type: 'inbound audio', description: figures });
});
