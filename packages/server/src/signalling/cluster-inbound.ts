/**
 * What another process tells this one (scale-out, only with Redis; the envelopes are listed in
 * cluster-side.ts): relayed items for peers held here, presence of the peers held there, lock,
 * mute, kick and the lobby. Acts on the rooms (rooms.ts) and the lobby (lobby.ts); envelopes for a
 * room this process does not hold are dropped, except the lobby's `admit` / `deny`, whose waiter
 * may be here without any peer of the room.
 */
import { ERROR_CATALOGUE, type PeerInfo } from '@tfx/protocol';
import type { Envelope } from '../cluster/index.js';
import type { ClusterSide } from './cluster-side.js';
import type { SignallingContext } from './context.js';
import type { Lobbies } from './lobby.js';
import type { Rooms } from './rooms.js';

export function receiveEnvelope(
  deps: { ctx: SignallingContext; cluster: ClusterSide; rooms: Rooms; lobby: Lobbies },
  env: Envelope,
): void {
  const { cluster, rooms } = deps;
  if (env.t === 'lobby' || env.t === 'admit' || env.t === 'deny') {
    deps.lobby.onEnvelope(env);
    return;
  }
  const room = rooms.get(env.room);
  if (!room || room.closed) return;
  switch (env.t) {
    case 'deliver': {
      // Passed through as the bytes the sending node encoded (checked by the router, envelope.ts).
      const peer = room.peers.get(env.to);
      if (peer && peer.deliver({ event: env.event, packet: env.packet })) return;
      const from = room.remote.get(env.from);
      if (from) {
        cluster.link.send(from.node, {
          t: 'nack',
          room: room.name,
          to: env.from,
          target: env.to,
          event: env.event,
        });
      }
      return;
    }
    case 'nack': {
      const peer = room.peers.get(env.to);
      if (!peer) return;
      deps.ctx.metrics.error('peer-unavailable');
      peer.emit('event-error', {
        event: env.event,
        error: { code: 'peer-unavailable', message: ERROR_CATALOGUE['peer-unavailable'].summary },
        to: env.target,
      });
      return;
    }
    case 'joined': {
      if (room.peers.has(env.peer.id) || room.remote.has(env.peer.id)) return;
      room.remote.set(env.peer.id, { node: env.node, info: env.peer });
      room.broadcast(undefined, 'peer-joined', env.peer);
      return;
    }
    case 'left': {
      if (room.remote.delete(env.peerId))
        room.broadcast(undefined, 'peer-left', { peerId: env.peerId, reason: env.reason });
      return;
    }
    case 'moved': {
      const here = room.peers.get(env.peerId);
      let info: PeerInfo | undefined = room.remote.get(env.peerId)?.info;
      if (here) {
        info = here.info();
        rooms.dropMoved(here);
      }
      if (info && env.node !== cluster.nodeId)
        room.remote.set(env.peerId, { node: env.node, info });
      return;
    }
    case 'updated': {
      const r = room.remote.get(env.peer.id);
      if (!r) return;
      r.info = env.peer;
      room.broadcast(undefined, 'peer-updated', env.peer);
      return;
    }
    case 'locked':
      room.setLocked(env.locked);
      return;
    case 'muted':
      room.broadcast(undefined, 'muted-by-moderator', { kinds: [...env.kinds] });
      return;
    case 'kick': {
      const peer = room.peers.get(env.peerId);
      if (peer) rooms.kick(peer, env.reason);
      return;
    }
  }
}
