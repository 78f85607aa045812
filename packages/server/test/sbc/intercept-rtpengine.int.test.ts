/**
 * Lawful intercept on a real rtpengine-daemon (its `subscribe request`/`answer`: leg A's media to
 * the LI socket's port, leg B's to port + 2): a sipp phone (plays g711a.pcap) calls a sipp trunk
 * (-rtp_echo) through the SBC with a `source` target on the phone's address; the TFXL mirror at
 * the test's UDP listener gets both legs' SIP and RTP both ways. 127.0.44.40–45.
 */
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpengineEngine } from '@tfx/media';
import { Sbc } from '@tfx/sbc';
import { createLogger } from '../../src/log.js';
import { LiDelivery, parseLiDatagram } from '../../src/sbc/intercept-delivery.js';
import { startRtpengine, type RtpengineProcess } from '../../../media/test/rtpengine/harness.js';
import { SCENARIOS, freePort, sipp, zone } from '../../../sbc/test/harness.js';

const PUBLIC = '127.0.44.40';
const CORE = '127.0.44.41';
const PHONE = '127.0.44.42';
const TRUNK = '127.0.44.43';
const LI = '127.0.44.44';
const LI_MEDIA = '127.0.44.45';

describe('lawful intercept on rtpengine (real sipp peers)', () => {
  let rtpe: RtpengineProcess;
  let engine: RtpengineEngine;
  let listener: Socket;
  const copies: NonNullable<ReturnType<typeof parseLiDatagram>>[] = [];

  beforeAll(async () => {
    rtpe = await startRtpengine({ ports: 60, interfaces: { public: PUBLIC, core: CORE } });
    engine = new RtpengineEngine({
      instances: [rtpe.url],
      interfaces: { public: 'public', core: 'core' },
    });
    listener = createSocket('udp4');
    listener.on('message', (b) => {
      const d = parseLiDatagram(b);
      if (d) copies.push(d);
    });
    await new Promise<void>((r) => listener.bind(0, LI, () => r()));
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
    await rtpe?.stop();
    listener?.close();
  });

  it('copies both legs’ SIP and both media directions through rtpengine’s subscription', async () => {
    const logger = createLogger({
      level: 'warn',
      format: 'json',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    const delivery = new LiDelivery({
      udp: `${LI}:${listener.address().port}`,
      filesDir: undefined,
      mediaAddress: LI_MEDIA,
      logger,
    });
    const trunkPort = await freePort(TRUNK);
    const sbc = new Sbc({
      zones: [zone('public', PUBLIC), { ...zone('core', CORE), trusted: true }],
      trunks: [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` }],
      routes: [{ match: { zone: 'public' }, to: ['far'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
      intercept: {
        targets: () => [{ id: 'li-t-0000000000000001', kind: 'source', value: `${PHONE}/32` }],
        delivery,
      },
    });
    const listeners = await sbc.start();
    try {
      const trunkMedia = await freePort(TRUNK, true);
      const phoneMedia = await freePort(PHONE, true);
      const callee = sipp([
        '-sf',
        join(SCENARIOS, 'uas-echo.xml'),
        '-i',
        TRUNK,
        '-p',
        String(trunkPort),
        '-mi',
        TRUNK,
        '-mp',
        String(trunkMedia),
        '-rtp_echo',
        '-key',
        'rtcp',
        String(trunkMedia + 1),
        '-m',
        '1',
      ]);
      await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
      const pub = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!;
      const caller = sipp([
        `${PUBLIC}:${pub.port}`,
        '-sf',
        join(SCENARIOS, 'uac-pcap.xml'),
        '-s',
        '4440009',
        '-key',
        'caller',
        'alice',
        '-key',
        'rtcp',
        String(phoneMedia + 1),
        '-i',
        PHONE,
        '-p',
        String(await freePort(PHONE)),
        '-mi',
        PHONE,
        '-mp',
        String(phoneMedia),
        '-d',
        '4000',
        '-m',
        '1',
      ]);
      const [a, b] = await Promise.all([caller.done, callee.done]);
      expect(a.code, a.output).toBe(0);
      expect(b.code, b.output).toBe(0);
      const end = await (async () => {
        for (let i = 0; i < 1200; i++) {
          const e = copies.find((c) => c.kind === 3 && c.payload.toString().includes('"end"'));
          if (e) return e;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('no end event');
      })();
      const mine = copies.filter((c) => c.correlationId === end.correlationId);
      const sip = (leg: string, dir: string): string[] =>
        mine
          .filter((c) => c.kind === 1 && c.leg === leg && c.direction === dir)
          .map((c) => c.payload.toString().split('\r\n')[0] ?? '');
      expect(sip('a', 'i')).toEqual(expect.arrayContaining([expect.stringMatching(/^INVITE /)]));
      expect(sip('a', 'o')).toContain('SIP/2.0 200 OK');
      expect(sip('b', 'o')).toEqual(expect.arrayContaining([expect.stringMatching(/^INVITE /)]));
      expect(sip('b', 'i')).toContain('SIP/2.0 200 OK');
      const rtp = (leg: string): number => mine.filter((c) => c.kind === 2 && c.leg === leg).length;
      expect(rtp('b')).toBeGreaterThan(0); // the phone's audio, on its way to the trunk
      expect(rtp('a')).toBeGreaterThan(0); // the trunk's echo, on its way to the phone
      expect(sbc.intercept?.counters).toMatchObject({ intercepted: 1, failed: 0 });
    } finally {
      await sbc.close();
      delivery.close();
    }
  }, 120_000);
});
