/**
 * Calls to another domain (a trunk) located by DNS, RFC 3263, end to end: real sipp as our
 * caller and as the trunk's two servers, a real DNS server on loopback (SRV: server A first,
 * server B second), the SIP server pointed at it with `sip.dnsServers`.
 * - A answers 503: the proxy fails over to B (§4.3), the call completes, A saw one INVITE.
 * - A domain DNS does not know: 478 Unresolvable Destination, nothing sent anywhere.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../../../sip/test/locate/dns-server.js';
import {
  aliceCalls,
  freePort,
  keys,
  SCENARIOS,
  sipp,
  sippBackground,
  type SipTestServer,
  startSipServer,
} from './harness.js';

let dns: TestDnsServer;
let server: SipTestServer;
let portA = 0;
let portB = 0;

beforeAll(async () => {
  [portA, portB] = [await freePort(), await freePort()];
  dns = await startDnsServer({
    '_sip._udp.trunk.test': [
      { type: 'SRV', data: { priority: 10, weight: 0, port: portA, target: 'a.trunk.test' } },
      { type: 'SRV', data: { priority: 20, weight: 0, port: portB, target: 'b.trunk.test' } },
    ],
    'a.trunk.test': [{ type: 'A', data: '127.0.0.1' }],
    'b.trunk.test': [{ type: 'A', data: '127.0.0.1' }],
  });
  server = await startSipServer({ 'sip.dnsServers': JSON.stringify([`127.0.0.1:${dns.port}`]) });
});
afterAll(async () => {
  await server?.close();
  await dns?.close();
});

function callTrunk(trunk: string) {
  return sipp(
    aliceCalls(server, {
      scenario: 'uac-trunk.xml',
      callee: 'carol',
      domain: trunk,
      extra: [...keys({ trunk }), '-d', '100'],
    }),
  );
}

function trunkServer(scenario: string, port: number) {
  return sippBackground(
    [
      '-sf',
      join(SCENARIOS, scenario),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      'u1',
      '-m',
      '1',
    ],
    30_000,
  );
}

async function outgoingInvites(callId?: string): Promise<{ remote: string }[]> {
  const trace = await server.api('GET', '/api/v1/sip/messages?limit=1000');
  const items = (
    trace.json as {
      items: { direction: string; summary: string; remote: string; callId: string }[];
    }
  ).items;
  return items.filter(
    (m) => m.direction === 'out' && m.summary === 'INVITE' && (!callId || m.callId === callId),
  );
}

describe('calls to another domain, located by DNS (RFC 3263)', () => {
  it('the first SRV target answers 503: the call goes on to the second and completes (§4.3)', async () => {
    const a = trunkServer('uas-503.xml', portA);
    const b = trunkServer('uas.xml', portB);
    const caller = await callTrunk('trunk.test');
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(1);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.output).toBe(0);
    expect(rb.code, rb.output).toBe(0);
    expect(rb.successful).toBe(1);
    // In order: server A (priority 10), then server B (priority 20); DNS was asked for the SRV.
    const remotes = (await outgoingInvites()).map((m) => m.remote);
    expect(remotes).toEqual([`127.0.0.1:${portA}`, `127.0.0.1:${portB}`]);
    expect(dns.queries).toContain('SRV _sip._udp.trunk.test');
  });

  it('a domain DNS does not know: 478 Unresolvable Destination, nothing sent anywhere', async () => {
    const before = (await outgoingInvites()).length;
    const caller = await callTrunk('nowhere.test');
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(1);
    const trace = await server.api('GET', '/api/v1/sip/messages?limit=1000');
    const items = (trace.json as { items: { direction: string; summary: string }[] }).items;
    expect(items.some((m) => m.direction === 'out' && m.summary.startsWith('478'))).toBe(true);
    expect((await outgoingInvites()).length).toBe(before);
    expect(dns.queries).toContain('NAPTR nowhere.test');
  });
});
