/**
 * What only the built-in engine promises, beyond the contract: a media worker that dies ends its
 * own calls with a counted call-failed event while the other worker's calls keep flowing; port
 * exhaustion is a clear error; the flood guard drops a flood and recovers; the media timeout fires
 * for a silent sending party and is paused on hold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinEngine, type BuiltinEngine } from '../../src/builtin/engine.js';
import type { CallFailedEvent, LegProfile, MediaTimeoutEvent } from '../../src/engine/types.js';
import { RtpProbe, sleep, waitFor } from '../contract/probe.js';
import { buildReceiverReport, ntpMiddle, parseRtcp } from '../../src/rtp/index.js';
import { makeSdp, readSdp } from '../contract/sdp.js';

const leg: LegProfile = {
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const base = (): number => 20000 + 2 * Math.floor(Math.random() * 9000);

let engine: BuiltinEngine | undefined;
const probes: RtpProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await engine?.close();
  engine = undefined;
});

async function call(e: BuiltinEngine, id: string, direction: 'sendrecv' | 'sendonly' = 'sendrecv') {
  const a = await RtpProbe.open();
  const b = await RtpProbe.open();
  probes.push(a, b);
  const o = await e.offer({
    callId: id,
    fromTag: 'a',
    sdp: makeSdp('127.0.0.1', [{ port: a.port, direction }]),
    from: leg,
    to: leg,
  });
  const mB = readSdp(o.sdp).mlines[0]!;
  const r = await e.answer({
    callId: id,
    fromTag: 'a',
    toTag: 'b',
    sdp: makeSdp('127.0.0.1', [
      { port: b.port, direction: direction === 'sendonly' ? 'recvonly' : 'sendrecv' },
    ]),
  });
  const mA = readSdp(r.sdp).mlines[0]!;
  return {
    a,
    b,
    relayA: { address: mA.address, port: mA.port },
    relayB: { address: mB.address, port: mB.port },
  };
}

describe('builtin engine', () => {
  it('a media worker that dies ends its calls with call-failed (counted); the other worker keeps relaying', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 99,
      workers: 2,
      mediaTimeoutMs: 0,
    });
    const failed: CallFailedEvent[] = [];
    engine.on('call-failed', (e) => failed.push(e));
    await call(engine, 'w1');
    const c2 = await call(engine, 'w2');
    const w1 = engine.workerOf('w1')!;
    expect(engine.workerOf('w2')).not.toBe(w1);
    await engine.workerThreads[w1]!.terminate();
    await waitFor(() => failed.length === 1, 'call-failed');
    expect(failed[0]).toMatchObject({ callId: 'w1', code: 'media-worker-failed' });
    await c2.a.send(c2.relayA, 10);
    await waitFor(() => c2.b.received.length >= 10, 'the other call to keep flowing');
    expect(await engine.list()).toEqual(['w2']);
    await expect(engine.query({ callId: 'w1' })).rejects.toMatchObject({
      code: 'media-session-not-found',
    });
    const counters = await engine.counters();
    expect(counters.workerFailures).toBe(1);
    expect(counters.callsFailed).toBe(1);
    // The replacement worker takes new calls on the same ports.
    const c3 = await call(engine, 'w3');
    await c3.a.send(c3.relayA, 5);
    await waitFor(() => c3.b.received.length >= 5, 'a new call after the replacement');
  });

  it('port exhaustion is media-ports-exhausted (the SBC answers 503), and ports come back on delete', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 7,
      workers: 1,
      mediaTimeoutMs: 0,
    });
    await call(engine, 'p1');
    await call(engine, 'p2');
    await expect(call(engine, 'p3')).rejects.toMatchObject({ code: 'media-ports-exhausted' });
    expect(await engine.list()).toEqual(['p1', 'p2']);
    await engine.delete({ callId: 'p1' });
    await call(engine, 'p4');
  });

  it("media sockets bind the zone's address, never the wildcard; a wildcard media address is refused", async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      mediaTimeoutMs: 0,
    });
    for (const bad of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', 'media.example.com']) {
      await expect(
        engine.offer({
          callId: `wild-${bad}`,
          fromTag: 'a',
          sdp: makeSdp('127.0.0.1', [{ port: 4000 }]),
          from: { ...leg, mediaAddress: bad },
          to: leg,
        }),
      ).rejects.toMatchObject({ code: 'config-invalid' });
    }
    expect(await engine.list()).toEqual([]);
    // Zone A on 127.0.0.2: its socket takes packets sent to 127.0.0.2 only.
    const zoneA: LegProfile = { ...leg, zone: 'a', mediaAddress: '127.0.0.2' };
    const a = await RtpProbe.open('127.0.0.1');
    const b = await RtpProbe.open('127.0.0.1');
    probes.push(a, b);
    const o = await engine.offer({
      callId: 'zone',
      fromTag: 'a',
      sdp: makeSdp('127.0.0.1', [{ port: a.port }]),
      from: zoneA,
      to: leg,
    });
    const r = await engine.answer({
      callId: 'zone',
      fromTag: 'a',
      toTag: 'b',
      sdp: makeSdp('127.0.0.1', [{ port: b.port }]),
    });
    const mA = readSdp(r.sdp).mlines[0]!;
    expect(mA.address).toBe('127.0.0.2');
    expect(readSdp(o.sdp).mlines[0]!.address).toBe('127.0.0.1');
    const q = await engine.query({ callId: 'zone' });
    expect(q.legs.find((l) => l.tag === 'a')!.local.address).toBe('127.0.0.2');
    await a.send({ address: '127.0.0.1', port: mA.port }, 10);
    await sleep(300);
    expect(b.received).toHaveLength(0);
    await a.send({ address: '127.0.0.2', port: mA.port }, 10);
    await waitFor(() => b.received.length >= 10, "media sent to the zone's address");
  });

  it('garbage and truncated RTP/RTCP are dropped and counted by reason, per leg and per worker', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      mediaTimeoutMs: 0,
    });
    const c = await call(engine, 'g1');
    await c.a.send(c.relayA, 3);
    await waitFor(() => c.b.received.length >= 3, 'media');
    const rtp = [
      Buffer.from([0x80]),
      Buffer.alloc(11, 0x80),
      Buffer.from([0x9f, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    ];
    for (const g of rtp) c.a.sendRaw(c.relayA, g);
    const rtcpPort = { address: c.relayA.address, port: c.relayA.port + 1 };
    for (const g of [Buffer.from([0x81, 0xc8, 0x00, 0x40, 1, 2, 3, 4]), Buffer.alloc(3, 0xff)])
      c.a.sendRaw(rtcpPort, g);
    await sleep(300);
    const counters = await engine.counters();
    expect(counters.dropped['bad-rtp']).toBeGreaterThanOrEqual(rtp.length);
    expect(counters.dropped['bad-rtcp']).toBeGreaterThanOrEqual(2);
    const q = await engine.query({ callId: 'g1' });
    expect(q.legs.find((l) => l.tag === 'a')!.dropped).toBeGreaterThanOrEqual(rtp.length + 2);
    expect(counters.workersAlive).toBe(1);
    expect(counters.workerFailures).toBe(0);
    await c.a.send(c.relayA, 5);
    await waitFor(() => c.b.received.length >= 8, 'media after the garbage');
  });

  it('the flood guard drops a flood from a party, counts it, and recovers', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      floodPps: 200,
      mediaTimeoutMs: 0,
    });
    const c = await call(engine, 'f1');
    const pkt = Buffer.alloc(172);
    pkt[0] = 0x80;
    for (let i = 0; i < 2000; i++) {
      pkt.writeUInt16BE(i, 2);
      c.a.sendRaw(c.relayA, pkt);
    }
    await sleep(500);
    const q = await engine.query({ callId: 'f1' });
    expect(q.legs.find((l) => l.tag === 'a')!.dropped).toBeGreaterThan(500);
    expect((await engine.counters()).dropped['flood']).toBeGreaterThan(500);
    await sleep(1100);
    c.b.clear();
    await c.a.send(c.relayA, 20, { gapMs: 20 });
    await waitFor(() => c.b.received.length >= 20, 'media after the flood');
    // A flood from a third address is dropped as wrong-source and does not starve the party.
    const x = await RtpProbe.open();
    probes.push(x);
    for (let i = 0; i < 2000; i++) x.sendRaw(c.relayA, pkt);
    c.b.clear();
    await c.a.send(c.relayA, 20, { gapMs: 5 });
    await waitFor(() => c.b.received.length >= 20, 'media during a third-party flood');
    expect((await engine.counters()).dropped['wrong-source']).toBeGreaterThan(1000);
  });

  it('media-timeout fires for a silent sending party, and not while it holds (sendonly → the other side recvonly)', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      mediaTimeoutMs: 1500,
    });
    const timeouts: MediaTimeoutEvent[] = [];
    engine.on('media-timeout', (e) => timeouts.push(e));
    await call(engine, 't1');
    await call(engine, 't2', 'sendonly');
    await waitFor(
      () => timeouts.filter((t) => t.callId === 't1').length >= 2,
      'timeouts for t1',
      15_000,
    );
    await sleep(1500);
    const t2 = timeouts.filter((t) => t.callId === 't2').map((t) => t.tag);
    // In t2, b answered recvonly: it does not send, so only a can time out.
    expect(t2).toEqual(['a']);
  });

  it("RTCP is terminated per leg: the party gets SRs from the relay's SSRC with a report on its own stream, and its RR gives the RTT (RFC 3550 §6.4)", async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      rtcpIntervalMs: 300,
      mediaTimeoutMs: 0,
    });
    const a = await RtpProbe.open();
    const b = await RtpProbe.open();
    probes.push(a, b);
    const muxLeg: LegProfile = { ...leg, rtcpMux: 'accept' };
    const o = await engine.offer({
      callId: 'r1',
      fromTag: 'a',
      sdp: makeSdp('127.0.0.1', [{ port: a.port, extra: ['a=rtcp-mux'] }]),
      from: muxLeg,
      to: leg,
    });
    const mB = readSdp(o.sdp).mlines[0]!;
    const r = await engine.answer({
      callId: 'r1',
      fromTag: 'a',
      toTag: 'b',
      sdp: makeSdp('127.0.0.1', [{ port: b.port }]),
    });
    const mA = readSdp(r.sdp).mlines[0]!;
    expect(mA.attrs).toContain('rtcp-mux');
    await a.send({ address: mA.address, port: mA.port }, 10);
    await b.send({ address: mB.address, port: mB.port }, 10);
    await waitFor(() => a.received.length >= 10, 'A to receive');
    const relaySsrc = a.received[0]!.ssrc;
    let sr:
      | {
          ntpSec: number;
          ntpFrac: number;
          reports: readonly { ssrc: number; highestSeq: number }[];
        }
      | undefined;
    await waitFor(() => {
      for (const x of a.other) {
        const parsed = parseRtcp(x.bytes);
        const first = parsed.ok ? parsed.packets[0] : undefined;
        if (first?.type === 'sr' && first.ssrc === relaySsrc) sr = first;
      }
      return sr !== undefined;
    }, 'an SR from the relay');
    expect(a.other.every((x) => x.from.port === mA.port)).toBe(true);
    expect(sr!.reports[0]?.ssrc).toBe(a.ssrc);
    // A answers with an RR echoing the SR (LSR) after no delay (DLSR 0).
    a.sendRaw(
      { address: mA.address, port: mA.port },
      buildReceiverReport({
        ssrc: a.ssrc,
        reports: [
          {
            ssrc: relaySsrc,
            fractionLost: 0,
            cumulativeLost: 0,
            highestSeq: 0,
            jitter: 0,
            lsr: ntpMiddle(sr!.ntpSec, sr!.ntpFrac),
            dlsr: 0,
          },
        ],
        cname: 'probe',
      }),
    );
    let rtt: number | undefined;
    for (let i = 0; i < 50 && rtt === undefined; i++) {
      const q = await engine.query({ callId: 'r1' });
      rtt = q.legs.find((l) => l.tag === 'a')!.rttMs;
      if (rtt === undefined) await sleep(50);
    }
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(60_000);
  });

  it('IPv4↔IPv6 interworking: an IPv6 party and an IPv4 party each see the relay in their own family', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      mediaTimeoutMs: 0,
    });
    const a = await RtpProbe.open('::1');
    const b = await RtpProbe.open('127.0.0.1');
    probes.push(a, b);
    const o = await engine.offer({
      callId: 'v6',
      fromTag: 'a',
      sdp: makeSdp('::1', [{ port: a.port }]),
      from: { ...leg, mediaAddress: '::1' },
      to: leg,
    });
    expect(o.sdp).toContain('c=IN IP4 127.0.0.1');
    const mB = readSdp(o.sdp).mlines[0]!;
    const r = await engine.answer({
      callId: 'v6',
      fromTag: 'a',
      toTag: 'b',
      sdp: makeSdp('127.0.0.1', [{ port: b.port }]),
    });
    expect(r.sdp).toContain('c=IN IP6 ::1');
    const mA = readSdp(r.sdp).mlines[0]!;
    await a.send({ address: mA.address, port: mA.port }, 10);
    await b.send({ address: mB.address, port: mB.port }, 10);
    await waitFor(() => a.received.length >= 10 && b.received.length >= 10, 'media both ways');
    expect(a.received.every((x) => x.from.address === '::1')).toBe(true);
    expect(b.received.every((x) => x.from.address === '127.0.0.1')).toBe(true);
  });

  it('a session refresh with the same SDP is a no-op: the latch stays locked and a third source still gets nothing through', async () => {
    const p = base();
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 19,
      workers: 1,
      mediaTimeoutMs: 0,
    });
    const a = await RtpProbe.open();
    const b = await RtpProbe.open();
    const x = await RtpProbe.open();
    probes.push(a, b, x);
    const offerSdp = makeSdp('127.0.0.1', [{ port: a.port }]);
    const answerSdp = makeSdp('127.0.0.1', [{ port: b.port }]);
    await engine.offer({ callId: 's1', fromTag: 'a', sdp: offerSdp, from: leg, to: leg });
    const r = await engine.answer({ callId: 's1', fromTag: 'a', toTag: 'b', sdp: answerSdp });
    const mA = readSdp(r.sdp).mlines[0]!;
    const relayA = { address: mA.address, port: mA.port };
    await a.send(relayA, 5);
    await waitFor(() => b.received.length >= 5, 'B to receive A');
    // The refresh: the same offer and answer again.
    await engine.offer({
      callId: 's1',
      fromTag: 'a',
      toTag: 'b',
      sdp: offerSdp,
      from: leg,
      to: leg,
    });
    await engine.answer({ callId: 's1', fromTag: 'a', toTag: 'b', sdp: answerSdp });
    b.clear();
    await x.send(relayA, 10, { fill: 0x11 });
    await a.send(relayA, 5);
    await waitFor(() => b.received.length >= 5, 'B to receive A after the refresh');
    await sleep(100);
    expect(b.received.filter((pk) => pk.payload[5] === 0x11)).toHaveLength(0);
  });
});
