/**
 * SIP INFO ↔ RFC 4733 through the SBC (dtmf.ts), with the built-in engine: a sipp trunk that does
 * DTMF by INFO (`dtmf: info`, answering PCMU without telephone-event) and a caller of our own SIP
 * stack whose media is a small RTP probe of ours (PCMU + telephone-event/8000).
 *
 *  - INFO from the trunk (dtmf-relay "5" 160 ms, application/dtmf "9") reaches the probe as RFC
 *    4733 events: one timestamp per event, growing durations, three End packets of 160 ms;
 *  - an INFO without a digit gets 400 (sipp checks), the call goes on;
 *  - the probe's events "1" and "#" (no marker bit; hostile packets of bad lengths and events
 *    before them) reach the trunk as two INFOs `Signal=1`, `Signal=#` of 100 ms, in order
 *    (sipp checks the bodies) and no telephone-event packet reaches the INFO trunk's media.
 *
 * Loopback addresses 127.0.48.x (this slice's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore, type DialogSession, type SipResponse } from '@tfx/sip';
import { Sbc } from '../src/index.js';
import { RtpProbe, rtpPacket } from '../../media/test/contract/probe.js';
import { SCENARIOS, builtinEngine, freePort, sipp, zone } from './harness.js';

const PUBLIC = '127.0.48.1';
const CORE = '127.0.48.2';
const PHONE = '127.0.48.3';
const TRUNK = '127.0.48.4';

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

const offer = (port: number): string =>
  [
    'v=0',
    `o=phone 1 1 IN IP4 ${PHONE}`,
    's=-',
    `c=IN IP4 ${PHONE}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    '',
  ].join('\r\n');

interface Event {
  readonly event: number;
  readonly ts: number;
  readonly durations: number[];
  ends: number;
  readonly markers: boolean[];
}

/** The probe's telephone-event packets grouped by RTP timestamp (RFC 4733 §2.5.1.2). */
function events(probe: RtpProbe, pt: number): Event[] {
  const out: Event[] = [];
  for (const p of probe.received) {
    if (p.pt !== pt || p.payload.length !== 4) continue;
    let e = out.find((x) => x.ts === p.ts);
    if (!e) {
      e = { event: p.payload[0]!, ts: p.ts, durations: [], ends: 0, markers: [] };
      out.push(e);
    }
    e.durations.push(p.payload.readUInt16BE(2));
    e.markers.push(p.marker);
    if (p.payload[1]! & 0x80) e.ends++;
  }
  return out;
}

/** One RFC 4733 event as a sender without the marker bit sends it (livekit/sip#585). */
async function sendEvent(
  probe: RtpProbe,
  to: { address: string; port: number },
  s: { event: number; ts: number; seq: number },
): Promise<number> {
  let seq = s.seq;
  const packet = (duration: number, end: boolean): Buffer =>
    rtpPacket({
      pt: 101,
      seq: seq++,
      ts: s.ts,
      ssrc: probe.ssrc,
      payload: Buffer.from([s.event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]),
    });
  for (const d of [160, 320, 480, 640]) {
    probe.sendRaw(to, packet(d, false));
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let i = 0; i < 3; i++) probe.sendRaw(to, packet(800, true));
  return seq;
}

describe('DTMF: SIP INFO ↔ RFC 4733 with a sipp INFO trunk', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('INFO from the trunk becomes RFC 4733 toward the caller, and the caller’s events INFO', async () => {
    const trunkPort = await freePort(TRUNK);
    const trunkMedia = await freePort(TRUNK, true);
    // What the INFO trunk's media port receives: no telephone-event may reach it.
    const trunkRtp = createSocket('udp4');
    const toTrunk: Buffer[] = [];
    trunkRtp.on('message', (m) => toTrunk.push(m));
    await new Promise<void>((r) => trunkRtp.bind(trunkMedia, TRUNK, () => r()));
    const sbc = new Sbc({
      zones: [zone('public', PUBLIC), zone('core', CORE)],
      trunks: [{ name: 'info', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}`, dtmf: 'info' }],
      routes: [{ match: { zone: 'public' }, to: ['info'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
    });
    const probe = await RtpProbe.open(PHONE);
    const phone = new UserAgentCore({ user: 'phone', timers: { T1: 200, T2: 1600 } });
    try {
      const listeners = await sbc.start();
      const sbcPort = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
      await phone.start([{ transport: 'udp', address: PHONE, port: 0 }]);
      const trunk = sipp(
        [
          '-sf',
          join(SCENARIOS, 'uas-dtmf-info.xml'),
          '-i',
          TRUNK,
          '-p',
          String(trunkPort),
          '-mi',
          TRUNK,
          '-mp',
          String(await freePort(TRUNK, true)),
          '-key',
          'trunk_media',
          String(trunkMedia),
          '-m',
          '1',
        ],
        60_000,
      );
      await new Promise((r) => setTimeout(r, 500)); // the UAS binds first (INVITE retransmits anyway)
      let session: DialogSession | undefined;
      let answer: SipResponse | undefined;
      let ended: string | undefined;
      phone.call(
        {
          uri: `sip:4420001@${PUBLIC}:${sbcPort}`,
          body: offer(probe.port),
          contentType: 'application/sdp',
        },
        {
          onAccepted: (s, r) => {
            session = s;
            answer = r;
            s.events = { onTerminated: (why) => (ended = why) };
          },
        },
      );
      await waitFor(() => session, 'the caller answered');
      // The INFO trunk answered without telephone-event; the caller keeps its own (engine).
      const answerSdp = new TextDecoder().decode(answer!.body);
      expect(answerSdp).toMatch(/a=rtpmap:101 telephone-event\/8000/);

      // INFO "5" (160 ms) and application/dtmf "9" (160 ms default) → RFC 4733 at the probe.
      const got = await waitFor(() => {
        const ev = events(probe, 101).filter((e) => e.ends >= 3);
        return ev.length >= 2 ? ev : undefined;
      }, 'two RFC 4733 events at the probe');
      expect(got.map((e) => e.event)).toEqual([5, 9]);
      for (const e of got) {
        expect(e.ends).toBe(3); // RFC 4733 §2.5.1.4: the final packet three times
        expect(e.durations.at(-1)).toBe(160 * 8); // 160 ms at 8 kHz
        const growing = e.durations.slice(0, -3);
        expect(growing.length).toBeGreaterThan(0);
        expect(growing).toEqual([...growing].sort((x, y) => x - y));
      }
      const relayPacket = probe.received.find((p) => p.pt === 101)!;

      // The caller's events toward the SBC's media address for it (where its packets come from).
      const sbcMedia = relayPacket.from;
      let seq = 1000;
      // Hostile first: bad lengths, a non-digit event with the End bit — counted, no INFO.
      probe.sendRaw(
        sbcMedia,
        rtpPacket({ pt: 101, seq: seq++, ts: 5000, ssrc: probe.ssrc, payload: Buffer.alloc(0) }),
      );
      probe.sendRaw(
        sbcMedia,
        rtpPacket({
          pt: 101,
          seq: seq++,
          ts: 5000,
          ssrc: probe.ssrc,
          payload: Buffer.from([1, 0x80]),
        }),
      );
      probe.sendRaw(
        sbcMedia,
        rtpPacket({
          pt: 101,
          seq: seq++,
          ts: 6000,
          ssrc: probe.ssrc,
          payload: Buffer.from([200, 0x8a, 3, 32]),
        }),
      );
      seq = await sendEvent(probe, sbcMedia, { event: 1, ts: 10_000, seq });
      await new Promise((r) => setTimeout(r, 60));
      await sendEvent(probe, sbcMedia, { event: 11, ts: 12_000, seq });

      const t = await trunk.done;
      expect(t.code, `trunk sipp:\n${t.output}\n${t.trace}`).toBe(0);
      await waitFor(() => ended, 'the caller leg ended by the trunk’s BYE');
      expect(sbc.dtmf.counters).toMatchObject({
        infoToRfc4733: 2,
        rfc4733ToInfo: 2,
        infoRefused: 1,
        failed: 0,
      });
      // The INFO trunk's media got no telephone-event packet (its answer had none; PT 101 raw).
      expect(toTrunk.filter((m) => (m[1]! & 0x7f) === 101)).toEqual([]);
    } finally {
      await phone.close();
      await sbc.close();
      probe.close();
      trunkRtp.close();
    }
  }, 90_000);
});
