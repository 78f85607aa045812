/**
 * The lobby: with it on (`lobby` from a moderator), a join without the room's moderator token is
 * answered `waiting-in-lobby` and held on its connection. Moderators see the queue (`lobby-state`)
 * and `admit` or `deny`; an admitted joiner's join then runs as usual (password, lock and capacity
 * still apply) and its result arrives as `admitted`; a denied one gets `denied` and is disconnected.
 * Turning the lobby off admits everyone waiting.
 *
 * The lobby belongs to this process's `Room` object: it ends with the room, and with scale-out a
 * joiner waiting on one process is seen by the moderators on that process only (docs/signalling.md).
 */
import {
  ERROR_CATALOGUE,
  LOBBY_MAX_WAITING,
  type JoinResult,
  type LobbyState,
  type ParsedClientEvent,
} from '@tfx/protocol';
import { newId } from '../store/index.js';
import type { AnyAck, Conn } from './connection.js';
import { moderatorOf, type ModerationHost } from './moderation.js';
import type { SignallingMetrics } from './metrics.js';
import type { Peer, Room } from './room.js';

export interface LobbyHost extends ModerationHost {
  readonly rooms: ReadonlyMap<string, Room>;
  readonly metrics: SignallingMetrics;
  /** The ordinary join (store, peer, `peer-joined`), answering through `reply`. */
  join(conn: Conn, req: ParsedClientEvent<'join'>, reply: AnyAck): Promise<void>;
}

interface Waiting {
  readonly id: string;
  readonly conn: Conn;
  readonly req: ParsedClientEvent<'join'>;
  readonly off: () => void;
}

interface RoomLobby {
  enabled: boolean;
  readonly waiting: Map<string, Waiting>;
}

export class Lobbies {
  private readonly byRoom = new WeakMap<Room, RoomLobby>();
  private readonly waitingConns = new WeakSet<Conn>();

  constructor(private readonly host: LobbyHost) {}

  /** True when the lobby took the join over (the joiner waits, or was refused). */
  async intercept(conn: Conn, req: ParsedClientEvent<'join'>, reply: AnyAck): Promise<boolean> {
    if (this.waitingConns.has(conn)) {
      conn.refuse('join', reply, 'already-joined', 'this connection is waiting in the lobby');
      return true;
    }
    const room = this.host.rooms.get(req.room);
    const lobby = room && !room.closed ? this.byRoom.get(room) : undefined;
    if (!room || !lobby?.enabled) return false;
    if (req.moderatorToken && (await this.host.store.isModerator(room.name, req.moderatorToken)))
      return false;
    if (conn.gone) return true;
    if (lobby.waiting.size >= LOBBY_MAX_WAITING) {
      conn.refuse('join', reply, 'rate-limited', 'the lobby is full; try again later');
      return true;
    }
    const id = newId(9);
    const onGone = (): void => {
      if (lobby.waiting.get(id)?.conn !== conn) return;
      lobby.waiting.delete(id);
      this.waitingConns.delete(conn);
      this.notify(room, lobby);
    };
    conn.socket.once('disconnect', onGone);
    lobby.waiting.set(id, {
      id,
      conn,
      req,
      off: () => conn.socket.off('disconnect', onGone),
    });
    this.waitingConns.add(conn);
    this.host.metrics.joins.labels('waiting-in-lobby').inc();
    room.log.info({ lobbyId: id }, 'joiner waiting in the lobby');
    reply({
      ok: false,
      error: {
        code: 'waiting-in-lobby',
        message: ERROR_CATALOGUE['waiting-in-lobby'].summary,
        details: { id },
      },
    });
    this.notify(room, lobby);
    return true;
  }

  /** A moderator joined: it hears of the lobby at once. */
  welcome(peer: Peer): void {
    const lobby = this.byRoom.get(peer.room);
    if (peer.moderator && lobby?.enabled) peer.emit('lobby-state', this.state(lobby));
  }

  async onLobby(
    conn: Conn,
    req: ParsedClientEvent<'lobby'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const mod = await moderatorOf(this.host, conn, 'lobby', req.moderatorToken, ack);
    if (!mod) return;
    const room = mod.room;
    let lobby = this.byRoom.get(room);
    if (!lobby) {
      lobby = { enabled: false, waiting: new Map() };
      this.byRoom.set(room, lobby);
    }
    lobby.enabled = req.enabled;
    mod.log.info({ enabled: req.enabled }, 'moderator set the lobby');
    ack?.({ ok: true, enabled: req.enabled });
    this.notify(room, lobby);
    if (!req.enabled) for (const w of [...lobby.waiting.values()]) await this.admit(room, lobby, w);
  }

  async onAdmit(
    conn: Conn,
    req: ParsedClientEvent<'admit'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const found = await this.waiting(conn, 'admit', req, ack);
    if (!found) return;
    ack?.({ ok: true });
    await this.admit(found.room, found.lobby, found.w);
  }

  async onDeny(conn: Conn, req: ParsedClientEvent<'deny'>, ack: AnyAck | undefined): Promise<void> {
    const found = await this.waiting(conn, 'deny', req, ack);
    if (!found) return;
    const { room, lobby, w } = found;
    this.take(lobby, w);
    room.log.info({ lobbyId: w.id }, 'moderator denied a joiner');
    if (!w.conn.gone) {
      w.conn.socket.emit('denied', { reason: 'denied' });
      w.conn.socket.disconnect(true);
    }
    ack?.({ ok: true });
    this.notify(room, lobby);
  }

  private async waiting(
    conn: Conn,
    event: 'admit' | 'deny',
    req: ParsedClientEvent<'admit'>,
    ack: AnyAck | undefined,
  ): Promise<{ room: Room; lobby: RoomLobby; w: Waiting } | undefined> {
    const mod = await moderatorOf(this.host, conn, event, req.moderatorToken, ack);
    if (!mod) return undefined;
    const lobby = this.byRoom.get(mod.room);
    const w = lobby?.waiting.get(req.id);
    if (!lobby || !w || w.conn.gone) {
      conn.refuse(event, ack, 'peer-unavailable', 'nobody with that id is waiting in the lobby');
      return undefined;
    }
    return { room: mod.room, lobby, w };
  }

  private take(lobby: RoomLobby, w: Waiting): void {
    lobby.waiting.delete(w.id);
    this.waitingConns.delete(w.conn);
    w.off();
  }

  /** Runs the held join; its answer goes to the joiner as `admitted` (or an `event-error`). */
  private async admit(room: Room, lobby: RoomLobby, w: Waiting): Promise<void> {
    this.take(lobby, w);
    this.notify(room, lobby);
    if (w.conn.gone || w.conn.peer) return;
    room.log.info({ lobbyId: w.id }, 'joiner admitted from the lobby');
    w.conn.busy = true;
    try {
      await this.host.join(w.conn, w.req, (r) => {
        if (w.conn.gone) return;
        if (r.ok) {
          const { ok, ...result } = r;
          void ok;
          w.conn.socket.emit('admitted', result as unknown as JoinResult);
        } else w.conn.socket.emit('event-error', { event: 'join', error: r.error });
      });
    } finally {
      w.conn.busy = false;
    }
  }

  private state(lobby: RoomLobby): LobbyState {
    return {
      enabled: lobby.enabled,
      waiting: [...lobby.waiting.values()].map((w) => ({ id: w.id, name: w.req.name })),
    };
  }

  private notify(room: Room, lobby: RoomLobby): void {
    const state = this.state(lobby);
    for (const p of room.peers.values()) if (p.moderator) p.emit('lobby-state', state);
  }
}
