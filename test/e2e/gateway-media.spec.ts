/**
 * Both media engines as a WebRTC ↔ RTP gateway with real Chromium (issue #20, media side): the
 * built-in engine and a real rtpengine-daemon (userspace, no kernel module, started by the test on
 * random ports). The test signals the browser's RTCPeerConnection straight to the engine (no SIP
 * at this level), and a small RTP probe of ours is the phone on the engine's plain-RTP leg.
 * - phone → browser: the probe's 1 kHz PCMU tone raises the browser's inbound totalAudioEnergy;
 * - browser → phone: Chromium's fake microphone plays a 440 Hz file; the probe finds it with a
 *   Goertzel filter at ≥ 10 dB SNR (after Opus → PCMU transcoding, and in PCMU passthrough);
 * - the browser's insertDTMF('1#') reaches the probe as RFC 4733 telephone-event/8000;
 * - a browser ICE restart keeps the call (same DTLS association, media both ways afterwards).
 * Both engines run the first test; PCMU passthrough runs on the built-in engine only (rtpengine's
 * passthrough of a WebRTC leg is proven by test/contract/suite-webrtc.ts; the e2e stays lean).
 * Run inside the loopback namespace after `npm run build`:
 *   ../shared/tools/netns npx playwright test gateway-media
 */
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createBuiltinEngine,
  createRtpengineEngine,
  type LegProfile,
  type MediaEngine,
} from '@tfx/media';
import {
  startRtpengine,
  type RtpengineProcess,
} from '../../packages/media/test/rtpengine/harness.js';
import {
  RtpProbe,
  goertzel,
  sleep,
  unulaw,
  waitFor,
} from '../../packages/media/test/contract/probe.js';
import { makeSdp, readSdp } from '../../packages/media/test/contract/sdp.js';

const dir = mkdtempSync(join(tmpdir(), 'tfx-gw-'));
const toneWav = join(dir, 'tone440.wav');
execFileSync('sox', [
  '-n',
  '-r',
  '48000',
  '-c',
  '1',
  '-b',
  '16',
  toneWav,
  'synth',
  '60',
  'sine',
  '440',
  'vol',
  '0.5',
]);

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${toneWav}`,
      '--allow-loopback-in-peer-connection',
      '--disable-gpu',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  },
});

/** What the SBC gives browsers (packages/sbc/src/anchor.ts `webrtcProfile`). */
const WEB: LegProfile = {
  zone: 'webrtc',
  mediaAddress: '127.0.0.1',
  transport: 'UDP/TLS/RTP/SAVPF',
  ice: 'force',
  dtls: 'passive',
  sdes: 'off',
  rtcpMux: 'require',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const PHONE: LegProfile = {
  zone: 'core',
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
  // G.711 added toward the phone for an Opus-only browser (the SBC's trunk-media does the same);
  // the built-in engine adds it by itself.
  codecs: { transcode: ['PCMU', 'PCMA'] },
};
/** The tone must stand this far above everything else in the probe's received audio. */
const MIN_SNR_DB = 10;
const snrDb = (p: number): number => 10 * Math.log10(p / Math.max(1e-9, 1 - p));

type Kind = 'builtin' | 'rtpengine';
let engine: MediaEngine;
let rtpe: RtpengineProcess | undefined;
let http: Server;
let url = '';

async function startEngine(kind: Kind): Promise<void> {
  if (kind === 'builtin') {
    const base = 42000 + 2 * Math.floor(Math.random() * 4000);
    engine = await createBuiltinEngine({
      portMin: base,
      portMax: base + 99,
      workers: 1,
      mediaTimeoutMs: 0,
    });
  } else {
    rtpe = await startRtpengine({ ports: 100 });
    engine = await createRtpengineEngine({ instances: [rtpe.url], statsIntervalMs: 0 });
  }
  http = createServer((_q, r) => r.end('<!doctype html><title>gateway</title>'));
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  const a = http.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`;
}

async function stopEngine(): Promise<void> {
  await engine?.close();
  await rtpe?.stop();
  rtpe = undefined;
  http?.close();
}

/** Creates the page's RTCPeerConnection with the fake microphone; returns its offer SDP. */
async function browserOffer(page: Page, codecs: string[]): Promise<string> {
  return page.evaluate(async (prefs) => {
    const w = window as unknown as Record<string, unknown>;
    const pc = new RTCPeerConnection({ iceServers: [] });
    w.pc = pc;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const tr = pc.addTransceiver(stream.getAudioTracks()[0]!, {
      direction: 'sendrecv',
      streams: [stream],
    });
    w.tr = tr;
    const caps = RTCRtpReceiver.getCapabilities('audio')!.codecs;
    tr.setCodecPreferences(caps.filter((c) => prefs.includes(c.mimeType.toLowerCase())));
    pc.ontrack = (e) => {
      const audio = new Audio();
      audio.srcObject = new MediaStream([e.track]);
      void audio.play();
      w.audio = audio;
    };
    await pc.setLocalDescription();
    await new Promise<void>((ok) => {
      if (pc.iceGatheringState === 'complete') ok();
      else
        pc.addEventListener(
          'icegatheringstatechange',
          () => pc.iceGatheringState === 'complete' && ok(),
        );
    });
    return pc.localDescription!.sdp;
  }, codecs);
}

async function setAnswer(page: Page, sdp: string): Promise<void> {
  await page.evaluate(async (s) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    await pc.setRemoteDescription({ type: 'answer', sdp: s });
  }, sdp);
}

async function connected(page: Page): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.connectionState),
      {
        timeout: 30_000,
      },
    )
    .toBe('connected');
}

async function inbound(page: Page): Promise<{ energy: number; packets: number; codec: string }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const stats = await pc.getStats();
    let energy = 0;
    let packets = 0;
    let codecId = '';
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        energy = (s.totalAudioEnergy as number) ?? 0;
        packets = (s.packetsReceived as number) ?? 0;
        codecId = (s.codecId as string) ?? '';
      }
    });
    const c = codecId ? (stats.get(codecId) as { mimeType?: string } | undefined) : undefined;
    return { energy, packets, codec: c?.mimeType ?? '' };
  });
}

interface Call {
  callId: string;
  /** The telephone-event/8000 payload type on the phone leg. */
  te: number;
  probe: RtpProbe;
  phoneSide: { address: string; port: number };
}

/** The browser calls the phone: offer → engine → probe's PCMU answer → engine → browser. */
async function call(page: Page, codecs: string[]): Promise<Call> {
  const callId = `e2e-gw-${Date.now()}-${Math.random()}`;
  const offer = await browserOffer(page, codecs);
  const toPhone = (
    await engine.offer({ callId, fromTag: 'browser', sdp: offer, from: WEB, to: PHONE })
  ).sdp;
  const m = readSdp(toPhone).mlines[0]!;
  expect(m.transport).toBe('RTP/AVP');
  const probe = await RtpProbe.open('127.0.0.1');
  // RFC 3264 §6.1: the answer uses the offer's payload type for telephone-event/8000.
  const te = [...m.rtpmap].find(([, v]) => v.toLowerCase() === 'telephone-event/8000')?.[0] ?? 101;
  const answer = makeSdp('127.0.0.1', [
    { port: probe.port, codecs: { 0: 'PCMU/8000', [te]: 'telephone-event/8000' } },
  ]);
  const toBrowser = (
    await engine.answer({ callId, fromTag: 'browser', toTag: 'phone', sdp: answer })
  ).sdp;
  await setAnswer(page, toBrowser);
  await connected(page);
  return { callId, probe, phoneSide: { address: m.address, port: m.port }, te };
}

/** Phone → browser: the probe's 1 kHz tone raises the browser's inbound audio energy. */
async function phoneToBrowser(page: Page, c: Call): Promise<void> {
  const before = await inbound(page);
  await c.probe.send(c.phoneSide, 100, { toneHz: 1000, pt: 0, gapMs: 20 });
  await expect
    .poll(async () => (await inbound(page)).energy - before.energy, { timeout: 20_000 })
    .toBeGreaterThan(0.01);
}

/**
 * Browser → phone: the probe hears 440 Hz in PCMU — Goertzel over the latest 1 s of packets,
 * waited for (a transcoder's first frames, a decoder warming up, may hold something else), so the
 * result is the tone's SNR once it arrives, or the last SNR measured when it never does.
 */
async function browserToPhone(c: Call): Promise<number> {
  // The probe must send first so the engine learns it (strict latching) — it did above.
  c.probe.clear();
  let snr = -Infinity;
  const t0 = Date.now();
  for (;;) {
    const pcmu = c.probe.received.filter((r) => r.pt === 0);
    if (pcmu.length >= 70) {
      const pcm: number[] = [];
      for (const p of pcmu.slice(-50)) pcm.push(...[...p.payload].map(unulaw));
      snr = snrDb(goertzel(pcm, 440, 8000));
      if (snr > MIN_SNR_DB) return snr;
    }
    if (Date.now() - t0 > 20_000) return snr;
    await sleep(100);
  }
}

async function hangUp(page: Page, c: Call): Promise<void> {
  await engine.delete({ callId: c.callId }).catch(() => {});
  c.probe.close();
  await page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.close());
}

async function opusCall(page: Page): Promise<void> {
  await page.goto(url);
  const c = await call(page, ['audio/opus', 'audio/telephone-event']);
  try {
    await phoneToBrowser(page, c);
    expect((await inbound(page)).codec).toBe('audio/opus');
    const snr = await browserToPhone(c);
    console.info(`browser→phone 440 Hz after Opus→PCMU: ${snr.toFixed(1)} dB`);
    expect(snr).toBeGreaterThan(MIN_SNR_DB);

    // insertDTMF('1#'): telephone-event/48000 from the browser arrives rescaled to /8000.
    c.probe.clear();
    await page.evaluate(() => {
      const tr = (window as unknown as { tr: RTCRtpTransceiver }).tr;
      tr.sender.dtmf!.insertDTMF('1#', 200, 100);
    });
    await waitFor(
      () =>
        new Set(c.probe.received.filter((r) => r.pt === c.te).map((r) => r.payload[0])).size >= 2,
      'two DTMF events at the probe',
      20_000,
    );
    const ev = c.probe.received.filter((r) => r.pt === c.te);
    expect([...new Set(ev.map((r) => r.payload[0]))]).toEqual([1, 11]); // RFC 4733 §3.2: 1, #
    const ends = ev.filter((r) => (r.payload[1]! & 0x80) !== 0);
    // 200 ms at 8 kHz is 1600 timestamp units (browsers round to their packet boundaries).
    for (const e of ends)
      expect(Math.abs(e.payload.readUInt16BE(2) - 1600)).toBeLessThanOrEqual(480);

    // ICE restart by the browser (a new ufrag/pwd): renegotiated through the engine; the DTLS
    // association and SRTP keys stay, and media flows both ways after it (rtpengine#1019).
    const remoteBefore = await page.evaluate(
      () => (window as unknown as { pc: RTCPeerConnection }).pc.remoteDescription!.sdp,
    );
    const fpBefore = /a=fingerprint:(\S+ \S+)/.exec(remoteBefore)![1];
    const setupBefore = /a=setup:(\S+)/.exec(remoteBefore)![1];
    const ufragBefore = /a=ice-ufrag:(\S+)/.exec(remoteBefore)![1];
    const portBefore = readSdp(remoteBefore).mlines[0]!.port;
    const reoffer = await page.evaluate(async () => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      pc.restartIce();
      await pc.setLocalDescription();
      await new Promise((r) => setTimeout(r, 500));
      return pc.localDescription!.sdp;
    });
    const toPhone = (
      await engine.offer({
        callId: c.callId,
        fromTag: 'browser',
        toTag: 'phone',
        sdp: reoffer,
        from: WEB,
        to: PHONE,
      })
    ).sdp;
    const again = makeSdp(
      '127.0.0.1',
      [{ port: c.probe.port, codecs: { 0: 'PCMU/8000', [c.te]: 'telephone-event/8000' } }],
      5151,
    );
    expect(readSdp(toPhone).mlines[0]!.port).toBe(c.phoneSide.port);
    const back = (
      await engine.answer({ callId: c.callId, fromTag: 'browser', toTag: 'phone', sdp: again })
    ).sdp;
    expect(/a=fingerprint:(\S+ \S+)/.exec(back)![1]).toBe(fpBefore);
    expect(readSdp(back).mlines[0]!.port).toBe(portBefore);
    // RFC 8839 §4.4.1.1.1: the answerer to an ICE restart changes its credentials too.
    expect(/a=ice-ufrag:(\S+)/.exec(back)![1]).not.toBe(ufragBefore);
    expect(/a=setup:(\S+)/.exec(back)![1]).toBe(setupBefore);
    await setAnswer(page, back);
    await connected(page);
    await phoneToBrowser(page, c);
    expect(await browserToPhone(c)).toBeGreaterThan(MIN_SNR_DB);
  } finally {
    await hangUp(page, c);
  }
}

async function passthroughCall(page: Page): Promise<void> {
  await page.goto(url);
  // PCMU in the browser and at the phone (no transcoding on the path).
  const p = await call(page, ['audio/pcmu', 'audio/telephone-event']);
  try {
    await phoneToBrowser(page, p);
    expect((await inbound(page)).codec).toBe('audio/PCMU');
    const snr = await browserToPhone(p);
    console.info(`browser→phone 440 Hz in PCMU passthrough: ${snr.toFixed(1)} dB`);
    expect(snr).toBeGreaterThan(MIN_SNR_DB);
  } finally {
    await hangUp(page, p);
  }
  await sleep(10);
}

for (const kind of ['builtin', 'rtpengine'] as const) {
  test.describe(`${kind} engine`, () => {
    test.beforeAll(() => startEngine(kind));
    test.afterAll(() => stopEngine());

    test('Chromium (Opus only) ↔ engine ↔ PCMU phone: tones both ways through transcoding, DTMF 1# as RFC 4733, ICE restart keeps the call', async ({
      page,
    }) => {
      await opusCall(page);
    });

    if (kind === 'builtin')
      test('Chromium (PCMU) ↔ engine ↔ PCMU phone: passthrough, tones both ways', async ({
        page,
      }) => {
        await passthroughCall(page);
      });
  });
}
