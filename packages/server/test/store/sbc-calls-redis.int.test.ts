import { afterAll, beforeAll } from 'vitest';
import { RedisCallStore, openRedisClient } from '../../src/store/redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { runCallStoreContract } from './sbc-calls-contract.js';

let redis: RedisServer;
let run = 0;
beforeAll(async () => {
  redis = await startRedis();
  run++;
});
afterAll(async () => {
  await redis?.stop();
});

runCallStoreContract('redis', async (name) => {
  const client = openRedisClient({ url: redis.url, kind: 'command' });
  await client.connect();
  return new RedisCallStore(client, { prefix: `t${run}:`, owner: name }, true);
});
