import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLocationStore, openRedisClient } from '../../src/store/redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { binding, runLocationContract } from './location-contract.js';

let redis: RedisServer;
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function open(prefix: string): Promise<RedisLocationStore> {
  const client = openRedisClient({ url: redis.url, kind: 'command' });
  await client.connect();
  return new RedisLocationStore(client, { prefix }, true);
}

// Each store gets its own key prefix, so tests never see each other's state.
runLocationContract('redis', () => open(`loc${++n}:`));

describe('redis location store', () => {
  it('a registration made by one process is found by another, and survives a process restart', async () => {
    const prefix = `shared${++n}:`;
    const a = await open(prefix);
    const b = await open(prefix);
    const alice = binding('sip:alice@x', 'sip:alice@192.0.2.1:5060');
    await a.put(alice);
    expect(await b.lookup('sip:alice@x', alice.registeredAt)).toEqual([alice]);
    await a.close();
    await b.close();
    const restarted = await open(prefix);
    expect(await restarted.lookup('sip:alice@x', alice.registeredAt)).toEqual([alice]);
    await restarted.close();
  });
});
