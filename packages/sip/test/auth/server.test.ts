import { describe, expect, it } from 'vitest';
import {
  DigestServer,
  NonceManager,
  answerChallenge,
  computeHa1,
  nodeDigestHash as hash,
  nodeNonceCrypto,
  parseChallenge,
  serializeCredentials,
  type DigestAlgorithm,
  type DigestChallenge,
} from '../../src/auth/index.js';

const REALM = 'tfx.example';
const USERS: Record<string, string> = { alice: 'wonderland', bob: 'builder' };

function setup(opts: { proxy?: boolean; algorithms?: DigestAlgorithm[] } = {}) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const nonces = new NonceManager({
    secret: 'server-secret-0123456789',
    crypto: nodeNonceCrypto,
    clock,
  });
  const server = new DigestServer({ realm: REALM, hash, nonces, ...opts });
  // The registrar stores HA1 per algorithm, never the password.
  const lookupHa1 = (user: string, realm: string, alg: DigestAlgorithm) => {
    const pass = USERS[user];
    return pass === undefined ? undefined : computeHa1(hash, alg, user, realm, pass);
  };
  const firstChallenge = (): DigestChallenge => {
    const c = parseChallenge(server.challenge().values[0] as string);
    if (!c.ok) throw new Error('bad challenge');
    return c.value;
  };
  const credentials = (
    challenge: DigestChallenge,
    over: { username?: string; password?: string; uri?: string; nc?: number; method?: string } = {},
  ) => {
    const r = answerChallenge({
      hash,
      challenge,
      method: over.method ?? 'REGISTER',
      uri: over.uri ?? 'sip:tfx.example',
      username: over.username ?? 'alice',
      password: over.password ?? 'wonderland',
      cnonce: 'cn0nce',
      nc: over.nc ?? 1,
    });
    if (!r.ok) throw new Error(r.error.message);
    return serializeCredentials(r.value);
  };
  const verify = (header: string | string[] | undefined, method = 'REGISTER') =>
    server.verify({ header, method, requestUri: 'sip:tfx.example', lookupHa1 });
  return {
    server,
    nonces,
    firstChallenge,
    credentials,
    verify,
    advance: (ms: number) => (now += ms),
  };
}

describe('DigestServer', () => {
  it('RFC 8760 §2.4: offers SHA-256 then MD5 challenges with qop=auth on 401', () => {
    const { server } = setup();
    const c = server.challenge();
    expect(c.status).toBe(401);
    expect(c.headerName).toBe('WWW-Authenticate');
    expect(c.challenges.map((x) => x.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(c.values[0]).toMatch(
      /^Digest realm="tfx.example", nonce="[0-9a-f]{60}", algorithm=SHA-256, qop="auth"$/,
    );
  });

  it('uses 407 and Proxy-Authenticate for proxy authentication', () => {
    const c = setup({ proxy: true }).server.challenge(true);
    expect(c).toMatchObject({ status: 407, headerName: 'Proxy-Authenticate' });
    expect(c.values[0]).toContain('stale=true');
  });

  it.each(['SHA-256', 'MD5'] as const)(
    'authenticates a correct %s answer against a stored HA1',
    async (alg) => {
      const { server, credentials, verify } = setup();
      const challenge = server
        .challenge()
        .challenges.find((c) => c.algorithm === alg) as DigestChallenge;
      expect(await verify(credentials(challenge))).toEqual({
        ok: true,
        username: 'alice',
        realm: REALM,
        algorithm: alg,
      });
    },
  );

  it('challenges a request without credentials', async () => {
    expect(await setup().verify(undefined)).toEqual({
      ok: false,
      action: 'challenge',
      stale: false,
      reason: 'missing',
    });
  });

  it('rejects a wrong password with 403 sip-auth-failed', async () => {
    const { firstChallenge, credentials, verify } = setup();
    expect(await verify(credentials(firstChallenge(), { password: 'guess' }))).toMatchObject({
      ok: false,
      action: 'reject',
      status: 403,
      code: 'sip-auth-failed',
      reason: 'wrong-response',
      username: 'alice',
    });
  });

  it('rejects an unknown user like a wrong password', async () => {
    const { firstChallenge, credentials, verify } = setup();
    expect(await verify(credentials(firstChallenge(), { username: 'mallory' }))).toMatchObject({
      action: 'reject',
      status: 403,
      reason: 'unknown-user',
    });
  });

  it('re-challenges credentials for a different realm', async () => {
    const { firstChallenge, credentials, verify } = setup();
    const other = { ...firstChallenge(), realm: 'elsewhere' };
    expect(await verify(credentials(other))).toMatchObject({
      action: 'challenge',
      reason: 'wrong-realm',
    });
  });

  it('RFC 2617 §3.2.2.5: answers 400 when the digest uri is not the Request-URI', async () => {
    const { firstChallenge, credentials, verify } = setup();
    expect(await verify(credentials(firstChallenge(), { uri: 'sip:other.example' }))).toMatchObject(
      {
        action: 'reject',
        status: 400,
        reason: 'uri-mismatch',
      },
    );
  });

  it('refuses a digest computed for another method', async () => {
    const { firstChallenge, credentials, verify } = setup();
    expect(
      await verify(credentials(firstChallenge(), { method: 'INVITE' }), 'REGISTER'),
    ).toMatchObject({
      action: 'reject',
      reason: 'wrong-response',
    });
  });

  it('refuses a replayed request (same nonce and nc) with a stale re-challenge', async () => {
    const { firstChallenge, credentials, verify } = setup();
    const header = credentials(firstChallenge());
    expect((await verify(header)).ok).toBe(true);
    expect(await verify(header)).toEqual({
      ok: false,
      action: 'challenge',
      stale: true,
      reason: 'replay',
    });
  });

  it('accepts the next nonce-count on the same nonce', async () => {
    const { firstChallenge, credentials, verify } = setup();
    const c = firstChallenge();
    expect((await verify(credentials(c, { nc: 1 }))).ok).toBe(true);
    expect((await verify(credentials(c, { nc: 2 }))).ok).toBe(true);
  });

  it('answers an expired nonce with stale=true when the digest is right', async () => {
    const { firstChallenge, credentials, verify, advance } = setup();
    const header = credentials(firstChallenge());
    advance(301_000);
    expect(await verify(header)).toEqual({
      ok: false,
      action: 'challenge',
      stale: true,
      reason: 'stale-nonce',
    });
  });

  it('does not say stale for an expired nonce with a wrong digest', async () => {
    const { firstChallenge, credentials, verify, advance } = setup();
    const header = credentials(firstChallenge(), { password: 'nope' });
    advance(301_000);
    expect(await verify(header)).toMatchObject({ action: 'reject', reason: 'wrong-response' });
  });

  it('re-challenges a tampered or foreign nonce', async () => {
    const { firstChallenge, credentials, verify } = setup();
    const c = firstChallenge();
    const tampered = { ...c, nonce: c.nonce.slice(0, -1) + (c.nonce.endsWith('0') ? '1' : '0') };
    expect(await verify(credentials(tampered))).toEqual({
      ok: false,
      action: 'challenge',
      stale: false,
      reason: 'invalid-nonce',
    });
  });

  it('RFC 3261 §22.4: refuses credentials without qop (legacy RFC 2069 clients)', async () => {
    const { firstChallenge, credentials, verify } = setup();
    const legacy = { ...firstChallenge(), qop: [] };
    expect(await verify(credentials(legacy))).toMatchObject({
      action: 'reject',
      reason: 'qop-required',
    });
  });

  it('re-challenges an algorithm it did not offer', async () => {
    const { firstChallenge, verify } = setup({ algorithms: ['SHA-256'] });
    const c = firstChallenge();
    const md5 = answerChallenge({
      hash,
      challenge: { ...c, algorithm: 'MD5' },
      method: 'REGISTER',
      uri: 'sip:tfx.example',
      username: 'alice',
      password: 'wonderland',
      cnonce: 'x',
    });
    if (!md5.ok) throw new Error('x');
    expect(await verify(serializeCredentials(md5.value))).toMatchObject({
      action: 'challenge',
      reason: 'unsupported-algorithm',
    });
  });

  it('answers 400 to malformed credentials and uses the credential for its own realm among several', async () => {
    const { firstChallenge, credentials, verify } = setup();
    expect(await verify('Digest username="a", realm=')).toMatchObject({
      action: 'reject',
      status: 400,
    });
    const other = credentials({ ...firstChallenge(), realm: 'elsewhere' });
    expect((await verify([other, credentials(firstChallenge())])).ok).toBe(true);
  });

  it('treats a throwing HA1 lookup as an unknown user', async () => {
    const { server, firstChallenge, credentials } = setup();
    const verdict = await server.verify({
      header: credentials(firstChallenge()),
      method: 'REGISTER',
      requestUri: 'sip:tfx.example',
      lookupHa1: () => Promise.reject(new Error('store down')),
    });
    expect(verdict).toMatchObject({ action: 'reject', reason: 'unknown-user' });
  });
});
