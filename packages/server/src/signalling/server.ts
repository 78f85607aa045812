/**
 * The signalling server: socket.io on the platform's HTTPS server, and the parts it is made of.
 * This file only builds them, bottom up, and holds the event table; it does no work of its own.
 *
 *   ingress.ts   connection and ingress: origin, handshake, limits, schema → the event table
 *   join.ts      join (through the lobby), leave, disconnect
 *   resume.ts    resume (and, with Redis, adoption of a peer another process held)
 *   lobby.ts     the lobby: screens joins, queues, admits and denies (never runs a join)
 *   relay.ts     signal and message, one path
 *   presence.ts  update and presence
 *   moderation.ts kick, lock, mute-all
 *   rooms.ts     the rooms here: where peers enter and leave, sessions end
 *   admin.ts     rooms and sessions for the REST API and the admin console
 *   cluster-side.ts / cluster-inbound.ts  scale-out (only with Redis): out and in
 *
 * See docs/signalling.md.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@tfx/protocol';
import type { ClusterLink } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { SessionQuery, Store } from '../store/index.js';
import { Admin } from './admin.js';
import { receiveEnvelope } from './cluster-inbound.js';
import { ClusterSide } from './cluster-side.js';
import { Connections } from './connection.js';
import type { Lifecycle, SignallingContext } from './context.js';
import { Ingress, originGate, shutdownNotice, type Handlers } from './ingress.js';
import { Joins } from './join.js';
import { IceServers, Resumes } from './resume.js';
import { Lobbies } from './lobby.js';
import type { SignallingMetrics } from './metrics.js';
import { onKick, onLock, onMuteAll } from './moderation.js';
import { onPresence, onUpdate } from './presence.js';
import { onMessage, onSignal } from './relay.js';
import { realClock, type Clock, type SocketData } from './room.js';
import { Rooms } from './rooms.js';
import type {
  CreateRoomRequest,
  CreatedRoom,
  IceServerProvider,
  LiveRoomSummary,
  SignallingService,
} from './service.js';

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
  private readonly ctx: SignallingContext;
  private readonly lifecycle: Lifecycle = { draining: false, closed: false };
  private readonly conns = new Connections();
  private readonly rooms: Rooms;
  private readonly lobby: Lobbies;
  private readonly joins: Joins;
  private readonly ice: IceServers;
  private readonly admin: Admin;
  private closing: Promise<void> | undefined;

  constructor(httpServer: HttpServer, options: SignallingServerOptions) {
    const { config } = options;
    this.store = options.store;
    const cluster = options.cluster ? new ClusterSide(options.cluster, options.store) : undefined;
    const ctx: SignallingContext = {
      cfg: config.signalling,
      log: options.logger,
      metrics: options.metrics,
      clock: options.clock ?? realClock,
      store: options.store,
      cluster,
      lifecycle: this.lifecycle,
    };
    this.ctx = ctx;
    const rooms = (this.rooms = new Rooms(ctx));
    const lobby = (this.lobby = new Lobbies(ctx, rooms));
    const ice = (this.ice = new IceServers(config.turn.urls));
    this.joins = new Joins(ctx, rooms, lobby, ice);
    const resumes = new Resumes(ctx, rooms, this.conns, ice);
    this.admin = new Admin(ctx, rooms);
    if (cluster) {
      cluster.link.onEnvelope((env) => receiveEnvelope({ ctx, cluster, rooms, lobby }, env));
      cluster.link.setLocalPeers(() => localPeers(rooms));
      cluster.link.setLocalLobbies(() => lobby.held());
    }

    const moderation = { ...ctx, rooms };
    const handlers: Handlers = {
      join: (c, r, a) => this.joins.onJoin(c, r, a),
      leave: (c, _r, a) => this.joins.onLeave(c, a),
      update: (c, r, a) => onUpdate(ctx, c, r, a),
      signal: (c, r, a) => onSignal(ctx, c, r, a),
      message: (c, r, a) => onMessage(ctx, c, r, a),
      presence: (c, r, a) => onPresence(ctx, c, r, a),
      kick: (c, r, a) => onKick(moderation, c, r, a),
      lock: (c, r, a) => onLock(moderation, c, r, a),
      'mute-all': (c, r, a) => onMuteAll(moderation, c, r, a),
      lobby: (c, r, a) => lobby.onLobby(c, r, a),
      admit: (c, r, a) => lobby.onAdmit(c, r, a),
      deny: (c, r, a) => lobby.onDeny(c, r, a),
    };
    const ingress = new Ingress(ctx, config, this.conns, this.joins, resumes, handlers);

    const cfg = config.signalling;
    this.io = new Server(httpServer, {
      path: '/socket.io',
      serveClient: false,
      transports: cfg.polling ? ['polling', 'websocket'] : ['websocket'],
      maxHttpBufferSize: cfg.maxMessageBytes,
      perMessageDeflate: false,
      httpCompression: false,
      allowRequest: originGate(ctx, config.server, options.publicUrl),
    });
    this.io.use((socket, next) => ingress.middleware(socket, next));
    this.io.on('connection', (socket) => ingress.onConnection(socket));
  }

  // --- service (REST API and admin console, admin.ts) -------------------------------------------

  listRooms(): LiveRoomSummary[] {
    return this.admin.listRooms();
  }

  listSessions(query: SessionQuery): ReturnType<Store['listSessions']> {
    return this.admin.listSessions(query);
  }

  getSession(id: string): ReturnType<Store['getSession']> {
    return this.admin.getSession(id);
  }

  kick(sessionId: string, peerId: string): Promise<boolean> {
    return this.admin.kick(sessionId, peerId);
  }

  closeSession(sessionId: string): Promise<boolean> {
    return this.admin.closeSession(sessionId);
  }

  createRoom(request: CreateRoomRequest): Promise<CreatedRoom> {
    return this.admin.createRoom(request);
  }

  setIceServerProvider(provider: IceServerProvider): void {
    this.ice.set(provider);
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /** Refuse new joins and connections; tell every client to resume elsewhere. */
  drain(): void {
    if (this.lifecycle.draining) return;
    this.lifecycle.draining = true;
    const notice = shutdownNotice();
    for (const conn of this.conns) if (!conn.gone) conn.socket.emit('server-notice', notice);
    this.ctx.log.info({ connections: this.conns.size }, 'signalling draining');
  }

  /** Disconnects everyone and, unless the store is shared, ends every live session. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle.draining = true;
      this.lifecycle.closed = true;
      this.lobby.close();
      await this.rooms.closeAll();
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
      ipKeys: this.conns.perIp.size,
      joinKeys: this.joins.limiterKeys,
    };
  }
}

/** The peers this process holds, for the cluster registry (cluster/registry.ts). */
function* localPeers(rooms: Rooms): Iterable<{ room: string; peerId: string }> {
  for (const room of rooms.values())
    for (const id of room.peers.keys()) yield { room: room.name, peerId: id };
}
