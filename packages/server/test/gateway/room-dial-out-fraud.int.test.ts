/**
 * A room dial-out credential in a real platform (signalling, media, gateway and SBC modules wired
 * as the composition root does): sipp answers the public zone's 407 with the credential a room's
 * moderator got from `POST /api/v1/gateway/room-dial-out`, and the call goes through; the zone's
 * toll-fraud limits count it as the billed account — while it lasts, a call of the account itself
 * is refused as its second concurrent call (486) — and a made-up credential gets 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { UserAgentCore, type DialogSession } from '@tfx/sip';
import { sbcCallListSchema, type RoomDialOutResponse } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { createSignallingModule } from '../../src/signalling/index.js';
import { createGatewayModule } from '../../src/gateway/index.js';
import { startTestPlatform, until, type TestPlatform } from '../api/harness.js';
import { SCENARIOS, freePort, sipp } from '../../../sbc/test/harness.js';

// 127.0.47.x: the dial pad's own loopback addresses.
const PUBLIC = '127.0.47.20';
const CORE = '127.0.47.10';
const PHONE = '127.0.47.21';
const TRUNK = '127.0.47.11';
const ACCOUNT = { username: 'acme', password: 'acme-secret-1' };

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`;

describe('room dial-out through the SBC: digest with the credential, fraud limits as the account', () => {
  const signalling = createSignallingModule();
  const media = createMediaModule();
  const gateway = createGatewayModule({
    isModerator: () => (room, token) => signalling.service.store.isModerator(room, token),
  });
  const sbc = createSbcModule({ engine: () => media.engine, dialOut: () => gateway.dialOut });
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
      modules: [signalling, media, gateway, sbc],
      flags: {
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 99),
        'media.workers': '1',
        'sbc.zones': JSON.stringify([
          {
            name: 'public',
            listen: [`udp://${PUBLIC}:0`],
            media: { address: PUBLIC },
            fraud: { maxConcurrent: 1, maxDurationSeconds: 4 },
          },
          { name: 'core', listen: [`udp://${CORE}:0`], media: { address: CORE }, trusted: true },
        ]),
        'sbc.trunks': JSON.stringify([
          { name: 'carrier-a', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` },
        ]),
        'sbc.routes': JSON.stringify([{ match: { zone: 'public' }, to: ['carrier-a'] }]),
        'sip.domain': 'tfx.test',
        'sip.users': JSON.stringify([ACCOUNT]),
        'gateway.roomDialOut': ACCOUNT.username,
      },
    });
    port = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!.port;
  });

  afterAll(async () => {
    await t?.close();
    await trunk?.close();
  });

  async function phone(scenario: string, user: string, password: string) {
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
        '4420001',
        '-key',
        'caller',
        ACCOUNT.username,
        '-au',
        user,
        '-ap',
        password,
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

  it('a moderator’s credential places the call; the account’s own call meanwhile is its second (486)', async () => {
    const { result } = await t.join('dial-room', 'Mod');
    const r = await t.req('POST', '/api/v1/gateway/room-dial-out', {
      token: '',
      body: { room: 'dial-room', moderatorToken: result.moderatorToken },
    });
    expect(r.status).toBe(200);
    const cred = r.json as RoomDialOutResponse;

    const held = await phone('uac-auth-hold.xml', cred.username, cred.password);
    await until(
      'the dial-out call confirmed',
      async () => {
        const calls = sbcCallListSchema.parse((await t.req('GET', '/api/v1/sbc/calls')).json);
        return calls.calls.some((c) => c.state === 'confirmed');
      },
      30_000,
    );
    const second = await (
      await phone('uac-auth-status.xml', ACCOUNT.username, ACCOUNT.password)
    ).done;
    expect(second.code, `${second.output}\n${second.trace}`).toBe(0);
    expect(finalStatus(second.received)).toBe('486');
    // The first call ends at the maximum duration (BYE from the SBC), as the account's would.
    const first = await held.done;
    expect(first.code, `${first.output}\n${first.trace}`).toBe(0);
    expect(trunkSessions).toHaveLength(1);
  }, 120_000);

  it('a made-up credential of the account’s form gets 403', async () => {
    const forged = await (
      await phone('uac-auth-status.xml', 'acme~room~9999999999~AAAAAAAAAAAAAAAA', 'guess-1234')
    ).done;
    expect(forged.code, `${forged.output}\n${forged.trace}`).toBe(0);
    expect(finalStatus(forged.received)).toBe('403');
  }, 120_000);
});
