/**
 * RtpengineEngine's media features on a real rtpengine: block/unblock media, play DTMF (RFC 4733
 * toward a party), play media (a tone), PCAP recording read back with tshark, forwarding a copy of
 * the media (a subscription) to another address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LegProfile, MediaTimeoutEvent } from '../../src/engine/types.js';
import { RtpengineEngine } from '../../src/rtpengine/engine.js';
import { RtpProbe, sleep, waitFor } from '../contract/probe.js';
import { makeSdp, readSdp } from '../contract/sdp.js';
import { startRtpengine, type RtpengineProcess } from './harness.js';

const P: LegProfile = {
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};

let rtpe: RtpengineProcess;
let engine: RtpengineEngine;
let recDir: string;
const probes: RtpProbe[] = [];
let seq = 0;

beforeAll(async () => {
  recDir = mkdtempSync(join(tmpdir(), 'tfx-rtpengine-rec-'));
  rtpe = await startRtpengine({ ports: 60, recordingDir: recDir });
  engine = new RtpengineEngine({
    instances: [rtpe.url],
    injectDtmf: true,
    recording: true,
    pingIntervalMs: 0,
  });
});
afterAll(async () => {
  for (const p of probes) p.close();
  await engine?.close();
  await rtpe?.stop();
  rmSync(recDir, { recursive: true, force: true });
});

async function call() {
  const a = await RtpProbe.open();
  const b = await RtpProbe.open();
  probes.push(a, b);
  const callId = `feat-${process.pid}-${++seq}`;
  const o = await engine.offer({
    callId,
    fromTag: 'a',
    sdp: makeSdp('127.0.0.1', [{ port: a.port }]),
    from: P,
    to: P,
  });
  const r = await engine.answer({
    callId,
    fromTag: 'a',
    toTag: 'b',
    sdp: makeSdp('127.0.0.1', [{ port: b.port }]),
  });
  const mA = readSdp(r.sdp).mlines[0]!;
  const mB = readSdp(o.sdp).mlines[0]!;
  return {
    callId,
    a,
    b,
    relayA: { address: mA.address, port: mA.port },
    relayB: { address: mB.address, port: mB.port },
  };
}

describe('rtpengine engine features', () => {
  it('block media drops what a party sends until unblocked', async () => {
    const c = await call();
    await c.a.send(c.relayA, 10, { gapMs: 20 });
    await waitFor(() => c.b.received.length >= 5, 'media before the block');
    await engine.block({ callId: c.callId, tag: 'a' }, 'media', true);
    await sleep(100);
    c.b.clear();
    await c.a.send(c.relayA, 15, { gapMs: 20 });
    await sleep(200);
    expect(c.b.received.length).toBe(0);
    await engine.block({ callId: c.callId, tag: 'a' }, 'media', false);
    await c.a.send(c.relayA, 15, { gapMs: 20 });
    await waitFor(() => c.b.received.length >= 5, 'media after unblock');
    await engine.delete({ callId: c.callId });
  });

  it('playDtmf sends RFC 4733 events toward the party named (telephone-event PT, end bit)', async () => {
    const c = await call();
    // Media both ways, so rtpengine's codec handlers run.
    const flowing = Promise.all([
      c.a.send(c.relayA, 100, { gapMs: 20 }),
      c.b.send(c.relayB, 100, { gapMs: 20 }),
    ]);
    await sleep(300);
    await engine.playDtmf({ callId: c.callId, tag: 'b' }, '5', { durationMs: 200 });
    await waitFor(
      () => c.b.received.some((p) => p.pt === 101),
      'telephone-event packets at B',
      10_000,
    );
    const events = c.b.received.filter((p) => p.pt === 101);
    expect(events.every((p) => p.payload[0] === 5)).toBe(true);
    await waitFor(
      () => c.b.received.some((p) => p.pt === 101 && (p.payload[1]! & 0x80) !== 0),
      'an end packet',
    );
    expect(c.a.received.filter((p) => p.pt === 101)).toHaveLength(0);
    await flowing;
    await expect(engine.playDtmf({ callId: c.callId, tag: 'b' }, '5x')).rejects.toMatchObject({
      code: 'bad-request',
    });
    await engine.delete({ callId: c.callId });
  });

  it('playMedia plays a tone to the party named (it hears it, the other does not); stopMedia ends it', async () => {
    const c = await call();
    const flowing = Promise.all([
      c.a.send(c.relayA, 150, { gapMs: 20 }),
      c.b.send(c.relayB, 150, { gapMs: 20 }),
    ]);
    await sleep(200);
    await engine.playMedia(
      { callId: c.callId, tag: 'a' },
      { tone: 'sine', frequency: 1000 },
      { repeat: 0 },
    );
    // The tone replaces silence (0xd5 / 0xff in G.711) toward one party.
    const toneAt = (p: RtpProbe): boolean =>
      p.received.some((x) => x.payload.subarray(4).some((v) => v !== 0xd5 && v !== 0xff));
    await waitFor(() => toneAt(c.a), 'tone samples at A', 10_000);
    expect(toneAt(c.b)).toBe(false);
    await engine.stopMedia({ callId: c.callId, tag: 'a' });
    await sleep(300);
    c.a.clear();
    await waitFor(() => c.a.received.length >= 10, 'B’s media at A again');
    expect(
      c.a.received
        .slice(-5)
        .some((x) => x.payload.subarray(4).some((v) => v !== 0xd5 && v !== 0xff)),
    ).toBe(false);
    await flowing;
    await engine.delete({ callId: c.callId });
  });

  it('records the call to a PCAP that tshark reads with RTP both ways, the SSRC each party sent and PT 0', async () => {
    const c = await call();
    await engine.record({ callId: c.callId }, true, { format: 'pcap' });
    await Promise.all([
      c.a.send(c.relayA, 20, { gapMs: 10 }),
      c.b.send(c.relayB, 20, { gapMs: 10 }),
    ]);
    await waitFor(() => c.a.received.length >= 20 && c.b.received.length >= 20, 'media both ways');
    await engine.record({ callId: c.callId }, false);
    await engine.delete({ callId: c.callId });
    await sleep(300);
    const pcaps = readdirSync(recDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.pcap'))
      .map((f) => join(recDir, f));
    expect(pcaps.length).toBeGreaterThan(0);
    const file = pcaps.sort((x, y) => statSync(y).size - statSync(x).size)[0]!;
    const out = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        'udp.port==1-65535,rtp',
        '-T',
        'fields',
        '-e',
        'rtp.ssrc',
        '-e',
        'rtp.p_type',
      ],
      {
        encoding: 'utf8',
      },
    );
    const rows = out.trim().split('\n').filter(Boolean);
    expect(rows.length).toBeGreaterThanOrEqual(20);
    // Both directions, as rtpengine records them: what each party sent, with its own SSRC (the
    // built-in engine records what it sends, with its SSRCs: the contract suite checks that).
    const ssrcs = new Set(rows.map((r) => Number(r.split('\t')[0])));
    expect(ssrcs).toEqual(new Set([c.a.ssrc, c.b.ssrc]));
    expect(rows.every((r) => r.split('\t')[1] === '0')).toBe(true);
    await expect(
      engine.record({ callId: c.callId }, true, { format: 'wav' }),
    ).rejects.toMatchObject({ code: 'media-unsupported' });
  });

  it("media-timeout from rtpengine's last packet: a party that stopped sending times out once; a party on hold (recvonly) does not", async () => {
    const e = new RtpengineEngine({
      instances: [rtpe.url],
      pingIntervalMs: 0,
      statsIntervalMs: 300,
      mediaTimeoutMs: 1500,
    });
    const seen: MediaTimeoutEvent[] = [];
    e.on('media-timeout', (t) => seen.push(t));
    try {
      const a = await RtpProbe.open();
      const b = await RtpProbe.open();
      probes.push(a, b);
      const callId = `timeout-${process.pid}-${++seq}`;
      // A may send (sendonly: it holds B), B only receives (recvonly): only A can time out.
      const o = await e.offer({
        callId,
        fromTag: 'a',
        sdp: makeSdp('127.0.0.1', [{ port: a.port, direction: 'sendonly' }]),
        from: P,
        to: P,
      });
      const r = await e.answer({
        callId,
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp('127.0.0.1', [{ port: b.port, direction: 'recvonly' }]),
      });
      const mA = readSdp(r.sdp).mlines[0]!;
      expect(readSdp(o.sdp).mlines[0]!.direction).toBe('sendonly');
      // The stats read each party's own SDP direction (rtpengine's flags are the engine's view).
      const q = await e.query({ callId });
      expect(q.legs.find((l) => l.tag === 'a')?.direction).toBe('sendonly');
      expect(q.legs.find((l) => l.tag === 'b')?.direction).toBe('recvonly');
      await a.send({ address: mA.address, port: mA.port }, 10);
      await waitFor(() => b.received.length >= 10, 'media to B');
      await waitFor(() => seen.length >= 1, 'a media timeout', 20_000);
      expect(seen[0]).toMatchObject({ callId, tag: 'a' });
      expect(seen[0]!.idleMs).toBeGreaterThanOrEqual(1500);
      await sleep(1500);
      // Reported once per silence, and never for the party on hold.
      expect(seen).toHaveLength(1);
      // Media again, then silence again: a second report.
      await a.send({ address: mA.address, port: mA.port }, 5);
      await waitFor(() => seen.length >= 2, 'a second media timeout', 20_000);
      expect(seen.every((t) => t.tag === 'a')).toBe(true);
      await e.delete({ callId });
    } finally {
      await e.close();
    }
  });

  it('forward sends a copy of the media to another address until stopped', async () => {
    const c = await call();
    const tap = await RtpProbe.open();
    probes.push(tap);
    await engine.forward({ callId: c.callId }, { address: '127.0.0.1', port: tap.port });
    await c.a.send(c.relayA, 30, { gapMs: 10 });
    await waitFor(() => c.b.received.length >= 30, 'B to receive');
    await waitFor(() => tap.received.length >= 10, 'the tap to receive a copy', 10_000);
    await engine.forward({ callId: c.callId }, null);
    await sleep(100);
    tap.clear();
    await c.a.send(c.relayA, 10, { gapMs: 10 });
    await sleep(200);
    expect(tap.received.length).toBe(0);
    await engine.delete({ callId: c.callId });
  });
});
