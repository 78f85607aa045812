/**
 * REFER by zone policy (RFC 3515) with real sipp peers on their own loopback addresses: the
 * transferor is a public phone (127.0.0.21), the transferee a core trunk (127.0.0.11) whose media
 * port is an RTP probe of this test, the transfer target a PBX phone (127.0.0.12) echoing RTP
 * (`-rtp_echo`). Executed, the REFER never reaches the core: the SBC places the new call itself
 * through the public zone's routes, re-INVITEs the transferee onto the new media session, NOTIFYs
 * the transferor (sipfrag) and BYEs it; the probe then hears the target through the core zone's
 * media address. Both engines. Refused (the default), the REFER gets 403 and the call stays;
 * hostile REFERs get 400, and a target the routes do not allow a NOTIFY with a 403 sipfrag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import { createBuiltinEngine, RtpengineEngine } from '@tfx/media';
import { startRtpengine, type RtpengineProcess } from '../../media/test/rtpengine/harness.js';
import type { ReferPolicy } from '../src/index.js';
import {
  CORE,
  PBX,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  freePort,
  header,
  scan,
  sipp,
  startSbc,
  zone,
  type Rig,
  type SippRun,
} from './harness.js';

const engines: Array<[string, () => Promise<{ engine: MediaEngine; stop(): Promise<void> }>]> = [
  [
    'builtin',
    async () => {
      const base = 40000 + 2 * Math.floor(Math.random() * 5000);
      const engine = await createBuiltinEngine({
        portMin: base,
        portMax: base + 199,
        workers: 1,
        mediaTimeoutMs: 0,
      });
      return { engine, stop: () => engine.close() };
    },
  ],
  [
    'rtpengine',
    async () => {
      const rtpe: RtpengineProcess = await startRtpengine({
        ports: 100,
        interfaces: { public: PUBLIC, core: CORE },
      });
      const engine = new RtpengineEngine({
        instances: [rtpe.url],
        interfaces: { public: 'public', core: 'core' },
      });
      return {
        engine,
        async stop() {
          await engine.close();
          await rtpe.stop();
        },
      };
    },
  ],
];

function waitFor<T>(fn: () => T | undefined | false, what: string, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** An RTP probe: a UDP socket that sends PCMA packets with a marker payload and counts echoes. */
interface Probe {
  readonly port: number;
  /** Packets received whose payload is our marker, by source address. */
  readonly heard: Map<string, number>;
  send(to: { address: string; port: number }, count: number): Promise<void>;
  close(): void;
}

const MARKER = Buffer.alloc(160, 0x5a);

async function probe(address: string, port: number): Promise<Probe> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(port, address, () => res()));
  const heard = new Map<string, number>();
  sock.on('message', (m, rinfo) => {
    if (m.length >= 12 + MARKER.length && m.subarray(m.length - MARKER.length).equals(MARKER)) {
      heard.set(rinfo.address, (heard.get(rinfo.address) ?? 0) + 1);
    }
  });
  const ssrc = 0x1234abcd;
  let seq = 1;
  return {
    port,
    heard,
    async send(to, count) {
      for (let i = 0; i < count; i++) {
        const h = Buffer.alloc(12);
        h[0] = 0x80;
        h[1] = 8; // PCMA
        h.writeUInt16BE(seq & 0xffff, 2);
        h.writeUInt32BE(seq * 160, 4);
        h.writeUInt32BE(ssrc, 8);
        seq++;
        sock.send(Buffer.concat([h, MARKER]), to.port, to.address);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => sock.close(),
  };
}

/** sipp's media port (-mp) and the [rtcp] key the echo scenario writes into a=rtcp. */
async function mediaArgs(address: string): Promise<string[]> {
  const mp = await freePort(address, true);
  return ['-mp', String(mp), '-key', 'rtcp', String(mp + 1)];
}

const notifies = (run: SippRun): string[] =>
  run.received
    .filter((m) => /^NOTIFY /.test(m))
    .map((m) => /SIP\/2\.0 \d{3}[^\r\n]*/.exec(m.split(/\r?\n\r?\n/)[1] ?? '')?.[0] ?? '');

describe.each(engines)(
  'REFER through the SBC with real sipp peers (%s engine)',
  (_name, makeEngine) => {
    let engine: MediaEngine;
    let stopEngine: () => Promise<void>;

    beforeAll(async () => {
      const e = await makeEngine();
      engine = e.engine;
      stopEngine = e.stop;
    });

    afterAll(async () => {
      await stopEngine?.();
    });

    async function setup(policy: ReferPolicy | undefined): Promise<{
      rig: Rig;
      trunkPort: number;
      pbxPort: number;
    }> {
      const trunkPort = await freePort(TRUNK);
      const pbxPort = await freePort(PBX);
      const rig = await startSbc(
        engine,
        [
          { name: 'trunk', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` },
          { name: 'pbx', zone: 'core', uri: `sip:${PBX}:${pbxPort}` },
        ],
        [
          { match: { zone: 'public', user: '^target$' }, to: ['pbx'] },
          { match: { zone: 'public', user: '^4420' }, to: ['trunk'] },
        ],
        [{ ...zone('public', PUBLIC), ...(policy && { refer: policy }) }, zone('core', CORE)],
      );
      return { rig, trunkPort, pbxPort };
    }

    /** The phone calls 4420001 (the trunk) and REFERs with `referHdr`; the trunk just echoes. */
    async function referOnce(
      policy: ReferPolicy | undefined,
      referHdr: string,
    ): Promise<{ phone: SippRun; trunk: SippRun; rig: Rig }> {
      const { rig, trunkPort } = await setup(policy);
      try {
        const trunk = sipp(
          [
            '-sf',
            join(SCENARIOS, 'uas-echo.xml'),
            '-i',
            TRUNK,
            '-p',
            String(trunkPort),
            '-mi',
            TRUNK,
            ...(await mediaArgs(TRUNK)),
            '-m',
            '1',
          ],
          60_000,
        );
        await new Promise((r) => setTimeout(r, 300));
        const phone = sipp(
          [
            `${PUBLIC}:${rig.port('public', 'udp')}`,
            '-sf',
            join(SCENARIOS, 'uac-refer.xml'),
            '-i',
            PHONE,
            '-p',
            String(await freePort(PHONE)),
            '-mi',
            PHONE,
            '-mp',
            String(await freePort(PHONE, true)),
            '-s',
            '4420001',
            '-key',
            'refer_hdr',
            referHdr,
            '-m',
            '1',
          ],
          60_000,
        );
        const [p, t] = await Promise.all([phone.done, trunk.done]);
        return { phone: p, trunk: t, rig };
      } finally {
        await rig.close();
      }
    }

    it('refuses an in-dialog REFER with 403 by default (zone policy refuse); the call stays up and the core never sees the REFER', async () => {
      const { phone, trunk, rig } = await referOnce(undefined, 'Refer-To: <sip:target@127.0.0.99>');
      expect(phone.code, phone.output).toBe(0);
      expect(trunk.code, trunk.output).toBe(0);
      expect(
        phone.received.some((m) => /^SIP\/2\.0 403 /.test(m) && /CSeq:\s*2 REFER/i.test(m)),
      ).toBe(true);
      expect(trunk.received.some((m) => /^REFER /.test(m) || /Refer-To|Referred-By/i.test(m))).toBe(
        false,
      );
      expect(rig.sbc.counters.transfers.refused).toBe(1);
      expect(rig.sbc.counters.ended['caller-bye']).toBe(1);
    });

    it('answers 400 to a REFER without Refer-To and to one whose Refer-To is not a URI (RFC 3515 §2.4.2); the call stays up', async () => {
      for (const hdr of ['X-No-Refer-To: 1', 'Refer-To: <not a uri>']) {
        const { phone, trunk, rig } = await referOnce('execute', hdr);
        expect(phone.code, phone.output).toBe(0);
        expect(trunk.code, trunk.output).toBe(0);
        expect(
          phone.received.some((m) => /^SIP\/2\.0 400 /.test(m) && /CSeq:\s*2 REFER/i.test(m)),
        ).toBe(true);
        expect(rig.sbc.counters.transfers.executed).toBe(0);
        expect(rig.sbc.counters.ended['caller-bye']).toBe(1);
      }
    });

    it('answers 501 to a Refer-To with Replaces (attended transfer, RFC 3891: not implemented)', async () => {
      const { phone, rig } = await referOnce(
        'execute',
        'Refer-To: <sip:target@127.0.0.99?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>',
      );
      expect(phone.code, phone.output).toBe(0);
      expect(phone.received.some((m) => /^SIP\/2\.0 501 /.test(m))).toBe(true);
      expect(rig.sbc.counters.transfers.refused).toBe(1);
    });

    it('accepts a REFER to a target the routes do not allow, then NOTIFYs a 403 sipfrag (RFC 3515 §2.4.5); the call stays up', async () => {
      const { phone, trunk, rig } = await referOnce(
        'execute',
        'Refer-To: <sip:premium@127.0.0.99>',
      );
      expect(phone.code, phone.output).toBe(0);
      expect(trunk.code, trunk.output).toBe(0);
      expect(phone.received.some((m) => /^SIP\/2\.0 202 /.test(m))).toBe(true);
      expect(notifies(phone)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 403 Forbidden']);
      expect(trunk.received.some((m) => /^INVITE /.test(m) && /CSeq:\s*\d+ INVITE/.test(m))).toBe(
        true,
      );
      expect(trunk.received.filter((m) => /^INVITE /.test(m))).toHaveLength(1);
      expect(rig.sbc.counters.transfers.failed).toBe(1);
      expect(rig.sbc.counters.ended['caller-bye']).toBe(1);
    });

    it('executes a blind transfer: the target gets the INVITE from the core, the transferee is re-INVITEd onto it and our RTP probe hears the target; the transferor gets NOTIFY 200 and BYE', async () => {
      const { rig, trunkPort, pbxPort } = await setup('execute');
      const probePort = await freePort(TRUNK, true);
      const rtp = await probe(TRUNK, probePort);
      try {
        const transferee = sipp(
          [
            '-sf',
            join(SCENARIOS, 'uas-transferee.xml'),
            '-i',
            TRUNK,
            '-p',
            String(trunkPort),
            '-key',
            'probe_port',
            String(probePort),
            '-m',
            '1',
          ],
          90_000,
        );
        const target = sipp(
          [
            '-sf',
            join(SCENARIOS, 'uas-echo.xml'),
            '-i',
            PBX,
            '-p',
            String(pbxPort),
            '-mi',
            PBX,
            ...(await mediaArgs(PBX)),
            '-rtp_echo',
            '-m',
            '1',
          ],
          90_000,
        );
        await new Promise((r) => setTimeout(r, 300));
        const transferor = sipp(
          [
            `${PUBLIC}:${rig.port('public', 'udp')}`,
            '-sf',
            join(SCENARIOS, 'uac-refer.xml'),
            '-i',
            PHONE,
            '-p',
            String(await freePort(PHONE)),
            '-mi',
            PHONE,
            '-mp',
            String(await freePort(PHONE, true)),
            '-s',
            '4420001',
            '-key',
            'refer_hdr',
            `Refer-To: <sip:target@${PUBLIC}>`,
            '-m',
            '1',
          ],
          90_000,
        );
        const x = await transferor.done;
        expect(x.code, x.output).toBe(0);
        await waitFor(() => rig.sbc.counters.transfers.executed === 1, 'the transfer');
        // The transferee's side of the new media session: where our probe sends.
        const [view] = rig.sbc.calls();
        expect(view).toBeDefined();
        const stats = await engine.query({ callId: view!.media });
        const mine = stats.legs.find((l) => l.tag === 'b');
        expect(mine?.local.address).toBe(CORE);
        await rtp.send(mine!.local, 100);
        await waitFor(() => (rtp.heard.get(CORE) ?? 0) >= 10, 'the target heard through the SBC');
        expect([...rtp.heard.keys()]).toEqual([CORE]);
        // The old media session is gone: only the transfer's remains.
        expect(await engine.list()).toEqual([view!.media]);
        await rig.close();
        const [y, c] = await Promise.all([transferee.done, target.done]);
        expect(y.code, y.output).toBe(0);
        expect(c.code, c.output).toBe(0);

        // RFC 3515 §2.4.5: NOTIFYs of the new call's progress, the last one final.
        const frags = notifies(x);
        expect(frags[0]).toBe('SIP/2.0 100 Trying');
        expect(frags.at(-1)).toBe('SIP/2.0 200 OK');
        // The transferor's leg was ended by the SBC (BYE after the final NOTIFY).
        expect(x.received.some((m) => /^BYE /.test(m))).toBe(true);
        // The target's INVITE came from the core zone, with nothing of the REFER or the public side.
        const invite = c.received.find((m) => /^INVITE /.test(m)) ?? '';
        expect(invite).toMatch(/^INVITE sip:target@/);
        expect(header(invite, 'Via')).toContain(CORE);
        expect(
          scan(c.received, {
            phone: PHONE,
            'public zone': PUBLIC,
            refer: 'Refer',
            referred: 'Referred-By',
          }),
        ).toEqual([]);
        expect(scan(y.received, { phone: PHONE, 'public zone': PUBLIC, target: PBX })).toEqual([]);
        // The transferee's re-INVITE: the same o= line as its first SDP, the version one higher.
        const reinvite = y.received.filter((m) => /^INVITE /.test(m))[1] ?? '';
        const firstO = /^o=.*$/m.exec(y.received.find((m) => /^INVITE /.test(m)) ?? '')?.[0] ?? '';
        const o = /^o=(\S+ \S+) (\d+)/m.exec(reinvite);
        expect(firstO).toContain(o?.[1] ?? 'missing');
        expect(Number(o?.[2])).toBe(Number(/^o=\S+ \S+ (\d+)/m.exec(firstO)?.[1]) + 1);
        expect(reinvite).toContain(`c=IN IP4 ${CORE}`);
        expect(rig.sbc.counters.ended.shutdown).toBe(1);
      } finally {
        rtp.close();
        await rig.close();
      }
    }, 150_000);
  },
);
