/**
 * The signalling server: socket.io on the platform's HTTPS server, rooms, presence, relay,
 * resume, moderation. The pipeline, in order:
 *
 *   allowRequest (Origin) → handshake middleware (protocol version, draining, connections per
 *   IP, resume token) → connection → per event: events/s bucket → known event → schema →
 *   handler (join — through the lobby when it is on —, leave, update, signal, message,
 *   presence, kick, lock, mute-all, lobby, admit, deny)
 *
 * Every refused event is answered with a typed error (ack, or `event-error` without an ack) and
 * counted; repeated abuse closes the connection. See docs/signalling.md.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import {
  CLIENT_EVENT_SCHEMAS,
  ERROR_CATALOGUE,
  MIN_COMPATIBLE_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  TfxError,
  isClientEventName,
  isCompatibleProtocol,
  type ClientEventName,
  type ClientToServerEvents,
  type JoinResult,
  type ParsedClientEvent,
  type PeerLeft,
  type ServerToClientEvents,
  type SocketAuth,
} from '@tfx/protocol';
import type { ClusterLink } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { newId, newToken, type HeldLobby, type Store, type SessionQuery } from '../store/index.js';
import { Counter, KeyedLimiter } from './limits.js';
import type { SignallingMetrics } from './metrics.js';
import { clientIp, originAllowed, trustMatcher } from './net.js';
import { Conn, connectError, type AnyAck } from './connection.js';
import { ClusterSide, type LobbyEnvelope } from './cluster-side.js';
import { createApiRoom } from './create-room.js';
import { onKick, onLock, onMuteAll } from './moderation.js';
import { Lobbies } from './lobby.js';
import { onMessage, onSignal } from './relay.js';
import { Peer, Room, realClock, type Clock, type SocketData, type TfxSocket } from './room.js';
import type {
  CreateRoomRequest,
  CreatedRoom,
  IceServerProvider,
  LiveRoomSummary,
  SignallingService,
} from './service.js';

type Handler<E extends ClientEventName> = (
  conn: Conn,
  req: ParsedClientEvent<E>,
  ack: AnyAck | undefined,
) => void | Promise<void>;

export interface SignallingServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly metrics: SignallingMetrics;
  readonly publicUrl: () => string;
  readonly clock?: Clock;
  /** Scale-out (Redis): the link to the other processes. */
  readonly cluster?: ClusterLink | undefined;
}

export class SignallingServer implements SignallingService {
  readonly store: Store;
  readonly io: Server<
    ClientToServerEvents,
    ServerToClientEvents,
    Record<string, never>,
    SocketData
  >;
  private readonly cfg: Config['signalling'];
  readonly log: Logger;
  readonly metrics: SignallingMetrics;
  private readonly clock: Clock;
  readonly rooms = new Map<string, Room>();
  /** Only with Redis: rooms spread over several processes. */
  readonly cluster: ClusterSide | undefined;
  private readonly protocolMin: number;
  private readonly protocolMax: number;
  private readonly conns = new Set<Conn>();
  private readonly perIp = new Counter();
  private readonly joinsPerIp: KeyedLimiter;
  private iceServers: IceServerProvider;
  private draining = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly handlers: { [E in ClientEventName]: Handler<E> };
  private readonly lobbies = new Lobbies(this);

  constructor(
    httpServer: HttpServer,
    private readonly options: SignallingServerOptions,
  ) {
    const { config } = options;
    this.cfg = config.signalling;
    this.store = options.store;
    this.log = options.logger;
    this.metrics = options.metrics;
    this.clock = options.clock ?? realClock;
    this.joinsPerIp = new KeyedLimiter(
      this.cfg.joinsPerIpPerMinute,
      this.cfg.joinsPerIpPerMinute / 60,
    );
    this.protocolMax = config.cluster.protocolVersion ?? PROTOCOL_VERSION;
    this.protocolMin = config.cluster.minProtocolVersion ?? MIN_COMPATIBLE_PROTOCOL_VERSION;
    this.cluster = options.cluster
      ? new ClusterSide(options.cluster, this, options.store)
      : undefined;
    const urls = config.turn.urls;
    this.iceServers = () => (urls.length > 0 ? [{ urls: [...urls] }] : []);
    this.handlers = {
      join: (c, r, a) => this.onJoin(c, r, a),
      leave: (c, _r, a) => this.onLeave(c, a),
      update: (c, r, a) => this.onUpdate(c, r, a),
      signal: (c, r, a) => onSignal(this, c, r, a),
      message: (c, r, a) => onMessage(this, c, r, a),
      presence: (c, r, a) => this.onPresence(c, r, a),
      kick: (c, r, a) => onKick(this, c, r, a),
      lock: (c, r, a) => onLock(this, c, r, a),
      'mute-all': (c, r, a) => onMuteAll(this, c, r, a),
      lobby: (c, r, a) => this.lobbies.onLobby(c, r, a),
      admit: (c, r, a) => this.lobbies.onAdmit(c, r, a),
      deny: (c, r, a) => this.lobbies.onDeny(c, r, a),
    };

    const trusted = trustMatcher(config.server.trustProxy);
    const allowed = config.server.allowedOrigins;
    this.io = new Server(httpServer, {
      path: '/socket.io',
      serveClient: false,
      transports: this.cfg.polling ? ['polling', 'websocket'] : ['websocket'],
      maxHttpBufferSize: this.cfg.maxMessageBytes,
      perMessageDeflate: false,
      httpCompression: false,
      allowRequest: (req, callback) => {
        if (originAllowed(req.headers.origin, req.headers.host, options.publicUrl(), allowed)) {
          callback(null, true);
          return;
        }
        this.metrics.error('origin-not-allowed');
        this.log.debug({ origin: req.headers.origin?.slice(0, 200) }, 'origin refused');
        callback('origin-not-allowed', false);
      },
    });

    this.io.use((socket, next) => {
      const remote = socket.conn.remoteAddress ?? socket.handshake.address;
      socket.data.ip = clientIp(remote, socket.handshake.headers['x-forwarded-for'], trusted);
      this.handshake(socket).then(
        () => next(),
        (err: unknown) => {
          const code = err instanceof TfxError ? err.code : 'internal';
          if (!(err instanceof TfxError)) this.log.error({ err }, 'handshake failed');
          this.metrics.error(code);
          next(
            connectError(
              code,
              err instanceof TfxError ? err.message : ERROR_CATALOGUE.internal.summary,
            ),
          );
        },
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  // --- connections -------------------------------------------------------------------------

  private async handshake(socket: TfxSocket): Promise<void> {
    const auth = (socket.handshake.auth ?? {}) as Partial<Record<keyof SocketAuth, unknown>>;
    if (!this.compatible(auth.protocol)) {
      throw new TfxError(
        'version-mismatch',
        `this server speaks signalling protocol ${this.protocolMin}–${this.protocolMax}, the client ${String(auth.protocol)}; reload the page`,
        { min: this.protocolMin, max: this.protocolMax },
      );
    }
    if (this.draining || this.closed) throw new TfxError('shutting-down');
    if (this.perIp.get(socket.data.ip) >= this.cfg.connectionsPerIp) {
      throw new TfxError('rate-limited', 'too many connections from this address');
    }
    if (auth.resumeToken !== undefined) {
      const token = auth.resumeToken;
      const binding =
        typeof token === 'string' && token.length > 0 && token.length <= 128
          ? await this.store.takeResumeToken(token)
          : undefined;
      const peer = binding && this.rooms.get(binding.room)?.peers.get(binding.peerId);
      // Scale-out: a peer another process held (it died or drains) resumes here.
      const adopted = binding && !peer && this.cluster ? await this.adopt(binding) : undefined;
      if (!binding || ((!peer || peer.closed) && !adopted)) {
        this.metrics.resumes.labels('invalid-resume-token').inc();
        throw new TfxError('invalid-resume-token');
      }
      socket.data.resume = binding;
    }
  }

  private compatible(version: unknown): boolean {
    if (
      this.protocolMin === MIN_COMPATIBLE_PROTOCOL_VERSION &&
      this.protocolMax === PROTOCOL_VERSION
    )
      return isCompatibleProtocol(version);
    return (
      typeof version === 'number' &&
      Number.isInteger(version) &&
      version >= this.protocolMin &&
      version <= this.protocolMax
    );
  }

  /** Takes over a peer another process held: it keeps its id, room and peers. */
  private async adopt(binding: { room: string; peerId: string }): Promise<Peer | undefined> {
    const cluster = this.cluster as ClusterSide;
    const peers = await cluster.link.roomPeers(binding.room);
    const me = peers.find((p) => p.peer.id === binding.peerId);
    const view = me && (await this.store.getRoom(binding.room, this.clock.now()));
    if (!me || !view?.sessionId || !(await cluster.link.claimPeer(binding.room, binding.peerId)))
      return undefined;
    const room = this.localRoom(binding.room, view.sessionId);
    room.capacity = view.capacity;
    room.hasPassword = view.hasPassword;
    room.locked = view.locked;
    room.remote.delete(binding.peerId);
    cluster.sync(room, peers);
    const existing = room.peers.get(binding.peerId);
    if (existing) return existing;
    const log = this.log.child({ roomId: room.name, peerId: binding.peerId });
    const { id, name, state, moderator } = me.peer;
    const peer = new Peer(id, room, name, state, moderator, log);
    room.add(peer);
    this.metrics.peers.inc();
    // Detached until the resume attaches the new socket.
    peer.detach(this.cfg.resumeGraceMs, this.clock, () => this.removePeer(peer, 'timeout'));
    cluster.broadcast(room, { t: 'moved', room: room.name, peerId: id, node: cluster.nodeId });
    log.info('peer taken over from another process');
    return peer;
  }

  private onConnection(socket: TfxSocket): void {
    if (this.closed) {
      socket.disconnect(true);
      return;
    }
    const conn = new Conn(socket, socket.data.ip, this.clock.now(), this.cfg, this.metrics);
    this.conns.add(conn);
    this.perIp.increment(conn.ip);
    this.metrics.connections.inc();
    socket.use((packet) => this.ingress(conn, packet));
    socket.on('disconnect', (reason) => this.onDisconnect(conn, reason));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    if (this.draining) socket.emit('server-notice', this.shutdownNotice());
    if (socket.data.resume) {
      this.resume(conn, socket.data.resume).catch((err: unknown) =>
        this.handlerFailed(conn, 'resume', undefined, err),
      );
    }
  }

  private onDisconnect(conn: Conn, reason: string): void {
    conn.gone = true;
    this.conns.delete(conn);
    this.perIp.decrement(conn.ip);
    this.metrics.connections.dec();
    if (reason === 'parse error') this.metrics.error('invalid-event');
    const peer = conn.peer;
    conn.peer = undefined;
    if (!peer || peer.closed || peer.socket !== conn.socket || this.closed) return;
    // A client that closes its socket on purpose is leaving; anything else may come back.
    if (reason === 'client namespace disconnect' || this.cfg.resumeGraceMs === 0) {
      this.removePeer(peer, 'left');
      return;
    }
    peer.log.debug({ reason }, 'peer away; holding its place');
    peer.detach(this.cfg.resumeGraceMs, this.clock, () => this.removePeer(peer, 'timeout'));
  }

  // --- ingress -----------------------------------------------------------------------------

  /** The one entry of every client event: limits, then schema, then the handler. */
  private ingress(conn: Conn, packet: unknown[]): void {
    const now = this.clock.now();
    const last = packet[packet.length - 1];
    const ack = packet.length > 1 && typeof last === 'function' ? (last as AnyAck) : undefined;
    const event = packet[0];
    const name = typeof event === 'string' ? event.slice(0, 64) : typeof event;
    if (!conn.events.take(now)) {
      conn.refuse(name, ack, 'rate-limited', 'too many events; slow down', false);
      conn.strike(now, this.log);
      return;
    }
    if (!isClientEventName(event)) {
      conn.refuse(name, ack, 'invalid-event', `unknown event ${JSON.stringify(name)}`);
      conn.strike(now, this.log);
      return;
    }
    const argc = packet.length - 1 - (ack ? 1 : 0);
    const payload = argc === 1 ? packet[1] : undefined;
    const parsed = argc <= 1 ? CLIENT_EVENT_SCHEMAS[event].safeParse(payload) : undefined;
    if (!parsed?.success) {
      const issue = parsed?.error.issues[0];
      const where = issue
        ? `${issue.path.join('.') || 'payload'}: ${issue.message}`
        : 'too many arguments';
      conn.refuse(event, ack, 'invalid-event', `invalid ${event}: ${where}`.slice(0, 300));
      conn.strike(now, this.log);
      return;
    }
    if (!ack && (event === 'join' || event === 'presence')) {
      conn.refuse(event, undefined, 'invalid-event', `${event} needs an acknowledgement callback`);
      return;
    }
    try {
      const handler = this.handlers[event] as Handler<typeof event>;
      const result = handler(conn, parsed.data as ParsedClientEvent<typeof event>, ack);
      if (result) result.catch((err: unknown) => this.handlerFailed(conn, event, ack, err));
    } catch (err) {
      this.handlerFailed(conn, event, ack, err);
    }
  }

  private handlerFailed(conn: Conn, event: string, ack: AnyAck | undefined, err: unknown): void {
    if (err instanceof TfxError) {
      conn.refuse(event, ack, err.code, err.message);
      return;
    }
    (conn.peer?.log ?? this.log).error({ err, event }, 'signalling handler failed');
    conn.refuse(event, ack, 'internal', ERROR_CATALOGUE.internal.summary);
  }

  // --- join, resume, leave ---------------------------------------------------------------------

  private async onJoin(
    conn: Conn,
    req: ParsedClientEvent<'join'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const reply = ack as AnyAck;
    if (conn.peer || conn.busy) {
      conn.refuse('join', reply, 'already-joined', ERROR_CATALOGUE['already-joined'].summary);
      return;
    }
    if (this.draining) {
      conn.refuse('join', reply, 'shutting-down', ERROR_CATALOGUE['shutting-down'].summary);
      return;
    }
    if (this.cluster && !this.cluster.link.healthy) {
      this.metrics.joins.labels('unavailable').inc();
      conn.refuse('join', reply, 'unavailable', ERROR_CATALOGUE.unavailable.summary);
      return;
    }
    if (!this.joinsPerIp.take(conn.ip, this.clock.now())) {
      this.metrics.joins.labels('rate-limited').inc();
      conn.refuse('join', reply, 'rate-limited', 'too many joins from this address; wait a minute');
      return;
    }
    conn.busy = true;
    try {
      if (!(await this.lobbies.intercept(conn, req, reply))) await this.join(conn, req, reply);
    } finally {
      conn.busy = false;
    }
  }

  /** The join itself, past the lobby (which calls it for an admitted joiner). */
  async join(conn: Conn, req: ParsedClientEvent<'join'>, reply: AnyAck): Promise<void> {
    const peerId = newId(12);
    const state = req.state ?? { audio: false, video: false };
    const outcome = await this.store.join({
      room: req.room,
      peerId,
      name: req.name,
      state,
      password: req.password,
      moderatorToken: req.moderatorToken,
      capacity: this.cfg.roomCapacity,
      now: this.clock.now(),
    });
    if (!outcome.ok) {
      this.metrics.joins.labels(outcome.code).inc();
      conn.refuse('join', reply, outcome.code, ERROR_CATALOGUE[outcome.code].summary);
      return;
    }
    const resumeToken = newToken();
    let iceServers: JoinResult['iceServers'] = [];
    let nodePeers: Awaited<ReturnType<ClusterLink['roomPeers']>> = [];
    try {
      await this.store.setResumeToken(req.room, peerId, resumeToken);
      iceServers = await this.iceServers({ peerId, room: req.room });
      if (this.cluster) nodePeers = await this.cluster.link.roomPeers(req.room);
    } catch (err) {
      await this.store.leave(req.room, peerId, this.clock.now()).catch(() => undefined);
      throw err;
    }
    if (conn.gone || this.draining || this.closed) {
      // Gone while the store worked: undo, and end the session if it was the only one.
      await this.store.leave(req.room, peerId, this.clock.now());
      this.scheduleEmptyCheck(req.room, outcome.sessionId);
      if (!conn.gone)
        conn.refuse('join', reply, 'shutting-down', ERROR_CATALOGUE['shutting-down'].summary);
      return;
    }
    const room = this.localRoom(req.room, outcome.sessionId);
    room.capacity = outcome.room.capacity;
    room.hasPassword = outcome.room.hasPassword;
    room.locked = outcome.room.locked;
    const log = this.log.child({ roomId: room.name, peerId });
    const peer = new Peer(peerId, room, req.name, state, outcome.peer.moderator, log);
    room.add(peer);
    peer.attach(conn.socket);
    conn.peer = peer;
    this.metrics.peers.inc();
    this.metrics.joins.labels('ok').inc();
    room.broadcast(peer, 'peer-joined', peer.info());
    if (this.cluster) {
      this.cluster.sync(room, nodePeers);
      const node = this.cluster.nodeId;
      this.cluster.broadcast(room, { t: 'joined', room: room.name, peer: peer.info(), node });
    }
    const result: JoinResult = {
      ...this.roomResult(peer, resumeToken, iceServers),
      ...(outcome.moderatorToken !== undefined ? { moderatorToken: outcome.moderatorToken } : {}),
    };
    log.info(
      {
        sessionId: outcome.sessionId,
        sessionStarted: outcome.sessionStarted,
        moderator: peer.moderator,
      },
      'peer joined',
    );
    reply({ ok: true, ...result });
    this.lobbies.welcome(peer);
  }

  private async resume(conn: Conn, binding: { room: string; peerId: string }): Promise<void> {
    conn.busy = true;
    try {
      const token = newToken();
      await this.store.setResumeToken(binding.room, binding.peerId, token);
      const iceServers = await this.iceServers({ peerId: binding.peerId, room: binding.room });
      const peer = this.rooms.get(binding.room)?.peers.get(binding.peerId);
      if (conn.gone) return; // still away: the new token is in force for the next attempt
      if (!peer || peer.closed) {
        this.metrics.resumes.labels('invalid-resume-token').inc();
        conn.refuse(
          'resume',
          undefined,
          'invalid-resume-token',
          'the peer left before the resume completed',
        );
        return;
      }
      if (peer.socket && peer.socket !== conn.socket) {
        // Its old connection has not been noticed dead yet: replace it without a peer-left.
        const old = peer.socket;
        for (const c of this.conns) if (c.socket === old) c.peer = undefined;
        old.disconnect(true);
      }
      const held = peer.attach(conn.socket);
      conn.peer = peer;
      this.metrics.resumes.labels('ok').inc();
      conn.socket.emit('resumed', this.roomResult(peer, token, iceServers));
      for (const item of held) peer.deliver(item);
      peer.log.info({ delivered: held.length }, 'peer resumed');
    } finally {
      conn.busy = false;
    }
  }

  private roomResult(
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
      resumeGraceMs: this.cfg.resumeGraceMs,
      moderator: peer.moderator,
      capacity: room.capacity,
      locked: room.locked,
      hasPassword: room.hasPassword,
    };
  }

  private onLeave(conn: Conn, ack: AnyAck | undefined): void {
    const peer = conn.peer;
    if (!peer) {
      conn.refuse('leave', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
      return;
    }
    conn.peer = undefined;
    this.removePeer(peer, 'left');
    ack?.({ ok: true });
  }

  private localRoom(name: string, sessionId: string): Room {
    let room = this.rooms.get(name);
    if (!room || room.closed) {
      room = new Room(name, sessionId, this.log.child({ roomId: name }));
      this.rooms.set(name, room);
      this.metrics.rooms.inc();
    }
    room.sessionId = sessionId;
    return room;
  }

  /** Removes a peer for good: its peers get `peer-left`; an empty room ends after the grace. */
  private removePeer(peer: Peer, reason: PeerLeft['reason']): void {
    if (peer.closed) return;
    const room = peer.room;
    peer.close();
    this.metrics.peers.dec();
    room.broadcast(undefined, 'peer-left', { peerId: peer.id, reason });
    this.cluster?.broadcast(room, { t: 'left', room: room.name, peerId: peer.id, reason });
    peer.log.info({ reason }, 'peer left');
    const left = this.store.leave(room.name, peer.id, this.clock.now());
    left.catch((err: unknown) => peer.log.warn({ err }, 'store leave failed'));
    if (room.peers.size === 0) {
      room.startEmptyTimer(this.cfg.resumeGraceMs, this.clock, () => {
        void left.catch(() => undefined).then(() => this.endRoom(room));
      });
    }
  }

  private scheduleEmptyCheck(name: string, sessionId: string): void {
    const room = this.rooms.get(name);
    if (room) {
      if (room.peers.size === 0)
        room.startEmptyTimer(this.cfg.resumeGraceMs, this.clock, () => void this.endRoom(room));
      return;
    }
    void this.store
      .endSessionIfEmpty(name, this.clock.now())
      .catch((err: unknown) =>
        this.log.warn({ err, roomId: name, sessionId }, 'ending session failed'),
      );
  }

  /** The room has been empty for the grace period: end its session and forget it. */
  private async endRoom(room: Room): Promise<void> {
    if (room.closed || room.peers.size > 0) return;
    try {
      const ended = await this.store.endSessionIfEmpty(room.name, this.clock.now());
      if (ended)
        room.log.info({ sessionId: ended.id, peak: ended.peakParticipants }, 'session ended');
    } catch (err) {
      room.log.warn({ err }, 'ending session failed');
    }
    if (room.closed || room.peers.size > 0) return;
    this.dropRoom(room);
  }

  private dropRoom(room: Room): void {
    if (room.closed) return;
    room.close();
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
    this.metrics.rooms.dec();
  }

  // --- presence and relay ----------------------------------------------------------------------

  private async onUpdate(
    conn: Conn,
    req: ParsedClientEvent<'update'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const peer = conn.peer;
    if (!peer) {
      conn.refuse('update', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
      return;
    }
    const rec = await this.store.updatePeer(peer.room.name, peer.id, req);
    if (peer.closed) return;
    if (rec) {
      peer.name = rec.name;
      peer.state = rec.state;
    }
    const info = peer.info();
    peer.room.broadcast(peer, 'peer-updated', info);
    this.cluster?.broadcast(peer.room, { t: 'updated', room: peer.room.name, peer: info });
    ack?.({ ok: true, peer: info });
  }

  private async onPresence(
    conn: Conn,
    req: ParsedClientEvent<'presence'>,
    ack: AnyAck | undefined,
  ): Promise<void> {
    const reply = ack as AnyAck;
    if (!conn.presence.take(this.clock.now())) {
      conn.refuse('presence', reply, 'rate-limited', 'too many presence queries; wait a minute');
      return;
    }
    const room = await this.store.getRoom(req.room, this.clock.now());
    if (!room) reply({ ok: true, exists: false });
    else if (room.hasPassword) reply({ ok: true, exists: true });
    else reply({ ok: true, exists: true, count: room.peerCount });
  }

  // --- moderation (events in moderation.ts) ----------------------------------------------------

  /** The peer resumed on another process: close it here without a `peer-left`. */
  dropMoved(peer: Peer): void {
    if (peer.closed) return;
    const socket = peer.socket;
    const room = peer.room;
    peer.close();
    this.metrics.peers.dec();
    socket?.disconnect(true);
    peer.log.info('peer moved to another process');
    if (room.peers.size === 0)
      room.startEmptyTimer(this.cfg.resumeGraceMs, this.clock, () => void this.endRoom(room));
  }

  /** A lobby envelope from another node (cluster-side.ts). */
  onLobbyEnvelope(env: LobbyEnvelope): void {
    this.lobbies.onEnvelope(env);
  }

  heldLobbies(): HeldLobby[] {
    return this.lobbies.held();
  }

  kickPeer(peer: Peer, reason: 'kicked' | 'session-closed'): void {
    const socket = peer.socket;
    peer.emit('kicked', { reason });
    this.removePeer(peer, reason === 'kicked' ? 'kicked' : 'closed');
    socket?.disconnect(true);
  }

  // --- service (REST API) ----------------------------------------------------------------------

  listRooms(): LiveRoomSummary[] {
    return [...this.rooms.values()].map((room) => ({
      name: room.name,
      sessionId: room.sessionId,
      capacity: room.capacity,
      locked: room.locked,
      hasPassword: room.hasPassword,
      peers: [...room.peers.values()].map((p) => ({
        ...p.info(),
        connected: p.connected,
        moderator: p.moderator,
      })),
    }));
  }

  listSessions(query: SessionQuery): ReturnType<Store['listSessions']> {
    return this.store.listSessions(query);
  }

  getSession(id: string): ReturnType<Store['getSession']> {
    return this.store.getSession(id);
  }

  private roomOfSession(sessionId: string): Room | undefined {
    for (const room of this.rooms.values()) if (room.sessionId === sessionId) return room;
    return undefined;
  }

  async kick(sessionId: string, peerId: string): Promise<boolean> {
    const peer = this.roomOfSession(sessionId)?.peers.get(peerId);
    if (!peer && this.cluster) return this.cluster.kickBySession(sessionId, [peerId], 'kicked');
    if (!peer) return false;
    peer.log.info('kicked through the API');
    this.kickPeer(peer, 'kicked');
    return true;
  }

  async closeSession(sessionId: string): Promise<boolean> {
    const room = this.roomOfSession(sessionId);
    if (!room && this.cluster)
      return this.cluster.kickBySession(sessionId, undefined, 'session-closed');
    if (!room) return false;
    room.log.info({ sessionId }, 'session closed through the API');
    for (const peer of [...room.peers.values()]) this.kickPeer(peer, 'session-closed');
    if (this.cluster)
      for (const id of [...room.remote.keys()]) this.cluster.kickRemote(room, id, 'session-closed');
    room.cancelEmptyTimer();
    await Promise.resolve();
    await this.endRoom(room);
    return true;
  }

  createRoom(request: CreateRoomRequest): Promise<CreatedRoom> {
    return createApiRoom(
      {
        store: this.store,
        log: this.log,
        roomCapacity: this.cfg.roomCapacity,
        now: () => this.clock.now(),
      },
      request,
    );
  }
  setIceServerProvider(provider: IceServerProvider): void {
    this.iceServers = provider;
  }

  // --- lifecycle -------------------------------------------------------------------------------

  private shutdownNotice(): { kind: 'shutting-down'; message: string; retryAfterMs: number } {
    return {
      kind: 'shutting-down',
      message: 'this server is shutting down; reconnect with your resume token',
      retryAfterMs: 1000,
    };
  }

  /** Refuse new joins and connections; tell every client to resume elsewhere. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    const notice = this.shutdownNotice();
    for (const conn of this.conns) if (!conn.gone) conn.socket.emit('server-notice', notice);
    this.log.info({ connections: this.conns.size }, 'signalling draining');
  }

  /** Disconnects everyone and, unless the store is shared, ends every live session. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.draining = true;
      this.closed = true;
      const rooms = [...this.rooms.values()];
      for (const room of rooms) {
        const ids = [...room.peers.keys()];
        this.metrics.peers.dec(ids.length);
        room.close();
        this.metrics.rooms.dec();
        if (this.store.shared) continue;
        const now = this.clock.now();
        for (const id of ids) await this.store.leave(room.name, id, now).catch(() => undefined);
        await this.store.endSessionIfEmpty(room.name, now).catch(() => undefined);
      }
      this.rooms.clear();
      this.io.disconnectSockets(true);
      this.io.engine.close();
    })();
    return this.closing;
  }

  /** For tests and the admin console. */
  stats(): { rooms: number; peers: number; connections: number; ipKeys: number; joinKeys: number } {
    let peers = 0;
    for (const r of this.rooms.values()) peers += r.peers.size;
    return {
      rooms: this.rooms.size,
      peers,
      connections: this.conns.size,
      ipKeys: this.perIp.size,
      joinKeys: this.joinsPerIp.size,
    };
  }
}
