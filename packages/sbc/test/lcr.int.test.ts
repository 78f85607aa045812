/**
 * Routing on cost and quality (issue #18 item 2; docs/sbc.md, "Routing on cost and quality"),
 * with real sipp phones (127.0.41.21) calling through the public zone (127.0.41.20) to trunks
 * behind the core zone (127.0.41.10), each trunk on its own address:
 *
 * - LCR: the cheapest trunk of the longest matching prefix takes the call (a shorter prefix with
 *   a cheaper trunk loses), and another number goes to the shorter prefix's cheapest trunk;
 * - time windows: with the SBC's clock set to noon, then to 23:00 (UTC), the same number goes to
 *   the day trunk, then to the night trunk;
 * - serial failover through the new order: the cheapest trunk answering 503 → the next cheapest;
 * - MOS: a trunk whose calls carry 20 % packet loss (our RTP probe on the trunk side drops every
 *   fifth packet, so the built-in engine's MOS of its stream falls) is demoted by a `quality`
 *   route, while a `cost` route keeps sending it calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { createBuiltinEngine, type MediaEngine, type StatsEvent } from '@tfx/media';
import { realClock, type Clock } from '@tfx/sip';
import { Sbc, type RouteSpec, type TrunkSpec } from '../src/index.js';
import { SCENARIOS, freePort, sipp, zone, type SippRun, trunkSipp, waitFor } from './harness.js';
import { rtpTrunk } from './rtp-trunk.js';

const PUBLIC = '127.0.41.20';
const CORE = '127.0.41.10';
const PHONE = '127.0.41.21';
const T1 = '127.0.41.11';
const T2 = '127.0.41.12';
const T3 = '127.0.41.13';

interface Rig {
  readonly sbc: Sbc;
  readonly port: number;
  close(): Promise<void>;
}

async function startRig(
  engine: MediaEngine,
  trunks: readonly TrunkSpec[],
  routes: readonly RouteSpec[],
  clock?: Clock,
): Promise<Rig> {
  const sbc = new Sbc({
    ...(clock && { clock }),
    zones: [zone('public', PUBLIC), { ...zone('core', CORE), trusted: true }],
    trunks,
    routes,
    engine,
    timers: { T1: 200, T2: 1600 },
    quality: { windowCalls: 20, windowMinutes: 0 },
  });
  const listeners = await sbc.start();
  const l = listeners.find((x) => x.address === PUBLIC && x.transport === 'udp');
  if (!l) throw new Error('no udp listener in public');
  return { sbc, port: l.port, close: () => sbc.close() };
}

/** A trunk of ours that only counts the INVITEs it receives (and answers none). */
async function silentTrunk(
  address: string,
): Promise<{ port: number; invites: string[]; close(): Promise<void> }> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  const invites: string[] = [];
  const seen = new Set<string>();
  sock.on('message', (buf) => {
    const text = buf.toString('latin1');
    if (!text.startsWith('INVITE ')) return;
    const id = /^(?:Call-ID|i):(.*)$/im.exec(text)?.[1] ?? '';
    if (!seen.has(id)) invites.push(text.split('\r\n', 1)[0] ?? '');
    seen.add(id);
  });
  return {
    port: sock.address().port,
    invites,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/** One call from a sipp phone to `number` with `scenario`. */
async function phoneCall(rig: Rig, scenario: string, number: string): Promise<SippRun> {
  const port = await freePort(PHONE);
  const media = await freePort(PHONE, true);
  return sipp(
    [
      `${PUBLIC}:${rig.port}`,
      '-sf',
      join(SCENARIOS, scenario),
      '-key',
      'caller',
      'phone',
      '-i',
      PHONE,
      '-p',
      String(port),
      '-mi',
      PHONE,
      '-mp',
      String(media),
      '-s',
      number,
      '-d',
      '300',
      '-m',
      '1',
    ],
    90_000,
  ).done;
}

const invitesOf = (run: SippRun): string[] => run.received.filter((m) => m.startsWith('INVITE '));

describe('SBC routing on cost and quality (sipp phones and trunks)', () => {
  let engine: MediaEngine;
  let rig: Rig | undefined;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    engine = await createBuiltinEngine({
      portMin: base,
      portMax: base + 199,
      workers: 1,
      mediaTimeoutMs: 0,
      // Stats often enough that every call of a few seconds reports its MOS.
      statsIntervalMs: 250,
    });
  });
  afterAll(async () => {
    await engine.close();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    for (const c of closers.splice(0)) await c();
  });

  it('LCR: the longest prefix wins over a shorter cheaper one; its cheapest trunk takes the call', async () => {
    const a = await trunkSipp(T1, 'uas-echo.xml', 1); // cheapest for 44
    const b = await silentTrunk(T2); // priced, never cheapest: must see no INVITE
    closers.push(b.close);
    const c = await trunkSipp(T3, 'uas-echo.xml', 1); // cheapest for 4420
    const trunks: TrunkSpec[] = [
      { name: 'a', zone: 'core', uri: `sip:${T1}:${a.port}` },
      { name: 'b', zone: 'core', uri: `sip:${T2}:${b.port}` },
      { name: 'c', zone: 'core', uri: `sip:${T3}:${c.port}` },
    ];
    rig = await startRig(engine, trunks, [
      {
        match: { zone: 'public' },
        to: [],
        policy: 'cost',
        rates: [
          { prefix: '44', costs: { a: 0.01, b: 0.02, c: 0.03 } },
          { prefix: '4420', costs: { b: 0.05, c: 0.04 } },
        ],
      },
    ]);
    const london = await phoneCall(rig, 'uac-headers.xml', '442071234567');
    expect(london.code, london.output).toBe(0);
    const manchester = await phoneCall(rig, 'uac-headers.xml', '441611234567');
    expect(manchester.code, manchester.output).toBe(0);
    const [ra, rc] = await Promise.all([a.run, c.run]);
    expect(ra.code, ra.output).toBe(0);
    expect(rc.code, rc.output).toBe(0);
    expect(invitesOf(rc)).toHaveLength(1);
    expect(invitesOf(rc)[0]).toMatch(/^INVITE sip:442071234567@/);
    expect(invitesOf(ra)).toHaveLength(1);
    expect(invitesOf(ra)[0]).toMatch(/^INVITE sip:441611234567@/);
    expect(b.invites).toEqual([]);
    // A number no row prices: no route.
    const nowhere = await phoneCall(rig, 'uac-not-found.xml', '3312345');
    expect(nowhere.code, nowhere.output).toBe(0);
    expect(nowhere.received.find((m) => /^SIP\/2\.0 [3-6]\d\d /.test(m))).toMatch(
      /^SIP\/2\.0 404 /,
    );
  }, 180_000);

  it('a time window switches the trunk: the injected clock at noon, then at 23:00 UTC', async () => {
    const day = await trunkSipp(T1, 'uas-echo.xml', 1);
    const night = await trunkSipp(T2, 'uas-echo.xml', 1);
    // The real clock's timers, its "now" moved to a chosen instant (differences kept).
    let offset = 0;
    const clock: Clock = {
      now: () => Date.now() + offset,
      setTimer: (ms, fn) => realClock.setTimer(ms, fn),
      clearTimer: (h) => realClock.clearTimer(h),
    };
    const setTime = (iso: string): void => {
      offset = Date.parse(iso) - Date.now();
    };
    rig = await startRig(
      engine,
      [
        { name: 'day', zone: 'core', uri: `sip:${T1}:${day.port}` },
        { name: 'night', zone: 'core', uri: `sip:${T2}:${night.port}` },
      ],
      [
        {
          match: { zone: 'public' },
          to: [],
          timezone: 'UTC',
          rates: [
            { prefix: '', costs: { day: 0.01, night: 0.02 }, when: { from: '08:00', to: '20:00' } },
            { prefix: '', costs: { day: 0.02, night: 0.01 } },
          ],
        },
      ],
      clock,
    );
    setTime('2026-03-04T12:00:00Z');
    const noon = await phoneCall(rig, 'uac-headers.xml', '15550001');
    expect(noon.code, noon.output).toBe(0);
    setTime('2026-03-04T23:00:00Z');
    const late = await phoneCall(rig, 'uac-headers.xml', '15550002');
    expect(late.code, late.output).toBe(0);
    const [rd, rn] = await Promise.all([day.run, night.run]);
    expect(rd.code, rd.output).toBe(0);
    expect(rn.code, rn.output).toBe(0);
    expect(invitesOf(rd).map((m) => m.split(' ', 2)[1])).toEqual([
      expect.stringMatching(/^sip:15550001@/),
    ]);
    expect(invitesOf(rn).map((m) => m.split(' ', 2)[1])).toEqual([
      expect.stringMatching(/^sip:15550002@/),
    ]);
  }, 180_000);

  it('failover follows the cost order: the cheapest answers 503, the next cheapest completes', async () => {
    const cheap = await trunkSipp(T1, 'uas-503.xml', 1);
    const next = await trunkSipp(T2, 'uas-echo.xml', 1);
    const dear = await silentTrunk(T3);
    closers.push(dear.close);
    rig = await startRig(
      engine,
      [
        { name: 'cheap', zone: 'core', uri: `sip:${T1}:${cheap.port}` },
        { name: 'next', zone: 'core', uri: `sip:${T2}:${next.port}` },
        { name: 'dear', zone: 'core', uri: `sip:${T3}:${dear.port}` },
      ],
      [
        {
          match: { zone: 'public' },
          to: [],
          rates: [{ prefix: '', costs: { dear: 0.5, next: 0.2, cheap: 0.1 } }],
        },
      ],
    );
    const call = await phoneCall(rig, 'uac-headers.xml', '15551234');
    expect(call.code, call.output).toBe(0);
    const [r1, r2] = await Promise.all([cheap.run, next.run]);
    expect(r1.code, r1.output).toBe(0);
    expect(r2.code, r2.output).toBe(0);
    expect(invitesOf(r1)).toHaveLength(1);
    expect(invitesOf(r2)).toHaveLength(1);
    expect(dear.invites).toEqual([]);
    expect(rig.sbc.quality.meter.of('cheap')).toMatchObject({ calls: 1, asr: 0 });
    expect(rig.sbc.quality.meter.of('next')).toMatchObject({ calls: 1, asr: 1 });
  }, 180_000);

  it('a trunk whose media loses 20 % is demoted by a quality route; a cost route keeps it', async () => {
    const lossy = await rtpTrunk(T1, 5);
    closers.push(lossy.close);
    const clean = await trunkSipp(T2, 'uas-echo.xml', 1);
    const rates = [{ prefix: '', costs: { lossy: 0.01, clean: 0.02 } }];
    rig = await startRig(
      engine,
      [
        { name: 'lossy', zone: 'core', uri: `sip:${T1}:${lossy.sipPort}` },
        { name: 'clean', zone: 'core', uri: `sip:${T2}:${clean.port}` },
      ],
      [
        { match: { zone: 'public', user: '^1' }, to: [], policy: 'cost', rates },
        {
          match: { zone: 'public', user: '^2' },
          to: [],
          policy: 'quality',
          rates,
          quality: { minMos: 3.5, minCalls: 2 },
        },
      ],
    );
    const sbc = rig.sbc;
    // The MOS the engine reports for the trunk's stream (leg b) of the live call.
    const mosOfLive: number[] = [];
    const off = engine.on('stats', (e: StatsEvent) => {
      const b = e.stats.legs.find((l) => l.tag === 'b');
      if (e.final === false && b?.mos !== undefined && b.packetsIn >= 50) mosOfLive.push(b.mos);
    });
    closers.push(async () => off());

    /** A call to `number` the lossy trunk answers, streams lossy RTP on, then hangs up. */
    const lossyCall = async (number: string): Promise<void> => {
      const before = lossy.invites.length;
      const seen = mosOfLive.length;
      const phone = phoneCall(rig as Rig, 'uac-wait-bye.xml', number);
      await waitFor(() => lossy.invites.length > before, 'the lossy trunk got the INVITE', 60_000);
      await waitFor(
        () => mosOfLive.length > seen,
        'the engine reported the lossy stream’s MOS',
        60_000,
      );
      await lossy.hangup();
      const run = await phone;
      expect(run.code, run.output).toBe(0);
    };

    await lossyCall('1001');
    await lossyCall('1002');
    await waitFor(() => sbc.quality.meter.of('lossy').calls === 2, 'two calls measured', 60_000);
    const q = sbc.quality.meter.of('lossy');
    expect(lossy.rtp.dropped).toBeGreaterThan(0);
    expect(q.asr).toBe(1);
    expect(q.mos).not.toBeNull();
    expect(q.mos as number).toBeLessThan(3.5);
    expect(q.acdSeconds).not.toBeNull();
    expect(q.pddMs).not.toBeNull();

    // The cost route still sends the next call to the cheap lossy trunk.
    await lossyCall('1003');
    expect(lossy.invites).toHaveLength(3);

    // The quality route demotes it: the call goes to the clean trunk.
    const call = await phoneCall(rig, 'uac-headers.xml', '2001');
    expect(call.code, call.output).toBe(0);
    const rc = await clean.run;
    expect(rc.code, rc.output).toBe(0);
    expect(invitesOf(rc)).toHaveLength(1);
    expect(invitesOf(rc)[0]).toMatch(/^INVITE sip:2001@/);
    expect(lossy.invites).toHaveLength(3);
  }, 240_000);
});
