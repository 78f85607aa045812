/**
 * Scale-out: several TFX processes (nodes) on one Redis. `startCluster` opens the Redis
 * connections, the Redis store, the unicast router (router.ts) and the node registry
 * (registry.ts), and returns what the signalling server uses: the store and a `ClusterLink`.
 * It also attaches the socket.io Redis Streams adapter, so that socket.io-level broadcasts
 * (`io.emit`, `io.to(room)`, `fetchSockets`, `serverSideEmit`) reach every node.
 * See docs/scaling.md.
 */
import { randomBytes } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Server } from 'socket.io';
import { PROTOCOL_VERSION } from '@tfx/protocol';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { RedisStore, openRedisClient } from '../store/redis/index.js';
import type { HeldLobby } from '../store/types.js';
import { HopConnection } from './hop-connection.js';
import { ClusterMetrics } from './metrics.js';
import { NodeRegistry } from './registry.js';
import { UnicastRouter } from './router.js';
import type { ClusterLink, Envelope, NodePeerInfo } from './types.js';

export type { ClusterLink, Envelope, NodePeerInfo, RelayedItem } from './types.js';
export { UnicastRouter } from './router.js';
export { encodeRelayed } from './envelope.js';
export { NodeRegistry } from './registry.js';
export { ClusterMetrics } from './metrics.js';

const DAY_MS = 86_400_000;

export interface Cluster {
  readonly store: RedisStore;
  readonly link: ClusterLink;
  /** Attaches the socket.io Redis Streams adapter to a server. */
  attach(io: Server): void;
}

export async function startCluster(options: {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: Registry;
}): Promise<Cluster> {
  const { config } = options;
  const url = config.redis.url;
  if (!url) throw new Error('startCluster needs redis.url');
  const log = options.logger.child({ component: 'cluster' });
  const nodeId = config.cluster.nodeId ?? randomBytes(6).toString('hex');
  const prefix = config.redis.keyPrefix;
  const metrics = new ClusterMetrics(options.registry);
  let lastError = '';
  const onError = (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    log.debug({ err: err.message }, 'redis connection error');
  };
  const cmd = openRedisClient({
    url,
    kind: 'command',
    commandTimeoutMs: config.redis.commandTimeoutMs,
    name: `tfx-${nodeId}-cmd`,
    onError,
  });
  // The router's hot path (XADD, blocking XREAD) on lean connections (hop-connection.ts).
  const pub = new HopConnection({ url, mode: 'queue', name: `tfx-${nodeId}-pub`, onError });
  const sub = new HopConnection({ url, mode: 'blocking', name: `tfx-${nodeId}-sub`, onError });
  const adapterClient = openRedisClient({
    url,
    kind: 'queue',
    name: `tfx-${nodeId}-sio`,
    onError,
  });
  await Promise.all([cmd.connect(), pub.connect(), sub.connect(), adapterClient.connect()]);
  const store = new RedisStore(cmd, {
    maxEnded: config.sessions.maxEnded,
    retentionMs: config.sessions.retentionDays * DAY_MS,
    prefix,
    nodeId,
  });
  const router = new UnicastRouter({
    prefix,
    nodeId,
    protocolVersion: config.cluster.protocolVersion ?? PROTOCOL_VERSION,
    maxPending: config.cluster.maxPending,
    maxStreamLength: config.cluster.maxStreamLength,
    pub,
    sub,
    cmd,
    metrics,
    log,
  });
  let localPeers: () => Iterable<{ room: string; peerId: string }> = () => [];
  let localLobbies: () => Iterable<HeldLobby> = () => [];
  const registry = new NodeRegistry({
    prefix,
    nodeId,
    protocolVersion: config.cluster.protocolVersion ?? PROTOCOL_VERSION,
    heartbeatMs: config.cluster.heartbeatMs,
    ttlMs: config.cluster.nodeTtlMs,
    graceMs: config.signalling.resumeGraceMs,
    cmd,
    store,
    metrics,
    log,
    send: (node, env) => router.send(node, env),
    localPeers: () => localPeers(),
    localLobbies: () => localLobbies(),
    streamOf: (node) => router.streamOf(node),
  });
  router.start();
  await registry.start();
  log.info(
    { nodeId, protocol: config.cluster.protocolVersion ?? PROTOCOL_VERSION },
    'cluster node started',
  );
  let closed = false;

  const link: ClusterLink = {
    nodeId,
    send: (node: string, env: Envelope) => router.send(node, env),
    onEnvelope: (handler) => router.onEnvelope(handler),
    get healthy() {
      return registry.healthy;
    },
    async roomPeers(room: string): Promise<readonly NodePeerInfo[]> {
      return (await store.listNodePeers(room)).map((p) => ({
        node: p.node,
        peer: {
          id: p.peer.id,
          name: p.peer.name,
          state: p.peer.state,
          moderator: p.peer.moderator,
        },
      }));
    },
    claimPeer: (room, peerId) => store.movePeer(room, peerId, nodeId),
    setLocalPeers(fn) {
      localPeers = fn;
    },
    setLocalLobbies(fn) {
      localLobbies = fn;
    },
    async close() {
      if (closed) return;
      closed = true;
      await registry.close();
      await router.close();
      await store.close();
      pub.disconnect();
      for (const c of [cmd, adapterClient]) c.disconnect();
    },
  };
  return {
    store,
    link,
    attach(io: Server) {
      io.adapter(createAdapter(adapterClient, { streamName: `${prefix}sio`, maxLen: 10_000 }));
    },
  };
}
