/**
 * The CDR store's Redis stream against a real redis-server (store/cdr.ts): each record's entry
 * is its file line, byte for byte; with Redis frozen (SIGSTOP) `write` still returns at once,
 * the line is in the file and the XADDs that time out are counted; after it resumes the stream
 * goes on; `MAXLEN ~` keeps the stream near its cap while the file keeps every line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdrRecord } from '@tfx/sbc';
import { openRedisClient } from '../../src/store/redis/client.js';
import { CdrStore } from '../../src/store/cdr.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const rec = (i: number): CdrRecord => ({
  kind: 'sbc',
  id: `r-${i}`,
  callId: `r-${i}@x`,
  bCallId: undefined,
  aZone: 'public',
  bZone: 'core',
  trunk: 'carrier',
  tries: [],
  caller: { from: 'alice', to: 'bob', ruri: 'bob' },
  callee: { from: 'alice', to: 'bob', ruri: 'bob' },
  start: '2026-03-01T10:00:00.000Z',
  end: '2026-03-01T10:00:01.000Z',
  duration: 0,
  final: 486,
  reason: 'rejected',
});

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('CDR Redis stream (real redis-server)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    redis.resume();
    await redis.stop();
  });

  it('mirrors the file; a frozen Redis is counted, never blocks; MAXLEN ~ caps the stream', async () => {
    const reader = openRedisClient({ url: redis.url, kind: 'command', commandTimeoutMs: 5000 });
    await reader.connect();
    const client = openRedisClient({ url: redis.url, kind: 'command', commandTimeoutMs: 300 });
    await client.connect();
    const dir = join(mkdtempSync(join(tmpdir(), 'cdr-redis-')), 'cdr');
    const store = new CdrStore(dir, {
      now: () => Date.parse('2026-03-01T10:00:01Z'),
      redis: { client, key: 'tfx:cdr', maxLen: 1000 },
    });
    const file = join(dir, 'cdr-2026-03-01.jsonl');
    const fileLines = (): string[] => readFileSync(file, 'utf8').trimEnd().split('\n');
    const stream = async (): Promise<string[]> =>
      (await reader.xrange('tfx:cdr', '-', '+')).map(([, f]) => f[f.indexOf('cdr') + 1] ?? '');
    try {
      for (let i = 0; i < 3; i++) store.write(rec(i));
      await until('3 entries', async () => (await stream()).length === 3);
      expect(await stream()).toEqual(fileLines());

      redis.pause();
      store.write(rec(3));
      store.write(rec(4));
      expect(fileLines()).toHaveLength(5); // in the file at once, whatever Redis does
      await until('2 failed XADDs', () => store.redisErrors === 2);
      redis.resume();
      await until('the client back', async () => {
        try {
          await client.ping();
          return true;
        } catch {
          return false;
        }
      });
      const before = store.redisErrors;
      store.write(rec(5));
      await until('6th line streamed', async () => (await stream()).includes(fileLines()[5]!));
      expect(store.redisErrors).toBe(before);
      // Every entry is a file line; the frozen ones may be missing (counted above), never wrong.
      const f = new Set(fileLines());
      for (const l of await stream()) expect(f.has(l)).toBe(true);

      // 3000 more records: the stream stays near its 1000 cap (MAXLEN ~ trims whole nodes).
      for (let i = 6; i < 3006; i++) store.write(rec(i));
      await until('all added', () => store.redisAdded + store.redisErrors >= 3006);
      const len = await reader.xlen('tfx:cdr');
      expect(len).toBeGreaterThanOrEqual(1000);
      expect(len).toBeLessThan(2000);
      expect(fileLines()).toHaveLength(3006);
    } finally {
      await store.close();
      reader.disconnect();
    }
  }, 120_000);
});
