/**
 * A real coturn (TESTING.md "coturn in tests") accepts the TURN REST credentials TFX mints, and
 * refuses expired ones and ones made with another secret with 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintIceServers, turnRestCredential, type IceConfig } from '../../src/turn/credentials.js';
import { StunMethod } from '@tfx/media/stun';
import { UdpStunClient, allocate } from './turn-client.js';

const SECRET = 'coturn-test-secret-0123456789';
const REALM = 'tfx.test';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let dir = '';
let coturn: ChildProcess | undefined;
let port = 0;
let output = '';

function config(listeningPort: number): IceConfig {
  return {
    turn: {
      secret: SECRET,
      urls: [`turn:127.0.0.1:${listeningPort}?transport=udp`],
      ttl: 86_400,
      stun: { enabled: false, port: 3478 },
    },
    server: { publicUrl: undefined },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfx-coturn-'));
  port = await freeUdpPort();
  const minPort = 40_000 + Math.floor(Math.random() * 20_000);
  const file = join(dir, 'turnserver.conf');
  await writeFile(
    file,
    [
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      `listening-port=${port}`,
      `min-port=${minPort}`,
      `max-port=${minPort + 50}`,
      `realm=${REALM}`,
      'use-auth-secret',
      `static-auth-secret=${SECRET}`,
      'allow-loopback-peers',
      'no-tls',
      'no-dtls',
      'no-cli',
      'fingerprint',
      `userdb=${join(dir, 'turndb')}`,
      `pidfile=${join(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
      '',
    ].join('\n'),
  );
  coturn = spawn('turnserver', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  coturn.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  coturn.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    coturn!.once('exit', (code) => reject(new Error(`turnserver exited (${code}):\n${output}`))),
  );
  // Ready when it answers a Binding request on its port.
  const probe = await UdpStunClient.open();
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await Promise.race([probe.request(port, StunMethod.binding, [], undefined, 500), exited]);
        break;
      } catch (err) {
        if (Date.now() > deadline || (err as Error).message.startsWith('turnserver exited'))
          throw err;
      }
    }
  } finally {
    probe.close();
  }
});

afterAll(async () => {
  const child = coturn;
  if (child?.pid && child.exitCode === null) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('TURN REST credentials against a real coturn (use-auth-secret)', () => {
  it('accepts credentials minted by mintIceServers: Allocate succeeds with a relayed address', async () => {
    const [server] = mintIceServers(config(port), 'peer-accepted', Date.now());
    expect(server?.username).toMatch(/^\d+:peer-accepted$/);
    const result = await allocate(port, server!.username!, server!.credential!);
    expect(result, output).toMatchObject({ status: 200, realm: REALM, integrityOk: true });
    expect(result.relayed?.address).toBe('127.0.0.1');
  });

  it('refuses credentials whose expiry has passed with 401', async () => {
    const longAgo = Date.now() - 2 * 86_400_000;
    const [server] = mintIceServers(config(port), 'peer-expired', longAgo);
    expect(Number(server!.username!.split(':')[0])).toBeLessThan(Date.now() / 1000);
    const result = await allocate(port, server!.username!, server!.credential!);
    expect(result.status).toBe(401);
  });

  it('refuses credentials made with another secret with 401', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    const forged = turnRestCredential('not-the-shared-secret', 'peer-forged', expiry);
    const result = await allocate(port, forged.username, forged.credential);
    expect(result.status).toBe(401);
  });

  it('refuses a valid username with a tampered credential with 401', async () => {
    const [server] = mintIceServers(config(port), 'peer-tampered', Date.now());
    const credential = server!.credential!;
    // Change the first character to a different one: a fixed 'x' would be no change at all when
    // the base64 HMAC happens to start with 'x' (1 run in 64 — it failed CI once that way).
    const tampered = `${credential.startsWith('x') ? 'y' : 'x'}${credential.slice(1)}`;
    expect(tampered).not.toBe(credential);
    const result = await allocate(port, server!.username!, tampered);
    expect(result.status).toBe(401);
  });
});
