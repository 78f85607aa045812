/**
 * `inspectCertificate` on real certificates made here (selfsigned, EC P-256): a CA and a server
 * certificate it issued, keys that match and that do not, expired and future certificates, chains
 * in and out of order, and input that is not a certificate at all.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import { inspectCertificate } from '../src/tls.js';

type Pems = { cert: string; key: string };
const DAY = 86_400_000;
let ca: Pems;
let leaf: Pems;
let other: Pems;
let expired: Pems;
let future: Pems;
let selfSigned: Pems;

async function make(
  cn: string,
  o: {
    ca?: Pems;
    isCa?: boolean;
    from?: number;
    days?: number;
    names?: string[];
  } = {},
): Promise<Pems> {
  const from = new Date(o.from ?? Date.now() - DAY);
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: from,
    notAfterDate: new Date(from.getTime() + (o.days ?? 90) * DAY),
    ...(o.ca ? { ca: { key: o.ca.key, cert: o.ca.cert } } : {}),
    extensions: o.isCa
      ? [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: (o.names ?? ['call.test']).map((value) =>
              /^[\d.]+$/.test(value)
                ? { type: 7 as const, ip: value }
                : { type: 2 as const, value },
            ),
          },
        ],
  });
  // One certificate a line block, ending in a newline, as PEM files are.
  return { cert: `${r.cert.trimEnd()}\n`, key: r.private };
}

beforeAll(async () => {
  ca = await make('Test CA', { isCa: true, days: 365 });
  leaf = await make('call.test', { ca, names: ['call.test', '*.call.test', '192.0.2.7'] });
  other = await make('other.test', { ca });
  expired = await make('old.test', { ca, from: Date.now() - 100 * DAY, days: 90 });
  future = await make('soon.test', { ca, from: Date.now() + 10 * DAY });
  selfSigned = await make('self.test');
}, 30_000);

describe('inspectCertificate', () => {
  it('a full chain with its key: no problems, the facts right, the host covered', () => {
    const r = inspectCertificate({
      cert: `${leaf.cert}\n${ca.cert}`,
      key: leaf.key,
      host: 'www.call.test',
    });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r).toMatchObject({ chain: 2, selfSigned: false, subject: 'CN=call.test' });
    expect(r.issuer).toBe('CN=Test CA');
    expect(r.names).toEqual(['call.test', '*.call.test', '192.0.2.7']);
    expect(r.daysLeft).toBeGreaterThanOrEqual(88);
    expect(r.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(inspectCertificate({ cert: leaf.cert + ca.cert, host: '192.0.2.7' }).warnings).toEqual(
      [],
    );
  });

  it('another certificate’s key is a problem, as is a key that is not a key', () => {
    const mismatch = inspectCertificate({ cert: leaf.cert + ca.cert, key: other.key });
    expect(mismatch.problems).toEqual([
      'the key does not belong to this certificate (its public key differs)',
    ]);
    const garbage = inspectCertificate({ cert: leaf.cert, key: 'not a key' });
    expect(garbage.problems).toEqual([expect.stringContaining('not a readable PEM private key')]);
  });

  it('expired and not-yet-valid certificates are problems; one close to expiry is a warning', () => {
    expect(inspectCertificate({ cert: expired.cert + ca.cert }).problems).toEqual([
      expect.stringMatching(/^expired on \d{4}-/),
    ]);
    expect(inspectCertificate({ cert: future.cert + ca.cert }).problems).toEqual([
      expect.stringMatching(/^not valid yet/),
    ]);
    const soon = inspectCertificate({ cert: leaf.cert + ca.cert, now: Date.now() + 80 * DAY });
    expect(soon.problems).toEqual([]);
    expect(soon.warnings).toEqual([expect.stringMatching(/^expires in \d+ days$/)]);
  });

  it('a chain in the wrong order is a problem; a server certificate alone is a warning', () => {
    const reversed = inspectCertificate({ cert: ca.cert + leaf.cert, key: leaf.key });
    expect(reversed.problems).toContain(
      'the key does not belong to this certificate (its public key differs)',
    );
    expect(reversed.problems.some((p) => p.startsWith('the chain is out of order'))).toBe(true);
    expect(reversed.warnings).toContain(
      'the first certificate is a CA certificate, not a server certificate',
    );
    const alone = inspectCertificate({ cert: leaf.cert, key: leaf.key });
    expect(alone.problems).toEqual([]);
    expect(alone.warnings).toEqual([expect.stringContaining('no intermediate certificates')]);
    const unrelated = inspectCertificate({ cert: leaf.cert + other.cert });
    expect(unrelated.problems).toEqual([expect.stringContaining('certificate 2 did not issue')]);
  });

  it('names that do not cover the host are a warning (names, IPs, [IPv6] and wildcards)', () => {
    const full = leaf.cert + ca.cert;
    expect(inspectCertificate({ cert: full, host: 'elsewhere.test' }).warnings).toEqual([
      expect.stringContaining('do not cover elsewhere.test'),
    ]);
    expect(inspectCertificate({ cert: full, host: '192.0.2.7' }).warnings).toEqual([]);
    expect(inspectCertificate({ cert: full, host: '192.0.2.8' }).warnings).toHaveLength(1);
    expect(inspectCertificate({ cert: full, host: 'a.b.call.test' }).warnings).toHaveLength(1);
    expect(inspectCertificate({ cert: full, host: '[::1]' }).warnings).toHaveLength(1);
    expect(inspectCertificate({ cert: full, host: '0.0.0.0' }).warnings).toEqual([]);
  });

  it('a self-signed certificate is recognised and warned about', () => {
    const r = inspectCertificate({ cert: selfSigned.cert, key: selfSigned.key });
    expect(r).toMatchObject({ selfSigned: true, chain: 1, problems: [] });
    expect(r.warnings).toEqual(['self-signed: browsers ask people to trust it once']);
  });

  it('certificates joined without a newline between them are a problem (OpenSSL refuses them)', () => {
    const glued = inspectCertificate({ cert: leaf.cert.trimEnd() + ca.cert, key: leaf.key });
    expect(glued.problems).toEqual([
      'a certificate does not start on a line of its own (a newline is missing between two certificates)',
    ]);
    expect(inspectCertificate({ cert: `${leaf.cert.trimEnd()}\n${ca.cert}` }).problems).toEqual([]);
  });

  it('hostile input: no certificate, a broken one, a broken second one, binary junk', () => {
    for (const cert of ['', 'hello', '\u0000\u00ff'.repeat(1000), ca.key]) {
      expect(() => inspectCertificate({ cert })).toThrow(/no certificate found/);
    }
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(() => inspectCertificate({ cert: broken })).toThrow(/not a readable certificate/);
    const r = inspectCertificate({ cert: leaf.cert + broken });
    expect(r.chain).toBe(1);
    expect(r.problems).toContain('1 of the 2 certificates in the file do not parse');
  });
});
