/**
 * Trunk probes and failover (issue #18 items 1 and 2), with a real sipp phone (127.0.0.21)
 * calling through the public zone (127.0.0.20) to trunks behind the core zone (127.0.0.10):
 *
 * - a trunk (a UDP socket of ours on 127.0.0.11) that answers OPTIONS and then goes silent is
 *   marked down after the configured probes; calls go to the next trunk (sipp on 127.0.0.12);
 *   once it answers again it comes back after the configured successes, and takes calls again;
 * - the first trunk (sipp) answering 503 → the call completes on the second (sipp);
 * - every trunk down (probes) or every trunk failing (503) → the caller gets 504 with
 *   `Reason: SIP;cause=504;text="no trunk available"` (RFC 3326).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import type { RouteSpec, TrunkSpec } from '../src/index.js';
import {
  PBX,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  builtinEngine,
  freePort,
  header,
  sipp,
  startSbc,
  type Rig,
  type SippRun,
  trunkSipp,
  waitFor,
} from './harness.js';

/**
 * A trunk of ours on one UDP socket: answers OPTIONS 200 while `alive`, every INVITE with
 * `inviteStatus` (while alive), and keeps the request lines it received.
 */
interface RawTrunk {
  readonly port: number;
  alive: boolean;
  inviteStatus: number;
  readonly received: string[];
  close(): Promise<void>;
}

async function rawTrunk(address: string): Promise<RawTrunk> {
  const sock: Socket = createSocket('udp4');
  const seen = new Set<string>();
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  const t: RawTrunk = {
    port: sock.address().port,
    alive: true,
    inviteStatus: 486,
    received: [],
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
  sock.on('message', (buf, rinfo) => {
    const text = buf.toString('latin1');
    const first = text.split('\r\n', 1)[0] ?? '';
    const method = /^([A-Z]+) sip:/.exec(first)?.[1];
    if (!method) return; // a response, or noise
    // One entry per request, not per retransmission (same Call-ID and CSeq).
    const key = `${/^(?:Call-ID|i):(.*)$/im.exec(text)?.[1]}|${/^CSeq:(.*)$/im.exec(text)?.[1]}`;
    if (!seen.has(key)) t.received.push(first);
    seen.add(key);
    if (!t.alive || method === 'ACK') return;
    const status = method === 'OPTIONS' ? 200 : method === 'INVITE' ? t.inviteStatus : 200;
    const lines = text.split('\r\n');
    const keep = lines.filter((l) => /^(Via|v|From|f|Call-ID|i|CSeq):/i.test(l));
    const to = lines.find((l) => /^(To|t):/i.test(l)) ?? 'To: <sip:x@invalid>';
    const reason = status === 200 ? 'OK' : status === 486 ? 'Busy Here' : 'Service Unavailable';
    const reply = [
      `SIP/2.0 ${status} ${reason}`,
      ...keep,
      /;tag=/.test(to) ? to : `${to};tag=raw${t.port}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sock.send(reply, rinfo.port, rinfo.address);
  });
  return t;
}

/** One call from the phone with `scenario` (uac-headers.xml: answered; uac-refused.xml). */
async function phoneCall(rig: Rig, scenario: string): Promise<SippRun> {
  const port = await freePort(PHONE);
  const media = await freePort(PHONE, true);
  return sipp(
    [
      `${PUBLIC}:${rig.port('public', 'udp')}`,
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
      '4420',
      '-d',
      '300',
      '-m',
      '1',
    ],
    60_000,
  ).done;
}

const PROBE = { intervalSeconds: 1, failures: 2, successes: 2 };
const OFF = { intervalSeconds: 0, failures: 3, successes: 2 };
const ROUTES: RouteSpec[] = [{ match: { zone: 'public' }, to: ['first', 'second'] }];

const finalOf = (run: SippRun): string | undefined =>
  run.received.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m));

describe('SBC trunks: OPTIONS probes and failover', () => {
  let engine: MediaEngine;
  let rig: Rig | undefined;
  const raws: RawTrunk[] = [];

  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine.close();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    for (const r of raws.splice(0)) await r.close();
  });

  it('a trunk that stops answering OPTIONS goes down, calls go to the next; it comes back', async () => {
    const first = await rawTrunk(TRUNK);
    raws.push(first);
    const second = await trunkSipp(PBX, 'uas-echo.xml', 1);
    const trunks: TrunkSpec[] = [
      { name: 'first', zone: 'core', uri: `sip:${TRUNK}:${first.port}`, probe: PROBE },
      { name: 'second', zone: 'core', uri: `sip:${PBX}:${second.port}`, probe: OFF },
    ];
    rig = await startSbc(engine, trunks, ROUTES);
    const sbc = rig.sbc;
    const status = (): ReturnType<NonNullable<typeof sbc.probes>['list']>[number] | undefined =>
      sbc.probes?.list().find((s) => s.name === 'first');
    await waitFor(() => status()?.lastStatus === 200, 'the first probe answered');
    expect(first.received.some((l) => l.startsWith('OPTIONS sip:'))).toBe(true);
    expect(status()?.state).toBe('up');

    first.alive = false;
    await waitFor(() => status()?.state === 'down', 'the silent trunk marked down');
    expect(sbc.probes?.isUp('first')).toBe(false);

    const call = await phoneCall(rig, 'uac-headers.xml');
    expect(call.code, call.output).toBe(0);
    const trunkRun = await second.run;
    expect(trunkRun.code, trunkRun.output).toBe(0);
    expect(trunkRun.received.filter((m) => m.startsWith('INVITE '))).toHaveLength(1);
    expect(first.received.some((l) => l.startsWith('INVITE '))).toBe(false);

    first.alive = true;
    await waitFor(() => status()?.state === 'up', 'the trunk back up after its successes');
    // Back up: the next call goes to the first trunk again (which answers it 486).
    const again = await phoneCall(rig, 'uac-refused.xml');
    expect(again.code, again.output).toBe(0);
    expect(finalOf(again)).toMatch(/^SIP\/2\.0 486 /);
    expect(first.received.filter((l) => l.startsWith('INVITE '))).toHaveLength(1);
  }, 120_000);

  it('the first trunk answering 503 → the call completes on the second', async () => {
    const first = await trunkSipp(TRUNK, 'uas-503-trying.xml', 1);
    const second = await trunkSipp(PBX, 'uas-echo.xml', 1);
    rig = await startSbc(
      engine,
      [
        { name: 'first', zone: 'core', uri: `sip:${TRUNK}:${first.port}`, probe: OFF },
        { name: 'second', zone: 'core', uri: `sip:${PBX}:${second.port}`, probe: OFF },
      ],
      ROUTES,
    );
    const call = await phoneCall(rig, 'uac-headers.xml');
    expect(call.code, call.output).toBe(0);
    const [a, b] = await Promise.all([first.run, second.run]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    expect(a.received.filter((m) => m.startsWith('INVITE '))).toHaveLength(1);
    expect(b.received.filter((m) => m.startsWith('INVITE '))).toHaveLength(1);
    expect(rig.sbc.counters.noTrunk).toBe(0);
  }, 120_000);

  it('every trunk down → 504 with a Reason header, without trying any', async () => {
    const a = await rawTrunk(TRUNK);
    const b = await rawTrunk(PBX);
    raws.push(a, b);
    a.alive = false;
    b.alive = false;
    rig = await startSbc(
      engine,
      [
        { name: 'first', zone: 'core', uri: `sip:${TRUNK}:${a.port}`, probe: PROBE },
        { name: 'second', zone: 'core', uri: `sip:${PBX}:${b.port}`, probe: PROBE },
      ],
      ROUTES,
    );
    const sbc = rig.sbc;
    await waitFor(
      () => sbc.probes?.isUp('first') === false && sbc.probes?.isUp('second') === false,
      'both trunks down',
    );
    const call = await phoneCall(rig, 'uac-refused.xml');
    expect(call.code, call.output).toBe(0);
    const final = finalOf(call) ?? '';
    expect(final).toMatch(/^SIP\/2\.0 504 /);
    expect(header(final, 'Reason')).toBe('SIP;cause=504;text="no trunk available"');
    expect([...a.received, ...b.received].some((l) => l.startsWith('INVITE '))).toBe(false);
    expect(sbc.counters.noTrunk).toBe(1);
  }, 120_000);

  it('a trunk silent to the INVITE past its timeoutSeconds → the next trunk; the last one → 504', async () => {
    const a = await rawTrunk(TRUNK);
    raws.push(a);
    a.alive = false; // it records the INVITE and never answers
    const second = await trunkSipp(PBX, 'uas-echo.xml', 1);
    rig = await startSbc(
      engine,
      [
        {
          name: 'first',
          zone: 'core',
          uri: `sip:${TRUNK}:${a.port}`,
          probe: OFF,
          timeoutSeconds: 1,
        },
        { name: 'second', zone: 'core', uri: `sip:${PBX}:${second.port}`, probe: OFF },
      ],
      ROUTES,
    );
    const call = await phoneCall(rig, 'uac-headers.xml');
    expect(call.code, call.output).toBe(0);
    const b = await second.run;
    expect(b.code, b.output).toBe(0);
    expect(a.received.filter((l) => l.startsWith('INVITE '))).toHaveLength(1);
    await rig.close();
    // Alone on its route: the timeout leaves no trunk → 504.
    rig = await startSbc(
      engine,
      [
        {
          name: 'first',
          zone: 'core',
          uri: `sip:${TRUNK}:${a.port}`,
          probe: OFF,
          timeoutSeconds: 1,
        },
      ],
      [{ match: { zone: 'public' }, to: ['first'] }],
    );
    const lone = await phoneCall(rig, 'uac-refused.xml');
    expect(lone.code, lone.output).toBe(0);
    const final = finalOf(lone) ?? '';
    expect(final).toMatch(/^SIP\/2\.0 504 /);
    expect(header(final, 'Reason')).toBe('SIP;cause=504;text="no trunk available"');
  }, 120_000);

  it('every trunk failing with 503 → 504 with a Reason header after trying each', async () => {
    const a = await rawTrunk(TRUNK);
    const b = await rawTrunk(PBX);
    raws.push(a, b);
    a.inviteStatus = 503;
    b.inviteStatus = 503;
    rig = await startSbc(
      engine,
      [
        { name: 'first', zone: 'core', uri: `sip:${TRUNK}:${a.port}`, probe: OFF },
        { name: 'second', zone: 'core', uri: `sip:${PBX}:${b.port}`, probe: OFF },
      ],
      ROUTES,
    );
    const call = await phoneCall(rig, 'uac-refused.xml');
    expect(call.code, call.output).toBe(0);
    const final = finalOf(call) ?? '';
    expect(final).toMatch(/^SIP\/2\.0 504 /);
    expect(header(final, 'Reason')).toBe('SIP;cause=504;text="no trunk available"');
    expect(a.received.filter((l) => l.startsWith('INVITE '))).toHaveLength(1);
    expect(b.received.filter((l) => l.startsWith('INVITE '))).toHaveLength(1);
  }, 120_000);
});
