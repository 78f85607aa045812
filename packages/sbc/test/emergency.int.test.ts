/**
 * Emergency calls (issue #18 item 4), with real sipp phones (127.0.0.21) calling through the
 * public zone (127.0.0.20) to sipp trunks behind the core zone: the ordinary trunk on 127.0.0.11,
 * the emergency trunk on 127.0.0.12.
 *
 * - `limits.maxCalls: 1` and one call up: a second ordinary call gets 503, a call to 112 is
 *   admitted, reaches the emergency trunk (not the route's) with `Resource-Priority: esnet.1`
 *   (RFC 4412), and the calls list marks it `emergency: true`;
 * - an untrusted zone with digest: an ordinary call without credentials gets 407, a call to 112
 *   without credentials is placed (what regulators require).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEngine } from '@tfx/media';
import { computeHa1, nodeDigestHash } from '@tfx/sip';
import { Sbc, type CdrRecord, type SbcOptions, type ZoneSpec } from '../src/index.js';
import {
  CORE,
  PBX,
  PHONE,
  PUBLIC,
  TRUNK,
  builtinEngine,
  header,
  zone,
  type SippRun,
  trunkSipp,
  waitFor,
  phoneSipp,
} from './harness.js';

/** One call from the phone to `user` with `scenario`. */
const phoneCall = (sbcPort: number, scenario: string, user: string): Promise<SippRun> =>
  phoneSipp(PHONE, `${PUBLIC}:${sbcPort}`, scenario, user);

const finalOf = (run: SippRun): string | undefined =>
  run.received.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m));

const firstLine = (m: string | undefined): string => (m ?? '').split('\r\n', 1)[0] ?? '';

/** What a timed-out wait reports: each call's state and trunk, and the SBC's counters. */
const seen = (s: Sbc) => (): unknown => ({
  calls: s.calls().map((c) => ({ state: c.state, trunk: c.b.trunk, emergency: c.emergency })),
  counters: s.counters,
});

describe('SBC emergency calls (sbc.emergency)', () => {
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
    pbxPort: number,
    sosPort: number,
    publicZone: ZoneSpec,
    extra: Partial<SbcOptions> = {},
  ): Promise<number> {
    sbc = new Sbc({
      zones: [publicZone, zone('core', CORE)],
      trunks: [
        { name: 'pbx', zone: 'core', uri: `sip:${TRUNK}:${pbxPort}` },
        { name: 'sos', zone: 'core', uri: `sip:${PBX}:${sosPort}` },
      ],
      routes: [{ match: { zone: 'public' }, to: ['pbx'] }],
      emergency: { numbers: ['112', '911'], trunks: ['sos'], resourcePriority: 'esnet.1' },
      engine,
      timers: { T1: 200, T2: 1600 },
      ...extra,
    });
    const ls = await sbc.start();
    return ls.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
  }

  it('over the zone call limit: an ordinary call gets 503, 112 reaches the emergency trunk', async () => {
    const pbx = await trunkSipp(TRUNK);
    const sos = await trunkSipp(PBX);
    const cdrs: CdrRecord[] = [];
    const port = await start(
      pbx.port,
      sos.port,
      { ...zone('public', PUBLIC), limits: { maxCalls: 1 } },
      { cdr: { write: (r) => cdrs.push(r) } },
    );
    const s = sbc!;
    // One ordinary call up (it waits for the SBC's BYE at close).
    const first = phoneCall(port, 'uac-wait-bye.xml', '4420');
    await waitFor(
      () => s.calls().some((c) => c.state === 'confirmed'),
      'the first call up',
      30_000,
      seen(s),
    );

    const refused = await phoneCall(port, 'uac-refused-early.xml', '4421');
    expect(refused.code).toBe(0);
    expect(firstLine(finalOf(refused))).toMatch(/^SIP\/2\.0 503 /);
    expect(s.counters.overLimit).toBe(1);

    const emergency = phoneCall(port, 'uac-wait-bye.xml', '112');
    await waitFor(
      () => s.calls().filter((c) => c.state === 'confirmed').length === 2,
      'the emergency call up',
      30_000,
      seen(s),
    );
    const views = s.calls();
    const sosView = views.find((c) => c.b.trunk === 'sos');
    expect(sosView?.emergency).toBe(true);
    expect(views.find((c) => c.b.trunk === 'pbx')?.emergency).toBe(false);
    expect(s.counters.emergencyCalls).toBe(1);

    await s.close(); // BYE on every leg: each sipp ends its scenario
    const [a, b, pbxRun, sosRun] = await Promise.all([first, emergency, pbx.run, sos.run]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(pbxRun.code).toBe(0);
    expect(sosRun.code).toBe(0);
    const sosInvite = sosRun.received.find((m) => m.startsWith('INVITE '));
    expect(firstLine(sosInvite)).toMatch(/^INVITE sip:112@/);
    expect(header(sosInvite ?? '', 'Resource-Priority')).toBe('esnet.1');
    const pbxInvite = pbxRun.received.find((m) => m.startsWith('INVITE '));
    expect(firstLine(pbxInvite)).toMatch(/^INVITE sip:4420@/);
    expect(header(pbxInvite ?? '', 'Resource-Priority')).toBeUndefined();
    // The CDRs (issue #19): the emergency call's is marked, the ordinary one's is not.
    const sosCdr = cdrs.find((r) => r.trunk === 'sos');
    expect(sosCdr).toMatchObject({ emergency: true, final: 200, reason: 'shutdown' });
    expect(sosCdr?.callee.ruri).toBe('112');
    expect(cdrs.find((r) => r.trunk === 'pbx')?.emergency).toBeUndefined();
  }, 180_000);

  it('an untrusted zone with digest: 407 for an ordinary call, 112 placed without credentials', async () => {
    const pbx = await trunkSipp(TRUNK); // never reached: the ordinary call is challenged
    const sos = await trunkSipp(PBX);
    const port = await start(pbx.port, sos.port, zone('public', PUBLIC), {
      auth: {
        realm: 'tfx.test',
        lookupHa1: (user, realm, algorithm) =>
          user === 'alice'
            ? computeHa1(nodeDigestHash, algorithm, user, realm, 'alice-secret-1')
            : undefined,
      },
    });
    const s = sbc!;
    const challenged = await phoneCall(port, 'uac-refused-early.xml', '4420');
    expect(challenged.code).toBe(0);
    const final = finalOf(challenged);
    expect(firstLine(final)).toMatch(/^SIP\/2\.0 407 /);
    expect(header(final ?? '', 'Proxy-Authenticate')).toMatch(/^Digest /);

    const emergency = phoneCall(port, 'uac-wait-bye.xml', '112');
    await waitFor(
      () => s.calls().some((c) => c.state === 'confirmed'),
      'the emergency call up',
      30_000,
      seen(s),
    );
    expect(s.calls().map((c) => [c.b.trunk, c.emergency])).toEqual([['sos', true]]);
    expect(s.counters.emergencyCalls).toBe(1);

    await s.close();
    const [run, sosRun] = await Promise.all([emergency, sos.run]);
    expect(run.code).toBe(0);
    expect(sosRun.code).toBe(0);
    expect(firstLine(sosRun.received.find((m) => m.startsWith('INVITE ')))).toMatch(
      /^INVITE sip:112@/,
    );
    // The ordinary trunk's sipp never got a call: stopped (by its PID), and it saw no INVITE.
    pbx.stop();
    expect((await pbx.run).received.some((m) => m.startsWith('INVITE '))).toBe(false);
  }, 180_000);
});
