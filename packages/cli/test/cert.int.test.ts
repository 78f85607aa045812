/**
 * `tfx cert` and the certificate check at start, on the real `tfx` command: a CA-issued server
 * certificate with its chain, a key of another certificate, a certificate that expired, and the
 * self-signed one TFX makes in its data dir.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { runTfx, startTfx, tempDataDir } from '../../../test/helpers/tfx-process.js';

const DAY = 86_400_000;
let dir = '';
const file = (name: string): string => join(dir, name);

async function issue(cn: string, ca?: { key: string; cert: string }, from = Date.now() - DAY) {
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(from),
    notAfterDate: new Date(from + 90 * DAY),
    ...(ca ? { ca } : {}),
    extensions: ca
      ? [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true },
          { name: 'subjectAltName', altNames: [{ type: 2 as const, value: cn }] },
        ]
      : [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true },
        ],
  });
  // One certificate a line block, ending in a newline, as PEM files are.
  return { cert: `${r.cert.trimEnd()}\n`, key: r.private };
}

beforeAll(async () => {
  dir = tempDataDir();
  const ca = await issue('Test CA');
  const good = await issue('call.test', ca);
  const other = await issue('other.test', ca);
  const old = await issue('old.test', ca, Date.now() - 100 * DAY);
  writeFileSync(file('fullchain.pem'), good.cert + ca.cert);
  writeFileSync(file('privkey.pem'), good.key);
  // `cat cert.pem chain.pem` of files without a final newline: OpenSSL refuses it.
  writeFileSync(file('glued.pem'), good.cert.trimEnd() + ca.cert);
  writeFileSync(file('other-key.pem'), other.key);
  writeFileSync(file('old.pem'), old.cert + ca.cert);
  writeFileSync(file('old-key.pem'), old.key);
}, 30_000);

describe('tfx cert', () => {
  it('check: a good chain and key is ok (exit 0) with its facts', async () => {
    const r = await runTfx([
      'cert',
      'check',
      '--cert',
      file('fullchain.pem'),
      '--key',
      file('privkey.pem'),
      '--host',
      'call.test',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('subject      CN=call.test');
    expect(r.stdout).toContain('chain        2 certificates in the file');
    expect(r.stdout).toContain('key          matches');
    expect(r.stdout).toMatch(/ok: TFX can serve it\n$/);
  });

  it('check: a key of another certificate and an expired certificate are refused (exit 1); --json says why', async () => {
    const mismatch = await runTfx([
      'cert',
      'check',
      '--cert',
      file('fullchain.pem'),
      '--key',
      file('other-key.pem'),
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain('key          DOES NOT MATCH');
    expect(mismatch.stdout).toContain('refused: 1 problem; TFX will not start with it');
    const expired = await runTfx(['cert', 'check', '--cert', file('old.pem'), '--json']);
    expect(expired.code).toBe(1);
    expect(JSON.parse(expired.stdout).problems).toEqual([expect.stringMatching(/^expired on /)]);
  });

  it('check: a missing file or one without a certificate is exit 2 with the reason', async () => {
    const missing = await runTfx(['cert', 'check', '--cert', file('nope.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the certificate');
    const notCert = await runTfx(['cert', 'check', '--cert', file('privkey.pem')]);
    expect(notCert.code).toBe(2);
    expect(notCert.stderr).toContain('no certificate found');
  });

  it('new and show: a self-signed certificate in the data dir, described; new refuses with an operator certificate', async () => {
    const dataDir = tempDataDir();
    const none = await runTfx(['cert', 'show', '--data-dir', dataDir]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no certificate yet');
    const made = await runTfx(['cert', 'new', '--data-dir', dataDir, '--host', 'meet.test']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('issuer       itself (self-signed)');
    expect(made.stdout).toContain('meet.test');
    const shown = await runTfx(['cert', 'show', '--data-dir', dataDir]);
    expect(shown.stdout).toContain('key          matches');
    const refused = await runTfx(['cert', 'new', '--data-dir', dataDir], {
      TFX_TLS_CERT: file('fullchain.pem'),
      TFX_TLS_KEY: file('privkey.pem'),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("serves the operator's certificate");
  });
});

describe('tfx start with the operator’s certificate', () => {
  it('refuses a key that does not belong to the certificate, or certificates glued together, saying so (exit 2), instead of a TLS error', async () => {
    const r = await runTfx([
      'start',
      '--no-sip',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      tempDataDir(),
      '--cert',
      file('fullchain.pem'),
      '--key',
      file('other-key.pem'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the key does not belong to this certificate');
    expect(r.stderr).toContain('tfx cert check');
    const glued = await runTfx([
      'start',
      '--no-sip',
      '--port',
      '0',
      '--data-dir',
      tempDataDir(),
      '--cert',
      file('glued.pem'),
      '--key',
      file('privkey.pem'),
    ]);
    expect(glued.code).toBe(2);
    expect(glued.stderr).toContain('a newline is missing between two certificates');
  });

  it('starts with a good chain and serves it', async () => {
    const p = await startTfx([
      '--no-sip',
      '--cert',
      file('fullchain.pem'),
      '--key',
      file('privkey.pem'),
    ]);
    try {
      expect(p.ready.event).toBe('ready');
    } finally {
      await p.stop();
    }
  });
});
