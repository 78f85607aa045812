/**
 * Scale-out (issue 10): two browsers on two different TFX processes sharing one redis-server are
 * in one call, with media verified both ways. Redis and both servers are started by the test
 * (inside the loopback-only namespace) and stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { test, expect } from './fixtures/index.js';
import {
  expectMediaFromAll,
  peerId,
  peerIds,
  startServer,
  type Participant,
  type TfxServer,
} from './support.js';

const ADMIN = 'e2e-scale-out-admin-token-0123';
let redis: ChildProcess | undefined;
const servers: TfxServer[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

test.beforeAll(async () => {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  redis = child;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 2; i++)
    servers.push(await startServer(['--redis', url, '--admin-token', ADMIN]));
});

test.afterAll(async () => {
  for (const s of servers) await s.stop();
  if (redis?.pid && redis.exitCode === null) process.kill(redis.pid, 'SIGKILL');
});

test('two browsers on two TFX processes sharing Redis are in one call and see and hear each other', async ({
  call,
}) => {
  const [one, two] = servers as [TfxServer, TfxServer];
  expect(one.url).not.toBe(two.url);
  const room = call.room;
  const ps: Participant[] = [];
  ps.push(await call.join('Ann', { base: one.url, room }));
  ps.push(await call.join('Bob', { base: two.url, room }));
  for (const p of ps) await expectMediaFromAll(p, 1);
  const [ann, bob] = ps as [Participant, Participant];
  expect(await peerIds(ann)).toEqual([await peerId(bob)]);
  expect(await peerIds(bob)).toEqual([await peerId(ann)]);
  await expect(ann.page.locator('.tile .tile-name')).toHaveText('Bob');
  await expect(bob.page.locator('.tile .tile-name')).toHaveText('Ann');
});
