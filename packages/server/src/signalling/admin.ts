/**
 * Rooms and sessions for the REST API and the admin console (service.ts describes the contract):
 * list the live rooms here, read sessions from the store, kick a peer or close a session — here,
 * or through the process that holds it (scale-out).
 */
import type { Store, SessionQuery } from '../store/index.js';
import type { SignallingContext } from './context.js';
import { createApiRoom } from './create-room.js';
import type { Rooms } from './rooms.js';
import type { CreateRoomRequest, CreatedRoom, LiveRoomSummary } from './service.js';

export class Admin {
  constructor(
    private readonly ctx: SignallingContext,
    private readonly rooms: Rooms,
  ) {}

  listRooms(): LiveRoomSummary[] {
    return [...this.rooms.values()].map((room) => ({
      name: room.name,
      sessionId: room.sessionId,
      ...room.settings,
      peers: [...room.peers.values()].map((p) => ({
        ...p.info(),
        connected: p.connected,
        moderator: p.moderator,
      })),
    }));
  }

  listSessions(query: SessionQuery): ReturnType<Store['listSessions']> {
    return this.ctx.store.listSessions(query);
  }

  getSession(id: string): ReturnType<Store['getSession']> {
    return this.ctx.store.getSession(id);
  }

  async kick(sessionId: string, peerId: string): Promise<boolean> {
    const { cluster } = this.ctx;
    const peer = this.rooms.bySession(sessionId)?.peers.get(peerId);
    if (!peer && cluster) return cluster.kickBySession(sessionId, [peerId], 'kicked');
    if (!peer) return false;
    peer.log.info('kicked through the API');
    this.rooms.kick(peer, 'kicked');
    return true;
  }

  async closeSession(sessionId: string): Promise<boolean> {
    const { cluster } = this.ctx;
    const room = this.rooms.bySession(sessionId);
    if (!room && cluster) return cluster.kickBySession(sessionId, undefined, 'session-closed');
    if (!room) return false;
    room.log.info({ sessionId }, 'session closed through the API');
    for (const peer of [...room.peers.values()]) this.rooms.kick(peer, 'session-closed');
    if (cluster)
      for (const id of [...room.remote.keys()]) cluster.kickRemote(room, id, 'session-closed');
    room.cancelEmptyTimer();
    await Promise.resolve();
    await this.rooms.end(room);
    return true;
  }

  createRoom(request: CreateRoomRequest): Promise<CreatedRoom> {
    const { ctx } = this;
    const deps = {
      store: ctx.store,
      log: ctx.log,
      roomCapacity: ctx.cfg.roomCapacity,
      now: () => ctx.clock.now(),
    };
    return createApiRoom(deps, request);
  }
}
