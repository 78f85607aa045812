import { describe, expect, it } from 'vitest';
import {
  answerChallenge,
  computeHa1,
  computeResponse,
  constantTimeEqual,
  nodeDigestHash as hash,
  parseChallenge,
  parseCredentials,
  pickChallenge,
  serializeChallenge,
  serializeCredentials,
  type DigestChallenge,
} from '../../src/auth/index.js';

// RFC 7616 §3.9.1 example inputs.
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  uri: '/dir/index.html',
  method: 'GET',
  nc: '00000001',
};

describe('digest known-answer vectors', () => {
  it('RFC 2617 §3.5: the MD5 qop=auth example yields 6629fae4…', () => {
    const response = computeResponse({
      hash,
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('RFC 7616 §3.9.1: the SHA-256 example yields 753927fa…', () => {
    const response = computeResponse({ hash, algorithm: 'SHA-256', ...RFC7616, qop: 'auth' });
    expect(response).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('RFC 7616 §3.9.1: the MD5 example yields 8ca523f5…', () => {
    const response = computeResponse({ hash, algorithm: 'MD5', ...RFC7616, qop: 'auth' });
    expect(response).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('computes the same response from a stored HA1 as from the password', () => {
    const ha1 = computeHa1(hash, 'SHA-256', RFC7616.username, RFC7616.realm, RFC7616.password);
    const { password: _password, ...rest } = RFC7616;
    expect(computeResponse({ hash, algorithm: 'SHA-256', ...rest, ha1, qop: 'auth' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('RFC 3261 §22.4: without qop the RFC 2069 form KD(HA1, nonce:HA2) is used', () => {
    const ha1 = hash('MD5', 'u:r:p');
    const ha2 = hash('MD5', 'REGISTER:sip:r');
    expect(
      computeResponse({
        hash,
        algorithm: 'MD5',
        ha1,
        method: 'REGISTER',
        uri: 'sip:r',
        nonce: 'n',
      }),
    ).toBe(hash('MD5', `${ha1}:n:${ha2}`));
  });

  it('refuses qop=auth without nc and cnonce', () => {
    expect(() =>
      computeResponse({
        hash,
        algorithm: 'MD5',
        ha1: 'x',
        method: 'A',
        uri: 'u',
        nonce: 'n',
        qop: 'auth',
      }),
    ).toThrow(TypeError);
  });
});

describe('challenge headers', () => {
  it('parses the RFC 7616 §3.9.1 SHA-256 challenge', () => {
    const r = parseChallenge(
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`,
    );
    expect(r).toEqual({
      ok: true,
      value: {
        realm: 'http-auth@example.org',
        nonce: RFC7616.nonce,
        algorithm: 'SHA-256',
        qop: ['auth', 'auth-int'],
        stale: false,
        opaque: RFC7616.opaque,
      },
    });
  });

  it('reads parameter names and the scheme case-insensitively, stale=TRUE, algorithm md5', () => {
    const r = parseChallenge('digest REALM="a", Nonce=abc, STALE=TRUE, Algorithm=md5');
    expect(r.ok && r.value).toMatchObject({
      realm: 'a',
      nonce: 'abc',
      stale: true,
      algorithm: 'MD5',
      qop: [],
    });
  });

  it('defaults the algorithm to MD5 (RFC 3261 §22.4) and keeps -sess variants for the caller to refuse', () => {
    const a = parseChallenge('Digest realm="a", nonce="n"');
    const b = parseChallenge('Digest realm="a", nonce="n", algorithm=sha-256-SESS');
    expect(a.ok && a.value.algorithm).toBe('MD5');
    expect(b.ok && b.value.algorithm).toBe('SHA-256-sess');
  });

  it('unescapes quoted-pairs and keeps commas inside quoted strings', () => {
    const r = parseChallenge('Digest realm="a \\"quoted\\", realm\\\\", nonce="x,y"');
    expect(r.ok && r.value.realm).toBe('a "quoted", realm\\');
    expect(r.ok && r.value.nonce).toBe('x,y');
  });

  it('accepts folded whitespace (LWS with CRLF) between parameters', () => {
    const r = parseChallenge('Digest realm="a",\r\n nonce="n"');
    expect(r.ok).toBe(true);
  });

  it('round-trips through serializeChallenge', () => {
    const c: DigestChallenge = {
      realm: 'ex "a\\b"',
      nonce: 'n1',
      algorithm: 'SHA-256',
      qop: ['auth'],
      stale: true,
      opaque: 'o',
      domain: 'sip:ex.com',
    };
    const text = serializeChallenge(c);
    expect(text).toBe(
      'Digest realm="ex \\"a\\\\b\\"", domain="sip:ex.com", nonce="n1", opaque="o", stale=true, algorithm=SHA-256, qop="auth"',
    );
    expect(parseChallenge(text)).toEqual({ ok: true, value: c });
  });

  it.each([
    ['empty', ''],
    ['no params', 'Digest'],
    ['other scheme', 'Basic realm="a"'],
    ['missing realm', 'Digest nonce="n"'],
    ['missing nonce', 'Digest realm="a"'],
    ['unterminated quote', 'Digest realm="a, nonce="n'],
    ['duplicate param', 'Digest realm="a", realm="b", nonce="n"'],
    ['bad stale', 'Digest realm="a", nonce="n", stale=maybe'],
    ['empty qop', 'Digest realm="a", nonce="n", qop=""'],
    ['trailing comma', 'Digest realm="a", nonce="n",'],
    ['missing comma', 'Digest realm="a" nonce="n"'],
    ['bare LF', 'Digest realm="a",\nnonce="n"'],
    ['NUL in quoted', 'Digest realm="a\u0000", nonce="n"'],
    ['quoted-pair of LF', 'Digest realm="a\\\n", nonce="n"'],
    ['too long', `Digest realm="${'a'.repeat(9000)}", nonce="n"`],
    [
      'too many params',
      `Digest realm="a", nonce="n", ${Array.from({ length: 40 }, (_, k) => `p${k}=1`).join(', ')}`,
    ],
  ])('rejects %s with a typed error', (_name, input) => {
    const r = parseChallenge(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('sip-parse-error');
  });
});

describe('credentials headers', () => {
  const header = `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="${RFC7616.nonce}", nc=00000001, cnonce="${RFC7616.cnonce}", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="${RFC7616.opaque}"`;

  it('parses the RFC 7616 §3.9.1 Authorization header', () => {
    const r = parseCredentials(header);
    expect(r.ok && r.value).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      nonce: RFC7616.nonce,
      uri: '/dir/index.html',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      algorithm: 'SHA-256',
      cnonce: RFC7616.cnonce,
      nc: '00000001',
      qop: 'auth',
      opaque: RFC7616.opaque,
    });
  });

  it('round-trips through serializeCredentials', () => {
    const r = parseCredentials(header);
    if (!r.ok) throw new Error('parse failed');
    expect(parseCredentials(serializeCredentials(r.value))).toEqual(r);
  });

  it('accepts a quoted qop and a quoted algorithm from lenient clients', () => {
    const r = parseCredentials(
      'Digest username="u", realm="r", nonce="n", uri="sip:r", response="00000000000000000000000000000000", qop="auth", algorithm="MD5", nc=00000001, cnonce="c"',
    );
    expect(r.ok && r.value.qop).toBe('auth');
  });

  it.each([
    ['missing response', 'Digest username="u", realm="r", nonce="n", uri="sip:r"'],
    ['short response', 'Digest username="u", realm="r", nonce="n", uri="sip:r", response="abc"'],
    [
      'non-hex nc',
      'Digest username="u", realm="r", nonce="n", uri="sip:r", response="00000000000000000000000000000000", nc=0000000g',
    ],
    [
      'short nc',
      'Digest username="u", realm="r", nonce="n", uri="sip:r", response="00000000000000000000000000000000", nc=1',
    ],
  ])('rejects %s with a typed error', (_name, input) => {
    const r = parseCredentials(input);
    expect(r.ok).toBe(false);
  });
});

describe('client side', () => {
  it('RFC 8760 §2.4: picks the first supported challenge, skipping -sess and unknown algorithms', () => {
    const parse = (s: string): DigestChallenge => {
      const r = parseChallenge(s);
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    const list = [
      parse('Digest realm="a", nonce="n", algorithm=SHA-512-256, qop="auth"'),
      parse('Digest realm="a", nonce="n", algorithm=MD5-sess, qop="auth"'),
      parse('Digest realm="a", nonce="n", algorithm=MD5, qop="auth-int"'),
      parse('Digest realm="a", nonce="n", algorithm=SHA-256, qop="auth"'),
    ];
    expect(pickChallenge(list)?.algorithm).toBe('SHA-256');
    expect(pickChallenge(list.slice(0, 3))).toBeUndefined();
  });

  it('answers the RFC 7616 challenge with the RFC response and echoes opaque', () => {
    const r = answerChallenge({
      hash,
      challenge: {
        realm: RFC7616.realm,
        nonce: RFC7616.nonce,
        algorithm: 'SHA-256',
        qop: ['auth'],
        stale: false,
        opaque: RFC7616.opaque,
      },
      method: 'GET',
      uri: RFC7616.uri,
      username: 'Mufasa',
      password: 'Circle of Life',
      cnonce: RFC7616.cnonce,
    });
    expect(r.ok && r.value).toMatchObject({
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      nc: '00000001',
      qop: 'auth',
      opaque: RFC7616.opaque,
    });
  });

  it('answers a legacy challenge without qop, omitting qop, nc and cnonce', () => {
    const r = answerChallenge({
      hash,
      challenge: { realm: 'r', nonce: 'n', algorithm: 'MD5', qop: [], stale: false },
      method: 'INVITE',
      uri: 'sip:b@r',
      username: 'u',
      password: 'p',
      cnonce: 'unused',
    });
    expect(r.ok && r.value.qop).toBeUndefined();
    expect(r.ok && serializeCredentials(r.value)).not.toMatch(/nc=|cnonce=|qop=/);
  });

  it('refuses -sess and auth-int-only challenges with a typed error', () => {
    const base = { method: 'A', uri: 'u', username: 'u', password: 'p', cnonce: 'c', hash };
    const sess = answerChallenge({
      ...base,
      challenge: { realm: 'r', nonce: 'n', algorithm: 'MD5-sess', qop: ['auth'], stale: false },
    });
    const authInt = answerChallenge({
      ...base,
      challenge: { realm: 'r', nonce: 'n', algorithm: 'MD5', qop: ['auth-int'], stale: false },
    });
    expect(!sess.ok && sess.error.reason).toBe('unsupported-algorithm');
    expect(!authInt.ok && authInt.error.reason).toBe('unsupported-qop');
  });
});

describe('constantTimeEqual', () => {
  it('is equality on strings', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'ab')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
