/**
 * The lobby: with it on (`lobby` from a moderator), a join without the room's moderator token is
 * answered `waiting-in-lobby` and held on its connection. Moderators see the queue (`lobby-state`)
 * and `admit` or `deny`; an admitted joiner's join then runs as usual (password, lock and capacity
 * still apply) and its result arrives as `admitted`; a denied one gets `denied` and is disconnected.
 * Turning the lobby off admits everyone waiting. It behaves the same whichever process each person
 * is connected to (scale-out, docs/scaling.md).
 *
 * The flag and the queue are room state in the `Store`, like the lock (`enqueueLobby`,
 * `takeLobby`, `setLobby`: one atomic step each, so exactly one of admit, deny, a disconnect or
 * lobby-off wins a waiter). A waiting connection stays on the process it reached; each queue entry
 * names its node, and `admit` / `deny` travel there. Each change's new state (with the store's
 * version) goes to this process's moderators and, as a `lobby` envelope, to the nodes the store
 * lists for the room; a process shows only states newer than the last it showed. Why, and what
 * happens when a process dies or Redis restarts empty: docs/scaling.md ("Lobby").
 * Without Redis the same code runs against the memory store and no envelopes are sent.
 *
 * The lobby never runs a join itself: `screen` tells the join flow (join.ts) whether a join goes
 * ahead, waits or is refused, and admitted joiners come out of `admissions()`, oldest first, for
 * the join flow to run.
 */
import {
  ERROR_CATALOGUE,
  LOBBY_MAX_WAITING,
  type ErrorCode,
  type LobbyState,
  type ParsedClientEvent,
} from '@tfx/protocol';
import { newId, type HeldLobby, type LobbyEntry, type LobbyView } from '../store/index.js';
import type { LobbyEnvelope } from './cluster-side.js';
import type { AnyAck, Conn } from './connection.js';
import type { SignallingContext } from './context.js';
import { moderatorOf } from './moderation.js';
import { Admissions, type Admission } from './admissions.js';
import type { Peer, Room } from './room.js';
import type { Rooms } from './rooms.js';

/** What the lobby says of a join (join.ts acts on it). */
export type { Admission };

export type Screening =
  /** No lobby, or a moderator: the join goes ahead. */
  | { readonly verdict: 'pass' }
  /** The connection went away meanwhile: nothing to answer. */
  | { readonly verdict: 'gone' }
  | { readonly verdict: 'refuse'; readonly code: ErrorCode; readonly message: string }
  /** Queued as `id`: answer `waiting-in-lobby`, then `publish(room, view)`. */
  | { readonly verdict: 'wait'; readonly id: string; readonly view: LobbyView };

/** A joiner waiting on one of this process's connections. */
interface Waiting {
  readonly id: string;
  readonly room: string;
  readonly entry: LobbyEntry;
  readonly conn: Conn;
  readonly req: ParsedClientEvent<'join'>;
  readonly off: () => void;
}

/** A lobby with at least ids and names (the store's view, or a `lobby` envelope). */
interface Shown {
  readonly enabled: boolean;
  readonly waiting: readonly { readonly id: string; readonly name: string }[];
}

const stateOf = (view: Shown): LobbyState => ({
  enabled: view.enabled,
  waiting: view.waiting.map((w) => ({ id: w.id, name: w.name })),
});

export class Lobbies {
  /** Joiners waiting on this process, by lobby id (of any room). */
  private readonly waiting = new Map<string, Waiting>();
  private readonly waitingConns = new WeakSet<Conn>();
  /** The newest lobby state shown to each room's moderators here. */
  private readonly shown = new WeakMap<Room, { version: number; enabled: boolean }>();
  private readonly admitted = new Admissions();

  constructor(
    private readonly ctx: SignallingContext,
    private readonly rooms: Rooms,
  ) {}

  private get node(): string {
    return this.ctx.cluster?.nodeId ?? '';
  }

  /** Admitted joiners, oldest first, until `close()`. Read by one consumer (join.ts). */
  admissions(): AsyncIterable<Admission> {
    return this.admitted;
  }

  /** Ends `admissions()`. Idempotent. */
  close(): void {
    this.admitted.end();
  }

  /** Whether a join goes ahead, waits (queued here and in the store) or is refused. */
  async screen(conn: Conn, req: ParsedClientEvent<'join'>): Promise<Screening> {
    if (this.waitingConns.has(conn)) {
      return {
        verdict: 'refuse',
        code: 'already-joined',
        message: 'this connection is waiting in the lobby',
      };
    }
    const store = this.ctx.store;
    if (req.moderatorToken && (await store.isModerator(req.room, req.moderatorToken)))
      return { verdict: 'pass' };
    if (conn.gone) return { verdict: 'gone' };
    const id = newId(9);
    const entry: LobbyEntry = { id, name: req.name, node: this.node, since: Date.now() };
    const queued = await store.enqueueLobby(req.room, entry, LOBBY_MAX_WAITING);
    if (queued.outcome === 'off') return { verdict: 'pass' };
    if (queued.outcome === 'full')
      return {
        verdict: 'refuse',
        code: 'rate-limited',
        message: 'the lobby is full; try again later',
      };
    if (conn.gone) {
      await this.leaveQueue(req.room, id);
      return { verdict: 'gone' };
    }
    const onGone = (): void => {
      const w = this.waiting.get(id);
      if (w?.conn !== conn) return;
      this.forget(w);
      void this.leaveQueue(req.room, id);
    };
    conn.socket.once('disconnect', onGone);
    this.waiting.set(id, {
      id,
      room: req.room,
      entry,
      conn,
      req,
      off: () => conn.socket.off('disconnect', onGone),
    });
    this.waitingConns.add(conn);
    this.ctx.metrics.joins.labels('waiting-in-lobby').inc();
    this.ctx.log.info({ roomId: req.room, lobbyId: id }, 'joiner waiting in the lobby');
    return { verdict: 'wait', id, view: queued.view };
  }

  /**
   * What this process knows of lobbies, for writing them back after Redis lost them
   * (cluster/registry.ts): per room, the joiners waiting here and the newest state shown here.
   */
  held(): HeldLobby[] {
    const byRoom = new Map<
      string,
      { room: string; waiting: LobbyEntry[]; known?: HeldLobby['known'] }
    >();
    for (const room of this.rooms.values()) {
      const known = this.shown.get(room);
      if (known && !room.closed) byRoom.set(room.name, { room: room.name, waiting: [], known });
    }
    for (const w of this.waiting.values()) {
      if (w.conn.gone) continue;
      let h = byRoom.get(w.room);
      if (!h) byRoom.set(w.room, (h = { room: w.room, waiting: [] }));
      h.waiting.push(w.entry);
    }
    return [...byRoom.values()];
  }

  /** A moderator joined: it hears of the lobby at once (if it is on). */
  welcome(peer: Peer): void {
    if (!peer.moderator) return;
    this.ctx.store.getLobby(peer.room.name).then(
      (view) => {
        // A newer state shown meanwhile reached this moderator too: it was in the room by then.
        if (!view.enabled || view.version < (this.shown.get(peer.room)?.version ?? 0)) return;
        peer.emit('lobby-state', stateOf(view));
      },
      (err: unknown) => peer.log.warn({ err }, 'reading the lobby failed'),
    );
  }

  async onLobby(
    conn: Conn,
    req: ParsedClientEvent<'lobby'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const mod = await moderatorOf(this.ctx, conn, 'lobby', req.moderatorToken, ack);
    if (!mod) return;
    const room = mod.room.name;
    const changed = await this.ctx.store.setLobby(room, req.enabled);
    if (!changed) {
      conn.refuse('lobby', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
      return;
    }
    mod.log.info(
      { enabled: req.enabled, released: changed.released.length },
      'moderator set the lobby',
    );
    ack?.({ ok: true, enabled: req.enabled });
    this.publish(room, changed.view);
    for (const e of changed.released) this.verdict(room, e, 'admit');
  }

  async onAdmit(
    conn: Conn,
    req: ParsedClientEvent<'admit'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    await this.decideFor(conn, 'admit', req, ack);
  }

  async onDeny(conn: Conn, req: ParsedClientEvent<'deny'>, ack: AnyAck | undefined): Promise<void> {
    await this.decideFor(conn, 'deny', req, ack);
  }

  /** A `lobby`, `admit` or `deny` envelope from another node (validated by the router). */
  onEnvelope(env: LobbyEnvelope): void {
    if (env.t === 'lobby') {
      const room = this.rooms.get(env.room);
      if (room && !room.closed) this.show(room, env.v, env);
      return;
    }
    if (!this.decide(env.t, env.room, env.id)) {
      // Gone meanwhile (its disconnect lost the race for the store entry to the moderator).
      this.ctx.log.debug({ roomId: env.room, lobbyId: env.id }, 'verdict for nobody waiting here');
    }
  }

  private async decideFor(
    conn: Conn,
    event: 'admit' | 'deny',
    req: ParsedClientEvent<'admit'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const mod = await moderatorOf(this.ctx, conn, event, req.moderatorToken, ack);
    if (!mod) return;
    const room = mod.room.name;
    const taken = await this.ctx.store.takeLobby(room, req.id);
    if (!taken) {
      conn.refuse(event, ack, 'peer-unavailable', 'nobody with that id is waiting in the lobby');
      return;
    }
    mod.log.info({ lobbyId: req.id, node: taken.entry.node }, `moderator chose ${event}`);
    ack?.({ ok: true });
    this.publish(room, taken.view);
    this.verdict(room, taken.entry, event);
  }

  /** Carries a verdict to the node holding the waiter (this one: at once). */
  private verdict(room: string, entry: LobbyEntry, kind: 'admit' | 'deny'): void {
    const cluster = this.ctx.cluster;
    if (!cluster || entry.node === cluster.nodeId) {
      this.decide(kind, room, entry.id);
      return;
    }
    if (!cluster.link.send(entry.node, { t: kind, room, id: entry.id }))
      this.ctx.log.warn(
        { roomId: room, lobbyId: entry.id, node: entry.node },
        'lobby verdict not sent (cluster queue full)',
      );
  }

  /** A verdict for a joiner waiting here. False when nobody with that id waits here. */
  private decide(kind: 'admit' | 'deny', room: string, id: string): boolean {
    const w = this.waiting.get(id);
    if (!w || w.room !== room) return false;
    this.forget(w);
    if (w.conn.gone) return true;
    if (kind === 'deny') {
      this.ctx.log.info({ roomId: room, lobbyId: id }, 'joiner denied');
      w.conn.socket.emit('denied', { reason: 'denied' });
      w.conn.socket.disconnect(true);
      return true;
    }
    this.admitted.push({ id: w.id, room: w.room, conn: w.conn, req: w.req });
    return true;
  }

  private forget(w: Waiting): void {
    this.waiting.delete(w.id);
    this.waitingConns.delete(w.conn);
    w.off();
  }

  /** A waiter that went away leaves the queue (unless a verdict took it first). */
  private async leaveQueue(room: string, id: string): Promise<void> {
    try {
      const taken = await this.ctx.store.takeLobby(room, id);
      if (taken) this.publish(room, taken.view);
    } catch (err) {
      this.ctx.log.warn({ err, roomId: room, lobbyId: id }, 'dropping a lobby waiter failed');
    }
  }

  /** Shows a new state here and sends it to the other nodes holding peers of the room. */
  publish(room: string, view: LobbyView): void {
    const local = this.rooms.get(room);
    if (local && !local.closed) this.show(local, view.version, view);
    // Built here, not with cluster/envelope.ts: without Redis the cluster module is never loaded.
    const env = { t: 'lobby', room, v: view.version, ...stateOf(view) } as const;
    this.ctx.cluster
      ?.broadcastFromStore(room, env)
      .catch((err: unknown) =>
        this.ctx.log.warn({ err, roomId: room }, 'sending the lobby state failed'),
      );
  }

  private show(room: Room, version: number, view: Shown): void {
    if (version <= (this.shown.get(room)?.version ?? -1)) return;
    this.shown.set(room, { version, enabled: view.enabled });
    const state = stateOf(view);
    for (const p of room.peers.values()) if (p.moderator) p.emit('lobby-state', state);
  }
}
