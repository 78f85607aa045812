/**
 * `tfx cert`: the certificate side of running TFX.
 * - `check --cert F [--key K] [--host H]`: what an operator would check with openssl before
 *   pointing TFX at a certificate (parses, key matches, valid now, names cover the host, chain in
 *   order and complete). Exit status 1 when TFX would refuse it.
 * - `show`: the certificate TFX serves with this configuration (the operator's or the
 *   self-signed one in the data dir).
 * - `new`: makes a fresh self-signed certificate in the data dir (say after a rename of the host).
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TfxError } from '@tfx/protocol';
import {
  inspectCertificate,
  loadConfig,
  loadOrCreateTls,
  type CertificateReport,
} from '@tfx/server';

/** The report as people read it: one fact a line, then problems and warnings, then a verdict. */
export function formatReport(file: string, r: CertificateReport, keyChecked: boolean): string {
  const lines = [
    `certificate  ${file}`,
    `subject      ${r.subject}`,
    `issuer       ${r.selfSigned ? 'itself (self-signed)' : r.issuer}`,
    `names        ${r.names.join(', ') || '(none)'}`,
    `valid        ${r.validFrom} → ${r.validTo} (${r.daysLeft >= 0 ? `${r.daysLeft} days left` : 'expired'})`,
    `SHA-256      ${r.fingerprint}`,
    `chain        ${r.chain} certificate${r.chain === 1 ? '' : 's'} in the file`,
  ];
  if (keyChecked)
    lines.push(
      `key          ${r.problems.some((p) => p.startsWith('the key')) ? 'DOES NOT MATCH' : 'matches'}`,
    );
  for (const p of r.problems) lines.push(`problem: ${p}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(
    r.problems.length === 0
      ? `ok: TFX can serve it${r.warnings.length ? ` (${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'})` : ''}`
      : `refused: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; TFX will not start with it`,
  );
  return `${lines.join('\n')}\n`;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TfxError(
      'config-invalid',
      `cannot read the ${what} ${file}: ${(err as Error).message}`,
    );
  }
}

async function checkFiles(opts: {
  cert: string;
  key?: string | undefined;
  host?: string | undefined;
  json?: boolean;
}): Promise<number> {
  const cert = await readText(opts.cert, 'certificate');
  const key = opts.key ? await readText(opts.key, 'key') : undefined;
  const r = inspectCertificate({ cert, key, host: opts.host });
  process.stdout.write(
    opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatReport(opts.cert, r, key !== undefined),
  );
  return r.problems.length > 0 ? 1 : 0;
}

function configOf(opts: { config?: string | undefined; dataDir?: string | undefined }) {
  return loadConfig({
    file: opts.config ?? process.env.TFX_CONFIG,
    env: process.env,
    ...(opts.dataDir ? { flags: { dataDir: opts.dataDir } } : {}),
  });
}

export function addCertCommands(program: Command, report: (err: unknown) => number): void {
  const cert = program
    .command('cert')
    .description('check, show and renew the TLS certificate (HTTPS, WSS, SIP over TLS)');
  cert
    .command('check')
    .description(
      'check a certificate (and its key) before using it: key matches, valid now, names, chain order',
    )
    .requiredOption(
      '--cert <file>',
      'PEM certificate, the server certificate first (fullchain.pem)',
    )
    .option('--key <file>', 'PEM private key (privkey.pem)')
    .option('--host <name>', 'the host name or address clients use (e.g. from server.publicUrl)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Exit status: 0 when TFX can serve it (warnings are printed), 1 when it would refuse it, 2 when a
file cannot be read.

Example:
  tfx cert check --cert /etc/letsencrypt/live/call.example.com/fullchain.pem \\
                 --key /etc/letsencrypt/live/call.example.com/privkey.pem --host call.example.com`,
    )
    .action(async (opts: { cert: string; key?: string; host?: string; json?: boolean }) => {
      try {
        process.exitCode = await checkFiles(opts);
      } catch (err) {
        process.exitCode = report(err);
      }
    });
  cert
    .command('show')
    .description('show the certificate TFX serves with this configuration')
    .option('-c, --config <file>', 'YAML configuration file [TFX_CONFIG]')
    .option('--data-dir <dir>', 'data directory (default: dataDir) [TFX_DATA_DIR]')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { config?: string; dataDir?: string; json?: boolean }) => {
      try {
        const cfg = configOf(opts);
        const own = join(resolve(cfg.dataDir), 'tls');
        const file = cfg.tls.cert ?? join(own, 'cert.pem');
        if (!existsSync(file)) {
          process.stdout.write(
            `no certificate yet: the first \`tfx start\` makes a self-signed one in ${own}/ (or run: tfx cert new)\n`,
          );
          return;
        }
        process.exitCode = await checkFiles({
          cert: file,
          key: cfg.tls.cert ? cfg.tls.key : join(own, 'key.pem'),
          host: cfg.server.publicUrl ? new URL(cfg.server.publicUrl).hostname : undefined,
          json: opts.json ?? false,
        });
      } catch (err) {
        process.exitCode = report(err);
      }
    });
  cert
    .command('new')
    .description('make a fresh self-signed certificate in the data dir (replaces the old one)')
    .option('-c, --config <file>', 'YAML configuration file [TFX_CONFIG]')
    .option('--data-dir <dir>', 'data directory (default: dataDir) [TFX_DATA_DIR]')
    .option('--host <name>', 'an extra name or address for it (besides localhost and this host)')
    .action(async (opts: { config?: string; dataDir?: string; host?: string }) => {
      try {
        const cfg = configOf(opts);
        if (cfg.tls.cert)
          throw new TfxError(
            'config-invalid',
            `this configuration serves the operator's certificate (tls.cert ${cfg.tls.cert}); renew that one where it was issued`,
            { key: 'tls.cert' },
          );
        const dataDir = resolve(cfg.dataDir);
        const dir = join(dataDir, 'tls');
        await rm(join(dir, 'cert.pem'), { force: true });
        await rm(join(dir, 'key.pem'), { force: true });
        const tls = await loadOrCreateTls({ dataDir, host: opts.host ?? cfg.server.host });
        const r = inspectCertificate({ cert: tls.cert, key: tls.key });
        process.stdout.write(formatReport(tls.certPath, r, true));
        process.stdout.write('a running TFX serves it after its next start\n');
      } catch (err) {
        process.exitCode = report(err);
      }
    });
}
