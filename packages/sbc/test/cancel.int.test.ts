/**
 * CANCEL through the B2BUA with real sipp peers (RFC 3261 §9): the caller's CANCEL is answered
 * on its leg (200, then 487 to its INVITE) and cancels the callee's leg; when the callee's 200
 * crosses that CANCEL, the B2BUA ACKs it and ends the callee's dialog with BYE (§9.1: "the
 * CANCEL has no effect on a request that got its final response"; §13.2.2.4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import {
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  builtinEngine,
  freePort,
  sipp,
  startSbc,
} from './harness.js';

describe('CANCEL through the SBC (RFC 3261 §9) with real sipp peers', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function cancelled(
    calleeScenario: string,
  ): Promise<{ caller: string; callee: string; trace: string }> {
    const calleePort = await freePort(TRUNK);
    const rig = await startSbc(
      engine,
      [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${calleePort}` }],
      [{ match: { zone: 'public' }, to: ['far'] }],
    );
    try {
      const callee = sipp(
        [
          '-sf',
          join(SCENARIOS, calleeScenario),
          '-i',
          TRUNK,
          '-p',
          String(calleePort),
          '-mi',
          TRUNK,
          '-m',
          '1',
        ],
        30_000,
      );
      await new Promise((r) => setTimeout(r, 500));
      const caller = sipp(
        [
          `${PUBLIC}:${rig.port('public', 'udp')}`,
          '-sf',
          join(SCENARIOS, 'uac-cancel.xml'),
          '-i',
          PHONE,
          '-p',
          String(await freePort(PHONE)),
          '-mi',
          PHONE,
          '-s',
          '4420001',
          '-key',
          'caller',
          'alice',
          '-m',
          '1',
        ],
        30_000,
      );
      const [a, b] = await Promise.all([caller.done, callee.done]);
      expect(a.code, `caller:\n${a.output}\n${a.trace}`).toBe(0);
      expect(b.code, `callee:\n${b.output}\n${b.trace}`).toBe(0);
      // Both legs are gone and the media session with them.
      expect(rig.sbc.callCount).toBe(0);
      expect(await engine.list()).toEqual([]);
      return { caller: a.trace, callee: b.trace, trace: b.received.join('\n----\n') };
    } finally {
      await rig.close();
    }
  }

  it('a CANCEL from the caller gets 200 and 487 on its leg and cancels the callee leg (§9.1, §9.2)', async () => {
    const r = await cancelled('uas-cancel.xml');
    expect(r.trace).toMatch(/^CANCEL sip:4420001@/m);
    expect(r.trace).not.toMatch(/^BYE /m);
  }, 120_000);

  it('a 200 from the callee crossing the CANCEL is ACKed, then the callee leg gets BYE; the caller keeps its 487', async () => {
    const r = await cancelled('uas-cancel-race.xml');
    const order = [...r.trace.matchAll(/^(CANCEL|ACK|BYE) /gm)].map((m) => m[1]);
    expect(order).toEqual(['CANCEL', 'ACK', 'BYE']);
  }, 120_000);
});
