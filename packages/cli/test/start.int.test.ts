import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import {
  runTfx,
  startTfx,
  tempDataDir,
  type TfxProcess,
} from '../../../test/helpers/tfx-process.js';

const running: TfxProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

async function start(
  args: string[] = [],
  opts: Parameters<typeof startTfx>[1] = {},
): Promise<TfxProcess> {
  const p = await startTfx(['--no-sip', ...args], opts);
  running.push(p);
  return p;
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tfx start', () => {
  it('listens on a free port with --port 0 and prints one ready line listing every listener', async () => {
    const p = await start();
    expect(p.ready.event).toBe('ready');
    const https = p.ready.listeners.find((l) => l.name === 'https');
    expect(https?.port).toBeGreaterThan(0);
    expect(p.ready.url).toBe(`https://127.0.0.1:${https?.port}`);
    const health = await get(`${p.ready.url}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    expect(p.stderr()).toContain(`Open      ${p.ready.url}/`);
  });

  it('generates a self-signed certificate on first start and reuses it on the next', async () => {
    const dataDir = tempDataDir();
    const first = await start([], { dataDir });
    const cert1 = readFileSync(join(dataDir, 'tls/cert.pem'), 'utf8');
    expect(statSync(join(dataDir, 'tls/key.pem')).mode & 0o777).toBe(0o600);
    const x = new X509Certificate(cert1);
    expect(x.subjectAltName).toContain('DNS:localhost');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(first.stderr()).toContain('self-signed certificate (generated)');
    expect(await first.stop()).toBe(0);

    const second = await start([], { dataDir });
    expect(readFileSync(join(dataDir, 'tls/cert.pem'), 'utf8')).toBe(cert1);
    expect(second.stderr()).toContain('self-signed certificate (reused)');
  });

  it('generates the admin token once, saves it with mode 0600, prints it once, and never logs it', async () => {
    const dataDir = tempDataDir();
    const first = await start(['--log-level', 'debug'], { dataDir });
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(first.stderr()).toContain(`admin token (shown this once): ${token}`);
    const metrics = await get(`${first.ready.url}/metrics`, { authorization: `Bearer ${token}` });
    expect(metrics.status).toBe(200);
    expect((await get(`${first.ready.url}/metrics`)).status).toBe(401);
    expect(
      (await get(`${first.ready.url}/metrics`, { authorization: 'Bearer wrong-token-wrong-token' }))
        .status,
    ).toBe(401);
    expect(first.stdout()).not.toContain(token);
    await first.stop();

    const second = await start([], { dataDir });
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()).toBe(token);
    expect(second.stderr()).not.toContain(token);
    expect(second.stdout()).not.toContain(token);
  });

  it('takes the admin token from TFX_ADMIN_TOKEN and does not write a token file', async () => {
    const dataDir = tempDataDir();
    const p = await start([], { dataDir, env: { TFX_ADMIN_TOKEN: 'operator-chosen-token-123' } });
    expect(
      (await get(`${p.ready.url}/metrics`, { authorization: 'Bearer operator-chosen-token-123' }))
        .status,
    ).toBe(200);
    expect(() => statSync(join(dataDir, 'admin-token'))).toThrow();
    expect(p.stderr()).not.toContain('operator-chosen-token-123');
  });

  it('drains on SIGTERM and exits 0', async () => {
    const p = await start();
    const code = await p.stop('SIGTERM');
    expect(code).toBe(0);
    expect(p.stdout()).toContain('{"event":"stopped","signal":"SIGTERM"}');
    expect(p.stdout()).toContain('"msg":"draining"');
  });

  it('serves plain HTTP with --insecure-http on loopback', async () => {
    const p = await start(['--insecure-http']);
    expect(p.ready.url.startsWith('http://127.0.0.1:')).toBe(true);
    expect(p.ready.listeners[0]?.protocol).toBe('http');
  });
});

describe('tfx start with a bad configuration', () => {
  it('refuses an unknown key in the config file before anything listens, naming key and file', async () => {
    const dataDir = tempDataDir();
    const file = join(dataDir, 'tfx.yaml');
    writeFileSync(file, 'server:\n  prot: 1\n');
    const r = await runTfx([
      'start',
      '--config',
      file,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--no-sip',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('server.prot');
    expect(r.stderr).toContain(file);
    expect(r.stdout).not.toContain('"event":"ready"');
  });

  it('refuses --insecure-http on a non-loopback host', async () => {
    const r = await runTfx([
      'start',
      '--insecure-http',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--data-dir',
      tempDataDir(),
      '--no-sip',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('insecure-http-refused');
  });

  it('names the environment variable that holds a bad value', async () => {
    const r = await runTfx(['start', '--port', '0', '--data-dir', tempDataDir(), '--no-sip'], {
      TFX_SIGNALLING_ROOM_CAPACITY: 'many',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TFX_SIGNALLING_ROOM_CAPACITY');
  });

  it('reports a port already in use as a clear listen error', async () => {
    const p = await start();
    const port = String(p.ready.listeners[0]?.port);
    const r = await runTfx([
      'start',
      '--port',
      port,
      '--host',
      '127.0.0.1',
      '--data-dir',
      tempDataDir(),
      '--no-sip',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('listen-failed');
  });
});

describe('tfx CLI', () => {
  it('prints its version', async () => {
    const r = await runTfx(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('has help for every subcommand', async () => {
    for (const args of [
      ['--help'],
      ['start', '--help'],
      ['config', '--help'],
      ['config', 'check', '--help'],
    ]) {
      const r = await runTfx(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: tfx');
    }
    const startHelp = await runTfx(['start', '--help']);
    for (const flag of [
      '--port',
      '--host',
      '--data-dir',
      '--config',
      '--admin-token',
      '--insecure-http',
      '--cert',
      '--key',
    ]) {
      expect(startHelp.stdout).toContain(flag);
    }
  });

  it('checks a configuration file: ok for a valid one, exit 2 and the key for a bad one', async () => {
    const dir = tempDataDir();
    writeFileSync(join(dir, 'good.yaml'), 'server:\n  port: 9443\n');
    writeFileSync(join(dir, 'bad.yaml'), 'sip:\n  port: -5\n');
    const good = await runTfx(['config', 'check', join(dir, 'good.yaml')]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('ok: configuration is valid');
    const bad = await runTfx(['config', 'check', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sip.port');
  });

  it('prints the effective configuration with secrets redacted', async () => {
    const r = await runTfx(['config', 'print'], {
      TFX_ADMIN_TOKEN: 'a-secret-admin-token',
      TFX_TURN_SECRET: 'turn-shared-secret',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('a-secret-admin-token');
    expect(r.stdout).not.toContain('turn-shared-secret');
    expect(JSON.parse(r.stdout).admin.token).toBe('[redacted]');
  });
});
