/**
 * With `--redis`, the SIP location service is shared: a phone registered through one process is
 * found by another, and its registration survives a restart of every process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { register, startSipServer, type SipTestServer } from './harness.js';

let redis: RedisServer;
const servers: SipTestServer[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await redis?.stop();
});

async function server(): Promise<SipTestServer> {
  const s = await startSipServer({ 'redis.url': redis.url, 'redis.keyPrefix': 'sipreg:' });
  servers.push(s);
  return s;
}

async function registered(s: SipTestServer): Promise<string> {
  return JSON.stringify((await s.api('GET', '/api/v1/sip/registrations')).json);
}

describe('SIP registrations in Redis (--redis)', () => {
  it('a registration made on one process is found by another and survives a restart', async () => {
    const a = await server();
    const b = await server();
    const r = await register(a, 'alice', 5993);
    expect(r.code, r.output).toBe(0);
    expect(await registered(a)).toContain('sip:alice@127.0.0.1:5993');
    expect(await registered(b)).toContain('sip:alice@127.0.0.1:5993');
    await a.close();
    await b.close();
    const c = await server();
    expect(await registered(c)).toContain('sip:alice@127.0.0.1:5993');
  }, 90_000);
});
