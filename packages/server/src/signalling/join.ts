/**
 * Join and leave: how a connection becomes a peer of a room, and stops being one (on purpose, or
 * by losing its connection: then its place is held for the resume grace, resume.ts). A join is:
 *
 *   guards (one join per connection, not draining, cluster healthy, joins per IP) → lobby
 *   screening (lobby.ts: go ahead, wait, or refused) → the store's join (password, lock, capacity,
 *   session) → resume token and ICE servers → the room and peer here (rooms.ts) → `peer-joined`
 *   to its peers → the ack (or `admitted`, for a joiner the lobby held)
 */
import { ERROR_CATALOGUE, TfxError, type JoinResult, type ParsedClientEvent } from '@tfx/protocol';
import type { NodePeerInfo } from '../cluster/index.js';
import { newId, newToken } from '../store/index.js';
import type { AnyAck, Conn } from './connection.js';
import type { SignallingContext } from './context.js';
import { KeyedLimiter } from './limits.js';
import type { Admission, Lobbies } from './lobby.js';
import type { Rooms } from './rooms.js';
import { roomResult, type IceServers } from './resume.js';

export class Joins {
  private readonly joinsPerIp: KeyedLimiter;

  constructor(
    private readonly ctx: SignallingContext,
    private readonly rooms: Rooms,
    private readonly lobby: Lobbies,
    private readonly ice: IceServers,
  ) {
    const perMinute = ctx.cfg.joinsPerIpPerMinute;
    this.joinsPerIp = new KeyedLimiter(perMinute, perMinute / 60);
    void this.runAdmissions();
  }

  /** Addresses with a join budget in use (stats). */
  get limiterKeys(): number {
    return this.joinsPerIp.size;
  }

  async onJoin(conn: Conn, req: ParsedClientEvent<'join'>, ack: AnyAck | undefined): Promise<void> {
    const { ctx } = this;
    const reply = ack as AnyAck;
    if (conn.peer || conn.busy) {
      conn.refuse('join', reply, 'already-joined', ERROR_CATALOGUE['already-joined'].summary);
      return;
    }
    if (ctx.lifecycle.draining) {
      conn.refuse('join', reply, 'shutting-down', ERROR_CATALOGUE['shutting-down'].summary);
      return;
    }
    if (ctx.cluster && !ctx.cluster.link.healthy) {
      ctx.metrics.joins.labels('unavailable').inc();
      conn.refuse('join', reply, 'unavailable', ERROR_CATALOGUE.unavailable.summary);
      return;
    }
    if (!this.joinsPerIp.take(conn.ip, ctx.clock.now())) {
      ctx.metrics.joins.labels('rate-limited').inc();
      conn.refuse('join', reply, 'rate-limited', 'too many joins from this address; wait a minute');
      return;
    }
    conn.busy = true;
    try {
      const screening = await this.lobby.screen(conn, req);
      switch (screening.verdict) {
        case 'pass':
          await this.join(conn, req, reply);
          return;
        case 'gone':
          return;
        case 'refuse':
          conn.refuse('join', reply, screening.code, screening.message);
          return;
        case 'wait': {
          const { id, view } = screening;
          const message = ERROR_CATALOGUE['waiting-in-lobby'].summary;
          reply({ ok: false, error: { code: 'waiting-in-lobby', message, details: { id } } });
          this.lobby.publish(req.room, view);
          return;
        }
      }
    } finally {
      conn.busy = false;
    }
  }

  /** The join itself, past the lobby: answers through `reply`. */
  private async join(conn: Conn, req: ParsedClientEvent<'join'>, reply: AnyAck): Promise<void> {
    const { ctx } = this;
    const peerId = newId(12);
    const state = req.state ?? { audio: false, video: false };
    const outcome = await ctx.store.join({
      room: req.room,
      peerId,
      name: req.name,
      state,
      password: req.password,
      moderatorToken: req.moderatorToken,
      capacity: ctx.cfg.roomCapacity,
      now: ctx.clock.now(),
    });
    if (!outcome.ok) {
      ctx.metrics.joins.labels(outcome.code).inc();
      conn.refuse('join', reply, outcome.code, ERROR_CATALOGUE[outcome.code].summary);
      return;
    }
    const resumeToken = newToken();
    let iceServers: JoinResult['iceServers'] = [];
    let nodePeers: readonly NodePeerInfo[] = [];
    try {
      await ctx.store.setResumeToken(req.room, peerId, resumeToken);
      iceServers = await this.ice.get({ peerId, room: req.room });
      if (ctx.cluster) nodePeers = await ctx.cluster.link.roomPeers(req.room);
    } catch (err) {
      await ctx.store.leave(req.room, peerId, ctx.clock.now()).catch(() => undefined);
      throw err;
    }
    if (conn.gone || ctx.lifecycle.draining || ctx.lifecycle.closed) {
      // Gone while the store worked: undo, and end the session if it was the only one.
      await ctx.store.leave(req.room, peerId, ctx.clock.now());
      this.rooms.endWhenEmptyByName(req.room, outcome.sessionId);
      if (!conn.gone)
        conn.refuse('join', reply, 'shutting-down', ERROR_CATALOGUE['shutting-down'].summary);
      return;
    }
    const room = this.rooms.open(req.room, outcome.sessionId, outcome.room);
    const peer = this.rooms.enter(room, peerId, req.name, state, outcome.peer.moderator);
    peer.attach(conn.socket);
    conn.peer = peer;
    ctx.metrics.joins.labels('ok').inc();
    ctx.cluster?.sync(room, nodePeers);
    this.rooms.announce(peer);
    const result: JoinResult = {
      ...roomResult(ctx.cfg.resumeGraceMs, peer, resumeToken, iceServers),
      ...(outcome.moderatorToken !== undefined ? { moderatorToken: outcome.moderatorToken } : {}),
    };
    peer.log.info(
      {
        sessionId: outcome.sessionId,
        sessionStarted: outcome.sessionStarted,
        moderator: peer.moderator,
      },
      'peer joined',
    );
    reply({ ok: true, ...result });
    this.lobby.welcome(peer);
  }

  /** Admitted joiners, one after another: the join's answer goes out as `admitted`. */
  private async runAdmissions(): Promise<void> {
    for await (const admission of this.lobby.admissions()) await this.admit(admission);
  }

  private async admit({ id, room, conn, req }: Admission): Promise<void> {
    if (conn.gone || conn.peer) return;
    this.ctx.log.info({ roomId: room, lobbyId: id }, 'joiner admitted from the lobby');
    conn.busy = true;
    try {
      await this.join(conn, req, (r) => {
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
        this.ctx.log.error({ err, roomId: room }, 'admitted join failed');
      conn.refuse('join', undefined, code, ERROR_CATALOGUE[code].summary);
    } finally {
      conn.busy = false;
    }
  }

  onLeave(conn: Conn, ack: AnyAck | undefined): void {
    const peer = conn.peer;
    if (!peer) {
      conn.refuse('leave', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
      return;
    }
    conn.peer = undefined;
    this.rooms.remove(peer, 'left');
    ack?.({ ok: true });
  }

  /** The connection closed (ingress.ts): a peer that meant to leave leaves; others are held. */
  disconnected(conn: Conn, reason: string): void {
    const peer = conn.peer;
    conn.peer = undefined;
    if (!peer || peer.closed || peer.socket !== conn.socket || this.ctx.lifecycle.closed) return;
    // A client that closes its socket on purpose is leaving; anything else may come back.
    if (reason === 'client namespace disconnect' || this.ctx.cfg.resumeGraceMs === 0) {
      this.rooms.remove(peer, 'left');
      return;
    }
    peer.log.debug({ reason }, 'peer away; holding its place');
    this.rooms.hold(peer);
  }
}
