/**
 * The SBC statistics' rtpengine figures against a real rtpengine-daemon: its ng `statistics`
 * answer is summed into sessions and the cumulative packets and bytes relayed, which grow while
 * a call's RTP flows through it (what the sampler turns into packets and bytes per second).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRtpengineEngine, type LegProfile, type RtpengineEngine } from '@tfx/media';
import { startRtpengine, type RtpengineProcess } from '../../../media/test/rtpengine/harness.js';
import { readRtpengine } from '../../src/sbc/rtpengine-stats.js';
import { SbcStatsSampler } from '../../src/sbc/stats.js';

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

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, ADDR, () => r()));
  return s;
}

function rtp(seq: number): Buffer {
  const b = Buffer.alloc(172, 0xff);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(160 * seq, 4);
  b.writeUInt32BE(0x46464646, 8);
  return b;
}

describe('rtpengine statistics for the SBC charts', () => {
  let rtpe: RtpengineProcess;
  let engine: RtpengineEngine;

  beforeAll(async () => {
    rtpe = await startRtpengine({ ports: 20 });
    engine = (await createRtpengineEngine({ instances: [rtpe.url] })) as RtpengineEngine;
  });

  afterAll(async () => {
    await engine?.close();
    await rtpe?.stop();
  });

  it('sums sessions, packets and bytes relayed from the ng statistics answer', async () => {
    const idle = await readRtpengine(engine);
    expect(idle).toMatchObject({ instances: 1, sessions: 0, packets: 0, bytes: 0, errors: 0 });

    const [a, aRtcp, b, bRtcp] = await Promise.all([udp(), udp(), udp(), udp()]);
    const sdp = (s: Socket, c: Socket): string =>
      `v=0\r\no=p 1 1 IN IP4 ${ADDR}\r\ns=-\r\nc=IN IP4 ${ADDR}\r\nt=0 0\r\n` +
      `m=audio ${s.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:${c.address().port}\r\na=sendrecv\r\n`;
    try {
      await engine.offer({ callId: 'stats-46', fromTag: 'a', sdp: sdp(a, aRtcp), from: P, to: P });
      const r = await engine.answer({
        callId: 'stats-46',
        fromTag: 'a',
        toTag: 'b',
        sdp: sdp(b, bRtcp),
      });
      const toA = Number(/^m=audio (\d+) /m.exec(r.sdp)?.[1]); // where A sends
      // The sampler's baseline before the media (its clock: one second per reading).
      let now = 0;
      const sampler = new SbcStatsSampler({
        sbc: () => undefined,
        engine: () => engine,
        now: () => (now += 1000),
      });
      await sampler.tick();
      let got = 0;
      b.on('message', () => got++);
      // Sends until B has 50 packets through the relay (bounded: 3000 sends).
      for (let i = 0; i < 3000 && got < 50; i++) {
        a.send(rtp(i), toA, ADDR);
        await new Promise((res) => setTimeout(res, 5));
      }
      expect(got).toBeGreaterThanOrEqual(50);
      // rtpengine counts as it relays; read again (bounded) in case a count lands late.
      let busy = await readRtpengine(engine);
      for (let i = 0; i < 100 && (busy?.packets ?? 0) < 50; i++) {
        await new Promise((res) => setTimeout(res, 100));
        busy = await readRtpengine(engine);
      }
      expect(busy!.instances).toBe(1);
      expect(busy!.sessions).toBeGreaterThanOrEqual(1);
      expect(busy!.packets).toBeGreaterThanOrEqual(50);
      expect(busy!.bytes).toBeGreaterThanOrEqual(50 * 172);
      // The sampler's next reading makes rates of it (1 s apart on its clock).
      await sampler.tick();
      const sample = sampler.samples().at(-1)!;
      expect(sample.media?.engine).toBe('rtpengine');
      expect(sample.media!.packetsPerSecond).toBeGreaterThanOrEqual(50);
      expect(sample.media!.bytesPerSecond).toBeGreaterThanOrEqual(50 * 172);
      expect(sample.media!.errorsPerSecond).toBe(0);
      expect(sample.media!.busyPercent).toBeUndefined();
      sampler.close();
    } finally {
      await engine.delete({ callId: 'stats-46' }).catch(() => undefined);
      for (const s of [a, aRtcp, b, bRtcp]) s.close();
    }
  });
});
