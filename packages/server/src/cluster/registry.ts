/**
 * The node registry: every node writes `<prefix>alive:<nodeId>` with a TTL each heartbeat and
 * lists itself in `<prefix>nodes`. The heartbeat is also the Redis health check: while it fails,
 * the node is `healthy = false` (joins get `unavailable`), the outage is logged and counted, and
 * when Redis answers again the node re-asserts its rooms, peers and resume tokens if Redis lost
 * them (its alive key or its peers are gone: a restart that came back empty).
 *
 * A node whose alive key has expired is dead: one survivor (a `SET NX` claim) waits out the
 * resume grace, then removes that node's peers which did not resume elsewhere, telling the nodes
 * of their rooms (`left`), and ends sessions left empty. The joiners it held in lobbies went with
 * its connections: they leave the queues, and the nodes of those rooms get the new `lobby` state.
 *
 * Lobbies are written back too, over the next heartbeats (LOBBY_RESTORE_BEATS): each node gives
 * the joiners it holds and the newest lobby state it has shown, and the store keeps the newest
 * flag. A room only comes back with the re-assertion of a node holding its peers, which may be a
 * heartbeat later than the node holding its waiters, hence the retries. Waiters whose room stays
 * missing or whose lobby stays off are let in (what turning the lobby off does).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { RedisStore } from '../store/redis/index.js';
import type { HeldLobby, LobbyView } from '../store/types.js';
import { lobbyEnvelope } from './envelope.js';
import type { ClusterMetrics } from './metrics.js';
import type { Envelope } from './types.js';

export interface RegistryOptions {
  readonly prefix: string;
  readonly nodeId: string;
  readonly protocolVersion: number;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly cmd: Redis;
  readonly store: RedisStore;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
  readonly send: (node: string, env: Envelope) => boolean;
  readonly localPeers: () => Iterable<{ room: string; peerId: string }>;
  /** The lobby waiters this process holds and the lobby states it has shown. */
  readonly localLobbies: () => Iterable<HeldLobby>;
  readonly streamOf: (node: string) => string;
}

/** Heartbeats over which lobbies are written back after a Redis loss. */
export const LOBBY_RESTORE_BEATS = 5;

export class NodeRegistry {
  healthy = true;
  /** Heartbeats left in which to write lobbies back (after a re-assertion). */
  private lobbyBeats = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private downSince: number | undefined;
  private readonly reaping = new Set<string>();
  private readonly reapTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly o: RegistryOptions) {}

  private get aliveKey(): string {
    return `${this.o.prefix}alive:${this.o.nodeId}`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.o.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      const { cmd, prefix, nodeId } = this.o;
      const had = await cmd.set(
        this.aliveKey,
        String(this.o.protocolVersion),
        'PX',
        this.o.ttlMs,
        'GET',
      );
      await cmd.hset(
        `${prefix}nodes`,
        nodeId,
        JSON.stringify({ v: this.o.protocolVersion, pid: process.pid }),
      );
      await cmd.pexpire(this.o.streamOf(nodeId), Math.max(60_000, this.o.ttlMs * 10));
      if (!this.healthy) this.recovered();
      // Our alive key was gone: Redis restarted empty (or evicted us). Write our state back.
      if (had === null || !this.healthy) await this.reassert(had === null);
      if (this.lobbyBeats > 0) await this.restoreLobbies();
      this.healthy = true;
      this.o.metrics.redisUp.set(1);
      await this.checkNodes();
    } catch (err) {
      if (this.healthy) {
        this.healthy = false;
        this.downSince = Date.now();
        this.o.metrics.redisUp.set(0);
        this.o.metrics.outages.inc();
        this.o.log.warn(
          { err: (err as Error)?.message },
          'Redis unreachable: joins refused with unavailable until it answers',
        );
      }
    } finally {
      this.beating = false;
    }
  }

  private healthySince = Date.now();

  private recovered(): void {
    this.healthySince = Date.now();
    this.o.log.warn(
      { downMs: this.downSince !== undefined ? Date.now() - this.downSince : undefined },
      'Redis answers again',
    );
    this.downSince = undefined;
  }

  private started = false;

  private async reassert(lost: boolean): Promise<void> {
    if (!this.started) {
      this.started = true;
      return; // first heartbeat of this node: nothing to write back
    }
    const local = new Set<string>();
    for (const p of this.o.localPeers()) local.add(`${p.room}\n${p.peerId}`);
    const written = await this.o.store.reassert((room, peerId) => local.has(`${room}\n${peerId}`));
    if (written > 0 || lost) {
      this.o.metrics.reasserted.inc(written);
      this.o.log.warn({ peers: written, lost }, 're-asserted rooms, peers and tokens into Redis');
    }
    this.lobbyBeats = LOBBY_RESTORE_BEATS;
  }

  /**
   * One round of writing lobbies back. A changed state goes to every node holding peers of the
   * room (this one included); waiters released by a newer "off" get their `admit`. Done once
   * every held lobby is back; on the last round, waiters still outside a queue are let in.
   */
  private async restoreLobbies(): Promise<void> {
    const last = --this.lobbyBeats === 0;
    let unsettled = 0;
    let waiters = 0;
    for (const held of this.o.localLobbies()) {
      const r = await this.o.store.restoreLobby(held);
      if (r.outcome === 'restored') {
        if (r.changed) await this.showLobby(held.room, r.view);
        for (const e of r.released) this.o.send(e.node, { t: 'admit', room: held.room, id: e.id });
        if (r.view.enabled) {
          waiters += held.waiting.length;
          continue;
        }
      }
      if (held.waiting.length === 0) continue;
      if (!last) {
        unsettled++;
        continue;
      }
      this.o.log.warn(
        { roomId: held.room, waiters: held.waiting.length, room: r.outcome },
        'lobby not back after a Redis loss: letting its waiters in',
      );
      for (const e of held.waiting)
        this.o.send(this.o.nodeId, { t: 'admit', room: held.room, id: e.id });
    }
    if (unsettled === 0) {
      if (waiters > 0) this.o.log.warn({ waiters }, 're-asserted lobby waiters into Redis');
      this.lobbyBeats = 0;
    }
  }

  /** Sends a room's new lobby state to every node holding peers of it (but `except`). */
  private async showLobby(room: string, view: LobbyView, except?: string): Promise<void> {
    const nodes = new Set((await this.o.store.listNodePeers(room)).map((p) => p.node));
    if (except !== undefined) nodes.delete(except);
    for (const n of nodes) this.o.send(n, lobbyEnvelope(room, view));
  }

  private async checkNodes(): Promise<void> {
    const { cmd, prefix } = this.o;
    const nodes = await cmd.hkeys(`${prefix}nodes`);
    if (nodes.length === 0) return;
    const alive = await cmd.mget(nodes.map((n) => `${prefix}alive:${n}`));
    let live = 0;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as string;
      if (alive[i] !== null) {
        live++;
        continue;
      }
      if (node === this.o.nodeId || this.reaping.has(node)) continue;
      // Just back from an outage: the others have not had a heartbeat yet to refresh theirs.
      if (Date.now() - this.healthySince < this.o.ttlMs) continue;
      const won = await cmd.set(`${prefix}reap:${node}`, this.o.nodeId, 'PX', 120_000, 'NX');
      if (won === 'OK') this.scheduleReap(node);
    }
    this.o.metrics.nodes.set(live);
  }

  private scheduleReap(node: string): void {
    this.reaping.add(node);
    // Its alive key expired ttl after its last heartbeat: the peers went away about then.
    const delay = Math.max(0, this.o.graceMs - this.o.ttlMs + 2 * this.o.heartbeatMs);
    this.o.log.warn({ node, inMs: delay }, 'node dead: removing its peers that do not resume');
    const t = setTimeout(() => {
      this.reapTimers.delete(t);
      this.reap(node).catch((err: unknown) =>
        this.o.log.warn({ err, node }, 'reaping a dead node failed'),
      );
    }, delay);
    t.unref();
    this.reapTimers.add(t);
  }

  private async reap(node: string): Promise<void> {
    const { store, cmd, prefix } = this.o;
    if ((await cmd.exists(`${prefix}alive:${node}`)) === 1) {
      // It came back (a Redis pause made every alive key expire at once): nothing to reap.
      this.reaping.delete(node);
      await cmd.del(`${prefix}reap:${node}`);
      this.o.log.info({ node }, 'node alive again: not reaped');
      return;
    }
    const now = Date.now();
    const rooms = new Set<string>();
    for (const { room, peerId } of await store.peersOfNode(node)) {
      const peers = await store.listNodePeers(room);
      const still = peers.find((p) => p.peer.id === peerId);
      if (!still || still.node !== node) continue; // resumed elsewhere
      const { left } = await store.leave(room, peerId, now);
      if (!left) continue;
      this.o.metrics.reaped.inc();
      rooms.add(room);
      const nodes = new Set(peers.filter((p) => p.node !== node).map((p) => p.node));
      for (const n of nodes) this.o.send(n, { t: 'left', room, peerId, reason: 'timeout' });
    }
    for (const { room, view } of await store.dropLobbyNode(node))
      await this.showLobby(room, view, node);
    for (const room of rooms) await store.endSessionIfEmpty(room, Date.now());
    await cmd.hdel(`${prefix}nodes`, node);
    await cmd.del(`${prefix}nodepeers:${node}`, this.o.streamOf(node));
    this.reaping.delete(node);
    this.o.log.info({ node, rooms: rooms.size }, 'dead node reaped');
  }

  /** Leaves the registry: survivors reap this node's peers that do not resume elsewhere. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.reapTimers) clearTimeout(t);
    await this.o.cmd.del(this.aliveKey).catch(() => undefined);
  }
}
