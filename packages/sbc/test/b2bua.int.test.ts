/**
 * The B2BUA with real sipp peers, each zone on its own loopback address (issue #17, "Proof"):
 * public zone 127.0.0.20 (a phone at 127.0.0.21), core zone 127.0.0.10 (a trunk at 127.0.0.11,
 * a PBX phone at 127.0.0.12). Media is anchored in the engine (built-in, then a real
 * rtpengine-daemon with one interface per zone): the caller plays g711a.pcap, the callee echoes it
 * (`-rtp_echo`), tshark counts every RTP packet each peer gets by source address.
 *
 * Topology hiding by byte scan: every byte each sipp received (`-trace_msg`) is searched for the
 * other zone's addresses, ports, Call-IDs and tags: zero hits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import { createBuiltinEngine, RtpengineEngine } from '@tfx/media';
import { startRtpengine, type RtpengineProcess } from '../../media/test/rtpengine/harness.js';
import {
  CORE,
  PBX,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  startSbc,
  startUas,
  echoCalleeArgs,
  freePort,
  header,
  scan,
  sipp,
  sum,
  tagOf,
  watchRtp,
  type SippRun,
} from './harness.js';

/** What a sipp saw of its peer: the Call-ID and tags of its dialog, from its own trace. */
function dialogOf(run: SippRun): { callId: string; tags: string[] } {
  const all = [...run.sent, ...run.received];
  const first = all[0] ?? '';
  const callId = header(first, 'Call-ID') ?? header(first, 'i') ?? '';
  const tags = new Set<string>();
  for (const m of all) {
    for (const h of ['From', 'To']) {
      const t = tagOf(header(m, h));
      if (t) tags.add(t);
    }
  }
  return { callId, tags: [...tags] };
}

function forbiddenOf(
  label: string,
  o: { addresses: string[]; ports: number[]; run: SippRun },
): Record<string, string> {
  const out: Record<string, string> = {};
  o.addresses.forEach((a) => (out[`${label} address`] = a));
  o.ports.forEach((p, i) => (out[`${label} port ${i}`] = String(p)));
  const d = dialogOf(o.run);
  out[`${label} Call-ID`] = d.callId;
  d.tags.forEach((t, i) => (out[`${label} tag ${i}`] = t));
  return out;
}

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

describe.each(engines)('SBC B2BUA with real sipp peers (%s engine)', (_name, makeEngine) => {
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

  /**
   * One call from a caller in one zone to a callee in the other, with media, and the proof: both
   * sipp succeed, the byte scan finds nothing of the other side, RTP reached each peer only from
   * its zone's media address.
   */
  async function callWithMedia(o: {
    transport: 'udp' | 'tcp';
    from: { zone: 'public' | 'core'; address: string; zoneAddress: string };
    to: { zone: 'public' | 'core'; address: string; zoneAddress: string };
  }): Promise<void> {
    const callerPort = await freePort(o.from.address);
    const callerMedia = await freePort(o.from.address, true);
    const t = o.transport === 'tcp' ? ';transport=tcp' : '';
    const sippT = o.transport === 'tcp' ? 't1' : 'u1';
    // The callee first: it holds its port before the SBC can send it anything.
    const uas = await startUas(
      o.to.address,
      echoCalleeArgs(join(SCENARIOS, 'uas-echo.xml'), o.to.address, sippT),
      { transport: o.transport, timeoutMs: 30_000 },
    );
    const callee = uas.handle;
    const calleeMedia = uas.media;
    const rig = await startSbc(
      engine,
      [{ name: 'far', zone: o.to.zone, uri: `sip:${o.to.address}:${uas.port}${t}` }],
      [{ match: { zone: o.from.zone }, to: ['far'] }],
    );
    const rtpToCaller = await watchRtp(o.from.address, [callerMedia]);
    const rtpToCallee = await watchRtp(o.to.address, [calleeMedia]);
    try {
      const sbcPort = rig.port(o.from.zone, o.transport);
      const caller = sipp(
        [
          `${o.from.zoneAddress}:${sbcPort}`,
          '-sf',
          join(SCENARIOS, 'uac-pcap.xml'),
          '-i',
          o.from.address,
          '-p',
          String(callerPort),
          '-mi',
          o.from.address,
          '-mp',
          String(callerMedia),
          '-key',
          'rtcp',
          String(callerMedia + 1),
          '-t',
          sippT,
          '-s',
          '4420001',
          '-key',
          'caller',
          'alice',
          '-d',
          '3000',
          '-m',
          '1',
        ],
        30_000,
      );
      const [a, b] = await Promise.all([caller.done, callee.done]);
      expect(a.code, `caller sipp:\n${a.output}\n${a.trace}`).toBe(0);
      expect(b.code, `callee sipp:\n${b.output}\n${b.trace}`).toBe(0);

      // The callee's leg carries the callee's user and our own identity, nothing of the caller.
      const invite = b.received.find((m) => m.startsWith('INVITE ')) ?? '';
      expect(invite).toMatch(
        new RegExp(`^INVITE sip:4420001@${o.to.address.replace(/\./g, '\\.')}`),
      );
      expect(header(invite, 'From')).toContain(`sip:alice@${o.to.zoneAddress}`);
      expect(invite).not.toMatch(/^(User-Agent|P-Asserted-Identity|Server):/im);
      const ok = a.received.find(
        (m) => m.startsWith('SIP/2.0 200') && /INVITE/.test(header(m, 'CSeq') ?? ''),
      );
      expect(ok).toBeDefined();
      expect(ok).not.toMatch(/^(Server|User-Agent|P-Charging-Vector):/im);
      expect(ok).not.toMatch(/a=candidate/);

      // Byte scan, both ways.
      const callerSide = forbiddenOf('caller side', {
        addresses: [o.from.address, o.from.zoneAddress],
        ports: [
          callerPort,
          callerMedia,
          rig.port(o.from.zone, 'udp'),
          rig.port(o.from.zone, 'tcp'),
        ],
        run: a,
      });
      const calleeSide = forbiddenOf('callee side', {
        addresses: [o.to.address, o.to.zoneAddress],
        ports: [uas.port, calleeMedia, rig.port(o.to.zone, 'udp'), rig.port(o.to.zone, 'tcp')],
        run: b,
      });
      expect(b.received.length).toBeGreaterThan(1);
      expect(a.received.length).toBeGreaterThan(1);
      // Control: the same scan finds each side's own identifiers in what that side received.
      expect(scan(b.received, calleeSide).length).toBeGreaterThan(3);
      expect(scan(a.received, callerSide).length).toBeGreaterThan(3);
      expect(scan(b.received, callerSide), 'the callee saw the caller side').toEqual([]);
      expect(scan(a.received, calleeSide), 'the caller saw the callee side').toEqual([]);
    } finally {
      await rtpToCaller.stop();
      await rtpToCallee.stop();
      await rig.close();
    }
    // RTP: the callee got the caller's audio, the caller its echo, each from its zone's address.
    expect(sum(rtpToCallee.sources), 'RTP reached the callee').toBeGreaterThan(20);
    expect(sum(rtpToCaller.sources), 'RTP echo reached the caller').toBeGreaterThan(20);
    expect([...rtpToCallee.sources.keys()].map((k) => k.split(':')[0])).toEqual([o.to.zoneAddress]);
    expect([...rtpToCaller.sources.keys()].map((k) => k.split(':')[0])).toEqual([
      o.from.zoneAddress,
    ]);
  }

  it('bridges a call public → core over UDP with media anchored: hidden both ways by byte scan, RTP only from the zone media addresses', async () => {
    await callWithMedia({
      transport: 'udp',
      from: { zone: 'public', address: PHONE, zoneAddress: PUBLIC },
      to: { zone: 'core', address: TRUNK, zoneAddress: CORE },
    });
  }, 120_000);

  it('bridges a call core → public over TCP with media anchored: hidden both ways by byte scan, RTP only from the zone media addresses', async () => {
    await callWithMedia({
      transport: 'tcp',
      from: { zone: 'core', address: PBX, zoneAddress: CORE },
      to: { zone: 'public', address: PHONE, zoneAddress: PUBLIC },
    });
  }, 120_000);
});
