/**
 * Join, resume and leave: how a connection becomes a peer of a room, gets it back after a dropped
 * connection, and stops being one. In order, a join is:
 *
 *   guards (one join per connection, not draining, cluster healthy, joins per IP) → lobby
 *   screening (lobby.ts: go ahead, wait, or refused) → the store's join (password, lock, capacity,
 *   session) → resume token and ICE servers → the room and peer here (rooms.ts) → `peer-joined`
 *   to its peers → the ack (or `admitted`, for a joiner the lobby held)
 *
 * A resume (socket.io handshake with `auth.resumeToken`, see ingress.ts) finds the peer here — or,
 * with Redis, adopts it from the process that held it — and attaches the new connection.
 */
import {
  ERROR_CATALOGUE,
  PROTOCOL_VERSION,
  TfxError,
  type JoinResult,
  type ParsedClientEvent,
} from '@tfx/protocol';
import type { NodePeerInfo } from '../cluster/index.js';
import { newId, newToken, type ResumeBinding } from '../store/index.js';
import type { AnyAck, Conn, Connections } from './connection.js';
import type { SignallingContext } from './context.js';
import { KeyedLimiter } from './limits.js';
import type { Admission, Lobbies } from './lobby.js';
import type { Peer } from './room.js';
import type { Rooms } from './rooms.js';
import type { IceServerProvider } from './service.js';

export class Joins {
  private readonly joinsPerIp: KeyedLimiter;
  private iceServers: IceServerProvider;

  constructor(
    private readonly ctx: SignallingContext,
    private readonly rooms: Rooms,
    private readonly lobby: Lobbies,
    private readonly conns: Connections,
    turnUrls: readonly string[],
  ) {
    const perMinute = ctx.cfg.joinsPerIpPerMinute;
    this.joinsPerIp = new KeyedLimiter(perMinute, perMinute / 60);
    this.iceServers = () => (turnUrls.length > 0 ? [{ urls: [...turnUrls] }] : []);
    void this.runAdmissions();
  }

  setIceServerProvider(provider: IceServerProvider): void {
    this.iceServers = provider;
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
      iceServers = await this.iceServers({ peerId, room: req.room });
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
      ...this.result(peer, resumeToken, iceServers),
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

  /**
   * The handshake's resume token: the peer it names, held here or (with Redis) adopted from the
   * process that held it. Throws `invalid-resume-token` otherwise.
   */
  async resumable(token: unknown): Promise<ResumeBinding> {
    const { ctx } = this;
    const binding =
      typeof token === 'string' && token.length > 0 && token.length <= 128
        ? await ctx.store.takeResumeToken(token)
        : undefined;
    const peer = binding && this.rooms.peer(binding.room, binding.peerId);
    // Scale-out: a peer another process held (it died or drains) resumes here.
    const adopted = binding && !peer && ctx.cluster ? await this.adopt(binding) : undefined;
    if (!binding || ((!peer || peer.closed) && !adopted)) {
      ctx.metrics.resumes.labels('invalid-resume-token').inc();
      throw new TfxError('invalid-resume-token');
    }
    return binding;
  }

  /** Takes over a peer another process held: it keeps its id, room and peers. */
  private async adopt(binding: ResumeBinding): Promise<Peer | undefined> {
    const { ctx } = this;
    const cluster = ctx.cluster;
    if (!cluster) return undefined;
    const peers = await cluster.link.roomPeers(binding.room);
    const me = peers.find((p) => p.peer.id === binding.peerId);
    const view = me && (await ctx.store.getRoom(binding.room, ctx.clock.now()));
    if (!me || !view?.sessionId || !(await cluster.link.claimPeer(binding.room, binding.peerId)))
      return undefined;
    const room = this.rooms.open(binding.room, view.sessionId, view);
    room.remote.delete(binding.peerId);
    cluster.sync(room, peers);
    const existing = room.peers.get(binding.peerId);
    if (existing) return existing;
    const { id, name, state, moderator } = me.peer;
    const peer = this.rooms.enter(room, id, name, state, moderator);
    // Detached until the resume attaches the new socket.
    this.rooms.hold(peer);
    cluster.broadcast(room, { t: 'moved', room: room.name, peerId: id, node: cluster.nodeId });
    peer.log.info('peer taken over from another process');
    return peer;
  }

  /** A connection that passed `resumable` is up: attach it, deliver what was held. */
  async resume(conn: Conn, binding: ResumeBinding): Promise<void> {
    const { ctx } = this;
    conn.busy = true;
    try {
      const token = newToken();
      await ctx.store.setResumeToken(binding.room, binding.peerId, token);
      const iceServers = await this.iceServers({ peerId: binding.peerId, room: binding.room });
      const peer = this.rooms.peer(binding.room, binding.peerId);
      if (conn.gone) return; // still away: the new token is in force for the next attempt
      if (!peer || peer.closed) {
        ctx.metrics.resumes.labels('invalid-resume-token').inc();
        const why = 'the peer left before the resume completed';
        conn.refuse('resume', undefined, 'invalid-resume-token', why);
        return;
      }
      if (peer.socket && peer.socket !== conn.socket) {
        // Its old connection has not been noticed dead yet: replace it without a peer-left.
        const old = peer.socket;
        const oldConn = this.conns.bySocket(old);
        if (oldConn) oldConn.peer = undefined;
        old.disconnect(true);
      }
      const held = peer.attach(conn.socket);
      conn.peer = peer;
      ctx.metrics.resumes.labels('ok').inc();
      conn.socket.emit('resumed', this.result(peer, token, iceServers));
      for (const item of held) peer.deliver(item);
      peer.log.info({ delivered: held.length }, 'peer resumed');
    } finally {
      conn.busy = false;
    }
  }

  /** What a join or resume answers: the room as this peer sees it. */
  private result(
    peer: Peer,
    resumeToken: string,
    iceServers: JoinResult['iceServers'],
  ): JoinResult {
    const room = peer.room;
    return {
      protocol: PROTOCOL_VERSION,
      peerId: peer.id,
      room: room.name,
      sessionId: room.sessionId,
      peers: room.othersOf(peer),
      iceServers,
      resumeToken,
      resumeGraceMs: this.ctx.cfg.resumeGraceMs,
      moderator: peer.moderator,
      ...room.settings,
    };
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
