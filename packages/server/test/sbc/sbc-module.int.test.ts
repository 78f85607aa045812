/**
 * The SBC module in a real platform (in-process, port 0 for HTTPS): with `sbc.zones` configured it
 * starts the B2BUA on the zones' own addresses with the media module's engine, carries a call from
 * a PBX in the trusted core zone to a far end in the public zone; the untrusted public zone asks
 * for digest (407) by default, and lists it at GET /api/v1/sbc/calls
 * (in the OpenAPI document). Without zones it starts nothing and the route answers 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgentCore, type DialogSession } from '@tfx/sip';
import { sbcCallListSchema } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';

const SDP = (a: string, port: number): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

async function until<T>(fn: () => T | undefined, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 20_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sbc module (sbc.zones set)', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform;
  let trunk: UserAgentCore;
  let phone: UserAgentCore;
  let pbx: UserAgentCore;
  let trunkSession: DialogSession | undefined;
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) => {
        trunkSession = inv.accept({
          body: SDP('127.0.0.11', 30_000),
          contentType: 'application/sdp',
        });
      },
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: '127.0.0.11', port: 0 }]);
    phone = new UserAgentCore({ user: 'alice' });
    await phone.start([{ transport: 'udp', address: '127.0.0.21', port: 0 }]);
    pbx = new UserAgentCore({ user: 'pbx' });
    await pbx.start([{ transport: 'udp', address: '127.0.0.12', port: 0 }]);
    t = await startTestPlatform({
      modules: [media, sbc],
      flags: {
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 99),
        'media.workers': '1',
        'sbc.zones': JSON.stringify([
          { name: 'public', listen: ['udp://127.0.0.20:0'], media: { address: '127.0.0.20' } },
          {
            name: 'core',
            listen: ['udp://127.0.0.10:0'],
            media: { address: '127.0.0.10' },
            trusted: true,
          },
        ]),
        'sbc.trunks': JSON.stringify([
          {
            name: 'carrier-a',
            zone: 'public',
            uri: `sip:127.0.0.11:${tl!.port}`,
            probe: { intervalSeconds: 30 },
          },
        ]),
        'sbc.routes': JSON.stringify([{ match: { zone: 'core' }, to: ['carrier-a'] }]),
        'sip.domain': 'tfx.test',
        'sip.users': JSON.stringify([{ username: 'alice', password: 'alice-secret-1' }]),
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    await phone?.close();
    await pbx?.close();
    await trunk?.close();
  });

  it('listens on each zone’s own address and reports the listeners', () => {
    const names = t.platform.listeners.filter((l) => l.name.startsWith('sbc-'));
    expect(names.map((l) => [l.name, l.address])).toEqual([
      ['sbc-public-udp', '127.0.0.20'],
      ['sbc-core-udp', '127.0.0.10'],
    ]);
  });

  it('asks for digest in the untrusted public zone by default: 407 in the realm sip.domain', async () => {
    const pub = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!;
    const status = await new Promise<{ status: number; challenge: string | undefined }>((res) =>
      phone.call(
        {
          uri: `sip:4420001@127.0.0.20:${pub.port}`,
          body: SDP('127.0.0.21', 31_000),
          contentType: 'application/sdp',
        },
        {
          onFailed: (r) =>
            res({ status: r?.status ?? 0, challenge: r?.headers.get('proxy-authenticate') }),
        },
      ),
    );
    expect(status.status).toBe(407);
    expect(status.challenge).toMatch(/^Digest realm="tfx\.test"/);
    const metrics = await t.req('GET', '/metrics');
    expect(metrics.text).toMatch(
      /tfx_sbc_security_total\{zone="public",stage="auth",outcome="challenged"\} 1/,
    );
    expect(metrics.text).toMatch(/^# TYPE tfx_sbc_transfers_total counter$/m);
    expect(metrics.text).toMatch(/^# TYPE tfx_sbc_dtmf_total counter$/m);
    expect(metrics.text).toMatch(/^# TYPE tfx_sbc_tones_total counter$/m);
  });

  it('carries a call from the trusted core zone and lists it with both legs at GET /api/v1/sbc/calls', async () => {
    const core = t.platform.listeners.find((l) => l.name === 'sbc-core-udp')!;
    let a: DialogSession | undefined;
    const inv = pbx.call(
      {
        uri: `sip:4420001@127.0.0.10:${core.port}`,
        body: SDP('127.0.0.12', 31_000),
        contentType: 'application/sdp',
      },
      { onAccepted: (s) => (a = s) },
    );
    await until(() => a, 'the call answered');
    const res = await t.req('GET', '/api/v1/sbc/calls');
    expect(res.status).toBe(200);
    const list = sbcCallListSchema.parse(res.json);
    expect(list.calls).toHaveLength(1);
    const c = list.calls[0]!;
    expect(c).toMatchObject({
      state: 'confirmed',
      a: { zone: 'core', callId: inv.request.headers.callId() },
      b: { zone: 'public', trunk: 'carrier-a', callId: trunkSession?.dialog.id.callId },
      emergency: false,
    });
    expect(c.b.callId).not.toBe(c.a.callId);
    const sessions = await t.req('GET', '/api/v1/media/sessions');
    expect(
      (sessions.json as { sessions: Array<{ callId: string }> }).sessions.map((s) => s.callId),
    ).toEqual([c.id]);
    a!.bye();
    await until(() => (sbc.sbc?.callCount === 0 ? true : undefined), 'the call gone after the BYE');
    expect(((await t.req('GET', '/api/v1/sbc/calls')).json as { calls: unknown[] }).calls).toEqual(
      [],
    );
  });

  it('lists the trunks with their OPTIONS-probe state at GET /api/v1/sbc/trunks and in tfx_sbc_trunk_up', async () => {
    const list = async () =>
      (await t.req('GET', '/api/v1/sbc/trunks')).json as {
        trunks: { name: string; state: string; probing: boolean; lastStatus?: number }[];
      };
    // Probed (every 30 s as configured, the first at start); the trunk's UA answers the OPTIONS.
    for (let i = 0; ((await list()).trunks[0]?.lastStatus ?? 0) < 200; i++) {
      if (i > 200) throw new Error('timed out: a probe answered');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await list()).trunks).toMatchObject([
      { name: 'carrier-a', state: 'up', probing: true },
    ]);
    // The live quality (docs/sbc.md, "Routing on cost and quality"): per trunk.
    const trunk = (await list()).trunks[0] as unknown as { quality: Record<string, unknown> };
    expect(Object.keys(trunk.quality).sort()).toEqual([
      'acdSeconds',
      'asr',
      'calls',
      'mos',
      'pddMs',
    ]);
    expect(typeof trunk.quality.calls).toBe('number');
    // Nothing measured is null on the wire (never 0: a MOS of 0 would read as a dead trunk).
    for (const k of ['asr', 'pddMs', 'acdSeconds', 'mos'])
      expect(trunk.quality[k] === null || typeof trunk.quality[k] === 'number', k).toBe(true);
    expect((await t.req('GET', '/api/v1/sbc/trunks', { token: '' })).status).toBe(401);
    const metrics = await t.req('GET', '/metrics');
    expect(metrics.text).toMatch(/^tfx_sbc_trunk_up\{trunk="carrier-a"\} 1$/m);
    const doc = (await t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(doc.paths['/api/v1/sbc/trunks']?.get?.operationId).toBe('listSbcTrunks');
  });

  it('documents the route in the OpenAPI document', async () => {
    const doc = (await t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(doc.paths['/api/v1/sbc/calls']?.get?.operationId).toBe('listSbcCalls');
  });
});

describe('sbc module without sbc.zones', () => {
  it('starts nothing, and GET /api/v1/sbc/calls answers 503 unavailable', async () => {
    const media = createMediaModule();
    const sbc = createSbcModule({ engine: () => media.engine });
    const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
    const t = await startTestPlatform({
      modules: [media, sbc],
      flags: {
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 9),
        'media.workers': '1',
      },
    });
    try {
      expect(sbc.sbc).toBeUndefined();
      expect(t.platform.listeners.filter((l) => l.name.startsWith('sbc-'))).toEqual([]);
      const res = await t.req('GET', '/api/v1/sbc/calls');
      expect(res.status).toBe(503);
      expect((res.json as { error: { code: string } }).error.code).toBe('unavailable');
      expect((await t.req('GET', '/api/v1/sbc/calls', { token: '' })).status).toBe(401);
    } finally {
      await t.close();
    }
  });
});
