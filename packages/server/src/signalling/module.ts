/**
 * The signalling `PlatformModule` (`name: 'signalling'`): socket.io at `/socket.io` on the
 * platform's HTTPS server, state in a `Store` (the memory store, with ended sessions persisted in
 * `<dataDir>/sessions/ended.jsonl`, unless one is passed in), metrics in the platform registry.
 *
 * `module.service` (see service.ts) is what the REST API uses; it is usable once the platform
 * has run this module's `setup()` (list the signalling module before the API module).
 */
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import type { PlatformContext, PlatformModule } from '../module.js';
import type { Cluster } from '../cluster/index.js';
import { EndedSessionFile, openMemoryStore, type Store } from '../store/index.js';
import { SignallingMetrics } from './metrics.js';
import type { Clock } from './room.js';
import { SignallingServer } from './server.js';
import type { IceServerProvider, SignallingService } from './service.js';

export interface SignallingModuleOptions {
  /** Shared state; default: a memory store owned (and closed) by this module. */
  readonly store?: Store | undefined;
  /** Time source and timers (tests). */
  readonly clock?: Clock | undefined;
}

export interface SignallingModule extends PlatformModule {
  readonly name: 'signalling';
  /** The REST API's entry (see service.ts). Methods throw `unavailable` before `setup()`. */
  readonly service: SignallingService;
  /** The running server, after `setup()` (tests and the admin console). */
  readonly server: SignallingServer | undefined;
  /** This process's cluster node id (with Redis, after `setup()`). */
  readonly nodeId: string | undefined;
}

const DAY_MS = 86_400_000;

export function createSignallingModule(options: SignallingModuleOptions = {}): SignallingModule {
  let server: SignallingServer | undefined;
  let ownedStore: Store | undefined;
  let cluster: Cluster | undefined;
  let iceProvider: IceServerProvider | undefined;
  let closed = false;

  const running = (): SignallingServer => {
    if (!server) throw new TfxError('unavailable', 'signalling is not running');
    return server;
  };

  const service: SignallingService = {
    get store(): Store {
      return running().store;
    },
    listRooms: () => running().listRooms(),
    listSessions: (q) => running().listSessions(q),
    getSession: (id) => running().getSession(id),
    kick: (sessionId, peerId) => running().kick(sessionId, peerId),
    closeSession: (sessionId) => running().closeSession(sessionId),
    createRoom: (req) => running().createRoom(req),
    setIceServerProvider(provider) {
      iceProvider = provider;
      server?.setIceServerProvider(provider);
    },
  };

  return {
    name: 'signalling',
    service,
    get server() {
      return server;
    },
    get nodeId() {
      return cluster?.link.nodeId;
    },
    async setup(ctx: PlatformContext): Promise<void> {
      let store = options.store;
      if (!store && ctx.config.redis.url) {
        // Scale-out: state in Redis (ended sessions only there), loaded only when configured.
        const { startCluster } = await import('../cluster/index.js');
        cluster = await startCluster({
          config: ctx.config,
          logger: ctx.logger,
          registry: ctx.metrics,
        });
        store = cluster.store;
        ownedStore = store;
      }
      if (!store) {
        ownedStore = await openMemoryStore({
          maxEnded: ctx.config.sessions.maxEnded,
          retentionMs: ctx.config.sessions.retentionDays * DAY_MS,
          file: new EndedSessionFile(join(ctx.dataDir, 'sessions', 'ended.jsonl')),
        });
        store = ownedStore;
      }
      server = new SignallingServer(ctx.app.server, {
        config: ctx.config,
        logger: ctx.logger.child({ component: 'signalling' }),
        store,
        metrics: new SignallingMetrics(ctx.metrics),
        publicUrl: () => ctx.publicUrl(),
        ...(options.clock ? { clock: options.clock } : {}),
        cluster: cluster?.link,
      });
      cluster?.attach(server.io);
      if (iceProvider) server.setIceServerProvider(iceProvider);
    },
    drain(): void {
      server?.drain();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await server?.close();
      await cluster?.link.close();
      await ownedStore?.close();
    },
  };
}
