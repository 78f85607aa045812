/**
 * Tones and announcements toward the caller (tones.ts), through the SBC with the built-in engine
 * and real UDP: a caller of our own SIP stack whose media is an RTP probe, a trunk of our own SIP
 * stack whose media is a second probe.
 *
 *  - 180 without SDP: the caller gets 183 with SDP and hears ringback (425 Hz); the trunk's early
 *    media (183 + SDP) replaces it, then its answer; the caller's stream keeps one SSRC and the
 *    sequence goes on by one from the last ringback packet to the first relayed one;
 *  - 486: busy tone (425 Hz) over early media, then 486;
 *  - 404: the configured WAV announcement (700 Hz), then 404.
 *
 * Loopback addresses 127.0.48.1x (this slice's).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore, type ServerInvite, type SipResponse } from '@tfx/sip';
import { Sbc, type ZoneTones } from '../src/index.js';
import { RtpProbe, goertzel, unulaw, type ReceivedRtp } from '../../media/test/contract/probe.js';
import { builtinEngine, zone } from './harness.js';

const PUBLIC = '127.0.48.11';
const CORE = '127.0.48.12';
const PHONE = '127.0.48.13';
const TRUNK = '127.0.48.14';

function waitFor<T>(fn: () => T | undefined | false, what: string, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const sdp = (address: string, port: number): string =>
  [
    'v=0',
    `o=ua 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    '',
  ].join('\r\n');

/** 1 s of 700 Hz, 16-bit mono PCM at 8 kHz, as a WAV file. */
function wav700(): string {
  const n = 8000;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 700 * i) / 8000)), 44 + i * 2);
  const path = join(mkdtempSync(join(tmpdir(), 'sbc-tones-')), 'unknown.wav');
  writeFileSync(path, b);
  return path;
}

/** Which of `freqs` dominates the PCMU packets (summed Goertzel power). */
function dominant(packets: readonly ReceivedRtp[], freqs: readonly number[]): number {
  const samples = packets.flatMap((p) => [...p.payload].map(unulaw));
  const power = freqs.map((f) => goertzel(samples, f));
  return freqs[power.indexOf(Math.max(...power))]!;
}

describe('tones and announcements toward the caller', () => {
  let engine: MediaEngine;
  const open: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function rig(tones: ZoneTones, onInvite: (inv: ServerInvite) => void) {
    const phoneMedia = await RtpProbe.open(PHONE);
    const trunkMedia = await RtpProbe.open(TRUNK);
    open.push(
      () => phoneMedia.close(),
      () => trunkMedia.close(),
    );
    const trunk = new UserAgentCore({ user: 'trunk', timers: { T1: 200, T2: 1600 }, onInvite });
    const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
    open.push(() => trunk.close());
    const sbc = new Sbc({
      zones: [{ ...zone('public', PUBLIC), tones }, zone('core', CORE)],
      trunks: [{ name: 't', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` }],
      routes: [{ match: { zone: 'public' }, to: ['t'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
    });
    const listeners = await sbc.start();
    open.push(() => sbc.close());
    const sbcPort = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
    const phone = new UserAgentCore({ user: 'phone', timers: { T1: 200, T2: 1600 } });
    await phone.start([{ transport: 'udp', address: PHONE, port: 0 }]);
    open.push(() => phone.close());
    const progress: SipResponse[] = [];
    const result: { final?: SipResponse | 'accepted' } = {};
    phone.call(
      {
        uri: `sip:4420001@${PUBLIC}:${sbcPort}`,
        body: sdp(PHONE, phoneMedia.port),
        contentType: 'application/sdp',
      },
      {
        onProgress: (r) => progress.push(r),
        onAccepted: () => (result.final = 'accepted'),
        onFailed: (r) => (result.final = r),
      },
    );
    return { sbc, phoneMedia, trunkMedia, progress, result };
  }

  const audio = (p: RtpProbe): ReceivedRtp[] => p.received.filter((x) => x.pt === 0);

  it('ringback on 180, then early media and the answer with no gap in the caller’s stream', async () => {
    let inv: ServerInvite | undefined;
    const r = await rig({ ringback: true }, (i) => {
      inv = i;
      i.progress(180);
    });
    await waitFor(() => inv, 'the trunk got the INVITE');
    const early = await waitFor(
      () => r.progress.find((p) => p.status === 183 && p.body.length > 0),
      'a 183 with SDP to the caller',
    );
    expect(new TextDecoder().decode(early.body)).toMatch(/m=audio \d+ RTP\/AVP 0/);
    await waitFor(() => audio(r.phoneMedia).length >= 25, 'ringback at the caller');
    expect(dominant(audio(r.phoneMedia).slice(0, 25), [425, 700, 1000])).toBe(425);
    expect(r.sbc.tones.counters.ringback).toBe(1);

    // Early media from the trunk replaces the ringback.
    inv!.progress(183, { body: sdp(TRUNK, r.trunkMedia.port), contentType: 'application/sdp' });
    const media = r.sbc.calls()[0]!.media;
    const bSide = (await engine.query({ callId: media })).legs.find((l) => l.tag === 'b')!;
    const relayed = (): ReceivedRtp[] =>
      audio(r.phoneMedia).filter((p) => p.payload.subarray(2).every((x) => x === 0x2a));
    let stop = false;
    const sending = (async () => {
      for (let i = 0; i < 100 && !stop; i++)
        await r.trunkMedia.send(bSide.local, 5, { fill: 0x2a, gapMs: 20 });
    })();
    await waitFor(() => relayed().length >= 10, 'the early media at the caller');
    inv!.accept({ body: sdp(TRUNK, r.trunkMedia.port), contentType: 'application/sdp' });
    await waitFor(() => r.result.final, 'the caller answered');
    expect(r.result.final).toBe('accepted');
    const n = relayed().length;
    await waitFor(() => relayed().length >= n + 10, 'media after the answer');
    stop = true;
    await sending;

    const all = audio(r.phoneMedia);
    expect(new Set(all.map((p) => p.ssrc)).size).toBe(1); // one SSRC across tone and relay
    const firstRelay = all.findIndex((p) => p.payload.subarray(2).every((x) => x === 0x2a));
    expect(firstRelay).toBeGreaterThan(0);
    const lastTone = all[firstRelay - 1]!;
    const first = all[firstRelay]!;
    expect(first.seq).toBe((lastTone.seq + 1) & 0xffff); // no gap at the switch
    expect((first.ts - lastTone.ts) >>> 0 > 0 && (first.ts - lastTone.ts) >>> 0 < 8000 * 60).toBe(
      true,
    );
  }, 90_000);

  it('busy tone before 486 is relayed', async () => {
    const r = await rig({ busySeconds: 1 }, (i) => i.reject(486));
    const final = await waitFor(() => r.result.final, 'the caller’s final response');
    expect(final).not.toBe('accepted');
    expect((final as SipResponse).status).toBe(486);
    expect(r.progress.some((p) => p.status === 183 && p.body.length > 0)).toBe(true);
    expect(audio(r.phoneMedia).length).toBeGreaterThan(10);
    expect(dominant(audio(r.phoneMedia).slice(0, 20), [425, 700, 1000])).toBe(425);
    expect(r.sbc.tones.counters.failure).toBe(1);
  }, 60_000);

  it('the unknown-number announcement before 404 is relayed', async () => {
    const r = await rig({ announcements: { unknownNumber: wav700() } }, (i) => i.reject(404));
    const final = await waitFor(() => r.result.final, 'the caller’s final response');
    expect((final as SipResponse).status).toBe(404);
    expect(audio(r.phoneMedia).length).toBeGreaterThan(20);
    expect(dominant(audio(r.phoneMedia).slice(0, 40), [425, 700, 1000])).toBe(700);
  }, 60_000);

  it('a zone without tones relays the failure at once, no early media', async () => {
    const r = await rig({}, (i) => i.reject(486));
    const final = await waitFor(() => r.result.final, 'the caller’s final response');
    expect((final as SipResponse).status).toBe(486);
    expect(r.progress.some((p) => p.body.length > 0)).toBe(false);
    expect(audio(r.phoneMedia)).toEqual([]);
  }, 60_000);
});
