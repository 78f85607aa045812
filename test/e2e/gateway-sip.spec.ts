/**
 * Browser ↔ phone through the SBC, end to end over SIP, on the built-in engine (issue #20, the
 * first two bullets of the Proof). A client no one here wrote — SIP.js 0.21, bundled for the page
 * with esbuild — registers over WSS to `tfx start`'s `/sip` (the `webrtc: true` public zone, digest
 * against `sip.users`); sipp is the phone or trunk in the trusted core zone:
 * - the browser calls a sipp UAS running `-rtp_echo` through the SBC's routes: the browser's
 *   inbound audio (`totalAudioEnergy`, packets) rises — its own fake microphone comes back through
 *   browser → DTLS-SRTP → engine → RTP → sipp echo → engine → DTLS-SRTP → browser;
 * - a sipp UAC playing `g711a.pcap` calls the registered browser, which auto-answers: inbound
 *   audio rises.
 * The page is a document of the platform's own HTTPS origin (a secure context, so getUserMedia
 * works) with SIP.js and a small phone script added; the context's `ignoreHTTPSErrors` accepts the
 * self-signed certificate for the page and for SIP.js's WebSocket to `wss://…/sip`. A page that
 * Playwright makes up (page.route) would not do: it has no address space, so Chromium's Local
 * Network Access checks block its WebSocket to 127.0.0.1. Run inside the loopback namespace after
 * `npm run build`:
 *   /work/shared/tools/netns npx playwright test test/e2e/gateway-sip.spec.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { build } from 'esbuild';
import type { APIRequestContext, Page } from '@playwright/test';
import type { MediaSessionList, SbcCallList } from '@tfx/protocol';
import { test, expect } from './fixtures/index.js';
import { startRtpengine } from '../../packages/media/test/rtpengine/harness.js';
import {
  toneMicrophone,
  zoneYaml,
  randomPort,
  sipp,
  echoTrunk,
  pcapPhone,
  sbcZones,
  SCENARIOS,
} from './sbc-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUBLIC = '127.0.0.20';
const CORE = '127.0.0.10';
const PHONE = '127.0.0.21';
const TRUNK = '127.0.0.11';
const DOMAIN = 'tfx.test';
const USER = 'carol';
const PASSWORD = 'carol-secret-3';

const dir = mkdtempSync(join(tmpdir(), 'tfx-gw-sip-'));

test.use({ launchOptions: toneMicrophone(dir, 60) });

// The platform's pages carry a Content-Security-Policy; the test's inline scripts bypass it.
test.use({ bypassCSP: true });

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The zones' addresses per engine (rtpengine's run in this engineer's own loopback range). */
const ADDR = {
  builtin: { PUBLIC, CORE, PHONE, TRUNK },
  rtpengine: {
    PUBLIC: '127.0.47.20',
    CORE: '127.0.47.10',
    PHONE: '127.0.47.21',
    TRUNK: '127.0.47.11',
  },
} as const;

/** rtpengine: its ng address; the platform maps each SBC zone to the daemon's interface of it. */
function config(
  trunkPort: number,
  mediaMin: number,
  a: { PUBLIC: string; CORE: string; TRUNK: string },
  rtpengine?: string,
): string {
  const file = join(dir, `tfx-${mediaMin}.yaml`);
  writeFileSync(
    file,
    [
      'media:',
      `  portMin: ${mediaMin}`,
      `  portMax: ${mediaMin + 39}`,
      '  workers: 1',
      ...(rtpengine
        ? [
            '  engine: rtpengine',
            `  rtpengine: { urls: ["${rtpengine}"], interfaces: { public: public, core: core } }`,
          ]
        : []),
      'sip:',
      '  port: 0',
      '  tlsPort: 0',
      `  domain: ${DOMAIN}`,
      `  users: [{ username: ${USER}, password: ${PASSWORD} }]`,
      'sbc:',
      '  zones:',
      ...zoneYaml('public', a.PUBLIC, 'webrtc: true'),
      // Every browser call first gets the SBC's stand-in early answer with ringback (on rtpengine
      // a `play media` of a WAV blob, which must fit one ng datagram: src/rtpengine/tones.ts).
      '      tones: { ringback: true }',
      ...zoneYaml('core', a.CORE, 'trusted: true'),
      '  trunks:',
      `    - { name: carrier-a, zone: core, uri: "sip:${a.TRUNK}:${trunkPort}" }`,
      '  routes:',
      '    - { match: { zone: public }, to: [carrier-a] }',
      '',
    ].join('\n'),
  );
  return file;
}

/** SIP.js as one IIFE (`window.SIP`), built once. */
let bundle: string | undefined;
async function sipJs(): Promise<string> {
  bundle ??= (
    await build({
      stdin: { contents: "export * from 'sip.js';", resolveDir: ROOT },
      bundle: true,
      format: 'iife',
      globalName: 'SIP',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    })
  ).outputFiles[0]!.text;
  return bundle;
}

/** The test page's phone around SIP.js: register, dial, auto-answer, hang up, inbound stats. */
const PHONE_JS = `
window.phone = { log: [], session: undefined, state: 'idle' };
window.startPhone = async (o) => {
  const SIP = window.SIP;
  const p = window.phone;
  const track = (s) => {
    p.session = s;
    s.stateChange.addListener((st) => {
      p.state = st;
      p.log.push('session ' + st);
      if (st === 'Established') {
        const audio = new Audio();
        audio.srcObject = s.sessionDescriptionHandler.remoteMediaStream;
        void audio.play();
        p.audio = audio;
      }
    });
  };
  const ua = new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI('sip:' + o.user + '@' + o.domain),
    authorizationUsername: o.user,
    authorizationPassword: o.password,
    transportOptions: { server: o.wss },
    logBuiltinEnabled: false,
    sessionDescriptionHandlerFactoryOptions: {
      peerConnectionConfiguration: { iceServers: [] },
      iceGatheringTimeout: 2000,
    },
    delegate: {
      onInvite: (inv) => {
        p.log.push('invite from ' + inv.remoteIdentity.uri.toString());
        track(inv);
        void inv.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
      },
    },
  });
  p.ua = ua;
  await ua.start();
  const reg = new SIP.Registerer(ua);
  p.registerer = reg;
  await new Promise((ok, fail) => {
    reg.stateChange.addListener((st) => st === 'Registered' && ok());
    reg.register({ requestDelegate: { onReject: (r) => fail(new Error('REGISTER ' + r.message.statusCode)) } }).catch(fail);
  });
  // Opus only (and telephone-event): the offer's other codecs taken out, so the engine must
  // transcode Opus ↔ G.711 toward the phone side.
  const opusOnly = (d) => {
    const lines = d.sdp.split('\\r\\n');
    const keep = lines
      .map((l) => /^a=rtpmap:(\\d+) (opus|telephone-event)\\/48000/i.exec(l))
      .filter(Boolean)
      .map((m) => m[1]);
    const out = lines
      .map((l) => (l.startsWith('m=audio ') ? l.split(' ').slice(0, 3).concat(keep).join(' ') : l))
      .filter((l) => {
        const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\\d+)/.exec(l);
        return !m || keep.includes(m[1]);
      });
    return Promise.resolve({ type: d.type, sdp: out.join('\\r\\n') });
  };
  p.dial = async (target, opus, early) => {
    const inv = new SIP.Inviter(ua, SIP.UserAgent.makeURI(target), {
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
      ...(early && { earlyMedia: true }),
      ...(opus && { sessionDescriptionHandlerModifiers: [opusOnly] }),
    });
    track(inv);
    await inv.invite({
      requestDelegate: { onReject: (r) => p.log.push('rejected ' + r.message.statusCode) },
    });
  };
  p.dtmf = (tones) => {
    const pc = p.session.sessionDescriptionHandler.peerConnection;
    const sender = pc.getSenders().find((x) => x.track && x.track.kind === 'audio');
    sender.dtmf.insertDTMF(tones, 200, 100);
  };
  // Early media: play the remote stream before any answer (Chromium computes the inbound audio
  // energy of what is played out).
  p.listen = () => {
    const audio = new Audio();
    audio.srcObject = p.session.sessionDescriptionHandler.remoteMediaStream;
    void audio.play();
    p.audio = audio;
  };
  p.cancel = async () => {
    const s = p.session;
    if (s && s.state === 'Establishing') await s.cancel();
  };
  p.hangup = async () => {
    const s = p.session;
    if (s && s.state === 'Established') await s.bye();
  };
  p.sdp = () => {
    const pc = p.session.sessionDescriptionHandler.peerConnection;
    return { local: pc.localDescription.sdp, remote: pc.remoteDescription.sdp };
  };
  p.inbound = async () => {
    const pc = p.session && p.session.sessionDescriptionHandler && p.session.sessionDescriptionHandler.peerConnection;
    if (!pc) return { energy: 0, packets: 0, codec: '' };
    const stats = await pc.getStats();
    let energy = 0, packets = 0, codecId = '';
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        energy = s.totalAudioEnergy || 0;
        packets = s.packetsReceived || 0;
        codecId = s.codecId || '';
      }
    });
    const c = codecId ? stats.get(codecId) : undefined;
    return { energy, packets, codec: (c && c.mimeType) || '' };
  };
};
`;

interface PhoneState {
  readonly state: string;
  readonly log: string[];
}

async function openPhone(page: Page, origin: string): Promise<void> {
  const script = await sipJs();
  // A document of the platform's own (its 404 page): a real response from 127.0.0.1, so
  // Chromium's Local Network Access checks let the page open wss://127.0.0.1/sip (a page Playwright
  // made up has no address space and is treated as public: ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
  await page.goto(`${origin}/e2e-sipjs-phone`);
  await page.addScriptTag({ content: script });
  await page.addScriptTag({ content: PHONE_JS });
  await page.evaluate(
    (o) => (window as unknown as { startPhone: (o: unknown) => Promise<void> }).startPhone(o),
    {
      wss: `${origin.replace(/^https/, 'wss')}/sip`,
      user: USER,
      password: PASSWORD,
      domain: DOMAIN,
    },
  );
}

const phoneState = (page: Page): Promise<PhoneState> =>
  page.evaluate(() => {
    const p = (window as unknown as { phone: PhoneState }).phone;
    return { state: p.state, log: [...p.log] };
  });

const inbound = (page: Page): Promise<{ energy: number; packets: number; codec: string }> =>
  page.evaluate(() =>
    (
      window as unknown as {
        phone: { inbound(): Promise<{ energy: number; packets: number; codec: string }> };
      }
    ).phone.inbound(),
  );

/** Inbound audio rises: packets and energy both grow between two readings (no timing check). */
async function expectAudioRising(
  page: Page,
): Promise<{ codec: string; packets: number; energy: number }> {
  await expect
    .poll(async () => (await inbound(page)).packets, { timeout: 30_000 })
    .toBeGreaterThan(50);
  const first = await inbound(page);
  await expect
    .poll(async () => (await inbound(page)).energy, { timeout: 30_000 })
    .toBeGreaterThan(first.energy);
  const later = await inbound(page);
  expect(later.packets).toBeGreaterThan(first.packets);
  expect(later.energy).toBeGreaterThan(0);
  return later;
}

/**
 * The call is the SBC's (one confirmed call from zone `a` to zone `b`) and anchored in the engine:
 * its media session has one leg per zone, both with packets in.
 */
async function expectThroughSbc(
  api: APIRequestContext,
  base: string,
  headers: Record<string, string>,
  a: string,
  b: string,
): Promise<void> {
  const calls = async (): Promise<SbcCallList['calls']> =>
    ((await (await api.get(`${base}/api/v1/sbc/calls`, { headers })).json()) as SbcCallList).calls;
  await expect
    .poll(async () => (await calls()).map((c) => [c.state, c.a.zone, c.b.zone]), {
      timeout: 30_000,
    })
    .toEqual([['confirmed', a, b]]);
  const id = (await calls())[0]!.id;
  await expect
    .poll(
      async () => {
        const list = (await (
          await api.get(`${base}/api/v1/media/sessions`, { headers })
        ).json()) as MediaSessionList;
        const s = list.sessions.find((x) => x.callId === id);
        return s?.legs.map((l) => [l.zone, l.packetsIn > 0]);
      },
      { timeout: 30_000 },
    )
    .toEqual([
      [a, true],
      [b, true],
    ]);
}

type Kind = 'builtin' | 'rtpengine';

interface Ctx {
  readonly kind: Kind;
  readonly page: Page;
  readonly api: APIRequestContext;
  readonly url: string;
  readonly auth: Record<string, string>;
  readonly a: (typeof ADDR)[Kind];
  readonly trunkPort: number;
  readonly corePort: number;
}

/**
 * The platform with the SBC on `kind`: for rtpengine a real rtpengine-daemon of the test's own
 * (userspace, random ports) with one logical interface per SBC zone (`media.rtpengine.interfaces`),
 * so each leg's media is on its zone's address as with the built-in engine. The SIP.js phone
 * registered on the page.
 */
async function platform(
  kind: Kind,
  page: Page,
  api: APIRequestContext,
  startTfx: (args?: string[]) => Promise<{ url: string; adminToken(): string; logs: string[] }>,
  defer: (fn: () => unknown) => void,
): Promise<Ctx> {
  const a = ADDR[kind];
  let ng: string | undefined;
  let engineLog = (): string => '';
  if (kind === 'rtpengine') {
    const rtpe = await startRtpengine({
      ports: 40,
      interfaces: { public: a.PUBLIC, core: a.CORE },
    });
    defer(() => rtpe.stop());
    ng = rtpe.url;
    engineLog = () => rtpe.log().slice(-20_000);
  }
  const trunkPort = randomPort(21000, 8000);
  const mediaMin = randomPort(42000, 8000);
  const server = await startTfx(['--config', config(trunkPort, mediaMin, a, ng), '--sip-enabled']);
  const zones = await sbcZones(api, server);
  const corePort = zones.zones.find((z) => z.name === 'core')!.listeners[0]!.port;
  // On failure: the server's SIP/SBC/media lines, the page's console and rtpengine's log.
  const pageLog: string[] = [];
  page.on('console', (m) => pageLog.push(m.text()));
  defer(() => {
    if (test.info().status === test.info().expectedStatus) return;
    console.log(server.logs.filter((l) => /sbc|sip|media|error/i.test(l)).join('\n'));
    console.log(pageLog.join('\n'));
    console.log(engineLog());
  });
  await openPhone(page, server.url);
  return {
    kind,
    page,
    api,
    url: server.url,
    auth: { authorization: `Bearer ${server.adminToken()}` },
    a,
    trunkPort,
    corePort,
  };
}

const remoteSdp = (page: Page): Promise<{ local: string; remote: string }> =>
  page.evaluate(() =>
    (window as unknown as { phone: { sdp(): { local: string; remote: string } } }).phone.sdp(),
  );

/**
 * 1. Browser → trunk: the echo comes back through the whole path (browser → DTLS-SRTP → engine
 * → RTP → sipp echo → engine → DTLS-SRTP → browser). One call per entry of `opus`: the browser's
 * full offer (false) or Opus only (true, transcoded).
 */
async function echoCalls(
  ctx: Ctx,
  opus: readonly boolean[],
): Promise<Array<{ codec: string; packets: number; energy: number }>> {
  const { page } = ctx;
  const trunkMedia = randomPort(30000, 4000);
  const uas = echoTrunk(
    { address: ctx.a.TRUNK, port: ctx.trunkPort, media: trunkMedia, calls: opus.length },
    120,
  );
  try {
    await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
    const echoed: Array<{ codec: string; packets: number; energy: number }> = [];
    for (const o of opus) {
      await page.evaluate(
        ([t, op]) =>
          (
            window as unknown as { phone: { dial(t: string, o: boolean): Promise<void> } }
          ).phone.dial(t, op),
        [`sip:4420001@${DOMAIN}`, o] as const,
      );
      await expect
        .poll(async () => (await phoneState(page)).state, { timeout: 30_000 })
        .toBe('Established');
      // The engine's address in the browser's zone (on rtpengine: its `public` interface).
      expect((await remoteSdp(page)).remote).toContain(`c=IN IP4 ${ctx.a.PUBLIC}`);
      echoed.push(await expectAudioRising(page));
      await expectThroughSbc(ctx.api, ctx.url, ctx.auth, 'public', 'core');
      await page.evaluate(() =>
        (window as unknown as { phone: { hangup(): Promise<void> } }).phone.hangup(),
      );
      await expect
        .poll(async () => (await phoneState(page)).state, { timeout: 30_000 })
        .toBe('Terminated');
    }
    const trunk = await uas.done;
    expect(trunk.code, `uas sipp:\n${trunk.output}`).toBe(0);
    return echoed;
  } finally {
    if (uas.child.exitCode === null) uas.child.kill('SIGKILL');
  }
}

/**
 * 2. Phone → browser: a sipp UAC in the core reaches the registered browser (TFX's registrar,
 * before the routes); SIP.js auto-answers and hears the pcap. Here the engine offers toward the
 * browser (a=setup:actpass, RFC 5763 §5) and Chromium answers active: the engine is the DTLS
 * server and Chromium the client (on rtpengine the case of rtpengine#2145/#1310).
 */
async function pcapCall(ctx: Ctx): Promise<{ codec: string; packets: number; energy: number }> {
  const { page } = ctx;
  const uac = pcapPhone(
    {
      target: `${ctx.a.CORE}:${ctx.corePort}`,
      address: ctx.a.PHONE,
      media: randomPort(34000, 4000),
      caller: 'dave',
      service: USER,
      pauseMs: 30000,
    },
    120,
  );
  try {
    await expect
      .poll(async () => (await phoneState(page)).state, { timeout: 30_000 })
      .toBe('Established');
    const sdp = await remoteSdp(page);
    // RFC 5763 §5: the offerer writes actpass (both engines do); Chromium answers active, so it is
    // the DTLS client and the engine the server.
    expect(sdp.remote).toMatch(/^a=setup:actpass\r?$/m);
    expect(sdp.local).toMatch(/^a=setup:active\r?$/m);
    expect(sdp.remote).toContain(`c=IN IP4 ${ctx.a.PUBLIC}`);
    const heard = await expectAudioRising(page);
    await expectThroughSbc(ctx.api, ctx.url, ctx.auth, 'core', 'public');
    const phone = await uac.done;
    expect(phone.code, `uac sipp:\n${phone.output}`).toBe(0);
    await expect
      .poll(async () => (await phoneState(page)).state, { timeout: 30_000 })
      .toBe('Terminated');
    return heard;
  } finally {
    if (uac.child.exitCode === null) uac.child.kill('SIGKILL');
  }
}

const fig = (e: { codec: string; packets: number; energy: number }): string =>
  `${e.codec}, ${e.packets} packets, energy ${e.energy.toFixed(3)}`;

function report(
  kind: Kind,
  echoed: Array<Parameters<typeof fig>[0]>,
  heard: Parameters<typeof fig>[0],
): void {
  const figures = `${kind}: echo: ${echoed.map(fig).join(' / ')}; pcap: ${fig(heard)}`;
  console.log(`gateway-sip inbound audio — ${figures}`);
  test.info().annotations.push({ type: 'inbound audio', description: figures });
}

for (const kind of ['builtin', 'rtpengine'] as const) {
  test.describe(`${kind} engine`, () => {
    if (kind === 'rtpengine') {
      // Lean on rtpengine: the two core proofs (its DTMF and early media are proven by
      // test/contract and the SBC's integration tests).
      test('SIP.js over WSS calls a sipp echo trunk through the SBC and hears itself; a sipp phone playing g711a.pcap calls the browser, which auto-answers (rtpengine the DTLS server) and hears it', async ({
        page,
        request,
        startTfx,
        defer,
      }) => {
        test.setTimeout(240_000);
        const ctx = await platform(kind, page, request, startTfx, defer);
        const echoed = await echoCalls(ctx, [false]);
        const heard = await pcapCall(ctx);
        report(kind, echoed, heard);
      });
      return;
    }
    test('SIP.js over WSS calls a sipp echo trunk through the SBC and hears itself; a sipp phone playing g711a.pcap calls the browser, which auto-answers and hears it; its insertDTMF reaches a trunk probe as RFC 4733; it hears ringback over the SBC’s early media', async ({
      page,
      request,
      startTfx,
      defer,
    }) => {
      test.setTimeout(240_000);
      const ctx = await platform(kind, page, request, startTfx, defer);
      // Twice: the browser's full offer (G.711 in common: passthrough), then Opus only (transcoded).
      const echoed = await echoCalls(ctx, [false, true]);
      expect(echoed.map((e) => e.codec.toLowerCase())).toEqual([
        expect.stringMatching(/^audio\/pcm[au]$/),
        'audio/opus',
      ]);
      const heard = await pcapCall(ctx);

      // 3. DTMF (built-in engine): the browser's insertDTMF('1#') reaches a trunk's RTP probe (through the SBC and the
      // engine) as RFC 4733 telephone-event/8000: digits 1 and #, 200 ms each, three End packets.
      const probe = createSocket('udp4');
      const got: Buffer[] = [];
      probe.on('message', (m) => got.push(m));
      await new Promise<void>((r) => probe.bind(0, ctx.a.TRUNK, () => r()));
      defer(() => probe.close());
      const dtmfTrunk = sipp(
        [
          '-sf',
          join(SCENARIOS, 'uas-probe-bye.xml'),
          '-i',
          ctx.a.TRUNK,
          '-p',
          String(ctx.trunkPort),
          '-mi',
          ctx.a.TRUNK,
          '-mp',
          String(randomPort(38000, 2000)),
          '-key',
          'trunk_media',
          String(probe.address().port),
          '-m',
          '1',
        ],
        120,
      );
      defer(() => dtmfTrunk.child.exitCode === null && dtmfTrunk.child.kill('SIGKILL'));
      await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
      await page.evaluate(
        (t) => (window as unknown as { phone: { dial(t: string): Promise<void> } }).phone.dial(t),
        `sip:4420001@${DOMAIN}`,
      );
      await expect
        .poll(async () => (await phoneState(page)).state, { timeout: 30_000 })
        .toBe('Established');
      // Audio reaches the probe first (the call's media path is up), then the digits.
      await expect.poll(() => got.length, { timeout: 30_000 }).toBeGreaterThan(10);
      await page.evaluate(() =>
        (window as unknown as { phone: { dtmf(t: string): void } }).phone.dtmf('1#'),
      );
      const events = (): Map<number, { event: number; ends: number; duration: number }> => {
        const byTs = new Map<number, { event: number; ends: number; duration: number }>();
        for (const m of got) {
          if (m.length < 12 || (m[1]! & 0x7f) !== 101) continue;
          // RFC 3550 §5.1: the payload after the CSRCs and a header extension (browsers add some).
          let off = 12 + (m[0]! & 0x0f) * 4;
          if (m[0]! & 0x10) off += 4 + m.readUInt16BE(off + 2) * 4;
          const p = m.subarray(off);
          if (p.length < 4) continue;
          const ts = m.readUInt32BE(4);
          const e = byTs.get(ts) ?? { event: p[0]!, ends: 0, duration: 0 };
          if (p[1]! & 0x80) {
            e.ends++;
            e.duration = p.readUInt16BE(2);
          }
          byTs.set(ts, e);
        }
        return byTs;
      };
      await expect
        .poll(() => [...events().values()].filter((e) => e.ends >= 3).length, { timeout: 30_000 })
        .toBe(2);
      const ev = [...events().values()];
      expect(ev.map((e) => e.event)).toEqual([1, 11]); // RFC 4733 §3.2: 1, #
      for (const e of ev) {
        expect(e.ends).toBe(3); // RFC 4733 §2.5.1.4: the final packet three times
        // 200 ms at 8 kHz is 1600 units (browsers round to their packet boundaries).
        expect(Math.abs(e.duration - 1600)).toBeLessThanOrEqual(480);
      }
      await page.evaluate(() =>
        (window as unknown as { phone: { hangup(): Promise<void> } }).phone.hangup(),
      );
      const dtmfRun = await dtmfTrunk.done;
      expect(dtmfRun.code, `dtmf trunk sipp:\n${dtmfRun.output}`).toBe(0);

      // 4. Ringback (built-in engine): the trunk rings (180, no SDP) until cancelled; the SBC answers the browser early
      // (183 + SDP, tones.ringback) and plays the E.180 ringback, which the browser (SIP.js with
      // early media) receives before any answer; then it cancels.
      const ringing = sipp(
        [
          '-sf',
          join(SCENARIOS, 'uas-cancel.xml'),
          '-i',
          ctx.a.TRUNK,
          '-p',
          String(ctx.trunkPort),
          '-m',
          '1',
        ],
        120,
      );
      defer(() => ringing.child.exitCode === null && ringing.child.kill('SIGKILL'));
      await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
      await page.evaluate(
        (t) =>
          (
            window as unknown as {
              phone: { dial(t: string, o: boolean, e: boolean): Promise<void> };
            }
          ).phone.dial(t, false, true),
        `sip:4420001@${DOMAIN}`,
      );
      await expect
        .poll(async () => (await inbound(page)).packets, { timeout: 30_000 })
        .toBeGreaterThan(20);
      await page.evaluate(() =>
        (window as unknown as { phone: { listen(): void } }).phone.listen(),
      );
      await expect
        .poll(async () => (await inbound(page)).energy, { timeout: 30_000 })
        .toBeGreaterThan(0);
      expect((await phoneState(page)).state).toBe('Establishing'); // no answer: the trunk only rings
      await page.evaluate(() =>
        (window as unknown as { phone: { cancel(): Promise<void> } }).phone.cancel(),
      );
      await expect
        .poll(async () => (await phoneState(page)).state, { timeout: 30_000 })
        .toBe('Terminated');
      const rang = await ringing.done;
      expect(rang.code, `ringing sipp:\n${rang.output}`).toBe(0);

      report(kind, echoed, heard);
    });
  });
}
