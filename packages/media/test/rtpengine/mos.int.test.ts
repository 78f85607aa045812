/**
 * MOS under loss: the built-in engine's MOS for a stream is within 0.2 of what rtpengine's `query`
 * reports for the same stream (issue #15 proof). The same call runs through each engine: party A
 * sends G.711 every 20 ms through a loss-injecting sender that drops a fixed share of its packets
 * before they reach the relay (every 20th for 5 %, every 5th for 20 %: the same loss in every
 * 1-second RTCP interval), party B sends back without loss; both send RTCP (A: SR; B: RR about A's
 * stream with loss, jitter, LSR/DLSR per RFC 3550 §6.4.1, A.3, A.8).
 *
 * rtpengine rates a stream from its receiver's RTCP RR (daemon/ssrc.c ssrc_receiver_report), so it
 * runs with `mos = LQ` (listening quality: no RTT needed; B sends no SR for a round trip). The
 * built-in engine rates A's stream from what its worker received (the same E-model, ./quality.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import type { LegProfile, MediaEngine } from '../../src/engine/types.js';
import { RtpengineEngine } from '../../src/rtpengine/engine.js';
import { createBuiltinEngine } from '../../src/builtin/index.js';
import { startRtpengine, type RtpengineProcess } from './harness.js';

const ADDR = '127.0.0.1';
const P: LegProfile = {
  mediaAddress: ADDR,
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, ADDR, () => r()));
  return s;
}

/** NTP time (RFC 3550 §4) as [seconds, fraction]. */
function ntp(ms: number): [number, number] {
  const secs = ms / 1000 + 2_208_988_800;
  return [Math.floor(secs) >>> 0, Math.floor((secs % 1) * 2 ** 32) >>> 0];
}

function rtp(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** RFC 3550 §6.4.1 SR without report blocks. */
function sr(ssrc: number, now: number, rtpTs: number, packets: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  const [s, f] = ntp(now);
  b.writeUInt32BE(s, 8);
  b.writeUInt32BE(f, 12);
  b.writeUInt32BE(rtpTs >>> 0, 16);
  b.writeUInt32BE(packets, 20);
  b.writeUInt32BE(packets * 160, 24);
  return b;
}

/** What B knows about A's stream (RFC 3550 A.1/A.3/A.8), and its RR (§6.4.2). */
class Receiver {
  ssrc = 0;
  base = -1;
  max = 0;
  received = 0;
  expectedPrior = 0;
  receivedPrior = 0;
  jitter = 0;
  transit: number | undefined;
  lsr = 0;
  lsrAt = 0;
  onRtp(b: Buffer, now: number): void {
    const seq = b.readUInt16BE(2);
    const ts = b.readUInt32BE(4);
    this.ssrc = b.readUInt32BE(8);
    if (this.base < 0) this.base = this.max = seq;
    else if (((seq - this.max) & 0xffff) < 0x8000) this.max = seq;
    this.received++;
    const arrival = (now * 8) >>> 0; // 8 kHz units
    const transit = (arrival - ts) | 0;
    if (this.transit !== undefined) {
      const d = Math.abs(transit - this.transit);
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
  }
  onSr(b: Buffer, now: number): void {
    if (b.length < 20 || b[1] !== 200) return;
    this.lsr = ((b.readUInt32BE(8) & 0xffff) << 16) | (b.readUInt32BE(12) >>> 16);
    this.lsrAt = now;
  }
  rr(from: number, now: number): Buffer {
    const expected = ((this.max - this.base) & 0xffff) + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.floor((lostInterval << 8) / expectedInterval);
    const b = Buffer.alloc(32);
    b[0] = 0x81;
    b[1] = 201;
    b.writeUInt16BE(7, 2);
    b.writeUInt32BE(from, 4);
    b.writeUInt32BE(this.ssrc, 8);
    b.writeUInt32BE(((fraction & 0xff) << 24) | (Math.max(0, lost) & 0xffffff), 12);
    b.writeUInt32BE(this.max >>> 0, 16); // extended highest sequence (no wrap in a 6 s run)
    b.writeUInt32BE(Math.floor(this.jitter) >>> 0, 20);
    b.writeUInt32BE(this.lsr >>> 0, 24);
    b.writeUInt32BE(this.lsr ? Math.round(((now - this.lsrAt) / 1000) * 65536) >>> 0 : 0, 28);
    return b;
  }
}

/** One call through `engine`: A → relay with every `dropEvery`-th packet lost, B → relay clean. Returns A's leg MOS. */
async function lossyCall(
  engine: MediaEngine,
  id: string,
  dropEvery: number,
  seconds: number,
): Promise<number | undefined> {
  const [aRtp, aRtcp, bRtp, bRtcp] = await Promise.all([udp(), udp(), udp(), udp()]);
  const sdp = (rtpS: Socket, rtcpS: Socket): string =>
    `v=0\r\no=p 1 1 IN IP4 ${ADDR}\r\ns=-\r\nc=IN IP4 ${ADDR}\r\nt=0 0\r\n` +
    `m=audio ${rtpS.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:${rtcpS.address().port}\r\na=sendrecv\r\n`;
  const portOf = (s: string): [number, number] => {
    const p = Number(/^m=audio (\d+) /m.exec(s)?.[1]);
    const r = Number(/^a=rtcp:(\d+)/m.exec(s)?.[1] ?? p + 1);
    return [p, r];
  };
  try {
    const o = await engine.offer({
      callId: id,
      fromTag: 'a',
      sdp: sdp(aRtp, aRtcp),
      from: P,
      to: P,
    });
    const r = await engine.answer({ callId: id, fromTag: 'a', toTag: 'b', sdp: sdp(bRtp, bRtcp) });
    const [toBRtp, toBRtcp] = portOf(o.sdp); // where B sends
    const [toARtp, toARtcp] = portOf(r.sdp); // where A sends
    const rx = new Receiver();
    bRtp.on('message', (m) => rx.onRtp(m, performance.now()));
    bRtcp.on('message', (m) => rx.onSr(m, performance.now()));
    const A_SSRC = 0x0a0a0a0a;
    const B_SSRC = 0x0b0b0b0b;
    const t0 = performance.now();
    let i = 0;
    let aSent = 0;
    let nextReport = t0 + 1000;
    while (performance.now() - t0 < seconds * 1000) {
      const due = Math.floor((performance.now() - t0) / 20);
      for (; i <= due; i++) {
        // The loss-injecting sender: the packet is counted in A's sequence but never sent.
        if (i % dropEvery !== dropEvery - 1) {
          aRtp.send(rtp(A_SSRC, 1000 + i, 160 * i), toARtp, ADDR);
          aSent++;
        }
        bRtp.send(rtp(B_SSRC, 5000 + i, 160 * i), toBRtp, ADDR);
      }
      const now = performance.now();
      if (now >= nextReport) {
        nextReport += 1000;
        aRtcp.send(sr(A_SSRC, Date.now(), 160 * i, aSent), toARtcp, ADDR);
        await sleep(5);
        bRtcp.send(rx.rr(B_SSRC, performance.now()), toBRtcp, ADDR);
      }
      await sleep(5);
    }
    await sleep(300);
    const q = await engine.query({ callId: id });
    return q.legs.find((l) => l.tag === 'a')?.mos;
  } finally {
    for (const s of [aRtp, aRtcp, bRtp, bRtcp]) s.close();
    await engine.delete({ callId: id }).catch(() => {});
  }
}

let rtpe: RtpengineProcess;
let viaRtpengine: RtpengineEngine;
let builtin: MediaEngine;

beforeAll(async () => {
  rtpe = await startRtpengine({ ports: 40, extra: { mos: 'LQ' } });
  viaRtpengine = new RtpengineEngine({ instances: [rtpe.url], pingIntervalMs: 0 });
  builtin = await createBuiltinEngine({
    portMin: 28000,
    portMax: 28999,
    workers: 1,
    rtcpIntervalMs: 1000,
  });
});
afterAll(async () => {
  await viaRtpengine?.close();
  await builtin?.close();
  await rtpe?.stop();
});

describe('MOS under loss: built-in against rtpengine for the same stream', () => {
  it.each([
    { pct: 5, dropEvery: 20 },
    { pct: 20, dropEvery: 5 },
  ])('at $pct % loss the built-in MOS is within 0.2 of rtpengine’s', async ({ pct, dropEvery }) => {
    const run = `${process.pid}-${Date.now()}-${pct}`;
    const [x, y] = await Promise.all([
      lossyCall(viaRtpengine, `mos-r-${run}`, dropEvery, 6),
      lossyCall(builtin, `mos-b-${run}`, dropEvery, 6),
    ]);
    if (process.env.TFX_MOS_PRINT) console.log(`loss ${pct} %: rtpengine ${x}, built-in ${y}`);
    expect(x, 'rtpengine reports a MOS').toBeTypeOf('number');
    expect(y, 'the built-in engine reports a MOS').toBeTypeOf('number');
    // Loss alone must lower both: 5 % → about 4.0, 20 % → about 2.2–2.3 (E-model as rtpengine).
    expect(x!).toBeLessThan(pct === 5 ? 4.3 : 2.6);
    expect(Math.abs(x! - y!)).toBeLessThanOrEqual(0.2);
  });
});
