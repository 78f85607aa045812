/**
 * Toll-fraud limits per account in a real platform (issue #17 item 4), with real sipp phones that
 * answer the SBC's 407 (the account is the authenticated user): a denied destination prefix gets
 * 403; a second concurrent call of the account 486; past its calls per minute 503 with
 * Retry-After, while another account still calls; a call longer than the maximum duration is
 * ended by the SBC with a BYE on both legs. Each refusal is read back from the Prometheus
 * counters at /metrics (`tfx_sbc_fraud_total`, `tfx_sbc_calls_ended_total{reason="max-duration"}`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { UserAgentCore, type DialogSession } from '@tfx/sip';
import { sbcCallListSchema } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, until, type TestPlatform } from '../api/harness.js';
import { SCENARIOS, freePort, header, sipp } from '../../../sbc/test/harness.js';

const PUBLIC = '127.0.0.20';
const PHONE = '127.0.0.21';
const TRUNK = '127.0.0.11';
const USERS = { alice: 'alice-secret-1', bob: 'bob-secret-22' };

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`;

describe('toll-fraud limits per account (public zone, digest)', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform;
  let trunk: UserAgentCore;
  const trunkSessions: DialogSession[] = [];
  let port: number;
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) =>
        trunkSessions.push(inv.accept({ body: SDP(TRUNK), contentType: 'application/sdp' })),
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
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
            fraud: {
              maxConcurrent: 1,
              callsPerMinute: 3,
              deniedDestinations: ['^\\+1900', '^00'],
              maxDurationSeconds: 4,
            },
          },
          {
            name: 'core',
            listen: ['udp://127.0.0.10:0'],
            media: { address: '127.0.0.10' },
            trusted: true,
          },
        ]),
        'sbc.trunks': JSON.stringify([
          { name: 'carrier-a', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` },
        ]),
        'sbc.routes': JSON.stringify([{ match: { zone: 'public' }, to: ['carrier-a'] }]),
        'sip.domain': 'tfx.test',
        'sip.users': JSON.stringify(
          Object.entries(USERS).map(([username, password]) => ({ username, password })),
        ),
      },
    });
    port = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!.port;
  });

  afterAll(async () => {
    await t?.close();
    await trunk?.close();
  });

  async function phone(scenario: string, user: keyof typeof USERS, to = '4420001') {
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
        '-s',
        to,
        '-key',
        'caller',
        user,
        '-au',
        user,
        '-ap',
        USERS[user],
        '-m',
        '1',
      ],
      60_000,
    );
  }

  const finalStatus = (received: string[]): string | undefined =>
    received
      .filter((m) => /^SIP\/2\.0 [2-6]\d\d/.test(m) && !m.startsWith('SIP/2.0 407'))
      .at(-1)
      ?.slice(8, 11);

  async function metric(name: string, labels: string): Promise<number> {
    const text = (await t.req('GET', '/metrics')).text;
    const esc = labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return Number(new RegExp(`^${name}\\{${esc}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  }
  const fraud = (outcome: string) =>
    metric('tfx_sbc_fraud_total', `zone="public",outcome="${outcome}"`);

  it('refuses a denied destination prefix with 403 and counts it', async () => {
    const r = await (await phone('uac-auth-status.xml', 'alice', '+19005550100')).done;
    expect(r.code, `${r.output}\n${r.trace}`).toBe(0);
    expect(finalStatus(r.received)).toBe('403');
    expect(await fraud('denied-destination')).toBe(1);
    expect(trunkSessions).toHaveLength(0);
  }, 120_000);

  it('refuses a second concurrent call of the account with 486; the maximum duration ends the first with BYE on both legs', async () => {
    const held = await phone('uac-auth-hold.xml', 'alice');
    await until(
      'the first call confirmed',
      async () => {
        const calls = sbcCallListSchema.parse((await t.req('GET', '/api/v1/sbc/calls')).json);
        return calls.calls.some((c) => c.state === 'confirmed');
      },
      30_000,
    );
    const second = await (await phone('uac-auth-status.xml', 'alice')).done;
    expect(second.code, `${second.output}\n${second.trace}`).toBe(0);
    expect(finalStatus(second.received)).toBe('486');
    expect(await fraud('concurrent')).toBe(1);

    // The first call: the SBC's BYE reaches the phone (sipp answers it and exits 0) and the trunk.
    const first = await held.done;
    expect(first.code, `${first.output}\n${first.trace}`).toBe(0);
    expect(first.received.some((m) => m.startsWith('BYE '))).toBe(true);
    expect(trunkSessions).toHaveLength(1);
    await until(
      'the trunk leg ended',
      async () => trunkSessions[0]!.state === 'terminated',
      10_000,
    );
    expect(await fraud('max-duration')).toBe(1);
    expect(await metric('tfx_sbc_calls_ended_total', 'reason="max-duration"')).toBe(1);
  }, 120_000);

  it('refuses the account past its calls per minute with 503 and Retry-After; another account still calls', async () => {
    // The held call counted once; two more fill alice's 3 per minute.
    for (let i = 0; i < 2; i++) {
      const ok = await (await phone('uac-auth.xml', 'alice')).done;
      expect(ok.code, `${ok.output}\n${ok.trace}`).toBe(0);
    }
    const refused = await (await phone('uac-auth-status.xml', 'alice')).done;
    expect(refused.code, `${refused.output}\n${refused.trace}`).toBe(0);
    expect(finalStatus(refused.received)).toBe('503');
    const r503 = refused.received.find((m) => m.startsWith('SIP/2.0 503'))!;
    expect(Number(header(r503, 'Retry-After'))).toBeGreaterThan(0);
    expect(await fraud('rate')).toBe(1);
    const bob = await (await phone('uac-auth.xml', 'bob')).done;
    expect(bob.code, `${bob.output}\n${bob.trace}`).toBe(0);
    expect(await fraud('admitted')).toBe(4);
  }, 120_000);
});
