import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseChallenge,
  parseCredentials,
  serializeChallenge,
  serializeCredentials,
  type DigestChallenge,
} from '../../src/auth/index.js';

const FC = { seed: 0x7f3, numRuns: 400 };

// Printable ASCII plus tab, space, quotes and backslashes: what a quoted-string may carry.
const quotable = fc.string({ unit: fc.constantFrom(...' \t"\\,=abcXYZ09@:/.-_~'), maxLength: 40 });
const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,16}$/);

describe('auth header fuzzing', () => {
  it('never throws on arbitrary strings and always returns a typed result', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        for (const r of [parseChallenge(s), parseCredentials(s), parseChallenge(`Digest ${s}`)]) {
          expect(typeof r.ok).toBe('boolean');
          if (!r.ok) expect(r.error.code).toBe('sip-parse-error');
        }
      }),
      FC,
    );
  });

  it('never throws on mutations of a valid header', () => {
    const base =
      'Digest username="alice", realm="a\\"b", nonce="n,1", uri="sip:x", response="0123456789abcdef0123456789abcdef", nc=00000001, cnonce="c", qop=auth';
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(base.length),
            fc.constantFrom('"', '\\', ',', '=', '\r', '\n', ' ', '\u0000', 'é', ''),
          ),
          {
            maxLength: 6,
          },
        ),
        (edits) => {
          let s = base;
          for (const [at, ch] of edits) s = s.slice(0, at) + ch + s.slice(at + 1);
          const r = parseCredentials(s);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      FC,
    );
  });

  it('round-trips any serializable challenge', () => {
    fc.assert(
      fc.property(
        quotable,
        quotable,
        token,
        fc.boolean(),
        fc.option(quotable, { nil: undefined }),
        (realm, nonce, alg, stale, opaque) => {
          const c: DigestChallenge = {
            realm,
            nonce,
            algorithm: alg,
            qop: ['auth'],
            stale,
            ...(opaque !== undefined && { opaque }),
          };
          const r = parseChallenge(serializeChallenge(c));
          expect(r.ok).toBe(true);
          if (r.ok) expect({ ...r.value, algorithm: c.algorithm }).toEqual(c);
        },
      ),
      FC,
    );
  });

  it('round-trips any serializable credentials', () => {
    fc.assert(
      fc.property(
        quotable,
        quotable,
        fc.stringMatching(/^[0-9a-f]{32}$/),
        (username, uri, response) => {
          const text = serializeCredentials({
            username,
            realm: 'r',
            nonce: 'n',
            uri,
            response,
            algorithm: 'MD5',
            qop: 'auth',
            nc: '0000000a',
            cnonce: 'c',
          });
          const r = parseCredentials(text);
          expect(r.ok && r.value.username).toBe(username);
          expect(r.ok && r.value.uri).toBe(uri);
        },
      ),
      FC,
    );
  });

  // No stopwatch (bench/ measures time): 100k hostile parameters would take minutes to a parser
  // that rescans, far past the test timeout, and milliseconds to a linear one.
  it('parses a long hostile header without a quadratic rescan', { timeout: 60_000 }, () => {
    const evil = `Digest ${'a="\\"",'.repeat(100_000)}`;
    const r = parseChallenge(evil);
    expect(r.ok).toBe(false);
  });
});
