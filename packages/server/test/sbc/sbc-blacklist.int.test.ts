/**
 * The SBC blacklist over REST in a real platform (issue #17 items 4 and 7): an address added with
 * POST /api/v1/sbc/blacklist is dropped silently (a real sipp caller there hears nothing) while a
 * sipp caller at another address completes its call; DELETE lifts it and the first one's call
 * completes too. Every drop is counted (`tfx_sbc_security_total{stage="blacklist"}`). Hostile
 * input on the endpoints (bad CIDRs, bad expiries, unknown zones and keys, no token) gets a clear
 * 4xx and changes nothing. Both zones are trusted here (no digest): the blacklist applies to every
 * zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgentCore } from '@tfx/sip';
import { sbcBlacklistEntrySchema, sbcBlacklistSchema } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';
import { freePort, sipp } from '../../../sbc/test/harness.js';

const PUBLIC = '127.0.0.20';
const BAD = '127.0.0.24';
const GOOD = '127.0.0.25';

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

describe('the SBC blacklist over REST', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform;
  let trunk: UserAgentCore;
  let port: number;
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) => inv.accept({ body: SDP('127.0.0.11'), contentType: 'application/sdp' }),
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: '127.0.0.11', port: 0 }]);
    t = await startTestPlatform({
      modules: [media, sbc],
      flags: {
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 99),
        'media.workers': '1',
        'sbc.zones': JSON.stringify([
          {
            name: 'public',
            listen: [`udp://${PUBLIC}:0`],
            media: { address: PUBLIC },
            trusted: true,
          },
          {
            name: 'core',
            listen: ['udp://127.0.0.10:0'],
            media: { address: '127.0.0.10' },
            trusted: true,
          },
        ]),
        'sbc.trunks': JSON.stringify([
          { name: 'carrier-a', zone: 'core', uri: `sip:127.0.0.11:${tl!.port}` },
        ]),
        'sbc.routes': JSON.stringify([{ match: { zone: 'public' }, to: ['carrier-a'] }]),
      },
    });
    port = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!.port;
  });

  afterAll(async () => {
    await t?.close();
    await trunk?.close();
  });

  /** One sipp call (built-in uac) from `address`; resolves with its exit code and what it heard. */
  async function call(address: string, timeoutMs = 20_000) {
    return sipp(
      [
        `${PUBLIC}:${port}`,
        '-sn',
        'uac',
        '-i',
        address,
        '-p',
        String(await freePort(address)),
        '-s',
        '4420001',
        '-d',
        '200',
        '-m',
        '1',
      ],
      timeoutMs,
    ).done;
  }

  const dropped = async (): Promise<number> => {
    const m = (await t.req('GET', '/metrics')).text;
    const r =
      /tfx_sbc_security_total\{zone="public",stage="blacklist",outcome="dropped"\} (\d+)/.exec(m);
    return Number(r?.[1] ?? 0);
  };

  it('drops a source added by REST while another address calls through; lifting lets it back', async () => {
    const add = await t.req('POST', '/api/v1/sbc/blacklist', {
      body: { address: BAD, reason: 'toll fraud seen', expiresInSeconds: 3600 },
    });
    expect(add.status, add.text).toBe(201);
    const entry = sbcBlacklistEntrySchema.parse(add.json);
    expect(entry).toMatchObject({ cidr: `${BAD}/32`, origin: 'manual', reason: 'toll fraud seen' });
    expect(Date.parse(entry.until!) - Date.parse(entry.since)).toBe(3_600_000);
    const list = sbcBlacklistSchema.parse((await t.req('GET', '/api/v1/sbc/blacklist')).json);
    expect(list.items.map((e) => e.cidr)).toEqual([`${BAD}/32`]);

    const [bad, good] = await Promise.all([call(BAD, 6000), call(GOOD)]);
    expect(good.code, good.output).toBe(0);
    expect(bad.code).not.toBe(0);
    expect(bad.received, 'the blacklisted caller hears nothing').toEqual([]);
    expect(await dropped()).toBeGreaterThan(0);
    expect((await t.req('GET', '/metrics')).text).toMatch(
      /tfx_sbc_blacklist_entries\{origin="manual"\} 1/,
    );

    const lift = await t.req('DELETE', `/api/v1/sbc/blacklist/${encodeURIComponent(BAD)}`);
    expect(lift.status, lift.text).toBe(204);
    expect((await t.req('DELETE', `/api/v1/sbc/blacklist/${BAD}`)).status).toBe(404);
    const again = await call(BAD);
    expect(again.code, again.output).toBe(0);
  }, 120_000);

  it('takes CIDR prefixes (IPv4 and IPv6, URL-encoded to lift) and zone-scoped entries', async () => {
    for (const address of ['10.0.0.0/8', '2001:db8::/32']) {
      const r = await t.req('POST', '/api/v1/sbc/blacklist', { body: { address, zone: 'core' } });
      expect(r.status, r.text).toBe(201);
      expect(r.json).toMatchObject({ cidr: address, zone: 'core', origin: 'manual' });
      expect((r.json as { until?: string }).until).toBeUndefined();
    }
    const list = sbcBlacklistSchema.parse((await t.req('GET', '/api/v1/sbc/blacklist')).json);
    expect(list.items.map((e) => e.cidr).sort()).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    for (const address of ['10.0.0.0/8', '2001:db8::/32']) {
      const r = await t.req('DELETE', `/api/v1/sbc/blacklist/${encodeURIComponent(address)}`);
      expect(r.status, r.text).toBe(204);
    }
    expect(
      sbcBlacklistSchema.parse((await t.req('GET', '/api/v1/sbc/blacklist')).json).items,
    ).toEqual([]);
  });

  it.each([
    ['a CIDR past /32', { address: '10.0.0.0/33' }],
    ['a host name', { address: 'evil.example.com' }],
    ['an empty address', { address: '' }],
    ['no address', { reason: 'x' }],
    ['a zero expiry', { address: '192.0.2.1', expiresInSeconds: 0 }],
    ['a negative expiry', { address: '192.0.2.1', expiresInSeconds: -5 }],
    ['a fractional expiry', { address: '192.0.2.1', expiresInSeconds: 1.5 }],
    ['an expiry past a year', { address: '192.0.2.1', expiresInSeconds: 400 * 86_400 }],
    ['an expiry as text', { address: '192.0.2.1', expiresInSeconds: '3600' }],
    ['an unknown zone', { address: '192.0.2.1', zone: 'nowhere' }],
    ['a bad zone name', { address: '192.0.2.1', zone: '../../etc' }],
    ['an unknown key', { address: '192.0.2.1', until: 'forever' }],
    ['a reason of 10 kB', { address: '192.0.2.1', reason: 'x'.repeat(10_000) }],
    ['an array', [{ address: '192.0.2.1' }]],
  ])('refuses %s with 400 and adds nothing', async (_what, body) => {
    const r = await t.req('POST', '/api/v1/sbc/blacklist', { body });
    expect(r.status, r.text).toBe(400);
    expect((r.json as { error: { code: string } }).error.code).toBe('bad-request');
    expect(
      sbcBlacklistSchema.parse((await t.req('GET', '/api/v1/sbc/blacklist')).json).items,
    ).toEqual([]);
  });

  it('refuses a malformed address to lift (400) and lifts nothing that is not there (404)', async () => {
    expect((await t.req('DELETE', '/api/v1/sbc/blacklist/not-an-address')).status).toBe(400);
    expect((await t.req('DELETE', `/api/v1/sbc/blacklist/${'9'.repeat(100)}`)).status).toBe(400);
    const r = await t.req('DELETE', '/api/v1/sbc/blacklist/192.0.2.99');
    expect(r.status).toBe(404);
    expect((r.json as { error: { code: string } }).error.code).toBe('not-found');
  });

  it('needs the admin token, and is in the OpenAPI document', async () => {
    expect((await t.req('GET', '/api/v1/sbc/blacklist', { token: '' })).status).toBe(401);
    expect(
      (await t.req('POST', '/api/v1/sbc/blacklist', { token: '', body: { address: '192.0.2.1' } }))
        .status,
    ).toBe(401);
    expect(
      (await t.req('DELETE', '/api/v1/sbc/blacklist/192.0.2.1', { token: 'wrong' })).status,
    ).toBe(401);
    const doc = (await t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(doc.paths['/api/v1/sbc/blacklist']?.get?.operationId).toBe('listSbcBlacklist');
    expect(doc.paths['/api/v1/sbc/blacklist']?.post?.operationId).toBe('addSbcBlacklist');
    expect(doc.paths['/api/v1/sbc/blacklist/{address}']?.delete?.operationId).toBe(
      'liftSbcBlacklist',
    );
  });
});
