/** A real platform with the SIP module on port 0, and sipp runs against it. */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createLogger, loadConfig, startPlatform, type Platform } from '../../src/index.js';
import { createSipModule, type SipModule } from '../../src/sip/index.js';

export const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));
export const DOMAIN = 'tfx.test';
export const PASSWORDS: Record<string, string> = {
  alice: 'alice-secret-1',
  bob: 'bob-secret-12',
  carol: 'carol-secret-123',
};
export const TOKEN = 'test-admin-token-0123456789';

export interface SipTestServer {
  readonly platform: Platform;
  readonly module: SipModule;
  readonly dataDir: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly httpsPort: number;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  close(): Promise<void>;
}

export async function startSipServer(
  flags: Record<string, string | boolean> = {},
  dataDir?: string,
): Promise<SipTestServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'tfx-sip-')));
  const users = Object.entries(PASSWORDS).map(([username, password]) => ({ username, password }));
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'admin.token': TOKEN,
      'sip.port': '0',
      'sip.tlsPort': '0',
      'sip.domain': DOMAIN,
      'sip.users': JSON.stringify(users),
      'sip.traceMessages': '2000',
      ...flags,
    },
  });
  const logger = createLogger({
    level: process.env.TFX_TEST_LOG ? 'debug' : 'warn',
    format: 'json',
    ...(process.env.TFX_TEST_LOG
      ? {}
      : { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
  });
  const module = createSipModule();
  const platform = await startPlatform(config, { logger, modules: [module], version: 'test' });
  const find = (name: string) => platform.listeners.find((l) => l.name === name)?.port ?? 0;
  const httpsPort = find('https');
  return {
    platform,
    module,
    dataDir: dir,
    port: find('sip-udp'),
    tlsPort: find('sip-tls'),
    httpsPort,
    async api(method, path, body) {
      const res = await fetchInsecure(`https://127.0.0.1:${httpsPort}${path}`, method, body);
      return res;
    },
    close: () => platform.close(),
  };
}

/** HTTPS request to the self-signed server (node:https with rejectUnauthorized false). */
async function fetchInsecure(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        rejectUnauthorized: false,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(data !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A free UDP port on loopback (also free for TCP most of the time; retried by callers). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface SippResult {
  readonly code: number | null;
  readonly successful: number;
  readonly failed: number;
  readonly output: string;
}

/**
 * Runs sipp to completion (bounded by -m and a timeout) and reads its final statistics from
 * the -trace_stat file: SuccessfulCall(C) and FailedCall(C).
 */
export async function sipp(
  args: readonly string[],
  timeoutMs = 60_000,
  /** Aborting kills sipp (SIGKILL): how the `sipp` fixture ends a UAS a test left waiting. */
  signal?: AbortSignal,
): Promise<SippResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sipp-'));
  const stf = join(dir, 'stat.csv');
  const child = spawn(
    'sipp',
    [
      ...args,
      '-nostdin',
      '-trace_stat',
      '-stf',
      stf,
      '-fd',
      '1',
      '-timeout',
      `${Math.ceil(timeoutMs / 1000)}s`,
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      killSignal: 'SIGKILL',
      ...(signal ? { signal } : {}),
    },
  );
  child.on('error', () => undefined); // an abort: 'exit' follows
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output = (output + c.toString('latin1')).slice(-20_000)));
  child.stderr.on('data', (c: Buffer) => (output = (output + c.toString('latin1')).slice(-20_000)));
  const code = await new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
    child.on('exit', (c) => {
      clearTimeout(kill);
      resolve(c);
    });
  });
  let successful = 0;
  let failed = 0;
  try {
    const text = await readFile(stf, 'utf8');
    const lines = text.trim().split('\n');
    const header = (lines[0] ?? '').split(';');
    const last = (lines[lines.length - 1] ?? '').split(';');
    successful = Number(last[header.indexOf('SuccessfulCall(C)')] ?? 0);
    failed = Number(last[header.indexOf('FailedCall(C)')] ?? 0);
  } catch {
    const files = await readdir(dir).catch(() => []);
    output += `\n(no stat file; files: ${files.join(', ')})`;
  }
  return { code, successful, failed, output };
}

/** Starts sipp in the background (a UAS); `done` resolves with its result. */
export function sippBackground(
  args: readonly string[],
  timeoutMs = 60_000,
): { done: Promise<SippResult> } {
  return { done: sipp(args, timeoutMs) };
}

export function keys(k: Record<string, string | number>): string[] {
  return Object.entries(k).flatMap(([name, v]) => ['-key', name, String(v)]);
}

/**
 * sipp arguments for alice (digest as alice) calling `callee` through `server`: a call of
 * `scenario` (default uac.xml) to `callee@domain` (default our domain), `calls` times.
 */
export function aliceCalls(
  server: Pick<SipTestServer, 'port'>,
  o: {
    callee: string;
    scenario?: string;
    domain?: string;
    transport?: 'u1' | 't1';
    calls?: number;
    extra?: readonly string[];
  },
): string[] {
  return [
    `127.0.0.1:${server.port}`,
    '-sf',
    join(SCENARIOS, o.scenario ?? 'uac.xml'),
    '-i',
    '127.0.0.1',
    '-t',
    o.transport ?? 'u1',
    '-s',
    o.callee,
    '-au',
    'alice',
    '-ap',
    PASSWORDS.alice!,
    ...keys({ domain: DOMAIN, caller: 'alice' }),
    '-m',
    String(o.calls ?? 1),
    ...(o.extra ?? []),
  ];
}

/** REGISTER `user` with Contact port `contactPort` via sipp (digest). */
export function register(
  server: SipTestServer,
  user: string,
  contactPort: number,
  opts: {
    transport?: 'u1' | 't1';
    password?: string;
    expect?: 200 | 403 | 400;
    expires?: number;
    /** A digest uri of our choice (sipp's default: the address:port it sends to). */
    authUri?: string;
  } = {},
): Promise<SippResult> {
  const scenario = {
    200: 'register.xml',
    403: 'register-refused.xml',
    400: 'register-uri-mismatch.xml',
  };
  return sipp([
    `127.0.0.1:${server.port}`,
    '-sf',
    join(SCENARIOS, scenario[opts.expect ?? 200]),
    ...(opts.authUri !== undefined ? ['-auth_uri', opts.authUri] : []),
    '-i',
    '127.0.0.1',
    '-t',
    opts.transport ?? 'u1',
    '-s',
    user,
    '-au',
    user,
    '-ap',
    opts.password ?? PASSWORDS[user] ?? 'x',
    ...keys({
      domain: DOMAIN,
      contact_port: contactPort,
      expires: opts.expires ?? 300,
    }),
    '-m',
    '1',
  ]);
}
