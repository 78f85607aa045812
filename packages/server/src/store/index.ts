export * from './types.js';
export { MemoryStore, openMemoryStore, type MemoryStoreOptions } from './memory.js';
export { EndedSessionFile } from './ended-file.js';
export {
  hashPassword,
  verifyPassword,
  newToken,
  newId,
  hashToken,
  tokenMatchesHash,
} from './secrets.js';
export { MemoryLocationStore, type Binding, type LocationStore } from './location.js';
export { FileCallStore, RedisCallStore } from './sbc-calls.js';
