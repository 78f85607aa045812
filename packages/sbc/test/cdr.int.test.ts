/**
 * CDRs with real sipp peers (issue #19 item 1): each call attempt through the SBC gives one
 * record, handed to the sink before the SBC's last message of the call — an answered call
 * (answer time, duration, caller-bye / callee-bye), a 486 from the trunk (final 486, no answer),
 * and a failover (503 from the first trunk, the second answers: both tries listed). The sink
 * here records, in order, each record and how many messages sipp had received when it was
 * written (the kill -9 test of the server's file sink is packages/cli/test/sbc-cdr.int.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createBuiltinEngine, type MediaEngine } from '@tfx/media';
import type { CdrRecord, CdrSink, RouteSpec, TrunkSpec } from '../src/index.js';
import { PHONE, PUBLIC, SCENARIOS, TRUNK, PBX, freePort, sipp, startSbc } from './harness.js';

class MemorySink implements CdrSink {
  readonly records: CdrRecord[] = [];
  write(r: CdrRecord): void {
    this.records.push(r);
  }
}

describe('SBC CDRs with real sipp peers', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    // Stats every 200 ms: a call of a second has some for its record.
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    engine = await createBuiltinEngine({
      portMin: base,
      portMax: base + 199,
      workers: 1,
      mediaTimeoutMs: 0,
      statsIntervalMs: 200,
    });
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function run(o: {
    trunks: (ports: number[]) => TrunkSpec[];
    callees: Array<{ address: string; args: string[] }>;
    caller: string[];
  }): Promise<CdrRecord[]> {
    const ports: number[] = [];
    for (const c of o.callees) ports.push(await freePort(c.address));
    const trunks = o.trunks(ports);
    const routes: RouteSpec[] = [{ match: { zone: 'public' }, to: trunks.map((t) => t.name) }];
    const sink = new MemorySink();
    const rig = await startSbc(engine, trunks, routes, undefined, { cdr: sink });
    try {
      const callees = o.callees.map((c, i) =>
        sipp([...c.args, '-i', c.address, '-p', String(ports[i]), '-m', '1'], 60_000),
      );
      const callerPort = await freePort(PHONE);
      const caller = await sipp(
        [
          ...o.caller,
          `${PUBLIC}:${rig.port('public', 'udp')}`,
          '-i',
          PHONE,
          '-p',
          String(callerPort),
          '-s',
          '5551234',
          '-m',
          '1',
        ],
        60_000,
      ).done;
      expect(caller.code, caller.output).toBe(0);
      for (const c of callees) {
        const r = await c.done;
        expect(r.code, r.output).toBe(0);
      }
      return sink.records;
    } finally {
      await rig.close();
    }
  }

  it('an answered call the caller hangs up: answer time, duration, caller-bye, final 200', async () => {
    const records = await run({
      trunks: ([p]) => [
        {
          name: 'carrier',
          zone: 'core',
          uri: `sip:${TRUNK}:${p}`,
          normalize: [{ user: 'ruri', match: '^555(\\d+)$', replace: '+1555$1' }],
        },
      ],
      callees: [{ address: TRUNK, args: ['-sn', 'uas'] }],
      caller: ['-sn', 'uac', '-d', '1500'],
    });
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({
      aZone: 'public',
      bZone: 'core',
      trunk: 'carrier',
      tries: [{ trunk: 'carrier', status: 200 }],
      final: 200,
      reason: 'caller-bye',
    });
    expect(r.caller.ruri).toBe('5551234');
    expect(r.callee.ruri).toBe('+15551234');
    expect(r.answer).toBeDefined();
    expect(Date.parse(r.answer!)).toBeGreaterThanOrEqual(Date.parse(r.start));
    expect(Date.parse(r.end)).toBeGreaterThanOrEqual(Date.parse(r.answer!));
    expect(r.duration).toBeGreaterThan(0);
    expect(r.callId).toMatch(/./);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    // The engine's stats queried at the BYE, per leg (sipp's uac sends no RTP: counts are zero).
    expect(r.media?.map((m) => m.leg).sort()).toEqual(['a', 'b']);
    for (const m of r.media ?? []) expect(m.packetsLost).toBeGreaterThanOrEqual(0);
  }, 90_000);

  it('an answered call the trunk hangs up: ring time, callee-bye', async () => {
    const records = await run({
      trunks: ([p]) => [{ name: 'carrier', zone: 'core', uri: `sip:${TRUNK}:${p}` }],
      callees: [{ address: TRUNK, args: ['-sf', join(SCENARIOS, 'uas-bye.xml')] }],
      caller: ['-sf', join(SCENARIOS, 'uac-wait-bye.xml')],
    });
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({ final: 200, reason: 'callee-bye', trunk: 'carrier' });
    expect(r.ring).toBeDefined();
    expect(r.answer).toBeDefined();
    expect(Date.parse(r.answer!)).toBeGreaterThanOrEqual(Date.parse(r.ring!));
  }, 90_000);

  it('a 486 from the trunk: final 486, rejected, no answer, duration 0', async () => {
    const records = await run({
      trunks: ([p]) => [{ name: 'carrier', zone: 'core', uri: `sip:${TRUNK}:${p}` }],
      callees: [
        {
          address: TRUNK,
          args: ['-sf', join(SCENARIOS, 'uas-486.xml')],
        },
      ],
      caller: ['-sf', join(SCENARIOS, 'uac-busy.xml')],
    });
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({
      final: 486,
      reason: 'rejected',
      duration: 0,
      tries: [{ trunk: 'carrier', status: 486 }],
    });
    expect(r.answer).toBeUndefined();
  }, 90_000);

  it('failover: the first trunk 503, the second answers — both tries listed', async () => {
    const records = await run({
      trunks: ([p1, p2]) => [
        { name: 'first', zone: 'core', uri: `sip:${TRUNK}:${p1}` },
        { name: 'second', zone: 'core', uri: `sip:${PBX}:${p2}` },
      ],
      callees: [
        {
          address: TRUNK,
          args: ['-sf', join(SCENARIOS, 'uas-503.xml')],
        },
        { address: PBX, args: ['-sn', 'uas'] },
      ],
      caller: ['-sn', 'uac', '-d', '200'],
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      trunk: 'second',
      tries: [
        { trunk: 'first', status: 503 },
        { trunk: 'second', status: 200 },
      ],
      final: 200,
      reason: 'caller-bye',
    });
    // Each try's time: when its INVITE left, in order, within the call.
    const [t1, t2] = records[0]!.tries.map((t) => Date.parse(t.at ?? ''));
    expect(t1).toBeGreaterThanOrEqual(Date.parse(records[0]!.start));
    expect(t2).toBeGreaterThanOrEqual(t1!);
    expect(Date.parse(records[0]!.answer!)).toBeGreaterThanOrEqual(t2!);
    expect(records[0]!.kind).toBe('sbc');
    expect(records[0]!.emergency).toBeUndefined();
  }, 90_000);
});
