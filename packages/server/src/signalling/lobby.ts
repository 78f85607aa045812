/**
 * The lobby: with it on (`lobby` from a moderator), a join without the room's moderator token is
 * answered `waiting-in-lobby` and held on its connection. Moderators see the queue (`lobby-state`)
 * and `admit` or `deny`; an admitted joiner's join then runs as usual (password, lock and capacity
 * still apply) and its result arrives as `admitted`; a denied one gets `denied` and is disconnected.
 * Turning the lobby off admits everyone waiting. It behaves the same whichever process each person
 * is connected to (scale-out, docs/scaling.md).
 *
 * Where what lives, and why:
 * - The flag and the queue are room state in the `Store`, like the lock: a join on any process
 *   asks the store (`enqueueLobby`, one atomic step: "on? room for one more? then queue me"), so a
 *   moderator on process A turning the lobby on holds joins arriving at B, and the cap
 *   (`LOBBY_MAX_WAITING`) holds room-wide. Admit, deny, a waiter's disconnect and lobby-off all take
 *   waiters out through the store (`takeLobby`, `setLobby`), so exactly one of them wins a waiter.
 * - The waiting connection and its held join stay on the process it reached (a socket cannot
 *   move): each queue entry names its node, and `admit` / `deny` go to that node as a unicast
 *   envelope; that node runs the held join (or sends `denied`).
 * - Every change's new state (with the store's version) is shown to this process's moderators and
 *   sent as a `lobby` envelope to the other nodes holding peers of the room, listed from the store
 *   at that moment (not this process's mirror, which may not have heard of a moderator who joined
 *   a moment ago). Envelopes from different nodes may cross; a process shows a state only if it is
 *   newer than the last one it showed, so moderators never go back to an older queue. A moderator
 *   who joins reads the lobby from the store. Lobby changes are human-paced (bounded by joins per
 *   IP), so one store read per change for the fan-out is cheap.
 * - A process that dies takes its waiting connections with it: the survivor that reaps it
 *   (cluster/registry.ts) drops its entries from the queues and sends the new states.
 * - Redis restarted empty: each process writes back the joiners it holds and the newest state it
 *   has shown (`held`, cluster/registry.ts), and moderators get the queue again.
 * - The lobby ends with the session (the store resets it when the room's session ends).
 *
 * Without Redis the same code runs against the memory store and no envelopes are sent.
 */
import {
  ERROR_CATALOGUE,
  LOBBY_MAX_WAITING,
  TfxError,
  type JoinResult,
  type LobbyState,
  type ParsedClientEvent,
} from '@tfx/protocol';
import type { Logger } from '../log.js';
import { newId, type HeldLobby, type LobbyEntry, type LobbyView } from '../store/index.js';
import type { LobbyEnvelope } from './cluster-side.js';
import type { AnyAck, Conn } from './connection.js';
import { moderatorOf, type ModerationHost } from './moderation.js';
import type { SignallingMetrics } from './metrics.js';
import type { Peer, Room } from './room.js';

export interface LobbyHost extends ModerationHost {
  readonly rooms: ReadonlyMap<string, Room>;
  readonly metrics: SignallingMetrics;
  readonly log: Logger;
  /** The ordinary join (store, peer, `peer-joined`), answering through `reply`. */
  join(conn: Conn, req: ParsedClientEvent<'join'>, reply: AnyAck): Promise<void>;
}

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
  /** Admitted joins run one after another, oldest first. */
  private admitting: Promise<void> = Promise.resolve();

  constructor(private readonly host: LobbyHost) {}

  private get node(): string {
    return this.host.cluster?.nodeId ?? '';
  }

  /** True when the lobby took the join over (the joiner waits, or was refused). */
  async intercept(conn: Conn, req: ParsedClientEvent<'join'>, reply: AnyAck): Promise<boolean> {
    if (this.waitingConns.has(conn)) {
      conn.refuse('join', reply, 'already-joined', 'this connection is waiting in the lobby');
      return true;
    }
    const store = this.host.store;
    if (req.moderatorToken && (await store.isModerator(req.room, req.moderatorToken))) return false;
    if (conn.gone) return true;
    const id = newId(9);
    const entry: LobbyEntry = { id, name: req.name, node: this.node, since: Date.now() };
    const queued = await store.enqueueLobby(req.room, entry, LOBBY_MAX_WAITING);
    if (queued.outcome === 'off') return false;
    if (queued.outcome === 'full') {
      conn.refuse('join', reply, 'rate-limited', 'the lobby is full; try again later');
      return true;
    }
    if (conn.gone) {
      await this.leaveQueue(req.room, id);
      return true;
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
    this.host.metrics.joins.labels('waiting-in-lobby').inc();
    this.host.log.info({ roomId: req.room, lobbyId: id }, 'joiner waiting in the lobby');
    reply({
      ok: false,
      error: {
        code: 'waiting-in-lobby',
        message: ERROR_CATALOGUE['waiting-in-lobby'].summary,
        details: { id },
      },
    });
    this.publish(req.room, queued.view);
    return true;
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
    for (const room of this.host.rooms.values()) {
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
    this.host.store.getLobby(peer.room.name).then(
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
    const mod = await moderatorOf(this.host, conn, 'lobby', req.moderatorToken, ack);
    if (!mod) return;
    const room = mod.room.name;
    const changed = await this.host.store.setLobby(room, req.enabled);
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
      const room = this.host.rooms.get(env.room);
      if (room && !room.closed) this.show(room, env.v, env);
      return;
    }
    if (!this.decide(env.t, env.room, env.id)) {
      // Gone meanwhile (its disconnect lost the race for the store entry to the moderator).
      this.host.log.debug({ roomId: env.room, lobbyId: env.id }, 'verdict for nobody waiting here');
    }
  }

  private async decideFor(
    conn: Conn,
    event: 'admit' | 'deny',
    req: ParsedClientEvent<'admit'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const mod = await moderatorOf(this.host, conn, event, req.moderatorToken, ack);
    if (!mod) return;
    const room = mod.room.name;
    const taken = await this.host.store.takeLobby(room, req.id);
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
    const cluster = this.host.cluster;
    if (!cluster || entry.node === cluster.nodeId) {
      this.decide(kind, room, entry.id);
      return;
    }
    if (!cluster.link.send(entry.node, { t: kind, room, id: entry.id }))
      this.host.log.warn(
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
      this.host.log.info({ roomId: room, lobbyId: id }, 'joiner denied');
      w.conn.socket.emit('denied', { reason: 'denied' });
      w.conn.socket.disconnect(true);
      return true;
    }
    this.admitting = this.admitting.then(() => this.runJoin(w));
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
      const taken = await this.host.store.takeLobby(room, id);
      if (taken) this.publish(room, taken.view);
    } catch (err) {
      this.host.log.warn({ err, roomId: room, lobbyId: id }, 'dropping a lobby waiter failed');
    }
  }

  /** Runs the held join; its answer goes to the joiner as `admitted` (or an `event-error`). */
  private async runJoin(w: Waiting): Promise<void> {
    const conn = w.conn;
    if (conn.gone || conn.peer) return;
    this.host.log.info({ roomId: w.room, lobbyId: w.id }, 'joiner admitted from the lobby');
    conn.busy = true;
    try {
      await this.host.join(conn, w.req, (r) => {
        if (conn.gone) return;
        if (r.ok) {
          const { ok, ...result } = r;
          void ok;
          conn.socket.emit('admitted', result as unknown as JoinResult);
        } else conn.socket.emit('event-error', { event: 'join', error: r.error });
      });
    } catch (err) {
      const code = err instanceof TfxError ? err.code : 'internal';
      if (!(err instanceof TfxError))
        this.host.log.error({ err, roomId: w.room }, 'admitted join failed');
      conn.refuse('join', undefined, code, ERROR_CATALOGUE[code].summary);
    } finally {
      conn.busy = false;
    }
  }

  /** Shows a new state here and sends it to the other nodes holding peers of the room. */
  private publish(room: string, view: LobbyView): void {
    const local = this.host.rooms.get(room);
    if (local && !local.closed) this.show(local, view.version, view);
    // Built here, not with cluster/envelope.ts: without Redis the cluster module is never loaded.
    const env = { t: 'lobby', room, v: view.version, ...stateOf(view) } as const;
    this.host.cluster
      ?.broadcastFromStore(room, env)
      .catch((err: unknown) =>
        this.host.log.warn({ err, roomId: room }, 'sending the lobby state failed'),
      );
  }

  private show(room: Room, version: number, view: Shown): void {
    if (version <= (this.shown.get(room)?.version ?? -1)) return;
    this.shown.set(room, { version, enabled: view.enabled });
    const state = stateOf(view);
    for (const p of room.peers.values()) if (p.moderator) p.emit('lobby-state', state);
  }
}
