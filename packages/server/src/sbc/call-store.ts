/**
 * The SBC's call store for restart recovery (docs/sbc.md): with `redis.url`, a hash in Redis per
 * process identity (`cluster.nodeId`, else a hash of the host name and the data dir, stable
 * across restarts of one installation); otherwise a journal file in the data dir
 * (`<dataDir>/sbc/calls.jsonl`).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CallStore } from '@tfx/sbc';
import type { Logger } from '../log.js';
import type { PlatformContext } from '../module.js';
import { FileCallStore, RedisCallStore } from '../store/index.js';
import { openRedisClient } from '../store/redis/index.js';

export type ClosableCallStore = CallStore & { close(): Promise<void> };

export async function openCallStore(ctx: PlatformContext, log: Logger): Promise<ClosableCallStore> {
  const url = ctx.config.redis.url;
  if (!url) return new FileCallStore(join(ctx.dataDir, 'sbc', 'calls.jsonl'));
  const client = openRedisClient({
    url,
    kind: 'command',
    commandTimeoutMs: ctx.config.redis.commandTimeoutMs,
    name: 'tfx-sbc-calls',
    onError: (err) => log.debug({ err: err.message }, 'sbc: call store redis error'),
  });
  await client.connect();
  const owner =
    ctx.config.cluster.nodeId ??
    createHash('sha256').update(`${hostname()}\n${ctx.dataDir}`).digest('hex').slice(0, 16);
  return new RedisCallStore(client, { prefix: ctx.config.redis.keyPrefix, owner }, true);
}
