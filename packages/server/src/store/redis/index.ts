export { RedisStore, toStoreError, type RedisStoreOptions, type NodePeer } from './store.js';
export { openRedisClient, type RedisClientOptions } from './client.js';
export { RedisLocationStore, type RedisLocationOptions } from './location.js';
export { RedisCallStore } from '../sbc-calls.js';
