// Spike (issue 10): @socket.io/redis-adapter (pub/sub) vs @socket.io/redis-streams-adapter against
// the scale-out failure cases. Two socket.io servers in this process, each with its own ioredis
// client and adapter, a real redis-server started here on a free loopback port (stopped by PID).
// Server A broadcasts numbered events to a room whose only member is a client of server B; we count
// what B's client receives. Bounded: every scenario has a fixed count and a deadline.
//   node bench/scale-out/spike.mjs [--adapters pubsub,streams] [--burst 10000]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { Server } from 'socket.io';
import { io as ioc } from 'socket.io-client';
import Redis from 'ioredis';
import { createAdapter as pubsubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as streamsAdapter } from '@socket.io/redis-streams-adapter';

const opt = (n, d) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const ADAPTERS = opt('adapters', 'pubsub,streams').split(',');
const BURST = Number(opt('burst', '10000'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

async function startRedis(port) {
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('redis did not start')), 5000);
    child.stdout.on('data', (d) => {
      if (/Ready to accept connections/.test(String(d))) {
        clearTimeout(t);
        res();
      }
    });
  });
  return child;
}
async function stopRedis(child) {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGKILL');
  await gone;
}

async function cluster(kind, port) {
  const servers = [];
  const errors = [];
  for (let i = 0; i < 2; i++) {
    const http = createServer();
    const pub = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
    pub.on('error', (e) => errors.push(`${kind} pub ${e.message}`));
    let adapter;
    if (kind === 'pubsub') {
      const sub = pub.duplicate();
      sub.on('error', (e) => errors.push(`${kind} sub ${e.message}`));
      adapter = pubsubAdapter(pub, sub);
    } else {
      adapter = streamsAdapter(pub, { maxLen: 100_000, readCount: 500 });
    }
    const io = new Server(http, { adapter, transports: ['websocket'] });
    io.of('/').adapter.on?.('error', (e) => errors.push(`${kind} adapter ${e?.message ?? e}`));
    await new Promise((r) => http.listen(0, '127.0.0.1', r));
    io.on('connection', (s) => s.join('r'));
    servers.push({ io, http, pub });
  }
  const client = ioc(`http://127.0.0.1:${servers[1].http.address().port}`, {
    transports: ['websocket'],
  });
  await new Promise((r) => client.once('connect', r));
  await sleep(300);
  const got = new Set();
  client.on('m', (n) => got.add(n));
  return {
    servers,
    got,
    errors,
    async close() {
      client.close();
      for (const s of servers) {
        s.io.close();
        s.pub.disconnect();
      }
    },
  };
}

async function waitCount(got, n, ms) {
  const end = Date.now() + ms;
  while (got.size < n && Date.now() < end) await sleep(50);
  return got.size;
}

const PAD = 'x'.repeat(1000);
const results = [];
for (const kind of ADAPTERS) {
  // 1. burst with default buffer limits, then 2. with a small pub/sub output buffer limit
  for (const scenario of ['burst', 'burst-small-pubsub-buffer', 'sigstop-10s', 'restart-empty']) {
    const port = await freePort();
    let redis = await startRedis(port);
    const c = await cluster(kind, port);
    const admin = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    admin.on('error', () => undefined);
    await admin.connect();
    const t0 = Date.now();
    let sent = 0;
    const a = c.servers[0].io;
    if (scenario.startsWith('burst')) {
      if (scenario === 'burst-small-pubsub-buffer')
        await admin.config('SET', 'client-output-buffer-limit', 'pubsub 256kb 128kb 5');
      for (let i = 0; i < BURST; i++) a.to('r').emit('m', i, PAD);
      sent = BURST;
    } else {
      // 100 events/s for 15 s; the fault starts at 2 s and lasts 10 s (or is a restart)
      const tick = setInterval(() => a.to('r').emit('m', sent++, PAD), 10);
      await sleep(2000);
      if (scenario === 'sigstop-10s') {
        process.kill(redis.pid, 'SIGSTOP');
        await sleep(10_000);
        process.kill(redis.pid, 'SIGCONT');
      } else {
        await stopRedis(redis);
        await sleep(2000);
        redis = await startRedis(port);
      }
      await sleep(3000);
      clearInterval(tick);
    }
    const received = await waitCount(c.got, sent, 15_000);
    const r = {
      adapter: kind,
      scenario,
      sent,
      received,
      lost: sent - received,
      seconds: (Date.now() - t0) / 1000,
      errors: [...new Set(c.errors)].slice(0, 3),
    };
    results.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    admin.disconnect();
    await c.close();
    await stopRedis(redis);
  }
}
process.stdout.write(
  '\n| adapter | scenario | sent | received | lost |\n| --- | --- | ---: | ---: | ---: |\n',
);
for (const r of results)
  process.stdout.write(
    `| ${r.adapter} | ${r.scenario} | ${r.sent} | ${r.received} | ${r.lost} |\n`,
  );
process.exit(0);
