/**
 * Resume: a connection whose socket.io handshake carries `auth.resumeToken` gets its peer back —
 * held here within the resume grace or, with Redis, adopted from the process that held it (it
 * died or drains) — with what was buffered for it while it was away. The handshake asks
 * `resumable` (ingress.ts); the connection, once up, `resume`s.
 */
import { PROTOCOL_VERSION, TfxError, type IceServer, type JoinResult } from '@tfx/protocol';
import { newToken, type ResumeBinding } from '../store/index.js';
import type { Conn, Connections } from './connection.js';
import type { SignallingContext } from './context.js';
import type { Peer } from './room.js';
import type { Rooms } from './rooms.js';
import type { IceServerProvider } from './service.js';

/** Where join and resume acks get their ICE servers (the TURN module plugs in its own). */
export class IceServers {
  private provider: IceServerProvider;

  constructor(turnUrls: readonly string[]) {
    this.provider = () => (turnUrls.length > 0 ? [{ urls: [...turnUrls] }] : []);
  }

  set(provider: IceServerProvider): void {
    this.provider = provider;
  }

  async get(peer: { peerId: string; room: string }): Promise<readonly IceServer[]> {
    return this.provider(peer);
  }
}

export class Resumes {
  constructor(
    private readonly ctx: SignallingContext,
    private readonly rooms: Rooms,
    private readonly conns: Connections,
    private readonly ice: IceServers,
  ) {}

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
      const iceServers = await this.ice.get({ peerId: binding.peerId, room: binding.room });
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
      conn.socket.emit('resumed', roomResult(ctx.cfg.resumeGraceMs, peer, token, iceServers));
      for (const item of held) peer.deliver(item);
      peer.log.info({ delivered: held.length }, 'peer resumed');
    } finally {
      conn.busy = false;
    }
  }
}

/** What a join or resume answers: the room as this peer sees it. */
export function roomResult(
  resumeGraceMs: number,
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
    resumeGraceMs,
    moderator: peer.moderator,
    ...room.settings,
  };
}
