/**
 * The rooms this process holds, and the one place peers enter and leave them. Every other part
 * asks here: the join flow `open`s a room and `enter`s a peer, a disconnect `hold`s it for the
 * resume grace, a leave, kick or expiry `remove`s it (its peers hear `peer-left`, the store is
 * told, and a room left empty ends its session after the grace). Counts `rooms` and `peers`.
 */
import type { MediaState, PeerLeft } from '@tfx/protocol';
import type { RoomView } from '../store/index.js';
import type { SignallingContext } from './context.js';
import { Peer, Room } from './room.js';

export class Rooms {
  private readonly byName = new Map<string, Room>();

  constructor(private readonly ctx: SignallingContext) {}

  get(name: string): Room | undefined {
    return this.byName.get(name);
  }

  values(): IterableIterator<Room> {
    return this.byName.values();
  }

  get size(): number {
    return this.byName.size;
  }

  /** A peer by room and id (closed peers included until their room drops them). */
  peer(room: string, peerId: string): Peer | undefined {
    return this.byName.get(room)?.peers.get(peerId);
  }

  bySession(sessionId: string): Room | undefined {
    for (const room of this.byName.values()) if (room.sessionId === sessionId) return room;
    return undefined;
  }

  /** The live room of that name (made if need be), with the store's session and settings. */
  open(name: string, sessionId: string, view: RoomView): Room {
    let room = this.byName.get(name);
    if (!room || room.closed) {
      room = new Room(name, sessionId, this.ctx.log.child({ roomId: name }));
      this.byName.set(name, room);
      this.ctx.metrics.rooms.inc();
    }
    room.refresh(sessionId, view);
    return room;
  }

  /** A new peer of `room` (the store has it already). Nobody is told yet: see `announce`. */
  enter(room: Room, id: string, name: string, state: MediaState, moderator: boolean): Peer {
    const log = this.ctx.log.child({ roomId: room.name, peerId: id });
    const peer = new Peer(id, room, name, state, moderator, log);
    room.add(peer);
    this.ctx.metrics.peers.inc();
    return peer;
  }

  /** Its peers, here and on the other processes, hear that `peer` joined. */
  announce(peer: Peer): void {
    const room = peer.room;
    room.broadcast(peer, 'peer-joined', peer.info());
    const cluster = this.ctx.cluster;
    if (cluster)
      cluster.broadcast(room, {
        t: 'joined',
        room: room.name,
        peer: peer.info(),
        node: cluster.nodeId,
      });
  }

  /** Its connection went away: hold its place for the resume grace, then remove it. */
  hold(peer: Peer): void {
    peer.detach(this.ctx.cfg.resumeGraceMs, this.ctx.clock, () => this.remove(peer, 'timeout'));
  }

  /** Removes a peer for good: its peers get `peer-left`; an empty room ends after the grace. */
  remove(peer: Peer, reason: PeerLeft['reason']): void {
    if (peer.closed) return;
    const { ctx } = this;
    const room = peer.room;
    peer.close();
    ctx.metrics.peers.dec();
    room.broadcast(undefined, 'peer-left', { peerId: peer.id, reason });
    ctx.cluster?.broadcast(room, { t: 'left', room: room.name, peerId: peer.id, reason });
    peer.log.info({ reason }, 'peer left');
    const left = ctx.store.leave(room.name, peer.id, ctx.clock.now());
    left.catch((err: unknown) => peer.log.warn({ err }, 'store leave failed'));
    if (room.peers.size === 0) {
      room.startEmptyTimer(ctx.cfg.resumeGraceMs, ctx.clock, () => {
        void left.catch(() => undefined).then(() => this.end(room));
      });
    }
  }

  /** Tells the peer it was kicked (or its session closed), removes it and disconnects it. */
  kick(peer: Peer, reason: 'kicked' | 'session-closed'): void {
    const socket = peer.socket;
    peer.emit('kicked', { reason });
    this.remove(peer, reason === 'kicked' ? 'kicked' : 'closed');
    socket?.disconnect(true);
  }

  /** The peer resumed on another process: close it here without a `peer-left`. */
  dropMoved(peer: Peer): void {
    if (peer.closed) return;
    const socket = peer.socket;
    const room = peer.room;
    peer.close();
    this.ctx.metrics.peers.dec();
    socket?.disconnect(true);
    peer.log.info('peer moved to another process');
    this.endWhenEmpty(room);
  }

  /** A join undone before its peer was made: end the session after the grace if nobody is in. */
  endWhenEmptyByName(name: string, sessionId: string): void {
    const room = this.byName.get(name);
    if (room) {
      this.endWhenEmpty(room);
      return;
    }
    const { ctx } = this;
    void ctx.store
      .endSessionIfEmpty(name, ctx.clock.now())
      .catch((err: unknown) =>
        ctx.log.warn({ err, roomId: name, sessionId }, 'ending session failed'),
      );
  }

  private endWhenEmpty(room: Room): void {
    if (room.peers.size === 0)
      room.startEmptyTimer(this.ctx.cfg.resumeGraceMs, this.ctx.clock, () => void this.end(room));
  }

  /** The room has been empty for the grace period (or its session was closed): end it, forget it. */
  async end(room: Room): Promise<void> {
    if (room.closed || room.peers.size > 0) return;
    try {
      const ended = await this.ctx.store.endSessionIfEmpty(room.name, this.ctx.clock.now());
      if (ended)
        room.log.info({ sessionId: ended.id, peak: ended.peakParticipants }, 'session ended');
    } catch (err) {
      room.log.warn({ err }, 'ending session failed');
    }
    if (room.closed || room.peers.size > 0) return;
    room.close();
    if (this.byName.get(room.name) === room) this.byName.delete(room.name);
    this.ctx.metrics.rooms.dec();
  }

  /** Closes every room (server close); unless the store is shared, ends every live session. */
  async closeAll(): Promise<void> {
    const { ctx } = this;
    for (const room of [...this.byName.values()]) {
      const ids = [...room.peers.keys()];
      ctx.metrics.peers.dec(ids.length);
      room.close();
      ctx.metrics.rooms.dec();
      if (ctx.store.shared) continue;
      const now = ctx.clock.now();
      for (const id of ids) await ctx.store.leave(room.name, id, now).catch(() => undefined);
      await ctx.store.endSessionIfEmpty(room.name, now).catch(() => undefined);
    }
    this.byName.clear();
  }
}
