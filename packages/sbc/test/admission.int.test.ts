/**
 * Admission control and emergency capacity (issue #18 items 3–4) with real sipp phones and
 * trunks on 127.0.42.x: a phone (127.0.42.21) calls through the public zone (127.0.42.20) to
 * trunks behind the core zone (127.0.42.10): the ordinary trunk 127.0.42.11, the emergency trunk
 * 127.0.42.12.
 *
 * - a zone's concurrent calls and the SBC's calls per second answer 503 with Retry-After and count;
 * - an account's channels answer 486 (docs/sbc.md: the account is busy), without Retry-After;
 * - a zone's bandwidth budget refuses the call whose SDP would exceed it;
 * - with `emergency.reserved` an ordinary call is refused at `maxCalls − reserved` while 112 is
 *   admitted and routed to its trunk; at full capacity a second 112 releases the newest ordinary
 *   call with `Reason: preemption` (RFC 4411 §3.3) on both legs, counted;
 * - the ledger returns to zero on every end path: a trunk's BYE, the caller's CANCEL, a trunk's
 *   486, a trunk silent past its per-try timeout (504), and shutdown.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import type { MediaEngine } from '@tfx/media';
import { realClock, type Clock } from '@tfx/sip';
import { Sbc, type SbcOptions, type TrunkSpec } from '../src/index.js';
import {
  builtinEngine,
  freePort,
  header,
  zone,
  type SippRun,
  trunkSipp,
  waitFor,
  phoneSipp,
} from './harness.js';

const PUBLIC = '127.0.42.20';
const CORE = '127.0.42.10';
const PHONE = '127.0.42.21';
const TRUNK = '127.0.42.11';
const SOS = '127.0.42.12';

/** One call from the phone to `user` with `scenario`. */
const phoneCall = (sbcPort: number, scenario: string, user: string): Promise<SippRun> =>
  phoneSipp(PHONE, `${PUBLIC}:${sbcPort}`, scenario, user, ['-key', 'caller', 'phone']);

const finalOf = (run: SippRun): string =>
  run.received.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m)) ?? '';
const firstLine = (m: string | undefined): string => (m ?? '').split('\r\n', 1)[0] ?? '';
const invites = (run: SippRun): string[] => run.received.filter((m) => m.startsWith('INVITE '));

/** Real timers, but a time that stands still: a calls-per-second window that never passes. */
function frozenClock(): Clock {
  const t = realClock.now();
  return {
    now: () => t,
    setTimer: (ms, fn) => realClock.setTimer(ms, fn),
    clearTimer: (h) => realClock.clearTimer(h),
  };
}

describe('SBC admission control (sipp on 127.0.42.x)', () => {
  let engine: MediaEngine;
  let sbc: Sbc | undefined;

  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine.close();
  });
  afterEach(async () => {
    await sbc?.close();
    sbc = undefined;
  });

  async function start(
    trunks: TrunkSpec[],
    extra: Partial<SbcOptions> = {},
  ): Promise<{ s: Sbc; port: number }> {
    const s = new Sbc({
      zones: [zone('public', PUBLIC), zone('core', CORE)],
      trunks,
      routes: [{ match: { zone: 'public' }, to: ['pbx'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
      ...extra,
    });
    sbc = s;
    const ls = await s.start();
    return { s, port: ls.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port };
  }

  const pbx = (port: number, extra: Partial<TrunkSpec> = {}): TrunkSpec => ({
    name: 'pbx',
    zone: 'core',
    uri: `sip:${TRUNK}:${port}`,
    ...extra,
  });

  it('a zone’s concurrent calls: the call over the limit gets 503 with Retry-After, counted', async () => {
    const trunk = await trunkSipp(TRUNK);
    const { s, port } = await start([pbx(trunk.port)], {
      admission: { zones: { public: { maxCalls: 1 } }, retryAfterSeconds: 7 },
    });
    const first = phoneCall(port, 'uac-wait-bye.xml', '4420');
    await waitFor(() => s.calls().some((c) => c.state === 'confirmed'), 'the first call up');

    const refused = await phoneCall(port, 'uac-admission-refused.xml', '4421');
    expect(refused.code).toBe(0);
    expect(firstLine(finalOf(refused))).toMatch(/^SIP\/2\.0 503 /);
    expect(header(finalOf(refused), 'Retry-After')).toBe('7');
    expect(s.admission.counters.rejected).toEqual({ 'zone:calls': 1 });
    expect(s.admission.snapshot()['zone:public']).toEqual({ calls: 1, kbps: 80 });

    await s.close();
    const [a, t] = await Promise.all([first, trunk.run]);
    expect(a.code).toBe(0);
    expect(invites(t)).toHaveLength(1); // the refused call never reached the trunk
    expect(s.admission.size).toBe(0);
  }, 180_000);

  it('the SBC’s calls per second: the next call in the same second gets 503 with Retry-After: 1', async () => {
    // The trunk answers and hangs up: the first call is over before the second is sent.
    const trunk = await trunkSipp(TRUNK, 'uas-bye.xml');
    const { s, port } = await start([pbx(trunk.port)], {
      admission: { callsPerSecond: 1 },
      clock: frozenClock(),
    });
    const first = await phoneCall(port, 'uac-wait-bye.xml', '4420');
    expect(first.code).toBe(0);
    await waitFor(() => s.admission.size === 0, 'the first call released');

    const refused = await phoneCall(port, 'uac-admission-refused.xml', '4421');
    expect(firstLine(finalOf(refused))).toMatch(/^SIP\/2\.0 503 /);
    expect(header(finalOf(refused), 'Retry-After')).toBe('1');
    expect(s.admission.counters.rejected).toEqual({ 'sbc:cps': 1 });
    expect((await trunk.run).code).toBe(0);
  }, 180_000);

  it('an account’s channels: its second call gets 486 Busy Here (no Retry-After)', async () => {
    const trunk = await trunkSipp(TRUNK);
    const { s, port } = await start([pbx(trunk.port)], {
      admission: { accounts: { maxCalls: 1 } },
    });
    const first = phoneCall(port, 'uac-wait-bye.xml', '4420');
    await waitFor(() => s.calls().some((c) => c.state === 'confirmed'), 'the first call up');
    // Both calls are the From user `phone`'s (a zone without digest: the From user is the account).
    expect(s.admission.snapshot()['account:phone']).toEqual({ calls: 1, kbps: 80 });

    const busy = await phoneCall(port, 'uac-admission-refused.xml', '4421');
    expect(busy.code).toBe(0);
    expect(firstLine(finalOf(busy))).toMatch(/^SIP\/2\.0 486 /);
    expect(header(finalOf(busy), 'Retry-After')).toBeUndefined();
    expect(s.admission.counters.rejected).toEqual({ 'account:calls': 1 });
    await s.close();
    expect((await first).code).toBe(0);
    expect((await trunk.run).code).toBe(0);
  }, 180_000);

  it('a zone’s bandwidth budget refuses the call that would exceed it (G.711: 80 kb/s each)', async () => {
    const trunk = await trunkSipp(TRUNK);
    const { s, port } = await start([pbx(trunk.port)], {
      admission: { zones: { core: { bandwidthKbps: 150 } } },
    });
    const first = phoneCall(port, 'uac-wait-bye.xml', '4420');
    await waitFor(() => s.calls().some((c) => c.state === 'confirmed'), 'the first call up');
    expect(s.admission.snapshot()['zone:core']).toEqual({ calls: 1, kbps: 80 });

    const refused = await phoneCall(port, 'uac-admission-refused.xml', '4421');
    expect(firstLine(finalOf(refused))).toMatch(/^SIP\/2\.0 503 /);
    expect(header(finalOf(refused), 'Retry-After')).toBe('5');
    expect(s.admission.counters.rejected).toEqual({ 'zone:bandwidth': 1 });
    await s.close();
    expect((await first).code).toBe(0);
    expect(invites(await trunk.run)).toHaveLength(1);
  }, 180_000);

  it('emergency: admitted past the reserve and routed to its trunk; at full capacity the newest ordinary call is released with Reason: preemption', async () => {
    const trunk = await trunkSipp(TRUNK);
    const sos = await trunkSipp(SOS, 'uas-echo.xml', 2);
    const { s, port } = await start(
      [pbx(trunk.port), { name: 'sos', zone: 'core', uri: `sip:${SOS}:${sos.port}` }],
      {
        admission: { maxCalls: 2 },
        emergency: { numbers: ['112'], trunks: ['sos'], reserved: 1 },
      },
    );
    const ordinary = phoneCall(port, 'uac-wait-bye.xml', '4420');
    await waitFor(() => s.calls().some((c) => c.state === 'confirmed'), 'the ordinary call up');

    // 2 − 1 reserved: a second ordinary call is refused.
    const refused = await phoneCall(port, 'uac-admission-refused.xml', '4421');
    expect(firstLine(finalOf(refused))).toMatch(/^SIP\/2\.0 503 /);
    expect(s.admission.counters.rejected).toEqual({ 'sbc:calls': 1 });

    // 112 takes the reserved call.
    const sos1 = phoneCall(port, 'uac-wait-bye.xml', '112');
    await waitFor(
      () => s.calls().filter((c) => c.state === 'confirmed').length === 2,
      'the first emergency call up',
    );
    expect(s.counters.ended.preempted).toBe(0);

    // Full: a second 112 is admitted anyway and the ordinary call is released for it.
    const sos2 = phoneCall(port, 'uac-wait-bye.xml', '112');
    const phone = await ordinary;
    expect(phone.code).toBe(0);
    const bye = phone.received.find((m) => m.startsWith('BYE '));
    expect(header(bye ?? '', 'Reason')).toBe('preemption ;cause=3 ;text="Generic Preemption"');
    await waitFor(
      () =>
        s.calls().filter((c) => c.state === 'confirmed').length === 2 &&
        s.calls().every((c) => c.emergency),
      'both emergency calls up',
    );
    expect(s.calls().map((c) => c.b.trunk)).toEqual(['sos', 'sos']);
    expect(s.counters.ended.preempted).toBe(1);
    expect(s.admission.counters).toMatchObject({ emergency: 2, preempted: 1 });
    const pbxRun = await trunk.run; // the trunk got its BYE too
    expect(pbxRun.code).toBe(0);
    expect(header(pbxRun.received.find((m) => m.startsWith('BYE ')) ?? '', 'Reason')).toMatch(
      /^preemption ;cause=3/,
    );

    await s.close();
    const [r1, r2, sosRun] = await Promise.all([sos1, sos2, sos.run]);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    expect(sosRun.code).toBe(0);
    expect(invites(sosRun).map(firstLine)).toEqual([
      expect.stringMatching(/^INVITE sip:112@/),
      expect.stringMatching(/^INVITE sip:112@/),
    ]);
    expect(s.admission.size).toBe(0);
  }, 240_000);

  it('every end path releases the call exactly once: trunk BYE, caller CANCEL, trunk 486, per-try timeout, shutdown', async () => {
    const released = async (s: Sbc, what: string): Promise<void> => {
      await waitFor(() => s.admission.size === 0 && s.callCount === 0, `${what}: released`);
      expect(s.admission.snapshot(), what).toEqual({});
    };
    // Silent trunk for the timeout: a UDP socket of the test that reads and never answers.
    const silent = createSocket('udp4');
    const silentPort = await freePort(TRUNK);
    await new Promise<void>((r) => silent.bind(silentPort, TRUNK, () => r()));
    try {
      for (const [what, scenario, phoneScenario] of [
        ['trunk BYE', 'uas-bye.xml', 'uac-wait-bye.xml'],
        ['caller CANCEL', 'uas-cancel.xml', 'uac-cancel.xml'],
        ['trunk 486', 'uas-486.xml', 'uac-busy.xml'],
      ] as const) {
        const trunk = await trunkSipp(TRUNK, scenario);
        const { s, port } = await start([pbx(trunk.port)], {
          admission: { maxCalls: 5, zones: { core: { bandwidthKbps: 1000 } } },
        });
        const run = await phoneCall(port, phoneScenario, '4420');
        expect(run.code, what).toBe(0);
        await released(s, what);
        expect((await trunk.run).code, what).toBe(0);
        expect(s.admission.counters.admitted, what).toBe(1);
        await s.close();
        sbc = undefined;
      }
      // Per-try timeout: the only trunk never answers → 504, released.
      {
        const { s, port } = await start([pbx(silentPort, { timeoutSeconds: 1 })], {
          admission: { maxCalls: 5 },
        });
        const run = await phoneCall(port, 'uac-admission-refused.xml', '4420');
        expect(firstLine(finalOf(run))).toMatch(/^SIP\/2\.0 504 /);
        await released(s, 'timeout');
        await s.close();
        sbc = undefined;
      }
      // Shutdown: a confirmed call ended by close().
      {
        const trunk = await trunkSipp(TRUNK);
        const { s, port } = await start([pbx(trunk.port)], { admission: { maxCalls: 5 } });
        const run = phoneCall(port, 'uac-wait-bye.xml', '4420');
        await waitFor(() => s.calls().some((c) => c.state === 'confirmed'), 'the call up');
        expect(s.admission.size).toBe(1);
        await s.close();
        sbc = undefined;
        expect(s.admission.size).toBe(0);
        expect((await run).code).toBe(0);
        expect((await trunk.run).code).toBe(0);
      }
    } finally {
      silent.close();
    }
  }, 300_000);
});
