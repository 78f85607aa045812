/**
 * Upstream registration and per-trunk codecs (docs/sbc.md, "Upstream registration and per-trunk
 * codecs"), with real peers on 127.0.43.x:
 *
 * - Debian's Kamailio as a carrier registrar with digest (`auth`, `pv_www_authenticate` against a
 *   password in its config) and a short expiry: TFX registers (401 answered), the binding is in
 *   Kamailio's location table (`kamcmd ul.dump`), a call to the AOR through Kamailio (sipp UAC →
 *   Kamailio lookup → the SBC's carrier zone) is routed to a sipp trunk, the registration is
 *   refreshed (a second successful REGISTER, waited for without a timing assertion), a reload that
 *   removes it unregisters (the binding leaves Kamailio), and a wrong password gives `failed`
 *   with 401 and no tight retry loop.
 * - A trunk allowing only PCMA and telephone-event: a sipp phone offering PCMU, PCMA, G722 and
 *   telephone-event → the trunk's INVITE carries only PCMA and telephone-event; an offer of PCMU
 *   and G722 only → 488 with Warning 305, and the trunk sees no INVITE.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpengineEngine, type MediaEngine } from '@tfx/media';
import { startRtpengine } from '../../media/test/rtpengine/harness.js';
import { Sbc, type RouteSpec, type TrunkSpec, type ZoneSpec } from '../src/index.js';
import {
  SCENARIOS,
  builtinEngine,
  freePort,
  header,
  sipp,
  trunkSipp,
  type TrunkSipp,
} from './harness.js';
import { startInnerRegistrar, type InnerRegistrar } from './kamailio.js';

const PUBLIC = '127.0.43.1';
const KAMAILIO = '127.0.43.2';
const CARRIER_CALLER = '127.0.43.3';
const PBX = '127.0.43.4';
const PCMA_TRUNK = '127.0.43.5';
const PHONE = '127.0.43.6';
const CARRIER = '127.0.43.10';

const USER = 'tfx-main';
const PASSWORD = 'carrier-secret-43';
const REALM = 'carrier.test';
const CONTACT_USER = 'tfx-in';

let kamailio: InnerRegistrar;
let engine: MediaEngine;

const zoneOf = (name: string, address: string): ZoneSpec => ({
  name,
  listen: [{ transport: 'udp', address, port: 0 }],
  media: { address },
  trusted: true,
  webrtc: false,
  limits: { maxCalls: 0 },
});

beforeAll(async () => {
  const port = await freePort(KAMAILIO);
  kamailio = await startInnerRegistrar({
    address: KAMAILIO,
    port,
    user: USER,
    password: PASSWORD,
    realm: REALM,
  });
  engine = await builtinEngine();
}, 60_000);

afterAll(async () => {
  await kamailio?.stop();
  await engine?.close();
});

async function until<T>(
  what: string,
  f: () => T | undefined | Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The REGISTERs Kamailio received for a Contact user (each digest round counts). */
const registersOf = (contactUser: string): string[] =>
  kamailio
    .requests()
    .filter((r) => r.startsWith('REGISTER ') && r.includes(`<sip:${contactUser}@${CARRIER}:`));

function upstreamTrunk(name: string, password: string, contactUser: string): TrunkSpec {
  return {
    name,
    zone: 'carrier',
    uri: `sip:${KAMAILIO}:${kamailio.port}`,
    register: {
      user: USER,
      password,
      realm: REALM,
      expiresSeconds: 20,
      contactUser,
      retrySeconds: 30,
    },
  };
}

const ZONES = [zoneOf('public', PUBLIC), zoneOf('carrier', CARRIER)];

async function startRig(
  trunks: TrunkSpec[],
  routes: RouteSpec[],
  media: MediaEngine = engine,
): Promise<Sbc> {
  const sbc = new Sbc({
    zones: ZONES,
    trunks,
    routes,
    engine: media,
    timers: { T1: 200, T2: 1600 },
  });
  await sbc.start();
  return sbc;
}

function portOf(sbc: Sbc, zone: string): number {
  const l = sbc.zones.get(zone)?.listeners()[0];
  if (!l) throw new Error(`no listener in ${zone}`);
  return l.port;
}

/**
 * A PCMU-only caller (uac-routed.xml) calls `service` through `sbc` to the PCMA-only `trunk`: both
 * sipp runs pass, the trunk's INVITE offers PCMA and no PCMU, the caller's 200 keeps PCMU.
 */
async function expectPcmuCallerKeepsPcmu(
  sbc: Sbc,
  trunk: TrunkSipp,
  service: string,
): Promise<void> {
  const phonePort = await freePort(PHONE);
  const media = await freePort(PHONE, true);
  const uac = sipp([
    `${PUBLIC}:${portOf(sbc, 'public')}`,
    '-sf',
    join(SCENARIOS, 'uac-routed.xml'), // offers PCMU only
    '-s',
    service,
    '-i',
    PHONE,
    '-p',
    String(phonePort),
    '-mi',
    PHONE,
    '-mp',
    String(media),
    '-m',
    '1',
  ]);
  const [uacRun, trunkRun] = await Promise.all([uac.done, trunk.run]);
  expect(uacRun.code, uacRun.trace).toBe(0);
  expect(trunkRun.code, trunkRun.output).toBe(0);
  const invite = trunkRun.received.find((m) => m.startsWith('INVITE ')) ?? '';
  expect(invite).toMatch(/^a=rtpmap:8 PCMA\/8000/m);
  expect(invite).not.toMatch(/PCMU/);
  const ok = uacRun.received.find((m) => m.startsWith('SIP/2.0 200')) ?? '';
  expect(ok).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
}

describe('TFX registered to a carrier (Kamailio with digest)', () => {
  it('registers with digest, holds the binding, takes a call to the AOR into the trunk’s zone, refreshes, unregisters on reload; a wrong password fails with 401 and backs off', async () => {
    const pbx = await trunkSipp(PBX);
    const good = upstreamTrunk('carrier', PASSWORD, CONTACT_USER);
    const bad = upstreamTrunk('carrier-bad', 'wrong-password', 'tfx-bad');
    const pbxTrunk: TrunkSpec = { name: 'pbx', zone: 'public', uri: `sip:${PBX}:${pbx.port}` };
    const routes: RouteSpec[] = [{ match: { zone: 'carrier' }, to: ['pbx'] }];
    const sbc = await startRig([good, bad, pbxTrunk], routes);
    try {
      const up = sbc.upstream!;
      // 1. Registered: Kamailio challenged (401) and accepted the digest answer.
      const reg = await until('registered', () => {
        const s = up.status('carrier');
        return s?.state === 'registered' ? s : undefined;
      });
      expect(reg.lastStatus).toBe(200);
      expect(reg.aor).toBe(`sip:${USER}@${REALM}`);
      expect(reg.expiresAt).toBeGreaterThan(Date.now());
      // Kamailio's log (a pipe) may trail its answers on the wire: waited for.
      const first = await until('Kamailio’s log of the REGISTERs', () => {
        const seen = registersOf(CONTACT_USER);
        return seen.length >= 2 ? seen : undefined;
      });
      expect(first[0]).not.toMatch(/^Authorization:/im);
      expect(first[1]).toMatch(/^Authorization: Digest .*username="tfx-main"/im);
      expect(first[1]).toMatch(/^Expires: 20/im);
      const carrierPort = portOf(sbc, 'carrier');
      const dump = await kamailio.dump();
      expect(dump).toContain(`sip:${CONTACT_USER}@${CARRIER}:${carrierPort}`);

      // 2. The wrong password: failed with the carrier's 401, and no tight loop (a 30 s backoff:
      //    two REGISTERs — the challenge and the refused answer — and nothing more meanwhile).
      const failed = await until('failed', () => {
        const s = up.status('carrier-bad');
        return s?.state === 'failed' ? s : undefined;
      });
      expect(failed.lastStatus).toBe(401);
      expect(failed.reason).toBe('auth');
      expect(dump).not.toContain(`sip:tfx-bad@`);

      // 3. A call from the carrier's side to the AOR: Kamailio looks up TFX's binding and relays
      //    to it; the SBC routes it from the carrier zone to the pbx trunk, which answers.
      const callerPort = await freePort(CARRIER_CALLER);
      const uac = sipp([
        `${KAMAILIO}:${kamailio.port}`,
        '-sf',
        join(SCENARIOS, 'uac-routed.xml'),
        '-s',
        USER,
        '-i',
        CARRIER_CALLER,
        '-p',
        String(callerPort),
        '-m',
        '1',
      ]);
      const [uacRun, pbxRun] = await Promise.all([uac.done, pbx.run]);
      expect(uacRun.code, `${uacRun.trace}\n${kamailio.peer.output().slice(-3000)}`).toBe(0);
      expect(pbxRun.code, pbxRun.output).toBe(0);
      await until('Kamailio’s log of the INVITE', () =>
        kamailio.requests().find((r) => r.startsWith(`INVITE sip:${USER}@`)),
      );
      const atPbx = pbxRun.received.find((m) => m.startsWith('INVITE '));
      expect(atPbx).toMatch(new RegExp(`^INVITE sip:${CONTACT_USER}@${PBX.replace(/\./g, '\\.')}`));
      expect(sbc.counters.callsAnswered).toBe(1);

      // 4. Refreshed before the 20 s binding lapses (at 15 s): a second successful REGISTER.
      await until(
        'a refresh',
        () =>
          (up.status('carrier')?.refreshes ?? 0) >= 1 &&
          up.status('carrier')?.state === 'registered',
        90_000,
      );
      await until('Kamailio’s log of the refresh', () =>
        registersOf(CONTACT_USER).filter((r) => /^Authorization:/im.test(r)).length >= 2
          ? true
          : undefined,
      );
      // Still no retry of the refused one (its backoff is 30 s, then 60 s …): at most one retry
      // round can have happened by now, never a loop.
      expect(registersOf('tfx-bad').length).toBeLessThanOrEqual(4);
      expect(up.status('carrier-bad')?.failures).toBeLessThanOrEqual(2);

      // 5. A reload without the registration: Expires: 0, the binding leaves Kamailio.
      sbc.reload({ zones: ZONES, trunks: [bad, pbxTrunk], routes });
      expect(up.status('carrier')).toBeUndefined();
      await until('the binding removed', async () =>
        (await kamailio.dump()).includes(`sip:${CONTACT_USER}@`) ? undefined : true,
      );
      await until('Kamailio’s log of the Expires: 0', () =>
        /^Expires: 0/im.test(registersOf(CONTACT_USER).at(-1) ?? '') ? true : undefined,
      );
    } finally {
      pbx.stop('SIGKILL');
      await sbc.close();
    }
  }, 240_000);

  it('a reload that adds a registration registers; shutdown unregisters (the binding leaves Kamailio)', async () => {
    const sbc = await startRig([], []);
    let closed = false;
    try {
      expect(sbc.upstream?.list()).toEqual([]);
      sbc.reload({
        zones: ZONES,
        trunks: [upstreamTrunk('carrier', PASSWORD, 'tfx-down')],
        routes: [],
      });
      await until('registered', () =>
        sbc.upstream?.status('carrier')?.state === 'registered' ? true : undefined,
      );
      expect(await kamailio.dump()).toContain(`sip:tfx-down@${CARRIER}:`);
      await sbc.close();
      closed = true;
      await until('the binding removed', async () =>
        (await kamailio.dump()).includes('sip:tfx-down@') ? undefined : true,
      );
    } finally {
      if (!closed) await sbc.close();
    }
  }, 120_000);
});

describe('per-trunk codec policy (sipp phone → SBC → sipp trunk)', () => {
  const policyTrunk = (port: number): TrunkSpec => ({
    name: 'pcma-only',
    zone: 'carrier',
    uri: `sip:${PCMA_TRUNK}:${port}`,
    codecs: { allow: ['PCMA', 'telephone-event'] },
  });
  const routes: RouteSpec[] = [{ match: { zone: 'public' }, to: ['pcma-only'] }];

  it('sends the trunk only PCMA and telephone-event of an offer of PCMU, PCMA, G722 and telephone-event', async () => {
    const trunk = await trunkSipp(PCMA_TRUNK);
    const sbc = await startRig([policyTrunk(trunk.port)], routes);
    try {
      const phonePort = await freePort(PHONE);
      const media = await freePort(PHONE, true);
      const uac = sipp([
        `${PUBLIC}:${portOf(sbc, 'public')}`,
        '-sf',
        join(SCENARIOS, 'uac-codecs.xml'),
        '-s',
        '4400',
        '-i',
        PHONE,
        '-p',
        String(phonePort),
        '-mi',
        PHONE,
        '-mp',
        String(media),
        '-m',
        '1',
      ]);
      const [uacRun, trunkRun] = await Promise.all([uac.done, trunk.run]);
      expect(uacRun.code, uacRun.trace).toBe(0);
      expect(trunkRun.code, trunkRun.output).toBe(0);
      const invite = trunkRun.received.find((m) => m.startsWith('INVITE ')) ?? '';
      const mLine = /^m=audio \d+ RTP\/AVP (.*)$/m.exec(invite)?.[1]?.trim();
      const rtpmaps = [...invite.matchAll(/^a=rtpmap:\d+ ([^/\s]+)/gm)].map((m) => m[1]);
      expect(rtpmaps.sort()).toEqual(['PCMA', 'telephone-event']);
      expect(mLine?.split(' ').length).toBe(2);
      expect(invite).not.toMatch(/PCMU|G722/);
      // The phone got an answer with PCMA (the trunk's pick).
      const ok = uacRun.received.find((m) => m.startsWith('SIP/2.0 200')) ?? '';
      expect(ok).toMatch(/^a=rtpmap:8 PCMA\/8000/m);
    } finally {
      trunk.stop('SIGKILL');
      await sbc.close();
    }
  }, 120_000);

  it('answers 488 with Warning 305 when no codec the trunk allows is offered or transcodable, and the trunk sees no INVITE', async () => {
    const trunk = await trunkSipp(PCMA_TRUNK);
    // G.729 only: neither offered by the phone (PCMU, G722) nor transcoded by the built-in engine
    // (which would otherwise add a G.711 the trunk allows: see the rtpengine case below).
    const g729Only: TrunkSpec = {
      ...policyTrunk(trunk.port),
      codecs: { allow: ['G729', 'telephone-event'] },
    };
    const sbc = await startRig([g729Only], routes);
    try {
      const phonePort = await freePort(PHONE);
      const media = await freePort(PHONE, true);
      const uac = sipp([
        `${PUBLIC}:${portOf(sbc, 'public')}`,
        '-sf',
        join(SCENARIOS, 'uac-codecs-refused.xml'),
        '-s',
        '4401',
        '-i',
        PHONE,
        '-p',
        String(phonePort),
        '-mi',
        PHONE,
        '-mp',
        String(media),
        '-m',
        '1',
      ]);
      const run = await uac.done;
      expect(run.code, run.trace).toBe(0);
      const refused = run.received.find((m) => m.startsWith('SIP/2.0 488')) ?? '';
      // Named by the caller's zone: nothing of the carrier side reaches the phone.
      expect(header(refused, 'Warning')).toBe(`305 ${PUBLIC} "Incompatible media format"`);
      expect(refused).not.toContain(CARRIER);
      expect(sbc.callCount).toBe(0);
    } finally {
      trunk.stop('SIGKILL');
      const trunkRun = await trunk.run;
      expect(trunkRun.received.some((m) => m.startsWith('INVITE '))).toBe(false);
      await sbc.close();
    }
  }, 120_000);

  it('with the built-in engine (G.711 transcoding on RTP legs) a PCMU-only caller reaches the PCMA-only trunk, the caller keeps PCMU', async () => {
    const trunk = await trunkSipp(PCMA_TRUNK);
    const sbc = await startRig([policyTrunk(trunk.port)], routes);
    try {
      await expectPcmuCallerKeepsPcmu(sbc, trunk, '4403');
    } finally {
      trunk.stop('SIGKILL');
      await sbc.close();
    }
  }, 120_000);

  it('with a transcoding engine (rtpengine) a PCMU-only caller reaches the PCMA-only trunk: PCMA added on the trunk leg, the caller keeps PCMU', async () => {
    const rtpe = await startRtpengine({
      ports: 40,
      interfaces: { public: PUBLIC, carrier: CARRIER },
    });
    const rtpengine = new RtpengineEngine({
      instances: [rtpe.url],
      interfaces: { public: 'public', carrier: 'carrier' },
    });
    const trunk = await trunkSipp(PCMA_TRUNK);
    const sbc = await startRig([policyTrunk(trunk.port)], routes, rtpengine);
    try {
      await expectPcmuCallerKeepsPcmu(sbc, trunk, '4402');
    } finally {
      trunk.stop('SIGKILL');
      await sbc.close();
      await rtpengine.close();
      await rtpe.stop();
    }
  }, 120_000);
});
