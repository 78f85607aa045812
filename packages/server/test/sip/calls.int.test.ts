/**
 * Real sipp through the proxy: REGISTER with digest (RFC 3261 §10, §22), calls over UDP and
 * TCP with 407 (§22.3), CANCEL (§16.10), 404 for unknown users, recovery under loss.
 */
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { aliceCalls, freePort, register, SCENARIOS, type SipTestServer } from './harness.js';
import { sipTest, type SippRunner } from './fixture.js';

// One server for the file (the `sip` fixture), sipp runs ended after each test (`sipp`).
const it = sipTest();

function uac(
  { sip, sipp }: { sip: SipTestServer; sipp: SippRunner },
  scenario: string,
  callee: string,
  calls: number,
  transport: 'u1' | 't1',
  extra: string[] = [],
) {
  return sipp(
    aliceCalls(sip, {
      scenario,
      callee,
      transport,
      calls,
      extra: ['-d', '100', '-r', '5', ...extra],
    }),
  );
}

/** Each call test binds bob afresh (the REST API removes earlier contacts, no forking to them). */
async function registerBob(
  sip: SipTestServer,
  port: number,
  transport: 'u1' | 't1' = 'u1',
): Promise<void> {
  await sip.api('DELETE', '/api/v1/sip/registrations/bob');
  const r = await register(sip, 'bob', port, { transport });
  expect(r.code, r.output).toBe(0);
}

function uas(
  { sipp }: { sipp: SippRunner },
  scenario: string,
  port: number,
  calls: number,
  transport: 'u1' | 't1',
  extra: string[] = [],
) {
  return sipp.background([
    '-sf',
    join(SCENARIOS, scenario),
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-t',
    transport,
    '-m',
    String(calls),
    ...extra,
  ]);
}

describe('SIP registrar and proxy with sipp', () => {
  it('registers with digest authentication (RFC 3261 §10.3, §22.4): 401 then 200', async ({
    sip,
  }) => {
    const r = await register(sip, 'carol', 5999);
    expect(r.code, r.output).toBe(0);
    expect(r.successful).toBe(1);
    expect(r.failed).toBe(0);
    const regs = await sip.api('GET', '/api/v1/sip/registrations');
    expect(JSON.stringify(regs.json)).toContain(`sip:carol@127.0.0.1:5999`);
  });

  it('refuses a wrong password with 403 (§22.4) and counts the failure', async ({ sip }) => {
    const r = await register(sip, 'carol', 5998, { password: 'wrong-password', expect: 403 });
    expect(r.code, r.output).toBe(0);
    expect(r.successful).toBe(1);
  });

  it('routes 5 calls over UDP: INVITE, 407, INVITE, 180, 200, ACK, BYE, 200', async ({
    sip,
    sipp,
  }) => {
    const port = await freePort();
    const callee = uas({ sipp }, 'uas.xml', port, 5, 'u1');
    await registerBob(sip, port);
    const caller = await uac({ sip, sipp }, 'uac.xml', 'bob', 5, 'u1');
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(5);
    expect(caller.failed).toBe(0);
    const c = await callee.done;
    expect(c.code, c.output).toBe(0);
    expect(c.successful).toBe(5);
    // §22.3: the caller's credentials for our realm are consumed here, never passed to the callee.
    const trace = await sip.api('GET', '/api/v1/sip/messages?limit=1000');
    const invites = (trace.json as { items: { direction: string; text: string }[] }).items.filter(
      (m) => m.text.startsWith('INVITE '),
    );
    const inWithCreds = invites.filter(
      (m) => m.direction === 'in' && /^Proxy-Authorization:/im.test(m.text),
    );
    const outInvites = invites.filter((m) => m.direction === 'out');
    expect(inWithCreds.length).toBeGreaterThan(0);
    expect(outInvites.length).toBeGreaterThan(0);
    for (const m of outInvites) expect(m.text).not.toMatch(/^Proxy-Authorization:/im);
  });

  it('routes 5 calls over TCP, registering over TCP too', async ({ sip, sipp }) => {
    const port = await freePort();
    const callee = uas({ sipp }, 'uas.xml', port, 5, 't1');
    await registerBob(sip, port, 't1');
    const caller = await uac({ sip, sipp }, 'uac.xml', 'bob', 5, 't1');
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(5);
    expect(caller.failed).toBe(0);
    expect((await callee.done).successful).toBe(5);
  });

  it('cancels a ringing call (§16.10): 200 for the CANCEL, 487 for the INVITE', async ({
    sip,
    sipp,
  }) => {
    const port = await freePort();
    const callee = uas({ sipp }, 'uas-cancel.xml', port, 3, 'u1');
    await registerBob(sip, port);
    const caller = await uac({ sip, sipp }, 'uac-cancel.xml', 'bob', 3, 'u1');
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(3);
    const c = await callee.done;
    expect(c.code, c.output).toBe(0);
    expect(c.successful).toBe(3);
  });

  it('answers 404 for unknown users and for known users without contacts alike', async ({
    sip,
    sipp,
  }) => {
    for (const callee of ['nobody', 'alice']) {
      const r = await uac({ sip, sipp }, 'uac-404.xml', callee, 2, 'u1');
      expect(r.code, r.output).toBe(0);
      expect(r.successful).toBe(2);
    }
  });

  it('recovers from 10 % loss on both sides through retransmissions (§17)', async ({
    sip,
    sipp,
  }) => {
    const port = await freePort();
    const callee = uas({ sipp }, 'uas.xml', port, 10, 'u1', ['-lost', '10']);
    await registerBob(sip, port);
    const caller = await uac({ sip, sipp }, 'uac.xml', 'bob', 10, 'u1', ['-lost', '10']);
    const c = caller.code === 0 ? undefined : await callee.done;
    expect(caller.code, `${caller.output}\n--- callee ---\n${c?.output ?? ''}`).toBe(0);
    expect(caller.successful).toBe(10);
    expect(caller.failed).toBe(0);
    await callee.done;
  }, 120_000);
});
