/**
 * The registrar/proxy's own calls write CDRs to the store the SBC writes to (docs/sbc.md, "CDRs"):
 * real sipp through the SIP server — alice calls bob (registered with digest), answered and hung
 * up by the caller; a ringing call cancelled — and `<dataDir>/cdr/` holds one `kind: 'proxy'`
 * line a call, in the SBC's format (the protocol's schema parses it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { sbcCdrSchema, type SbcCdr } from '@tfx/protocol';
import { aliceCalls, freePort, register, SCENARIOS, type SipTestServer } from '../sip/harness.js';
import { sipTest } from '../sip/fixture.js';

const it = sipTest();

function records(sip: SipTestServer): SbcCdr[] {
  const dir = join(sip.dataDir, 'cdr');
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => /^cdr-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n));
  } catch {
    return [];
  }
  return names
    .sort()
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .map((l) => sbcCdrSchema.parse(JSON.parse(l)));
}

describe('CDRs of calls proxied between registered users', () => {
  it('an answered call and a cancelled one: one proxy record each, in the SBC format', async ({
    sip,
    sipp,
  }) => {
    const port = await freePort();
    await sip.api('DELETE', '/api/v1/sip/registrations/bob');
    const callee = sipp.background([
      '-sf',
      join(SCENARIOS, 'uas.xml'),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-m',
      '2',
    ]);
    const reg = await register(sip, 'bob', port);
    expect(reg.code, reg.output).toBe(0);
    const caller = await sipp(
      aliceCalls(sip, {
        scenario: 'uac.xml',
        callee: 'bob',
        transport: 'u1',
        calls: 2,
        extra: ['-d', '100', '-r', '5'],
      }),
    );
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(2);
    expect((await callee.done).successful).toBe(2);

    const answered = records(sip).filter((r) => r.final === 200);
    expect(answered).toHaveLength(2);
    for (const r of answered) {
      expect(r).toMatchObject({
        kind: 'proxy',
        aZone: 'proxy',
        bZone: 'proxy',
        final: 200,
        reason: 'caller-bye',
        caller: { from: 'alice', ruri: 'bob' },
        callee: { ruri: 'bob' },
        trunk: `127.0.0.1:${port}`,
      });
      expect(r.tries).toHaveLength(1);
      expect(r.tries[0]).toMatchObject({ trunk: `127.0.0.1:${port}`, status: 200 });
      expect(r.answer).toBeDefined();
      expect(r.ring).toBeDefined();
      expect(Date.parse(r.end)).toBeGreaterThanOrEqual(Date.parse(r.answer!));
      expect(Date.parse(r.answer!)).toBeGreaterThanOrEqual(Date.parse(r.start));
      expect(r.callId).toMatch(/./);
    }
    // One line a call.
    expect(new Set(answered.map((r) => r.callId)).size).toBe(2);

    const cport = await freePort();
    await sip.api('DELETE', '/api/v1/sip/registrations/bob');
    const ringing = sipp.background([
      '-sf',
      join(SCENARIOS, 'uas-cancel.xml'),
      '-i',
      '127.0.0.1',
      '-p',
      String(cport),
      '-m',
      '1',
    ]);
    expect((await register(sip, 'bob', cport)).code).toBe(0);
    const cancel = await sipp(
      aliceCalls(sip, {
        scenario: 'uac-cancel.xml',
        callee: 'bob',
        transport: 'u1',
        calls: 1,
        extra: ['-r', '5'],
      }),
    );
    expect(cancel.code, cancel.output).toBe(0);
    expect((await ringing.done).code).toBe(0);
    const cancelled = records(sip).filter((r) => r.final === 487);
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]).toMatchObject({ kind: 'proxy', reason: 'caller-cancel', duration: 0 });
    expect(cancelled[0]!.answer).toBeUndefined();

    // Nothing left tracked once the calls ended.
    expect(sip.module.service?.cdrs.size).toBe(0);
  }, 120_000);
});
