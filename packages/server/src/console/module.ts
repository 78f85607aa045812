/**
 * The operator console as a platform module (`name: 'console'`): the console's REST routes
 * (routes.ts), the audit log (audit.ts) and the sampler behind the overview, cluster page and
 * charts (monitor.ts). The console's page itself (`/admin/`, built from packages/web/admin.html)
 * is served with the SIP module's assets; docs/console.md describes the pages and the page API.
 *
 * It sees the other modules only through narrow functions given by the composition root (the
 * signalling service, the widgets module, the cluster node id) and the SIP server only through
 * its REST contract, so none of them import this one.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { PlatformContext, PlatformModule } from '../module.js';
import type { SignallingService } from '../signalling/service.js';
import { AuditLog } from './audit.js';
import { ConsoleMonitor } from './monitor.js';
import { registerConsoleRoutes, type ConsoleRouteDeps } from './routes.js';

export interface ConsoleModuleOptions {
  /** The signalling service (rooms and sessions), when signalling runs. */
  readonly signalling?: (() => SignallingService | undefined) | undefined;
  /** The widgets module, when it runs. */
  readonly widgets?: ConsoleRouteDeps['widgets'] | undefined;
  /** This process's cluster node id (with Redis). Default "local". */
  readonly nodeId?: (() => string | undefined) | undefined;
  readonly version?: string | undefined;
  /** Sampling interval, ms (default 5000). */
  readonly intervalMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

export interface ConsoleModule extends PlatformModule {
  readonly audit: AuditLog | undefined;
  readonly monitor: ConsoleMonitor | undefined;
}

export function createConsoleModule(options: ConsoleModuleOptions = {}): ConsoleModule {
  const now = options.now ?? Date.now;
  let audit: AuditLog | undefined;
  let monitor: ConsoleMonitor | undefined;
  let redis: Redis | undefined;
  let closed = false;
  const nodeId = (): string => options.nodeId?.() ?? 'local';
  const service = (): SignallingService | undefined => {
    try {
      return options.signalling?.();
    } catch {
      return undefined; // not set up yet
    }
  };

  return {
    name: 'console',
    get audit() {
      return audit;
    },
    get monitor() {
      return monitor;
    },
    async setup(ctx: PlatformContext): Promise<void> {
      const log = ctx.logger.child({ component: 'console' });
      const prefix = ctx.config.redis.keyPrefix;
      if (ctx.config.redis.url) {
        // Loaded only with Redis, like the cluster itself.
        const { openRedisClient } = await import('../store/redis/index.js');
        redis = openRedisClient({
          url: ctx.config.redis.url,
          kind: 'command',
          commandTimeoutMs: ctx.config.redis.commandTimeoutMs,
          name: 'tfx-console',
          onError: () => undefined,
        });
        redis.connect().catch(() => undefined);
      }
      let lastError = '';
      const onError = (err: unknown): void => {
        const msg = (err as Error)?.message ?? String(err);
        if (msg === lastError) return;
        lastError = msg;
        log.warn({ err: msg }, 'console: a sample or an audit write failed');
      };
      audit = new AuditLog(
        join(ctx.dataDir, 'audit', 'audit.jsonl'),
        redis ? { client: redis, key: `${prefix}audit` } : undefined,
        onError,
      );
      const gauge = async (name: string): Promise<number> => {
        const m = ctx.metrics.getSingleMetric(name);
        if (!m) return 0;
        return (await m.get()).values.reduce((a, v) => a + v.value, 0);
      };
      let connections = 0;
      monitor = new ConsoleMonitor({
        id: nodeId,
        version: options.version ?? 'dev',
        intervalMs: options.intervalMs ?? 5000,
        metrics: ctx.metrics,
        now,
        onError,
        ...(redis && ctx.config.redis.url
          ? { redis: { client: redis, prefix, url: ctx.config.redis.url } }
          : {}),
        sources: {
          local() {
            const rooms = service()?.listRooms() ?? [];
            return {
              rooms: rooms.length,
              participants: rooms.reduce((a, r) => a + r.peers.length, 0),
              connections,
            };
          },
          async live() {
            connections = await gauge('tfx_signalling_connections');
            const s = service();
            if (!s) return { rooms: 0, participants: 0 };
            const page = await s.listSessions({ state: 'live', limit: 1000 });
            return {
              rooms: page.items.length,
              participants: page.items.reduce(
                (a, x) => a + x.participants.filter((p) => p.leftAt === undefined).length,
                0,
              ),
            };
          },
        },
      });
      registerConsoleRoutes(ctx, {
        monitor,
        audit,
        widgets: options.widgets,
        nodeId,
        now,
        session: async (id) => service()?.getSession(id),
        widgetUse: async () => {
          const s = service();
          if (!s) return [];
          const page = await s.listSessions({ state: 'live', limit: 1000 });
          const peers = await Promise.all(page.items.map((x) => s.store.listPeers(x.room)));
          return page.items.flatMap((x, i) =>
            (peers[i] ?? [])
              .filter((p) => (p.state.widgets?.length ?? 0) > 0)
              .map((p) => ({
                room: x.room,
                sessionId: x.id,
                name: p.name,
                widgets: p.state.widgets ?? [],
              })),
          );
        },
      });
    },
    async start(): Promise<[]> {
      await monitor?.start();
      return [];
    },
    async drain(): Promise<void> {
      await monitor?.drain();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await monitor?.close();
      await audit?.close();
      redis?.disconnect();
    },
  };
}
