/**
 * RFC 3263 §4 and RFC 2782 on a DNS given as tables: every branch of the procedure (numeric host,
 * explicit port, transport parameter, NAPTR, SRV without NAPTR, A/AAAA fallback, SIPS), the SRV
 * ordering, and hostile records (unknown services, "." targets, loops of names, too many records).
 */
import { describe, expect, it } from 'vitest';
import {
  locate,
  orderSrv,
  type DnsLookup,
  type NaptrRecord,
  type SrvRecord,
} from '../../src/locate/index.js';

interface Zone {
  naptr?: Record<string, NaptrRecord[]>;
  srv?: Record<string, SrvRecord[]>;
  a?: Record<string, string[]>;
}

function dns(zone: Zone): DnsLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    naptr: async (n) => (asked.push(`NAPTR ${n}`), zone.naptr?.[n] ?? []),
    srv: async (n) => (asked.push(`SRV ${n}`), zone.srv?.[n] ?? []),
    addresses: async (n) => (asked.push(`A ${n}`), zone.a?.[n] ?? []),
  };
}

const naptr = (order: number, pref: number, service: string, replacement: string): NaptrRecord => ({
  order,
  preference: pref,
  flags: 's',
  service,
  replacement,
});
const srv = (priority: number, weight: number, port: number, name: string): SrvRecord => ({
  priority,
  weight,
  port,
  name,
});
const first = () => 0;

describe('locate (RFC 3263 §4)', () => {
  it('a numeric host: that address, the default port, no DNS at all', async () => {
    const d = dns({});
    expect(await locate({ secure: false, host: '192.0.2.1' }, d)).toEqual([
      { transport: 'udp', address: '192.0.2.1', port: 5060 },
    ]);
    expect(await locate({ secure: true, host: '2001:db8::1', port: 5071 }, d)).toEqual([
      { transport: 'tls', address: '2001:db8::1', port: 5071 },
    ]);
    expect(await locate({ secure: false, host: '192.0.2.1', transport: 'tcp' }, d)).toEqual([
      { transport: 'tcp', address: '192.0.2.1', port: 5060 },
    ]);
    expect(d.asked).toEqual([]);
  });

  it('an explicit port: A/AAAA only, UDP unless the URI says otherwise', async () => {
    const d = dns({ a: { 'pbx.test': ['192.0.2.5', '2001:db8::5'] } });
    expect(await locate({ secure: false, host: 'PBX.test', port: 5080 }, d)).toEqual([
      { transport: 'udp', address: '192.0.2.5', port: 5080 },
      { transport: 'udp', address: '2001:db8::5', port: 5080 },
    ]);
    expect(d.asked).toEqual(['A pbx.test']);
  });

  it('a transport parameter: the SRV name of that transport, else A at its default port', async () => {
    const d = dns({
      srv: { '_sip._tcp.pbx.test': [srv(10, 0, 5090, 'edge.pbx.test')] },
      a: { 'edge.pbx.test': ['192.0.2.9'], 'pbx.test': ['192.0.2.8'] },
    });
    expect(await locate({ secure: false, host: 'pbx.test', transport: 'tcp' }, d)).toEqual([
      { transport: 'tcp', address: '192.0.2.9', port: 5090 },
    ]);
    expect(await locate({ secure: false, host: 'pbx.test', transport: 'TLS' }, d)).toEqual([
      { transport: 'tls', address: '192.0.2.8', port: 5061 },
    ]);
    expect(d.asked).not.toContain('NAPTR pbx.test');
    // A transport we do not send on, or one that does not exist: nowhere to go.
    expect(await locate({ secure: false, host: 'pbx.test', transport: 'sctp' }, d)).toEqual([]);
    expect(await locate({ secure: false, host: 'pbx.test', transport: 'ws' }, d)).toEqual([]);
  });

  it('NAPTR by order then preference, each to its SRV and addresses; unusable services skipped', async () => {
    const d = dns({
      naptr: {
        'example.test': [
          naptr(20, 10, 'SIP+D2U', '_sip._udp.example.test.'),
          naptr(10, 20, 'SIP+D2T', '_sip._tcp.example.test'),
          naptr(10, 10, 'SIPS+D2T', '_sips._tcp.example.test'),
          naptr(5, 10, 'SIP+D2X', '_sip._sctp.example.test'),
          { ...naptr(1, 1, 'SIP+D2U', 'odd.example.test'), flags: 'a' },
        ],
      },
      srv: {
        '_sips._tcp.example.test': [srv(10, 0, 5061, 'tls.example.test')],
        '_sip._tcp.example.test': [srv(10, 0, 5060, 'tcp.example.test')],
        '_sip._udp.example.test': [srv(10, 0, 5060, 'udp.example.test.')],
      },
      a: {
        'tls.example.test': ['192.0.2.11'],
        'tcp.example.test': ['192.0.2.12'],
        'udp.example.test': ['192.0.2.13'],
      },
    });
    expect(await locate({ secure: false, host: 'example.test' }, d)).toEqual([
      { transport: 'tls', address: '192.0.2.11', port: 5061 },
      { transport: 'tcp', address: '192.0.2.12', port: 5060 },
      { transport: 'udp', address: '192.0.2.13', port: 5060 },
    ]);
    expect(d.asked).not.toContain('SRV _sip._sctp.example.test');
    // Without TLS among our transports, the SIPS record is left out.
    expect(
      (
        await locate({ secure: false, host: 'example.test' }, d, { transports: ['udp', 'tcp'] })
      ).map((t) => t.transport),
    ).toEqual(['tcp', 'udp']);
    // A SIPS URI takes only the SIPS+ records.
    expect(await locate({ secure: true, host: 'example.test' }, d)).toEqual([
      { transport: 'tls', address: '192.0.2.11', port: 5061 },
    ]);
  });

  it('no NAPTR: SRV of each transport we use; no SRV either: A/AAAA at the default port', async () => {
    const d = dns({
      srv: {
        '_sip._udp.trunk.test': [srv(10, 0, 5062, 'a.trunk.test')],
        '_sip._tcp.trunk.test': [srv(10, 0, 5063, 'a.trunk.test')],
      },
      a: { 'a.trunk.test': ['192.0.2.21'], 'plain.test': ['192.0.2.22'] },
    });
    expect(await locate({ secure: false, host: 'trunk.test' }, d)).toEqual([
      { transport: 'udp', address: '192.0.2.21', port: 5062 },
      { transport: 'tcp', address: '192.0.2.21', port: 5063 },
    ]);
    expect(await locate({ secure: false, host: 'plain.test' }, d)).toEqual([
      { transport: 'udp', address: '192.0.2.22', port: 5060 },
    ]);
    expect(await locate({ secure: true, host: 'plain.test' }, d)).toEqual([
      { transport: 'tls', address: '192.0.2.22', port: 5061 },
    ]);
    expect(await locate({ secure: false, host: 'nowhere.test' }, d)).toEqual([]);
  });

  it('hostile zones: a "." target, names that repeat, and floods of records stay bounded', async () => {
    const many = Array.from({ length: 200 }, (_, i) => srv(1, 1, 5060, `h${i}.flood.test`));
    const a: Record<string, string[]> = {};
    for (let i = 0; i < 200; i++)
      a[`h${i}.flood.test`] = [`10.0.${i >> 8}.${i & 255}`, '192.0.2.1'];
    const d = dns({
      srv: {
        '_sip._udp.none.test': [srv(0, 0, 0, '.')],
        '_sip._udp.flood.test': many,
        '_sip._udp.twice.test': [srv(1, 0, 5060, 'x.twice.test'), srv(2, 0, 5060, 'x.twice.test')],
      },
      a: { ...a, 'none.test': ['192.0.2.30'], 'x.twice.test': ['192.0.2.31'] },
    });
    // "." means "decidedly not available": no A fallback to the host itself.
    expect(await locate({ secure: false, host: 'none.test' }, d)).toEqual([]);
    const flood = await locate({ secure: false, host: 'flood.test' }, d, { maxTargets: 16 });
    expect(flood).toHaveLength(16);
    expect(d.asked.filter((q) => q.startsWith('A h')).length).toBeLessThanOrEqual(16);
    expect(await locate({ secure: false, host: 'twice.test' }, d)).toEqual([
      { transport: 'udp', address: '192.0.2.31', port: 5060 },
    ]);
  });
});

describe('orderSrv (RFC 2782)', () => {
  it('lower priority first; "." alone means none', () => {
    const r = orderSrv(
      [srv(20, 0, 1, 'c'), srv(10, 0, 1, 'a'), srv(10, 0, 1, 'b'), srv(30, 5, 1, 'd')],
      first,
    );
    expect(r.map((x) => x.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(orderSrv([srv(0, 0, 0, '.')], first)).toEqual([]);
  });

  it('within a priority, weights decide how often a record comes first (seeded draws)', () => {
    const records = [srv(10, 1, 1, 'light'), srv(10, 3, 1, 'heavy'), srv(10, 0, 1, 'zero')];
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const firsts: Record<string, number> = { light: 0, heavy: 0, zero: 0 };
    for (let i = 0; i < 4000; i++) {
      const order = orderSrv(records, random);
      expect(order).toHaveLength(3);
      firsts[order[0]!.name]!++;
    }
    // Weight 3 of a total 4 (+1 for the zero-weight record's slot): about 3/5, 1/5, 1/5.
    expect(firsts.heavy! / 4000).toBeGreaterThan(0.5);
    expect(firsts.heavy! / 4000).toBeLessThan(0.7);
    expect(firsts.light! / 4000).toBeGreaterThan(0.12);
    expect(firsts.zero! / 4000).toBeGreaterThan(0.12);
    expect(firsts.zero! / 4000).toBeLessThan(0.28);
  });
});
