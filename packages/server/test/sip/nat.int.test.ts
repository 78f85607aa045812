/**
 * A UDP phone behind a NAT (RFC 3581 §4, RFC 5626 §5.3; Kamailio's fix_nated_register): it
 * registers with a Via and Contact naming an address nobody can reach, and is still called at
 * the address its REGISTER came from. The unreachable address is 127.0.0.1:9 (discard), so a
 * proxy that got it wrong sends nothing off the machine: the call simply fails.
 */
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  aliceCalls,
  DOMAIN,
  freePort,
  keys,
  PASSWORDS,
  SCENARIOS,
  type SipTestServer,
} from './harness.js';
import { sipTest } from './fixture.js';

const it = sipTest();

/** Whether bob's binding to the unreachable Contact is in the location service. */
async function bobRegistered(server: SipTestServer): Promise<boolean> {
  const res = await server.api('GET', '/api/v1/sip/registrations');
  return JSON.stringify(res.json).includes('sip:bob@127.0.0.1:9');
}

describe('UDP registrations behind a NAT', () => {
  it('reaches a UDP contact at its REGISTER source, not its unreachable Contact (RFC 3581 §4)', async ({
    sip: server,
    sipp,
  }) => {
    await server.api('DELETE', '/api/v1/sip/registrations/bob');
    // Both sipp runs use the same Call-ID (-cid_str, %u = 1): sipp maps messages to calls by it.
    const prefix = `nat${Date.now()}`;
    const port = await freePort();
    const phone = sipp.background(
      [
        `127.0.0.1:${server.port}`,
        '-sf',
        join(SCENARIOS, 'uas-nat.xml'),
        '-i',
        '127.0.0.1',
        '-p',
        String(port),
        '-t',
        'u1',
        '-au',
        'bob',
        '-ap',
        PASSWORDS.bob!,
        ...keys({ domain: DOMAIN, user: 'bob', nat_host: '127.0.0.1', nat_port: 9 }),
        '-cid_str',
        `${prefix}-%u`,
        '-m',
        '1',
      ],
      60_000,
    );
    // The phone registers first; then the call.
    for (let i = 0; i < 100 && !(await bobRegistered(server)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await bobRegistered(server)).toBe(true);
    const caller = await sipp(
      aliceCalls(server, { callee: 'bob', extra: ['-cid_str', `${prefix}-%u`] }),
    );
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(1);
    expect(caller.failed).toBe(0);
    const callee = await phone.done;
    expect(callee.code, callee.output).toBe(0);
    expect(callee.successful).toBe(1);
  });
});
