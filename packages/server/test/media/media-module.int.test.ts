/**
 * The media module in a real platform (in-process, port 0): it starts the built-in engine from
 * config (media.*), answers GET /api/v1/media/sessions with live legs and stats, and exports
 * tfx_media_* metrics. The call is made by the test (offer/answer) with RTP probes as the phones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaModule } from '../../src/media/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';
import type { LegProfile, MediaEngine } from '@tfx/media';
import { RtpProbe, waitFor } from '../../../media/test/contract/probe.js';
import { makeSdp, readSdp } from '../../../media/test/contract/sdp.js';

const media = createMediaModule();
let t: TestPlatform;
const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

beforeAll(async () => {
  t = await startTestPlatform({
    modules: [media],
    flags: {
      'media.portMin': String(portMin),
      'media.portMax': String(portMin + 99),
      'media.workers': '1',
    },
  });
});

afterAll(async () => {
  await t?.close();
});

describe('media module (media.engine builtin)', () => {
  it('starts the built-in engine, lists a live call with its legs, and exports tfx_media_* metrics', async () => {
    const engine = media.engine as MediaEngine;
    expect(engine.kind).toBe('builtin');
    const leg: LegProfile = {
      mediaAddress: '127.0.0.1',
      transport: 'RTP/AVP',
      ice: 'remove',
      dtls: 'off',
      rtcpMux: 'demux',
      latching: 'strict',
      dtmf: 'rfc4733',
    };
    const a = await RtpProbe.open();
    const b = await RtpProbe.open();
    try {
      const o = await engine.offer({
        callId: 'm1',
        fromTag: 'ta',
        sdp: makeSdp('127.0.0.1', [{ port: a.port }]),
        from: leg,
        to: leg,
      });
      const mB = readSdp(o.sdp).mlines[0]!;
      expect(mB.port).toBeGreaterThanOrEqual(portMin);
      expect(mB.port).toBeLessThanOrEqual(portMin + 99);
      const r = await engine.answer({
        callId: 'm1',
        fromTag: 'ta',
        toTag: 'tb',
        sdp: makeSdp('127.0.0.1', [{ port: b.port }]),
      });
      const mA = readSdp(r.sdp).mlines[0]!;
      await a.send({ address: mA.address, port: mA.port }, 12);
      await waitFor(() => b.received.length >= 12, 'B to receive');

      const res = await t.req('GET', '/api/v1/media/sessions');
      expect(res.status).toBe(200);
      const body = res.json as {
        engine: string;
        sessions: { callId: string; legs: { tag: string; packetsIn: number }[] }[];
      };
      expect(body.engine).toBe('builtin');
      const s = body.sessions.find((x) => x.callId === 'm1')!;
      expect(s.legs.map((l) => l.tag).sort()).toEqual(['ta', 'tb']);
      expect(s.legs.find((l) => l.tag === 'ta')!.packetsIn).toBeGreaterThanOrEqual(12);

      expect((await t.req('GET', '/api/v1/media/sessions', { token: '' })).status).toBe(401);

      const metrics = await t.req('GET', '/metrics');
      expect(metrics.text).toMatch(/^tfx_media_sessions 1$/m);
      expect(metrics.text).toMatch(/^tfx_media_ports_in_use 4$/m);
      const relayed = /^tfx_media_packets_relayed_total (\d+)$/m.exec(metrics.text);
      expect(Number(relayed?.[1])).toBeGreaterThanOrEqual(12);
      await engine.delete({ callId: 'm1' });
    } finally {
      a.close();
      b.close();
    }
  });
});
