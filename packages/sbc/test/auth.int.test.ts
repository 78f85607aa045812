/**
 * Digest authentication in an untrusted zone (issue #17 item 4), with real sipp callers: an
 * INVITE without credentials gets 407 with Proxy-Authenticate in the realm; sipp answers it
 * (-au/-ap) and the call goes through; a wrong password and an unknown user get the same 403;
 * the trusted zone asks for nothing. HA1s are computed with the stack's digest rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore, computeHa1, nodeDigestHash } from '@tfx/sip';
import { Sbc } from '../src/index.js';
import {
  CORE,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  builtinEngine,
  freePort,
  header,
  sipp,
  zone,
} from './harness.js';

const REALM = 'tfx.test';
const USERS: Record<string, string> = { alice: 'alice-secret-1' };

describe('digest authentication in the untrusted public zone (RFC 3261 §22.3)', () => {
  let engine: MediaEngine;
  let sbc: Sbc;
  let trunk: UserAgentCore;
  let port: number;

  beforeAll(async () => {
    engine = await builtinEngine();
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) =>
        inv.accept({
          body: `v=0\r\no=t 1 1 IN IP4 ${TRUNK}\r\ns=-\r\nc=IN IP4 ${TRUNK}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`,
          contentType: 'application/sdp',
        }),
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
    sbc = new Sbc({
      zones: [zone('public', PUBLIC), zone('core', CORE)],
      trunks: [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` }],
      routes: [{ match: { zone: 'public' }, to: ['far'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
      auth: {
        realm: REALM,
        lookupHa1: (user, realm, algorithm) => {
          const pw = USERS[user];
          return pw === undefined
            ? undefined
            : computeHa1(nodeDigestHash, algorithm, user, realm, pw);
        },
      },
    });
    const ls = await sbc.start();
    port = ls.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
  });

  afterAll(async () => {
    await sbc?.close();
    await trunk?.close();
    await engine?.close();
  });

  const caller = async (scenario: string, user: string, password: string) =>
    sipp(
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
        user,
        '-au',
        user,
        '-ap',
        password,
        '-m',
        '1',
      ],
      30_000,
    ).done;

  it('challenges an INVITE without credentials with 407 in the realm, and bridges it once sipp answers', async () => {
    const r = await caller('uac-auth.xml', 'alice', USERS.alice!);
    expect(r.code, `${r.output}\n${r.trace}`).toBe(0);
    const challenge = r.received.find((m) => m.startsWith('SIP/2.0 407'))!;
    expect(header(challenge, 'Proxy-Authenticate')).toMatch(
      new RegExp(`^Digest realm="${REALM.replace('.', '\\.')}".*qop="auth"`),
    );
    const sec = sbc.zones.get('public')!.security!;
    expect(sec.counters.auth.passed).toBe(1);
    expect(trunk.dialogs.dialogs.size).toBe(0); // the BYE ended the trunk's dialog too
  }, 120_000);

  it('refuses a wrong password and an unknown user with the same 403, and counts both', async () => {
    const sec = sbc.zones.get('public')!.security!;
    const before = sec.counters.auth.failed;
    const wrong = await caller('uac-auth-refused.xml', 'alice', 'not-the-password');
    const unknown = await caller('uac-auth-refused.xml', 'mallory', 'whatever-123');
    expect(wrong.code, `${wrong.output}\n${wrong.trace}`).toBe(0);
    expect(unknown.code, `${unknown.output}\n${unknown.trace}`).toBe(0);
    const status = (m: string[]) =>
      m.filter((x) => /^SIP\/2\.0 [1-6]\d\d/.test(x)).map((x) => x.slice(8, 11));
    expect(status(wrong.received)).toEqual(status(unknown.received));
    expect(sec.counters.auth.failed).toBe(before + 2);
  }, 120_000);
});
