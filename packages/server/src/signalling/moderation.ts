/**
 * Moderation events (a peer presenting its room's moderator token): kick a peer, lock the room,
 * ask everyone to mute. With scale-out the target may be on another process: the kick goes to its
 * node, and lock and mute reach every node of the room.
 */
import { ERROR_CATALOGUE, type ParsedClientEvent } from '@tfx/protocol';
import type { Envelope } from '../cluster/index.js';
import type { Store } from '../store/index.js';
import type { ClusterSide } from './cluster-side.js';
import type { AnyAck, Conn } from './connection.js';
import type { Peer, Room } from './room.js';
import type { Rooms } from './rooms.js';

export interface ModerationDeps {
  readonly store: Store;
  readonly cluster: ClusterSide | undefined;
  readonly rooms: Rooms;
}

/** The sender's peer if it is in a room and presents that room's moderator token. */
export async function moderatorOf(
  h: Pick<ModerationDeps, 'store'>,
  conn: Conn,
  event: string,
  token: string,
  ack: AnyAck | undefined,
): Promise<Peer | undefined> {
  const peer = conn.peer;
  if (!peer) {
    conn.refuse(event, ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
    return undefined;
  }
  if (!(await h.store.isModerator(peer.room.name, token)) || peer.closed) {
    conn.refuse(event, ack, 'not-moderator', ERROR_CATALOGUE['not-moderator'].summary);
    return undefined;
  }
  return peer;
}

export async function onKick(
  h: ModerationDeps,
  conn: Conn,
  req: ParsedClientEvent<'kick'>,
  ack: AnyAck | undefined,
): Promise<void> {
  const mod = await moderatorOf(h, conn, 'kick', req.moderatorToken, ack);
  if (!mod) return;
  const target = mod.room.peers.get(req.peerId);
  if (!target && h.cluster?.kickRemote(mod.room, req.peerId, 'kicked')) {
    mod.log.info({ target: req.peerId }, 'moderator kicked a peer of another process');
    ack?.({ ok: true });
    return;
  }
  if (!target || target === mod) {
    conn.refuse(
      'kick',
      ack,
      'peer-unavailable',
      ERROR_CATALOGUE['peer-unavailable'].summary,
      true,
      req.peerId,
    );
    return;
  }
  mod.log.info({ target: target.id }, 'moderator kicked a peer');
  h.rooms.kick(target, 'kicked');
  ack?.({ ok: true });
}

export async function onLock(
  h: ModerationDeps,
  conn: Conn,
  req: ParsedClientEvent<'lock'>,
  ack: AnyAck | undefined,
): Promise<void> {
  const mod = await moderatorOf(h, conn, 'lock', req.moderatorToken, ack);
  if (!mod) return;
  await h.store.setLocked(mod.room.name, req.locked);
  mod.room.setLocked(req.locked);
  await toOtherNodes(h, mod.room, { t: 'locked', room: mod.room.name, locked: req.locked });
  ack?.({ ok: true, locked: req.locked });
}

export async function onMuteAll(
  h: ModerationDeps,
  conn: Conn,
  req: ParsedClientEvent<'mute-all'>,
  ack: AnyAck | undefined,
): Promise<void> {
  const mod = await moderatorOf(h, conn, 'mute-all', req.moderatorToken, ack);
  if (!mod) return;
  mod.room.broadcast(mod, 'muted-by-moderator', { kinds: req.kinds ?? ['audio'] });
  await toOtherNodes(h, mod.room, {
    t: 'muted',
    room: mod.room.name,
    except: mod.id,
    kinds: req.kinds ?? ['audio'],
  });
  ack?.({ ok: true });
}

/**
 * A moderator's lock or mute-all, to every other node holding peers of the room as the store
 * lists them now: this process's mirror may not have heard yet of a peer that joined on another
 * node a moment ago (its `joined` still in this node's stream). Without Redis answering, the mirror.
 */
async function toOtherNodes(h: ModerationDeps, room: Room, env: Envelope): Promise<void> {
  const cluster = h.cluster;
  if (!cluster) return;
  await cluster.broadcastFromStore(room.name, env).catch(() => cluster.broadcast(room, env));
}
