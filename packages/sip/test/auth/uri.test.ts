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
} from '../../src/auth/index.js';
import { uriTextEquals } from '../../src/syntax/index.js';

const REALM = 'tfx.example';

async function verifyWith(
  digestUri: string,
  requestUri: string,
  sentTo?: { address: string; port: number },
) {
  const nonces = new NonceManager({ secret: 'server-secret-0123456789', crypto: nodeNonceCrypto });
  const server = new DigestServer({ realm: REALM, hash, nonces, algorithms: ['MD5'] });
  const challenge = parseChallenge(server.challenge().values[0] as string);
  if (!challenge.ok) throw new Error('challenge');
  const creds = answerChallenge({
    hash,
    challenge: challenge.value,
    method: 'REGISTER',
    uri: digestUri,
    username: 'alice',
    password: 'wonderland',
    cnonce: 'c',
    nc: 1,
  });
  if (!creds.ok) throw new Error('creds');
  const lookupHa1 = (u: string, r: string, a: DigestAlgorithm) =>
    computeHa1(hash, a, u, r, 'wonderland');
  return server.verify({
    header: serializeCredentials(creds.value),
    method: 'REGISTER',
    requestUri,
    lookupHa1,
    ...(sentTo ? { sentTo } : {}),
  });
}

describe('digest uri (RFC 2617 §3.2.2.5) compared as URIs (RFC 3261 §19.1.4)', () => {
  it('URI equality: host case, IPv6 forms and parameter order do not matter; ports and users do', () => {
    expect(uriTextEquals('sip:TFX.example', 'sip:tfx.example')).toBe(true);
    expect(uriTextEquals('sip:[2001:DB8::1]', 'sip:[2001:db8:0:0::1]')).toBe(true);
    expect(uriTextEquals('sip:a@h;transport=tcp;lr', 'sip:a@h;lr;transport=TCP')).toBe(true);
    expect(uriTextEquals('sip:h', 'sip:h:5060')).toBe(false);
    expect(uriTextEquals('sip:a@h', 'sip:A@h')).toBe(false);
    expect(uriTextEquals('sip:h;maddr=1.2.3.4', 'sip:h')).toBe(false);
    expect(uriTextEquals('sip:h', 'sips:h')).toBe(false);
  });

  it('accepts a digest uri equal to the Request-URI as a URI, not as bytes', async () => {
    expect(await verifyWith('sip:TFX.EXAMPLE', 'sip:tfx.example')).toMatchObject({ ok: true });
  });

  it('accepts a digest uri naming the address:port the request was sent to (sipp), and says so', async () => {
    const v = await verifyWith('sip:127.0.0.1:5070', 'sip:tfx.example', {
      address: '127.0.0.1',
      port: 5070,
    });
    expect(v).toMatchObject({ ok: true, uriMatch: 'sent-to', username: 'alice' });
  });

  it('refuses a digest uri naming another port or another address (400 uri-mismatch)', async () => {
    for (const uri of ['sip:127.0.0.1:5071', 'sip:127.0.0.2:5070', 'sip:elsewhere.example']) {
      const v = await verifyWith(uri, 'sip:tfx.example', { address: '127.0.0.1', port: 5070 });
      expect(v, uri).toMatchObject({
        ok: false,
        action: 'reject',
        status: 400,
        reason: 'uri-mismatch',
      });
    }
  });
});
