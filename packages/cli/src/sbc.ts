/**
 * `tfx sbc reload`: tells the running server to read its configuration again and swap the SBC's
 * rules (normalization, trunks, routes), through `POST /api/v1/sbc/reload` with the admin token
 * (docs/sbc.md, "Reload"). REST rather than a signal, so the operator sees the result: the new
 * rules generation, or the refusal naming the key (`sbc.zones[1].normalize[3].match: …`), with
 * exit status 1 when refused. SIGHUP to the `tfx start` process does the same without an answer.
 *
 * Where the server is: `--url`, else `server.publicUrl`, else `https://127.0.0.1:<server.port>`
 * from the same configuration (`-c`, `TFX_CONFIG`, the environment). The token: `--token`, else
 * `admin.token`, else `<dataDir>/admin-token`. The server's certificate is trusted when it is the
 * one the configuration serves (`tls.cert` or the self-signed one in `<dataDir>/tls`), besides
 * the system's CAs; nothing is sent to a server whose certificate fails.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Command } from 'commander';
import { TfxError, type SbcReload } from '@tfx/protocol';
import { loadConfig, readYamlFile, type Config } from '@tfx/server';
import { addDscpCommand } from './sbc-dscp.js';

export interface ReloadTarget {
  readonly url: string;
  readonly token: string;
  /** PEM certificates trusted besides the system's (the server's own). */
  readonly ca: readonly string[];
}

/** Where and how to reach the running server, from the options and the configuration. */
export function reloadTarget(
  opts: { url?: string | undefined; token?: string | undefined },
  config: Config,
): ReloadTarget {
  const token = opts.token ?? config.admin.token ?? readToken(config.dataDir);
  let url = opts.url ?? config.server.publicUrl;
  if (!url) {
    if (config.server.port === 0)
      throw new TfxError(
        'config-invalid',
        'server.port is 0 (any free port): give the server’s address with --url',
      );
    const host = ['0.0.0.0', '::'].includes(config.server.host) ? '127.0.0.1' : config.server.host;
    const h = host.includes(':') ? `[${host}]` : host;
    url = `${config.server.insecureHttp ? 'http' : 'https'}://${h}:${config.server.port}`;
  }
  const ca: string[] = [];
  const certFile = config.tls.cert ?? join(resolve(config.dataDir), 'tls', 'cert.pem');
  try {
    ca.push(readFileSync(certFile, 'utf8'));
  } catch {
    // No certificate of ours: the system's CAs decide.
  }
  return { url: url.replace(/\/+$/, ''), token, ca };
}

function readToken(dataDir: string): string {
  const path = join(resolve(dataDir), 'admin-token');
  try {
    const t = readFileSync(path, 'utf8').trim();
    if (t !== '') return t;
  } catch {
    // below
  }
  throw new TfxError(
    'unauthorized',
    `no admin token: give --token, set admin.token, or run where ${path} is readable`,
  );
}

/**
 * The configuration as the client reads it. The file may be the very one the server is about to
 * refuse: then only what the client needs (where the server is, its token and certificate: the
 * `server`, `admin`, `tls` and `dataDir` keys) is taken from it, and the server names the problem.
 */
export function clientConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  flags: Record<string, string> = {},
): Config {
  try {
    return loadConfig({ file, env, flags });
  } catch (err) {
    if (!file || !(err instanceof TfxError) || !err.code.startsWith('config')) throw err;
    const raw = readYamlFile(file);
    const values = Object.fromEntries(
      ['server', 'admin', 'tls', 'dataDir'].filter((k) => k in raw).map((k) => [k, raw[k]]),
    );
    return loadConfig({ env, flags, overrides: { label: `file ${file}`, values } });
  }
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** POST to the server; the body parsed as JSON. */
export function post(target: ReloadTarget, path: string, timeoutMs = 30_000): Promise<Answer> {
  const u = new URL(path, `${target.url}/`);
  const secure = u.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolvePost, reject) => {
    const req = send(
      u,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${target.token}`, 'content-length': '0' },
        timeout: timeoutMs,
        ...(secure && { ca: [...rootCertificates, ...target.ca] }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 1_000_000) chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          resolvePost({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${u.origin} in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** One line per fact, as an operator reads them. */
export function formatReload(r: SbcReload): string {
  const lines = [`ok: SBC rules reloaded (${r.message})`];
  for (const k of r.restartNeeded) lines.push(`note: ${k} changed; a restart applies it`);
  return `${lines.join('\n')}\n`;
}

export function addSbcCommands(program: Command, reportError: (err: unknown) => number): void {
  const sbc = program.command('sbc').description('operate the Session Border Controller');
  addDscpCommand(sbc, reportError); // tfx sbc dscp (sbc-dscp.ts)
  sbc
    .command('reload')
    .description(
      'read the configuration again and swap the SBC rules (normalization, trunks, routes) in the running server; a bad file is refused and the old rules keep serving',
    )
    .option('-c, --config <file>', 'the YAML configuration the server runs with [TFX_CONFIG]')
    .option('--data-dir <dir>', 'the server’s data directory (its admin token and certificate)')
    .option('--url <url>', 'the server (default: server.publicUrl, or https://127.0.0.1:<port>)')
    .option('--token <token>', 'admin token (default: admin.token, or <dataDir>/admin-token)')
    .addHelpText(
      'after',
      `
Same as SIGHUP to the tfx start process (kill -HUP <pid>), but it prints the result:
  ok: SBC rules reloaded (rules generation 2: …)          exit status 0
  tfx: reload-refused: invalid configuration: sbc.zones[1].normalize[3].match: …   exit status 1
Zones (listeners, media address, trust, security, limits) need a restart.`,
    )
    .action(async (opts: { config?: string; dataDir?: string; url?: string; token?: string }) => {
      try {
        const config = clientConfig(
          opts.config ?? process.env.TFX_CONFIG,
          process.env,
          opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {},
        );
        const target = reloadTarget(opts, config);
        const answer = await post(target, '/api/v1/sbc/reload').catch((err: unknown) => {
          throw new TfxError(
            'unavailable',
            `cannot reach the server at ${target.url}: ${(err as Error).message}`,
          );
        });
        if (answer.status === 200) {
          process.stdout.write(formatReload(answer.body as SbcReload));
          return;
        }
        const e = (answer.body as { error?: { code?: string; message?: string } }).error;
        process.stderr.write(
          `tfx: ${e?.code ?? `http ${answer.status}`}: ${e?.message ?? String(answer.body)}\n`,
        );
        process.exitCode = 1;
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
