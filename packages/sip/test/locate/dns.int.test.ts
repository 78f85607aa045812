/**
 * The locator over the real resolver (`nodeDns`, c-ares) against a real DNS server on loopback:
 * NAPTR → SRV → A/AAAA on the wire, the cache, NXDOMAIN, and a server that does not answer (the
 * resolver's own timeout, then no targets). With servers given, nothing is asked of the system.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { locate, nodeDns } from '../../src/locate/index.js';
import { startDnsServer, type TestDnsServer } from './dns-server.js';

let server: TestDnsServer;

beforeAll(async () => {
  server = await startDnsServer({
    'carrier.test': [
      {
        type: 'NAPTR',
        data: {
          order: 10,
          preference: 10,
          flags: 'S',
          services: 'SIP+D2T',
          regexp: '',
          replacement: '_sip._tcp.carrier.test',
        },
      },
      {
        type: 'NAPTR',
        data: {
          order: 20,
          preference: 10,
          flags: 'S',
          services: 'SIP+D2U',
          regexp: '',
          replacement: '_sip._udp.carrier.test',
        },
      },
    ],
    '_sip._tcp.carrier.test': [
      { type: 'SRV', data: { priority: 10, weight: 0, port: 5070, target: 'sbc1.carrier.test' } },
      { type: 'SRV', data: { priority: 20, weight: 0, port: 5070, target: 'sbc2.carrier.test' } },
    ],
    '_sip._udp.carrier.test': [
      { type: 'SRV', data: { priority: 10, weight: 0, port: 5060, target: 'sbc1.carrier.test' } },
    ],
    'sbc1.carrier.test': [
      { type: 'A', data: '127.0.0.11' },
      { type: 'AAAA', data: '::1' },
    ],
    'sbc2.carrier.test': [{ type: 'A', data: '127.0.0.12' }],
  });
});
afterAll(async () => server?.close());

describe('nodeDns + locate against a DNS server on loopback', () => {
  it('follows NAPTR, SRV and A/AAAA on the wire, in RFC 3263 order', async () => {
    const d = nodeDns({ servers: [`127.0.0.1:${server.port}`] });
    expect(await locate({ secure: false, host: 'carrier.test' }, d)).toEqual([
      { transport: 'tcp', address: '127.0.0.11', port: 5070 },
      { transport: 'tcp', address: '::1', port: 5070 },
      { transport: 'tcp', address: '127.0.0.12', port: 5070 },
      { transport: 'udp', address: '127.0.0.11', port: 5060 },
      { transport: 'udp', address: '::1', port: 5060 },
    ]);
    expect(server.queries).toContain('NAPTR carrier.test');
    expect(server.queries).toContain('SRV _sip._tcp.carrier.test');
    // Asked again: from the cache, nothing new on the wire.
    const before = server.queries.length;
    await locate({ secure: false, host: 'carrier.test' }, d);
    expect(server.queries.length).toBe(before);
    expect(d.counters.cacheHits).toBeGreaterThan(0);
  });

  it('a name DNS does not know: no targets (NXDOMAIN is "none", not a failure), and only the given server was asked', async () => {
    const d = nodeDns({ servers: [`127.0.0.1:${server.port}`] });
    expect(await locate({ secure: false, host: 'missing.test' }, d)).toEqual([]);
    expect(d.counters.failures).toBe(0);
    expect(server.queries).toEqual(
      expect.arrayContaining([
        'NAPTR missing.test',
        'SRV _sip._udp.missing.test',
        'A missing.test',
      ]),
    );
  });

  it('a DNS server that never answers: the wait is bounded and the answer is no targets', async () => {
    const mute = createSocket('udp4');
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
    try {
      const d = nodeDns({
        servers: [`127.0.0.1:${mute.address().port}`],
        timeoutMs: 200,
        tries: 1,
      });
      expect(await locate({ secure: false, host: 'carrier.test', transport: 'tcp' }, d)).toEqual(
        [],
      );
      expect(d.counters.failures).toBeGreaterThan(0);
    } finally {
      mute.close();
    }
  });
});
