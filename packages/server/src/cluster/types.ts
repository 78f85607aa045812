/**
 * What travels between TFX processes (nodes) of one deployment, and the link that carries it.
 * Everything room-scoped goes node to node over the unicast router (router.ts), so messages from
 * one node to another arrive in the order they were sent: a `joined` before that peer's offer.
 */
import type {
  LobbyEntry,
  MessageDelivery,
  PeerInfo,
  PeerLeft,
  SignalDelivery,
} from '@tfx/protocol';
import type { HeldLobby } from '../store/types.js';

export type RelayedItem =
  | { readonly event: 'signal'; readonly payload: SignalDelivery }
  | { readonly event: 'message'; readonly payload: MessageDelivery };

export type Envelope =
  /**
   * A signal or app message for a peer the receiving node holds, passed through as bytes: the
   * sending node validated it and encoded it once, as the target's socket.io connection receives
   * it (`packet`, see `encodeRelayed` in envelope.ts); the receiving node writes it to the socket
   * without parsing it. `from` is the stamped sender (for a `nack`).
   */
  | {
      readonly t: 'deliver';
      readonly room: string;
      readonly to: string;
      readonly from: string;
      readonly event: RelayedItem['event'];
      readonly packet: string;
    }
  /** The addressed peer could not take it: tell the sender (`to`) `peer-unavailable`. */
  | {
      readonly t: 'nack';
      readonly room: string;
      readonly to: string;
      readonly target: string;
      readonly event: 'signal' | 'message';
    }
  | { readonly t: 'joined'; readonly room: string; readonly peer: PeerInfo; readonly node: string }
  | {
      readonly t: 'left';
      readonly room: string;
      readonly peerId: string;
      readonly reason: PeerLeft['reason'];
    }
  /** The peer resumed on `node` (its peers are not told it left). */
  | { readonly t: 'moved'; readonly room: string; readonly peerId: string; readonly node: string }
  | { readonly t: 'updated'; readonly room: string; readonly peer: PeerInfo }
  | { readonly t: 'locked'; readonly room: string; readonly locked: boolean }
  | {
      readonly t: 'muted';
      readonly room: string;
      readonly except: string;
      readonly kinds: readonly ('audio' | 'video' | 'screen')[];
    }
  | {
      readonly t: 'kick';
      readonly room: string;
      readonly peerId: string;
      readonly reason: 'kicked' | 'session-closed';
    }
  /**
   * The room's lobby changed (state as the store returned it, with its version): the receiving
   * node's moderators of the room get `lobby-state`, unless they already saw a newer one.
   */
  | {
      readonly t: 'lobby';
      readonly room: string;
      readonly v: number;
      readonly enabled: boolean;
      readonly waiting: readonly LobbyEntry[];
    }
  /** A moderator admitted (`admit`) or turned away (`deny`) a joiner waiting on the receiving node. */
  | { readonly t: 'admit' | 'deny'; readonly room: string; readonly id: string };

/** A peer of a room with the node holding it (from the shared store). */
export interface NodePeerInfo {
  readonly peer: PeerInfo & { readonly moderator: boolean };
  readonly node: string;
}

/** The signalling server's view of the cluster. */
export interface ClusterLink {
  readonly nodeId: string;
  /** Sends to a node (to this one: handled at once). False when refused: queue full or down. */
  send(node: string, env: Envelope): boolean;
  /** Where envelopes for this node go. */
  onEnvelope(handler: (env: Envelope) => void): void;
  /** False while Redis is unreachable: joins are refused with `unavailable`. */
  readonly healthy: boolean;
  /** The room's peers and their nodes, oldest first. */
  roomPeers(room: string): Promise<readonly NodePeerInfo[]>;
  /** Records that this node now holds the peer. */
  claimPeer(room: string, peerId: string): Promise<boolean>;
  /** Which (room, peer) pairs this process holds (for re-asserting after a Redis loss). */
  setLocalPeers(fn: () => Iterable<{ room: string; peerId: string }>): void;
  /** The lobby waiters and lobby states this process holds (for writing back after a loss). */
  setLocalLobbies(fn: () => Iterable<HeldLobby>): void;
  close(): Promise<void>;
}
