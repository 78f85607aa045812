/**
 * Two real rtpengine daemons behind one RtpengineEngine; one is killed mid-run (SIGKILL, as a
 * crash): new calls go to the other, the other's calls keep flowing, and the lost instance's calls
 * are reported with call-failed (media-engine-unavailable) so the SBC can end them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallFailedEvent, LegProfile } from '../../src/engine/types.js';
import { RtpengineEngine } from '../../src/rtpengine/engine.js';
import { RtpProbe, waitFor } from '../contract/probe.js';
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

let one: RtpengineProcess;
let two: RtpengineProcess;
let engine: RtpengineEngine;
const probes: RtpProbe[] = [];

beforeAll(async () => {
  [one, two] = await Promise.all([startRtpengine({ ports: 100 }), startRtpengine({ ports: 100 })]);
  engine = new RtpengineEngine({
    instances: [one.url, { url: two.url, weight: 1 }],
    pingIntervalMs: 200,
    timeoutMs: 600,
    retransmitMs: 150,
  });
});
afterAll(async () => {
  for (const p of probes) p.close();
  await engine?.close();
  await Promise.all([one?.stop(), two?.stop()]);
});

async function call(
  id: string,
): Promise<{ a: RtpProbe; b: RtpProbe; relayA: { address: string; port: number } }> {
  const a = await RtpProbe.open();
  const b = await RtpProbe.open();
  probes.push(a, b);
  await engine.offer({
    callId: id,
    fromTag: 'a',
    sdp: makeSdp('127.0.0.1', [{ port: a.port }]),
    from: P,
    to: P,
  });
  const r = await engine.answer({
    callId: id,
    fromTag: 'a',
    toTag: 'b',
    sdp: makeSdp('127.0.0.1', [{ port: b.port }]),
  });
  const m = readSdp(r.sdp).mlines[0]!;
  return { a, b, relayA: { address: m.address, port: m.port } };
}

describe('rtpengine set with real daemons', () => {
  it('spreads calls over both instances; with one killed mid-run, new calls go to the other and its calls keep flowing', async () => {
    const failed: CallFailedEvent[] = [];
    engine.on('call-failed', (e) => failed.push(e));
    const run = `${process.pid}-${Date.now()}`;
    const first = new Map<string, Awaited<ReturnType<typeof call>>>();
    for (let i = 0; i < 16; i++) first.set(`set-${run}-${i}`, await call(`set-${run}-${i}`));
    const onOne = [...first.keys()].filter((id) => engine.set.instanceOf(id) === one.url);
    const onTwo = [...first.keys()].filter((id) => engine.set.instanceOf(id) === two.url);
    expect(onOne.length).toBeGreaterThan(0);
    expect(onTwo.length).toBeGreaterThan(0);
    expect(onOne.length + onTwo.length).toBe(16);

    await one.kill();

    // The health check notices; the dead instance's calls are reported failed, the others are not.
    await waitFor(
      () => failed.length >= onOne.length,
      'call-failed for every call on the killed instance',
    );
    expect(failed.map((f) => f.callId).sort()).toEqual([...onOne].sort());
    expect(failed.every((f) => f.code === 'media-engine-unavailable')).toBe(true);
    expect(engine.set.state().find((s) => s.url === one.url)?.up).toBe(false);

    // Calls on the surviving instance keep relaying.
    const keep = first.get(onTwo[0]!)!;
    await keep.a.send(keep.relayA, 10);
    await waitFor(() => keep.b.received.length >= 10, 'media on a surviving call');
    expect((await engine.query({ callId: onTwo[0]! })).legs.length).toBe(2);

    // New calls all land on the survivor and carry media.
    for (let i = 0; i < 10; i++) {
      const id = `set-${run}-new-${i}`;
      const c = await call(id);
      expect(engine.set.instanceOf(id)).toBe(two.url);
      if (i === 0) {
        await c.a.send(c.relayA, 5);
        await waitFor(() => c.b.received.length >= 5, 'media on a new call');
      }
    }
    expect(failed.length).toBe(onOne.length);
  });
});
