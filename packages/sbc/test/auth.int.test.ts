/**
 * Digest authentication in an untrusted zone (issue #17 item 4), with real sipp callers: an
 * INVITE without credentials gets 407 with Proxy-Authenticate in the realm; sipp answers it
 * (-au/-ap) and the call goes through; a wrong password and an unknown user get the same 403;
 * the trusted zone asks for nothing. Out of dialog, MESSAGE and SUBSCRIBE are challenged the
 * same way (407) and REGISTER as a registrar does (401 with WWW-Authenticate); sipp answers each
 * challenge and gets past the gate (the zone's own answer then: 405, or 489 for an event
 * package it does not serve, today; the registrar's 200
 * once a zone serves REGISTER); wrong and unknown users get the same 403 with the same headers.
 * HA1s are computed with the stack's digest rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

/**
 * A sipp scenario for one out-of-dialog request: sent without credentials, the challenge
 * (`challenge`: 401 or 407) answered with sipp's [authentication], then one of `finals`.
 */
async function oooScenario(method: string, challenge: 401 | 407, finals: readonly number[]) {
  const ruri =
    method === 'REGISTER'
      ? 'sip:[remote_ip]:[remote_port]'
      : 'sip:[service]@[remote_ip]:[remote_port]';
  const request = (cseq: number, auth: boolean): string => {
    const lines = [
      `${method} ${ruri} SIP/2.0`,
      'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
      'From: <sip:[caller]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]',
      `To: <sip:${method === 'REGISTER' ? '[caller]' : '[service]'}@[remote_ip]>`,
      'Call-ID: [call_id]',
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:[caller]@[local_ip]:[local_port]>',
      'Max-Forwards: 70',
      ...(method === 'SUBSCRIBE' ? ['Event: presence'] : []),
      ...(method === 'MESSAGE' ? ['Content-Type: text/plain'] : ['Expires: 60']),
      ...(auth ? ['[authentication]'] : []),
      'Content-Length: [len]',
      '',
      ...(method === 'MESSAGE' ? ['hello'] : []),
    ];
    return `
  <send retrans="500">
    <![CDATA[
      ${lines.join('\n      ')}

    ]]>
  </send>`;
  };
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<scenario name="ooo-${method}">
  ${request(1, false)}
  <recv response="${challenge}" auth="true"/>
  ${request(2, true)}
  ${finals
    .map(
      (f, i) =>
        `<recv response="${f}"${i < finals.length - 1 ? ' optional="true" next="done"' : ''}/>`,
    )
    .join('\n  ')}
  <label id="done"/>
</scenario>
`;
  const dir = await mkdtemp(join(tmpdir(), 'sbc-ooo-'));
  const file = join(dir, `${method}.xml`);
  await writeFile(file, xml);
  return file;
}

describe('digest for out-of-dialog MESSAGE, SUBSCRIBE (407) and REGISTER (401)', () => {
  let engine: MediaEngine;
  let sbc: Sbc;
  let port: number;

  beforeAll(async () => {
    engine = await builtinEngine();
    sbc = new Sbc({
      zones: [zone('public', PUBLIC), zone('core', CORE)],
      trunks: [],
      routes: [],
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
    await engine?.close();
  });

  const run = async (scenario: string, user: string, password: string) =>
    sipp(
      [
        `${PUBLIC}:${port}`,
        '-sf',
        scenario,
        '-i',
        PHONE,
        '-p',
        String(await freePort(PHONE)),
        '-s',
        'bob',
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

  it.each([
    ['MESSAGE', 407, 'Proxy-Authenticate'],
    ['SUBSCRIBE', 407, 'Proxy-Authenticate'],
    ['REGISTER', 401, 'WWW-Authenticate'],
  ] as const)(
    'RFC 3261 §22: challenges %s with %i and %s in the realm; sipp’s credentials pass the gate',
    async (method, status, headerName) => {
      const sec = sbc.zones.get('public')!.security!;
      const passed = sec.counters.auth.passed;
      const r = await run(
        await oooScenario(method, status, [200, 202, 405, 489]),
        'alice',
        USERS.alice!,
      );
      expect(r.code, `${r.output}\n${r.trace}`).toBe(0);
      const challenge = r.received.find((m) => m.startsWith(`SIP/2.0 ${status}`))!;
      expect(header(challenge, headerName)).toMatch(
        new RegExp(`^Digest realm="${REALM.replace('.', '\\.')}".*qop="auth"`),
      );
      // The other kind of challenge is not sent (a registrar's 401 is not a proxy's 407).
      expect(header(challenge, status === 401 ? 'Proxy-Authenticate' : 'WWW-Authenticate')).toBe(
        undefined,
      );
      const final = r.received.at(-1)!;
      expect(final).not.toMatch(/^SIP\/2\.0 (401|403|407)/);
      expect(sec.counters.auth.passed).toBe(passed + 1);
    },
    120_000,
  );

  it('answers a wrong password and an unknown user alike: same status, same header names', async () => {
    const sec = sbc.zones.get('public')!.security!;
    const failed = sec.counters.auth.failed;
    const shape = (m: string): string[] =>
      m
        .split(/\r?\n/)
        .slice(1)
        .map((l) => /^([A-Za-z-]+)\s*:/.exec(l)?.[1]?.toLowerCase())
        .filter((x): x is string => x !== undefined)
        .sort();
    for (const method of ['REGISTER', 'MESSAGE'] as const) {
      const scenario = await oooScenario(method, method === 'REGISTER' ? 401 : 407, [403]);
      const wrong = await run(scenario, 'alice', 'not-the-password');
      const unknown = await run(scenario, 'mallory', 'whatever-123');
      expect(wrong.code, `${wrong.output}\n${wrong.trace}`).toBe(0);
      expect(unknown.code, `${unknown.output}\n${unknown.trace}`).toBe(0);
      const statuses = (m: string[]) => m.map((x) => x.slice(0, 12));
      expect(statuses(wrong.received)).toEqual(statuses(unknown.received));
      expect(wrong.received.map(shape)).toEqual(unknown.received.map(shape));
    }
    expect(sec.counters.auth.failed).toBe(failed + 4);
  }, 120_000);
});
