/**
 * Admission control in a real platform (issue #18 item 3) with sipp phones on 127.0.42.21 calling
 * through the public zone (127.0.42.20) to a trunk of ours behind the core zone (127.0.42.11):
 *
 * - `sbc.admission.zones.public.maxCalls: 1`: the second call gets 503 with Retry-After, counted in
 *   `tfx_sbc_admission_rejected_total{scope="zone",limit="calls"}`, and `GET /api/v1/sbc/admission`
 *   lists the zone's live call and limit; when the call ends the counts return to zero;
 * - `minFreeMediaPorts`: with the built-in engine on 20 ports, a call that would leave fewer free
 *   than the limit is refused 503 (`scope="media",limit="ports"`), read from the engine's ports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { UserAgentCore, type DialogSession } from '@tfx/sip';
import { sbcAdmissionSchema, sbcCallListSchema, type SbcAdmission } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, until, type TestPlatform } from '../api/harness.js';
import { SCENARIOS, freePort, header, sipp } from '../../../sbc/test/harness.js';

const PUBLIC = '127.0.42.20';
const CORE = '127.0.42.10';
const PHONE = '127.0.42.21';
const TRUNK = '127.0.42.11';

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`;

/** A platform whose SBC bridges public → core → our trunk, with `admission` flags. */
async function rig(admission: Record<string, string>): Promise<{
  t: TestPlatform;
  trunk: UserAgentCore;
  sessions: DialogSession[];
  port: number;
  close: () => Promise<void>;
}> {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  const sessions: DialogSession[] = [];
  const trunk = new UserAgentCore({
    user: 'trunk',
    onInvite: (inv) =>
      sessions.push(inv.accept({ body: SDP(TRUNK), contentType: 'application/sdp' })),
  });
  const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
  const t = await startTestPlatform({
    modules: [media, sbc],
    flags: {
      'media.portMin': String(portMin),
      'media.portMax': String(portMin + 19),
      'media.workers': '1',
      'sbc.zones': JSON.stringify([
        {
          name: 'public',
          listen: [`udp://${PUBLIC}:0`],
          media: { address: PUBLIC },
          trusted: true,
        },
        { name: 'core', listen: [`udp://${CORE}:0`], media: { address: CORE }, trusted: true },
      ]),
      'sbc.trunks': JSON.stringify([
        { name: 'carrier-a', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` },
      ]),
      'sbc.routes': JSON.stringify([{ match: { zone: 'public' }, to: ['carrier-a'] }]),
      ...admission,
    },
  });
  const port = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!.port;
  return {
    t,
    trunk,
    sessions,
    port,
    close: async () => {
      await t.close();
      await trunk.close();
    },
  };
}

async function phone(port: number, scenario: string) {
  return sipp(
    [
      `${PUBLIC}:${port}`,
      '-sf',
      join(SCENARIOS, scenario),
      '-i',
      PHONE,
      '-p',
      String(await freePort(PHONE)),
      '-mi',
      PHONE,
      '-mp',
      String(await freePort(PHONE, true)),
      '-s',
      '4420001',
      '-m',
      '1',
    ],
    60_000,
  );
}

const finalOf = (received: string[]): string =>
  received.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m)) ?? '';

async function metric(t: TestPlatform, name: string, labels = ''): Promise<number> {
  const text = (await t.req('GET', '/metrics')).text;
  const esc = labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = labels ? `^${name}\\{${esc}\\} (\\d+)$` : `^${name} (\\d+)$`;
  return Number(new RegExp(re, 'm').exec(text)?.[1] ?? 0);
}

async function admission(t: TestPlatform): Promise<SbcAdmission> {
  return sbcAdmissionSchema.parse((await t.req('GET', '/api/v1/sbc/admission')).json);
}

async function confirmed(t: TestPlatform, n: number): Promise<void> {
  await until(
    `${n} call(s) confirmed`,
    async () =>
      sbcCallListSchema
        .parse((await t.req('GET', '/api/v1/sbc/calls')).json)
        .calls.filter((c) => c.state === 'confirmed').length === n,
    30_000,
  );
}

describe('admission control in the platform: a zone’s calls (REST, metrics)', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeAll(async () => {
    r = await rig({ 'sbc.admission.zones': JSON.stringify([{ name: 'public', maxCalls: 1 }]) });
  });
  afterAll(async () => {
    await r?.close();
  });

  it('the second call gets 503 with Retry-After; counted at /metrics, listed at /api/v1/sbc/admission; zero after the end', async () => {
    const held = await phone(r.port, 'uac-wait-bye.xml');
    await confirmed(r.t, 1);
    const a = await admission(r.t);
    expect(a.calls).toBe(1);
    expect(a.scopes).toContainEqual({
      scope: 'zone',
      name: 'public',
      calls: 1,
      kbps: 80,
      maxCalls: 1,
      callsPerSecond: 0,
      bandwidthKbps: 0,
    });
    expect(a.scopes).toContainEqual(expect.objectContaining({ scope: 'account', name: 'phone' }));

    const refused = await (await phone(r.port, 'uac-admission-refused.xml')).done;
    expect(refused.code, `${refused.output}\n${refused.trace}`).toBe(0);
    const final = finalOf(refused.received);
    expect(final).toMatch(/^SIP\/2\.0 503 /);
    expect(header(final, 'Retry-After')).toBe('5');
    expect(
      await metric(r.t, 'tfx_sbc_admission_rejected_total', 'scope="zone",limit="calls"'),
    ).toBe(1);
    expect((await admission(r.t)).rejected).toEqual([{ scope: 'zone', limit: 'calls', count: 1 }]);
    expect(await metric(r.t, 'tfx_sbc_admission_calls')).toBe(1);

    // The trunk hangs up: the phone gets the BYE, admission counts nothing.
    r.sessions[0]!.bye();
    expect((await held.done).code).toBe(0);
    await until('the call released', async () => (await admission(r.t)).calls === 0, 10_000);
    expect((await admission(r.t)).scopes).toEqual([]);
    expect(await metric(r.t, 'tfx_sbc_admission_calls')).toBe(0);
    expect(r.sessions).toHaveLength(1); // the refused call never reached the trunk

    // No token: 401.
    const anon = await r.t.req('GET', '/api/v1/sbc/admission', { token: '' });
    expect(anon.status).toBe(401);
    const doc = (await r.t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(doc.paths['/api/v1/sbc/admission']?.get?.operationId).toBe('getSbcAdmission');
  }, 120_000);
});

describe('admission control in the platform: the media engine’s free ports', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeAll(async () => {
    // 20 ports; a G.711 call takes 4 (RTP + RTCP on both legs): after one call 16 are free, and
    // a second would leave 12, under the 13 required.
    r = await rig({ 'sbc.admission.minFreeMediaPorts': '13' });
  });
  afterAll(async () => {
    await r?.close();
  });

  it('a call that would leave fewer free ports than minFreeMediaPorts gets 503 (scope media, limit ports)', async () => {
    await until(
      'the ports polled',
      async () => (await admission(r.t)).freeMediaPorts === 20,
      10_000,
    );
    const held = await phone(r.port, 'uac-wait-bye.xml');
    await confirmed(r.t, 1);
    await until(
      'the first call’s ports counted',
      async () => (await admission(r.t)).freeMediaPorts === 16,
      10_000,
    );
    const refused = await (await phone(r.port, 'uac-admission-refused.xml')).done;
    expect(finalOf(refused.received)).toMatch(/^SIP\/2\.0 503 /);
    expect(
      await metric(r.t, 'tfx_sbc_admission_rejected_total', 'scope="media",limit="ports"'),
    ).toBe(1);
    r.sessions[0]!.bye();
    expect((await held.done).code).toBe(0);
    await until('the call released', async () => (await admission(r.t)).calls === 0, 10_000);
  }, 120_000);
});
