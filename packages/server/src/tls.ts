/**
 * The platform's TLS identity: the operator's certificate (tls.cert / tls.key) or a self-signed
 * one generated on first start and kept in `<dataDir>/tls/` so browsers are asked to trust it
 * only once. Used by HTTPS, WSS and SIP over TLS.
 */
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { X509Certificate } from 'node:crypto';
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
}): Promise<TlsIdentity> {
  if (opts.certFile && opts.keyFile) {
    try {
      const [cert, key] = await Promise.all([
        readFile(opts.certFile, 'utf8'),
        readFile(opts.keyFile, 'utf8'),
      ]);
      return { cert, key, origin: 'operator', certPath: opts.certFile, ...describe(cert) };
    } catch (err) {
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
      return { cert, key, origin: 'reused', certPath, ...info };
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
  };
}
