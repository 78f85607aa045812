/**
 * The platform's TLS identity: the operator's certificate (tls.cert / tls.key) or a self-signed
 * one generated on first start and kept in `<dataDir>/tls/` so browsers are asked to trust it
 * only once. Used by HTTPS, WSS and SIP over TLS.
 */
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { TfxError } from '@tfx/protocol';

export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
  /** Where it came from: the operator's files, or generated now, or reused from the data dir. */
  readonly origin: 'operator' | 'generated' | 'reused';
  readonly certPath: string;
  /** SHA-256 fingerprint, shown in the banner so a person can compare it in the browser. */
  readonly fingerprint: string;
  readonly validTo: string;
  /** What the operator should know but that does not stop the start (see inspectCertificate). */
  readonly warnings: readonly string[];
}

/** What `inspectCertificate` found: facts, and the problems that make the files unusable. */
export interface CertificateReport {
  readonly subject: string;
  readonly issuer: string;
  readonly selfSigned: boolean;
  /** Subject alternative names: DNS names and IP addresses. */
  readonly names: readonly string[];
  readonly validFrom: string;
  readonly validTo: string;
  /** Whole days until it expires (negative once expired). */
  readonly daysLeft: number;
  readonly fingerprint: string;
  /** Certificates in the file: the server's own first, then its intermediates. */
  readonly chain: number;
  /** Each of these makes the certificate unusable (TFX refuses to start with it). */
  readonly problems: readonly string[];
  /** Each of these will make some clients complain. */
  readonly warnings: readonly string[];
}

/** A certificate about to expire is worth a warning this many days before. */
export const EXPIRY_WARNING_DAYS = 21;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const DAY_MS = 86_400_000;

/** `child` names `parent` as its issuer and carries its signature. */
function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.issuer === parent.subject && child.verify(parent.publicKey);
}

/**
 * Checks a certificate file (and optionally its key and the host clients will use) the way an
 * operator would by hand with openssl: it parses, the key belongs to it, it is valid now and for
 * how long, its names cover the host, and the chain is in order (server certificate first, each
 * issued by the next) and complete. Pure: no I/O. Throws `config-invalid` if `cert` holds no
 * certificate at all.
 */
export function inspectCertificate(input: {
  readonly cert: string;
  readonly key?: string | undefined;
  readonly host?: string | undefined;
  readonly now?: number;
}): CertificateReport {
  const now = input.now ?? Date.now();
  const pems = input.cert.match(PEM_CERT) ?? [];
  const chain: X509Certificate[] = [];
  for (const pem of pems) {
    try {
      chain.push(new X509Certificate(pem));
    } catch (err) {
      if (chain.length === 0)
        throw new TfxError(
          'config-invalid',
          `not a readable certificate: ${(err as Error).message}`,
        );
    }
  }
  const leaf = chain[0];
  if (!leaf)
    throw new TfxError(
      'config-invalid',
      'no certificate found: expected a PEM file starting with -----BEGIN CERTIFICATE-----',
    );
  const problems: string[] = [];
  const warnings: string[] = [];
  // OpenSSL (and so the TLS server) refuses "-----END CERTIFICATE----------BEGIN CERTIFICATE-----":
  // files joined with `cat` without a newline between them.
  const glued = [...input.cert.matchAll(PEM_CERT)].filter(
    (m) => m.index > 0 && input.cert[m.index - 1] !== '\n',
  ).length;
  if (glued > 0)
    problems.push(
      `${glued === 1 ? 'a certificate does' : `${glued} certificates do`} not start on a line of its own (a newline is missing between two certificates)`,
    );
  if (chain.length < pems.length)
    problems.push(
      `${pems.length - chain.length} of the ${pems.length} certificates in the file do not parse`,
    );

  if (input.key !== undefined) {
    let key: KeyObject | undefined;
    try {
      key = createPrivateKey(input.key);
    } catch {
      problems.push(
        'the key is not a readable PEM private key (an encrypted key is not supported)',
      );
    }
    if (key && !leaf.checkPrivateKey(key))
      problems.push('the key does not belong to this certificate (its public key differs)');
  }

  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  const daysLeft = Math.floor((to - now) / DAY_MS);
  if (now < from) problems.push(`not valid yet: valid from ${new Date(from).toISOString()}`);
  else if (now >= to) problems.push(`expired on ${new Date(to).toISOString()}`);
  else if (daysLeft < EXPIRY_WARNING_DAYS) warnings.push(`expires in ${daysLeft} days`);

  const names = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((n) => n.replace(/^(DNS|IP Address):/, ''));
  const host = input.host?.replace(/^\[(.*)\]$/, '$1');
  if (host && host !== '0.0.0.0' && host !== '::') {
    const covered = isIP(host)
      ? leaf.checkIP(host) !== undefined
      : leaf.checkHost(host) !== undefined;
    if (!covered)
      warnings.push(
        `its names (${names.join(', ') || 'none'}) do not cover ${host}: browsers will refuse it there`,
      );
  }
  if (leaf.ca) warnings.push('the first certificate is a CA certificate, not a server certificate');

  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i]!, chain[i + 1]!];
    if (!issuedBy(child, parent))
      problems.push(
        `the chain is out of order: certificate ${i + 2} did not issue certificate ${i + 1} (the server's own certificate comes first, then each issuer)`,
      );
  }
  const selfSigned = issuedBy(leaf, leaf);
  if (!selfSigned && chain.length === 1)
    warnings.push(
      'no intermediate certificates: give the full chain (e.g. fullchain.pem, not cert.pem), or some clients will not trust it',
    );
  else if (selfSigned) warnings.push('self-signed: browsers ask people to trust it once');

  return {
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    selfSigned,
    names,
    validFrom: new Date(from).toISOString(),
    validTo: new Date(to).toISOString(),
    daysLeft,
    fingerprint: leaf.fingerprint256,
    chain: chain.length,
    problems,
    warnings,
  };
}

function describe(cert: string): { fingerprint: string; validTo: string } {
  const x = new X509Certificate(cert);
  return { fingerprint: x.fingerprint256, validTo: new Date(x.validTo).toISOString() };
}

export async function loadOrCreateTls(opts: {
  dataDir: string;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  host: string;
  /** The name clients use (from server.publicUrl): the operator's certificate should cover it. */
  publicHost?: string | undefined;
}): Promise<TlsIdentity> {
  if (opts.certFile && opts.keyFile) {
    try {
      const [cert, key] = await Promise.all([
        readFile(opts.certFile, 'utf8'),
        readFile(opts.keyFile, 'utf8'),
      ]);
      const report = checkOperatorFiles(cert, key, opts);
      return {
        cert,
        key,
        origin: 'operator',
        certPath: opts.certFile,
        fingerprint: report.fingerprint,
        validTo: report.validTo,
        warnings: report.warnings,
      };
    } catch (err) {
      if (err instanceof TfxError) throw err;
      throw new TfxError(
        'config-invalid',
        `tls.cert/tls.key: cannot read ${opts.certFile} or ${opts.keyFile}: ${(err as Error).message}`,
        {
          key: 'tls.cert',
        },
      );
    }
  }
  const dir = join(opts.dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const info = describe(cert);
    // Regenerate a self-signed certificate that expired; keep one still valid.
    if (Date.parse(info.validTo) > Date.now() + 86_400_000)
      return { cert, key, origin: 'reused', certPath, ...info, warnings: [] };
  }
  const { generate } = await import('selfsigned');
  const names = new Set(['localhost', hostname()]);
  if (!['0.0.0.0', '::'].includes(opts.host) && !/^[\d.:]+$/.test(opts.host)) names.add(opts.host);
  const ips = new Set(['127.0.0.1', '::1']);
  if (/^[\d.:]+$/.test(opts.host) && !['0.0.0.0', '::'].includes(opts.host)) ips.add(opts.host);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 825 * 86_400_000);
  const pems = await generate(
    [
      { name: 'commonName', value: 'TFX self-signed' },
      { name: 'organizationName', value: 'TFX' },
    ],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: notBefore,
      notAfterDate: notAfter,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...[...names].map((value) => ({ type: 2 as const, value })),
            ...[...ips].map((ip) => ({ type: 7 as const, ip })),
          ],
        },
      ],
    },
  );
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return {
    cert: pems.cert,
    key: pems.private,
    origin: 'generated',
    certPath,
    ...describe(pems.cert),
    warnings: [],
  };
}

/** The operator's certificate and key, checked before a TLS server fails on them obscurely. */
function checkOperatorFiles(
  cert: string,
  key: string,
  opts: {
    certFile?: string | undefined;
    keyFile?: string | undefined;
    publicHost?: string | undefined;
  },
): CertificateReport {
  let report: CertificateReport;
  try {
    report = inspectCertificate({ cert, key, host: opts.publicHost });
  } catch (err) {
    throw new TfxError('config-invalid', `tls.cert ${opts.certFile}: ${(err as Error).message}`, {
      key: 'tls.cert',
    });
  }
  if (report.problems.length > 0)
    throw new TfxError(
      'config-invalid',
      `tls.cert ${opts.certFile} / tls.key ${opts.keyFile}: ${report.problems.join('; ')} (check them with: tfx cert check --cert ${opts.certFile} --key ${opts.keyFile})`,
      { key: 'tls.cert' },
    );
  return report;
}
