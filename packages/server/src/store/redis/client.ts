/**
 * Redis connections for the store and the cluster layer (ioredis). Two kinds:
 * - `command` connections fail fast: a command that gets no answer within `commandTimeoutMs`
 *   (Redis stopped, network gone) or is issued while disconnected rejects, so a join gets a
 *   retryable `unavailable` instead of hanging;
 * - `queue` connections (the unicast router's publisher) keep commands while Redis is away and
 *   send them when it returns — the router bounds how many may wait.
 * Both reconnect forever with a capped back-off and never throw from an `error` event.
 */
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  readonly url: string;
  readonly kind: 'command' | 'queue' | 'blocking';
  readonly commandTimeoutMs?: number;
  /** Name shown by CLIENT LIST. */
  readonly name?: string;
  readonly onError?: (err: Error) => void;
}

export function openRedisClient(options: RedisClientOptions): Redis {
  const fast = options.kind === 'command';
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectionName: options.name,
    enableAutoPipelining: options.kind !== 'blocking',
    // A command connection refuses at once while disconnected; the others keep their commands.
    enableOfflineQueue: !fast,
    maxRetriesPerRequest: fast ? 1 : null,
    ...(fast ? { commandTimeout: options.commandTimeoutMs ?? 2000 } : {}),
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  });
  client.on('error', (err: Error) => options.onError?.(err));
  return client;
}
