import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig, parseListenUrl } from '../../src/config/index.js';
import { zonesOf } from '../../src/sbc/index.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-config-'));
  const file = join(dir, 'tfx.yaml');
  writeFileSync(file, text);
  return file;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TfxError) return err.message;
    throw err;
  }
  throw new Error('expected a TfxError');
}

/** The shape issue #17 asks to accept, as written there. */
const ISSUE_SHAPE = `
sbc:
  zones:
    - name: public                         # phones and browsers outside
      listen: [udp://127.0.0.20:5080, tcp://127.0.0.20:5080]
      media: { address: 127.0.0.20 }
      webrtc: true                          # the platform's WSS /sip belongs to this zone
    - name: core                            # PBX, trunks, inner SIP servers
      listen: [udp://127.0.0.10:5090]
      media: { address: 127.0.0.10 }
      trusted: true
  trunks:
    - { name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070" }
  routes:
    - { match: { zone: public }, to: [carrier-a] }
`;

describe('sbc configuration (docs/sbc.md)', () => {
  it('is off by default: no zones, no trunks, no routes', () => {
    const c = loadConfig({});
    expect(c.sbc).toEqual({
      zones: [],
      trunks: [],
      routes: [],
      emergency: { numbers: [], trunks: [], reserved: 0 },
      quality: { windowCalls: 100, windowMinutes: 60 },
      intercept: { files: false, mediaAddress: '127.0.0.1' },
      cdr: { syncMs: 200, redisKey: 'cdr', redisMaxLen: 1_000_000 },
      // Admission control and QoS (sbc-admission.ts): every limit off.
      admission: expect.objectContaining({ maxCalls: 0, callsPerSecond: 0, zones: [], trunks: [] }),
      qos: { mediaDscp: 'EF', signallingDscp: 'CS3' },
    });
  });

  it("accepts the issue's shape and fills each zone's defaults", () => {
    const c = loadConfig({ file: yamlFile(ISSUE_SHAPE) });
    expect(c.sbc.zones.map((z) => [z.name, z.trusted, z.webrtc, z.limits.maxCalls])).toEqual([
      ['public', false, true, 0],
      ['core', true, false, 0],
    ]);
    expect(zonesOf(c)[0]?.listen).toEqual([
      { transport: 'udp', address: '127.0.0.20', port: 5080 },
      { transport: 'tcp', address: '127.0.0.20', port: 5080 },
    ]);
    expect(c.sbc.routes[0]).toEqual({ match: { zone: 'public' }, to: ['carrier-a'] });
    expect(zonesOf(c)[0]?.security).toEqual({
      floodRequests: 400,
      floodWindowMs: 2000,
      banMs: 600_000,
      maxBytes: 8192,
      authBanAfter: 10,
    });
    // ACLs and fraud limits stay off until configured.
    expect(zonesOf(c)[0]?.acl).toBeUndefined();
    expect(zonesOf(c)[0]?.fraud).toBeUndefined();
  });

  it('reads zone ACLs (IPv4 and IPv6 CIDRs, bare addresses) and fraud limits', () => {
    const c = loadConfig({
      file: yamlFile(
        ISSUE_SHAPE.replace(
          'trusted: true',
          [
            'trusted: true',
            '      acl: { allow: [10.0.0.0/8, "2001:db8::/32", 127.0.0.12], deny: [10.6.6.6] }',
            '      fraud:',
            '        maxConcurrent: 4',
            '        callsPerMinute: 30',
            '        deniedDestinations: ["^\\\\+1900", "^00"]',
            '        maxDurationSeconds: 7200',
          ].join('\n'),
        ),
      ),
    });
    const core = zonesOf(c)[1]!;
    expect(core.acl).toEqual({
      allow: ['10.0.0.0/8', '2001:db8::/32', '127.0.0.12'],
      deny: ['10.6.6.6'],
    });
    expect(core.fraud).toEqual({
      maxConcurrent: 4,
      callsPerMinute: 30,
      deniedDestinations: ['^\\+1900', '^00'],
      maxDurationMs: 7_200_000,
    });
  });

  it('reads IPv6 listen URLs with brackets', () => {
    expect(parseListenUrl('tls://[::1]:5081')).toEqual({
      transport: 'tls',
      address: '::1',
      port: 5081,
    });
  });

  it.each([
    [
      'a trunk in an unknown zone',
      ISSUE_SHAPE.replace('zone: core, uri', 'zone: dmz, uri'),
      'no zone named dmz',
    ],
    [
      'a route to an unknown trunk',
      ISSUE_SHAPE.replace('to: [carrier-a]', 'to: [carrier-b]'),
      'no trunk named carrier-b',
    ],
    [
      'a route from an unknown zone',
      ISSUE_SHAPE.replace('zone: public }, to', 'zone: dmz }, to'),
      'no zone named dmz',
    ],
    [
      'a wildcard media address',
      ISSUE_SHAPE.replace('address: 127.0.0.20 }', 'address: 0.0.0.0 }'),
      'never the wildcard',
    ],
    [
      'a wildcard listener',
      ISSUE_SHAPE.replace('udp://127.0.0.10:5090', 'udp://0.0.0.0:5090'),
      'never the wildcard',
    ],
    [
      'a listener that is not a URL',
      ISSUE_SHAPE.replace('udp://127.0.0.10:5090', '127.0.0.10:5090'),
      'expected udp://',
    ],
    [
      'a port over 65535',
      ISSUE_SHAPE.replace('udp://127.0.0.10:5090', 'udp://127.0.0.10:70000'),
      'port over 65535',
    ],
    ['a zone named twice', ISSUE_SHAPE.replace('name: core ', 'name: public '), 'named twice'],
    [
      'a trunk with a DNS name',
      ISSUE_SHAPE.replace('sip:127.0.0.11:5070', 'sip:carrier.example'),
      'no DNS',
    ],
    [
      'a bad user pattern',
      ISSUE_SHAPE.replace('{ zone: public }', '{ zone: public, user: "(" }'),
      'invalid regular expression',
    ],
    [
      'a bad normalization pattern',
      ISSUE_SHAPE.replace(
        'trusted: true',
        'trusted: true\n      normalize: [{ user: ruri, match: "(", replace: "+" }]',
      ),
      'invalid regular expression',
    ],
    [
      'an ACL entry past /32',
      ISSUE_SHAPE.replace('trusted: true', 'trusted: true\n      acl: { deny: [10.0.0.0/33] }'),
      'expected an IPv4 or IPv6 address or CIDR',
    ],
    [
      'an ACL entry that is a host name',
      ISSUE_SHAPE.replace('trusted: true', 'trusted: true\n      acl: { allow: [pbx.example] }'),
      'acl.allow[0]',
    ],
    [
      'a bad denied-destination pattern',
      ISSUE_SHAPE.replace(
        'trusted: true',
        'trusted: true\n      fraud: { deniedDestinations: ["[0-"] }',
      ),
      'invalid regular expression',
    ],
    [
      'a negative fraud limit',
      ISSUE_SHAPE.replace('trusted: true', 'trusted: true\n      fraud: { maxConcurrent: -1 }'),
      'maxConcurrent',
    ],
    [
      'an unknown fraud key',
      ISSUE_SHAPE.replace('trusted: true', 'trusted: true\n      fraud: { maxCost: 3 }'),
      'maxCost',
    ],
    [
      'an unknown key in a zone',
      ISSUE_SHAPE.replace('trusted: true', 'trusted: true\n      colour: red'),
      'colour',
    ],
  ])('refuses %s, naming it', (_what, yaml, expected) => {
    const msg = messageOf(() => loadConfig({ file: yamlFile(yaml) }));
    expect(msg).toContain('sbc.');
    expect(msg).toContain(expected);
  });
  it('takes a REFER policy (default refuse) and RFC 4028 session timers per zone (default on: 1800 s, Min-SE 90, UPDATE)', () => {
    const c = loadConfig({ file: yamlFile(ISSUE_SHAPE) });
    expect(zonesOf(c).map((z) => [z.refer, z.sessionTimer])).toEqual([
      ['refuse', { enabled: true, expires: 1800, minSE: 90, refresh: 'UPDATE' }],
      ['refuse', { enabled: true, expires: 1800, minSE: 90, refresh: 'UPDATE' }],
    ]);
    const custom = ISSUE_SHAPE.replace(
      '      trusted: true',
      '      trusted: true\n      refer: execute\n      sessionTimer: { expires: 600, refresh: INVITE }',
    );
    expect(zonesOf(loadConfig({ file: yamlFile(custom) }))[1]).toMatchObject({
      refer: 'execute',
      sessionTimer: { enabled: true, expires: 600, minSE: 90, refresh: 'INVITE' },
    });
  });

  it('refuses a Min-SE under RFC 4028’s 90 s, an interval under its own Min-SE and an unknown REFER policy, naming the key', () => {
    const bad = (extra: string): string =>
      messageOf(() =>
        loadConfig({
          file: yamlFile(
            ISSUE_SHAPE.replace('      trusted: true', `      trusted: true\n${extra}`),
          ),
        }),
      );
    expect(bad('      sessionTimer: { minSE: 30 }')).toMatch(
      /sbc\.zones\[1\]\.sessionTimer\.minSE/,
    );
    expect(bad('      sessionTimer: { expires: 100, minSE: 120 }')).toMatch(
      /sessionTimer\.expires/,
    );
    expect(bad('      refer: pass')).toMatch(/sbc\.zones\[1\]\.refer/);
  });
});

describe('sbc inner registrar (zones[].registrar, docs/sbc.md)', () => {
  const withRegistrar = (registrar: string, extra = ''): string =>
    ISSUE_SHAPE.replace(
      '      webrtc: true                          # the platform',
      `      registrar: "${registrar}"\n${extra}      webrtc: true                          # the platform`,
    );

  it('accepts a trunk name or a SIP URI, with the registration defaults', () => {
    const c = loadConfig({ file: yamlFile(withRegistrar('carrier-a')) });
    expect(zonesOf(c)[0]?.registrar).toEqual({
      target: 'carrier-a',
      expires: 600,
      minExpires: 60,
      keepAlive: { method: 'options', intervalMs: 30_000 },
      timeoutMs: 10_000,
    });
    expect(zonesOf(c)[1]?.registrar).toBeUndefined();
    const uri = loadConfig({
      file: yamlFile(
        withRegistrar(
          'sip:127.0.0.12:5060',
          '      registration: { expires: 120, keepAlive: { method: crlf, intervalSeconds: 15 } }\n',
        ),
      ),
    });
    expect(zonesOf(uri)[0]?.registrar).toMatchObject({
      target: 'sip:127.0.0.12:5060',
      expires: 120,
      keepAlive: { method: 'crlf', intervalMs: 15_000 },
    });
  });

  it('refuses an unknown trunk, a URI with a name, and a registrar reached through its own zone', () => {
    expect(messageOf(() => loadConfig({ file: yamlFile(withRegistrar('nope')) }))).toMatch(
      /sbc\.zones\[0\]\.registrar.*no trunk named nope/,
    );
    expect(
      messageOf(() => loadConfig({ file: yamlFile(withRegistrar('sip:pbx.example.com')) })),
    ).toMatch(/sbc\.zones\[0\]\.registrar.*IP address/);
    const own = withRegistrar('carrier-a').replace('zone: core, uri', 'zone: public, uri');
    expect(messageOf(() => loadConfig({ file: yamlFile(own) }))).toMatch(
      /registrar.*through another zone/,
    );
    expect(
      messageOf(() =>
        loadConfig({
          file: yamlFile(
            withRegistrar('carrier-a', '      registration: { keepAlive: { method: stun } }\n'),
          ),
        }),
      ),
    ).toMatch(/registration\.keepAlive\.method/);
  });
});
