/**
 * baresip (Debian's `baresip-core`) as a second real phone against a browser through the SBC
 * (issue #20), on the built-in engine, and the dial pad's ring. The browser is `/dial.html`
 * signed in over WSS `/sip` (the `webrtc: true` public zone) with digest by the SDK's SIP client
 * (SIP.js); its fake microphone plays 440 Hz. baresip sits in the trusted core zone as a trunk
 * (`baresip-support.ts`: its own config dir, `aufile` playing 1 kHz as its microphone, G.711, the
 * `sndfile` dumps, no ALSA, driven over `ctrl_tcp`):
 * 1. baresip calls the browser and hangs up while it rings (CANCEL): the dial pad rings — its
 *    WebAudio ring is heard on its AnalyserNode at 400/450 Hz — and the ring stops when the
 *    caller gives up; it calls again and the browser declines: the ring stops too;
 * 2. baresip calls again; the ring starts, Answer stops it, the call connects: the browser's
 *    inbound audio (packets, totalAudioEnergy) rises, and baresip's decoded dump holds the
 *    browser's microphone (sox RMS of its last 1.5 s above −30 dB, the floor);
 * 3. the browser's dial pad calls baresip, which rings (manual answer, a 180 without SDP) and the
 *    zone plays no ringback (`tones` off, the default): the page plays its own ringback (440 +
 *    480 Hz on its analyser); baresip answers, the ringback stops, audio rises both ways, the
 *    browser hangs up and baresip sees the BYE;
 * 4. the same against a second server whose webrtc zone has `tones: { ringback: true }`: the SBC
 *    turns the 180 into a 183 with its own ringback in the media, the browser hears it in the
 *    call's inbound audio and the page plays none of its own — no double ringback.
 * One browser context; loopback 127.0.43.x. Run inside the loopback namespace after a build:
 *   /work/shared/tools/netns npx playwright test test/e2e/gateway-baresip.spec.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import { toneMicrophone, zoneYaml, randomPort, sbcZones } from './sbc-support.js';
import { Baresip, dumpLevel, type DumpLevel } from './baresip-support.js';

const PUBLIC = '127.0.43.20';
const CORE = '127.0.43.10';
const PHONE = '127.0.43.21';
const DOMAIN = 'tfx.test';
const USER = 'carol';
const PASSWORD = 'carol-secret-3';
/** baresip's number (its account's user, so that it takes the call the SBC routes to it). */
const BARESIP_NUMBER = '4420002';
/** The lowest RMS level (dB) of baresip's decoded dump that counts as "it heard the browser". */
const RMS_FLOOR_DB = -30;

const dir = mkdtempSync(join(tmpdir(), 'tfx-baresip-e2e-'));
test.use({ launchOptions: toneMicrophone(dir, 120) });
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The server's config; `sbcRingback`: the webrtc zone plays ringback itself on a 180. */
function config(phonePort: number, mediaMin: number, sbcRingback: boolean): string {
  const file = join(dir, `tfx-${sbcRingback ? 'ringback' : 'plain'}.yaml`);
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
      `  users: [{ username: ${USER}, password: ${PASSWORD} }]`,
      'sbc:',
      '  zones:',
      ...zoneYaml(
        'public',
        PUBLIC,
        'webrtc: true',
        ...(sbcRingback ? ['tones: { ringback: true }'] : []),
      ),
      ...zoneYaml('core', CORE, 'trusted: true'),
      '  trunks:',
      `    - { name: baresip, zone: core, uri: "sip:${BARESIP_NUMBER}@${PHONE}:${phonePort}" }`,
      '  routes:',
      '    - { match: { zone: public }, to: [baresip] }',
      '',
    ].join('\n'),
  );
  return file;
}

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

/** The tone the dial pad plays now (ring.ts): 'ring', 'ringback' or 'off'. */
const tone = (page: Page): Promise<string> =>
  page.evaluate(
    () =>
      (window as unknown as { __tfxPhone: { tones?: { state: string } } }).__tfxPhone.tones
        ?.state ?? 'off',
  );

/**
 * The ring's level (dB) at 400 and 450 Hz on the tone player's AnalyserNode, against 1 kHz (no
 * tone there): the WebAudio ring is really being played, not just flagged.
 */
const ringLevel = (page: Page): Promise<{ at400: number; at450: number; at1000: number }> =>
  page.evaluate(() => {
    const a = (window as unknown as { __tfxPhone: { tones?: { analyser?: AnalyserNode } } })
      .__tfxPhone.tones?.analyser;
    if (!a) return { at400: -Infinity, at450: -Infinity, at1000: -Infinity };
    const bins = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(bins);
    const hz = a.context.sampleRate / a.fftSize;
    const peak = (f: number): number => {
      const i = Math.round(f / hz);
      return Math.max(bins[i - 1] ?? -Infinity, bins[i] ?? -Infinity, bins[i + 1] ?? -Infinity);
    };
    return { at400: peak(400), at450: peak(450), at1000: peak(1000) };
  });

async function expectRinging(page: Page): Promise<void> {
  await expect(page.locator('#dial-answer')).toBeVisible({ timeout: 45_000 });
  expect(await page.locator('#call-status').innerText()).toMatch(/^Incoming call from /);
  expect(await tone(page)).toBe('ring');
  // The cadence is 0.8 s of sound in 2.8 s: poll until a reading falls in the sound.
  await expect
    .poll(
      async () => {
        const l = await ringLevel(page);
        return l.at400 > -50 && l.at450 > -50 && l.at400 > l.at1000 + 20;
      },
      { timeout: 20_000 },
    )
    .toBe(true);
}

/** Signs the dial pad in at `base` (REGISTER with digest over WSS). */
async function signIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/dial.html`);
  await page.locator('#sip-account').fill(`${USER}@${DOMAIN}`);
  await page.locator('#sip-password').fill(PASSWORD);
  await page.locator('#sip-sign-in').click();
  await expect(page.locator('#signed-in')).toContainText(`${USER}@${DOMAIN}`, {
    timeout: 30_000,
  });
  expect(await tone(page)).toBe('off');
}

/** The ringback's level (dB) at 440 and 480 Hz on the tone player's analyser (ring.ts). */
const ringbackHeard = async (page: Page): Promise<boolean> => {
  const l = await page.evaluate(() => {
    const a = (window as unknown as { __tfxPhone: { tones?: { analyser?: AnalyserNode } } })
      .__tfxPhone.tones?.analyser;
    if (!a) return [-Infinity, -Infinity, -Infinity];
    const bins = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(bins);
    const hz = a.context.sampleRate / a.fftSize;
    return [440, 480, 1000].map((f) => bins[Math.round(f / hz)] ?? -Infinity);
  });
  const [a440, a480, a1000] = l as [number, number, number];
  return a440 > -50 && a480 > -50 && a440 > a1000 + 20;
};

/**
 * The dial pad calls baresip (manual answer: it rings), then baresip answers and the page hangs
 * up. While it rings: either the far side's ringing came without media and the page plays its
 * own ringback (heard on its analyser), or the SBC sent early media (its ringback, heard in the
 * call's inbound audio) and the page plays none. Returns which, what the browser heard and
 * baresip's decoded dump of the browser's microphone (its last 1.5 s above the floor).
 */
async function browserCallsBaresip(
  page: Page,
  phone: Baresip,
): Promise<{
  early: boolean;
  ringback: string;
  ringbackAudio?: { energy: number; packets: number };
  heard: { energy: number; packets: number };
  level: DumpLevel;
}> {
  const dumps = phone.decodedDumps().length;
  let mark = phone.mark;
  await page.locator('#dial-target').fill(BARESIP_NUMBER);
  await page.locator('#dial-call').click();
  await phone.event('CALL_INCOMING', mark);
  await expect(page.locator('#call-status')).toHaveText(/^Ringing/, { timeout: 30_000 });
  const early = await page.evaluate(
    () =>
      (window as unknown as { __tfxPhone: { call?: { earlyMedia: boolean } } }).__tfxPhone.call
        ?.earlyMedia === true,
  );
  let ringbackAudio: { energy: number; packets: number } | undefined;
  if (early) {
    ringbackAudio = await expectAudioRising(page); // the SBC's ringback, heard in the call
    expect(await tone(page)).toBe('off'); // …and not doubled by the page
  } else {
    expect(await tone(page)).toBe('ringback');
    await expect.poll(() => ringbackHeard(page), { timeout: 20_000 }).toBe(true);
  }
  expect((await phone.command('accept')).ok, phone.output).toBe(true);
  await phone.event('CALL_ESTABLISHED', mark);
  await expect(page.locator('#call-status')).toContainText('Connected', { timeout: 30_000 });
  expect(await tone(page)).toBe('off');
  const heard = await expectAudioRising(page);
  await phone.decodedAtLeast(4, dumps);
  mark = phone.mark;
  await page.locator('#dial-hangup').click();
  await expect(page.locator('#call-status')).toHaveText('Call ended: Hung up');
  await phone.event('CALL_CLOSED', mark);
  const all = phone.decodedDumps();
  const level = dumpLevel(all[all.length - 1] as string, 1.5);
  expect(level.seconds, phone.output).toBeGreaterThan(3);
  expect(level.rmsDb, phone.output).toBeGreaterThan(RMS_FLOOR_DB);
  return {
    early,
    ringback: early ? "the SBC's (page tone off)" : "the page's own (SBC sent none)",
    ...(ringbackAudio && { ringbackAudio }),
    heard,
    level,
  };
}

test('baresip calls a browser registered over WSS (it rings, stops on CANCEL, on Decline, is answered) and the browser calls baresip (the page’s ringback, or the SBC’s and not doubled); each hears the other (sox on baresip’s dump, getStats in the browser)', async ({
  page,
  request,
  startTfx,
  defer,
}) => {
  test.setTimeout(300_000);
  const phonePort = randomPort(21000, 8000);
  const mediaMin = randomPort(42000, 8000);
  const server = await startTfx(['--config', config(phonePort, mediaMin, false), '--sip-enabled']);
  const zones = await sbcZones(request, server);
  const corePort = zones.zones.find((z) => z.name === 'core')!.listeners[0]!.port;

  const phone = await Baresip.start({
    address: PHONE,
    sipPort: phonePort,
    ctrlPort: randomPort(29000, 1000) + 1,
    rtpMin: randomPort(34000, 4000),
    user: BARESIP_NUMBER,
    answerMode: 'manual',
    limitS: 280,
  });
  defer(() => phone.stop());
  const pageLog: string[] = [];
  page.on('console', (m) => pageLog.push(m.text()));
  defer(() => {
    if (test.info().status === test.info().expectedStatus) return;
    console.log(server.logs.filter((l) => /sbc|sip|media|error/i.test(l)).join('\n'));
    console.log(pageLog.join('\n'));
    console.log(`baresip:\n${phone.output}`);
  });

  // The browser signs in: REGISTER with digest over WSS.
  await signIn(page, server.url);
  const carol = `sip:${USER}@${CORE}:${corePort}`;

  // 1. baresip calls, the dial pad rings; baresip gives up (CANCEL) and the ring stops.
  let mark = phone.mark;
  expect((await phone.command('dial', carol)).ok, phone.output).toBe(true);
  await expectRinging(page);
  expect((await phone.command('hangup')).ok, phone.output).toBe(true);
  await phone.event('CALL_CLOSED', mark);
  await expect(page.locator('#call-status')).toHaveText('Call ended: The caller gave up', {
    timeout: 30_000,
  });
  expect(await tone(page)).toBe('off');
  await expect(page.locator('#dial-answer')).toBeHidden();

  // The browser declines the next one (486): the ring stops, baresip's call ends.
  mark = phone.mark;
  expect((await phone.command('dial', carol)).ok, phone.output).toBe(true);
  await expectRinging(page);
  await page.locator('#dial-hangup').click(); // "Decline" while it rings
  await expect(page.locator('#call-status')).toHaveText('Call ended: Declined');
  expect(await tone(page)).toBe('off');
  await phone.event('CALL_CLOSED', mark);

  // 2. baresip calls again; Answer stops the ring and connects; both sides hear each other.
  mark = phone.mark;
  const dumpsBefore = phone.decodedDumps().length;
  expect((await phone.command('dial', carol)).ok, phone.output).toBe(true);
  await expectRinging(page);
  await page.locator('#dial-answer').click();
  await expect(page.locator('#call-status')).toContainText('Connected', { timeout: 30_000 });
  expect(await tone(page)).toBe('off');
  await phone.event('CALL_ESTABLISHED', mark);
  const heardBaresip = await expectAudioRising(page);
  await phone.decodedAtLeast(4, dumpsBefore);
  mark = phone.mark;
  expect((await phone.command('hangup')).ok, phone.output).toBe(true);
  await phone.event('CALL_CLOSED', mark);
  await expect(page.locator('#call-status')).toHaveText('Call ended: The other side hung up', {
    timeout: 30_000,
  });
  const dumps1 = phone.decodedDumps();
  expect(dumps1.length, phone.output).toBeGreaterThan(dumpsBefore);
  const level1 = dumpLevel(dumps1[dumps1.length - 1] as string, 1.5);
  expect(level1.seconds, phone.output).toBeGreaterThan(3);
  expect(level1.rmsDb, phone.output).toBeGreaterThan(RMS_FLOOR_DB);

  // 3. The browser calls baresip, which rings without early media (180, no SDP) and the SBC's
  //    zone plays no ringback: the page plays its own (440 + 480 Hz, heard on its analyser);
  //    baresip answers, the ringback stops, audio both ways; the browser hangs up.
  const out = await browserCallsBaresip(page, phone);
  expect(out.early).toBe(false);
  const level2 = out.level;
  expect(level2.file).not.toBe(level1.file);

  // 4. A zone with `tones: { ringback: true }`: the SBC answers the 180 with a 183 + SDP and its
  //    own ringback in the media; the page hears it and plays none of its own (no double ring).
  const server2 = await startTfx([
    '--config',
    config(phonePort, randomPort(42000, 8000), true),
    '--sip-enabled',
  ]);
  await signIn(page, server2.url);
  const out2 = await browserCallsBaresip(page, phone);
  expect(out2.early).toBe(true);

  const fig = (e: { packets: number; energy: number }): string =>
    `${e.packets} packets, energy ${e.energy.toFixed(3)}`;
  const figures =
    `baresip→browser: browser heard ${fig(heardBaresip)}, baresip's dump ${level1.rmsDb} dB RMS over ${level1.seconds} s; ` +
    `browser→baresip: page ringback ${out.ringback}, browser heard ${fig(out.heard)}, baresip's dump ${level2.rmsDb} dB RMS over ${level2.seconds} s; ` +
    `with the SBC's ringback: browser heard it ${fig(out2.early ? out2.ringbackAudio! : out2.heard)}, then baresip ${fig(out2.heard)}, baresip's dump ${out2.level.rmsDb} dB RMS`;
  console.log(`gateway-baresip — ${figures}`);
  test.info().annotations.push({ type: 'audio', description: figures });
});
