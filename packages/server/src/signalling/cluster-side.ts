/**
 * The signalling server's side of scale-out (only with Redis): rooms whose peers are spread over
 * several processes. Each local `Room` mirrors the peers other nodes hold (`room.remote`); what
 * one process must tell another goes node to node over the cluster link, in order:
 *
 * - a signal or app message for a remote peer → `deliver` to its node (one publish, read only by
 *   that node), encoded once here as the target's socket receives it; if it cannot take it (away with a full resume buffer, or gone) the sender's node
 *   gets a `nack` and the sender `peer-unavailable`;
 * - presence (`joined`, `left`, `updated`, `moved`), `locked`, `muted` and `kick` → each node that
 *   holds peers of the room, once;
 * - the lobby (lobby.ts): `lobby` (its new state) → each node holding peers of the room, looked up
 *   in the store at the time of the change; `admit` / `deny` → the node holding the waiter, which
 *   may hold no peer of the room at all (so these are handled before the room lookup).
 *
 * This file sends; cluster-inbound.ts acts on what arrives. `ClusterSide` writes only the rooms'
 * `remote` sets (and reads their local peers); it never calls back into the server.
 */
import {
  encodeRelayed,
  type ClusterLink,
  type Envelope,
  type NodePeerInfo,
  type RelayedItem,
} from '../cluster/index.js';
import type { Store } from '../store/index.js';
import type { Room } from './room.js';

export type LobbyEnvelope = Extract<Envelope, { t: 'lobby' | 'admit' | 'deny' }>;

export class ClusterSide {
  constructor(
    readonly link: ClusterLink,
    private readonly store: Pick<Store, 'getSession'>,
  ) {}

  get nodeId(): string {
    return this.link.nodeId;
  }

  /** Refreshes the room's remote peers from the store's list (which includes our own). */
  sync(room: Room, peers: readonly NodePeerInfo[]): void {
    for (const p of peers) {
      if (p.node === this.link.nodeId || room.peers.has(p.peer.id)) continue;
      room.remote.set(p.peer.id, {
        node: p.node,
        info: { id: p.peer.id, name: p.peer.name, state: p.peer.state },
      });
    }
  }

  /**
   * Sends to every other node holding peers of the room as the store lists them now (not this
   * process's mirror, which may not have heard of a peer that joined a moment ago).
   */
  async broadcastFromStore(room: string, env: Envelope): Promise<void> {
    const nodes = new Set((await this.link.roomPeers(room)).map((p) => p.node));
    nodes.delete(this.link.nodeId);
    for (const node of nodes) this.link.send(node, env);
  }

  /** Sends to every other node holding peers of the room. */
  broadcast(room: Room, env: Envelope): void {
    for (const node of room.remoteNodes()) this.link.send(node, env);
  }

  /**
   * Routes a signal or message to a remote peer of the sender's room, encoded here once as the
   * target's socket receives it (its node writes those bytes as they are). Returns the refusal
   * code, or undefined when it was handed on.
   */
  route(room: Room, to: string, item: RelayedItem): 'peer-unavailable' | 'unavailable' | undefined {
    const target = room.remote.get(to);
    if (!target) return 'peer-unavailable';
    const env: Envelope = {
      t: 'deliver',
      room: room.name,
      to,
      from: item.payload.from,
      event: item.event,
      packet: encodeRelayed(item),
    };
    return this.link.send(target.node, env) ? undefined : 'unavailable';
  }

  /**
   * Like `route`, for a target this process has not heard of yet (its `joined` may still be on
   * the way): looks the room's peers up in the store first.
   */
  async routeAfterLookup(
    room: Room,
    to: string,
    item: RelayedItem,
  ): Promise<'peer-unavailable' | 'unavailable' | undefined> {
    if (!room.remote.has(to)) {
      const peers = await this.link.roomPeers(room.name);
      if (room.closed) return 'peer-unavailable';
      this.sync(room, peers);
    }
    return this.route(room, to, item);
  }

  /** Asks the node holding `peerId` to kick it. False when no node of the room holds it. */
  kickRemote(room: Room, peerId: string, reason: 'kicked' | 'session-closed'): boolean {
    const target = room.remote.get(peerId);
    if (!target) return false;
    return this.link.send(target.node, { t: 'kick', room: room.name, peerId, reason });
  }

  /**
   * REST kick or close on a process that holds none of the session's peers: the nodes that hold
   * them do it. `peerIds` undefined: every peer of the session. False when none was found.
   */
  async kickBySession(
    sessionId: string,
    peerIds: readonly string[] | undefined,
    reason: 'kicked' | 'session-closed',
  ): Promise<boolean> {
    const session = await this.store.getSession(sessionId);
    if (!session || session.endedAt !== undefined) return false;
    const peers = await this.link.roomPeers(session.room);
    let sent = false;
    for (const p of peers) {
      if (peerIds && !peerIds.includes(p.peer.id)) continue;
      sent =
        this.link.send(p.node, { t: 'kick', room: session.room, peerId: p.peer.id, reason }) ||
        sent;
    }
    return sent;
  }
}
