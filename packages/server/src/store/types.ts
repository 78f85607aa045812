/**
 * The `Store`: all signalling state that must be shared when several TFX processes serve one
 * deployment — rooms, peers (presence), resume tokens, live sessions and ended sessions.
 *
 * Policy lives in the signalling module; the store only keeps state and offers a few atomic
 * operations that policy needs to be race-free across processes:
 * - `join` checks expiry, lock, password and capacity and adds the peer in one step;
 * - `takeResumeToken` hands a token's binding out once;
 * - `endSessionIfEmpty` ends a session only if the room is still empty, and appends it to the
 *   bounded list of ended sessions (`appendEndedSession` rules: `sessions.maxEnded`, retention);
 *   it also resets the room's lobby (off, nobody waiting), which ends with the session;
 * - the lobby (`enqueueLobby`, `takeLobby`, `setLobby`) is room state like the lock: its flag and
 *   queue are checked and changed in one step, so two processes never both take one waiter and
 *   the cap holds room-wide. Every change bumps the lobby's `version`, so whoever fans a state out
 *   to moderators can drop one that arrives after a newer one.
 *
 * Times are epoch milliseconds (callers pass `now`, so tests drive a fake clock). Ended sessions
 * keep names and times, never addresses. The memory implementation is the default; a Redis one
 * (later issue) runs the same contract suite (`test/store/contract.ts`).
 */
import { MEDIA_STATE_KEYS, type MediaState } from '@tfx/protocol';

/** The known keys of a state patch that are set (an `update` changes only those). */
export function statePatch(patch: Partial<MediaState>): Partial<MediaState> {
  const out: Record<string, unknown> = {};
  for (const k of MEDIA_STATE_KEYS) {
    const v = patch[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? [...(v as readonly string[])] : v;
  }
  return out as Partial<MediaState>;
}

export interface Participant {
  readonly id: string;
  readonly name: string;
  readonly joinedAt: number;
  readonly leftAt?: number;
}

export interface SessionRecord {
  readonly id: string;
  readonly room: string;
  readonly startedAt: number;
  /** Set once the session ended. */
  readonly endedAt?: number;
  readonly peakParticipants: number;
  /** In order of joining; at most `MAX_PARTICIPANTS_KEPT` (the oldest are kept). */
  readonly participants: readonly Participant[];
}

export const MAX_PARTICIPANTS_KEPT = 500;

/**
 * How long a room created with an expiry keeps refusing joins (`room-expired`) after it expired,
 * even when empty, before its name is free again. Without this an expired link would simply make
 * a new, unprotected room of the same name on the next join.
 */
export const EXPIRED_ROOM_KEEP_MS = 7 * 86_400_000;

export interface RoomView {
  readonly name: string;
  readonly capacity: number;
  readonly hasPassword: boolean;
  readonly locked: boolean;
  readonly expiresAt?: number;
  readonly createdAt: number;
  /** `api`: made by `POST /api/v1/rooms` (lives until it expires); `join`: by its first joiner. */
  readonly origin: 'api' | 'join';
  /** The live session, if one runs. */
  readonly sessionId?: string;
  readonly peerCount: number;
}

export interface PeerRecord {
  readonly id: string;
  readonly name: string;
  readonly state: MediaState;
  readonly joinedAt: number;
  readonly moderator: boolean;
}

export interface JoinInput {
  readonly room: string;
  readonly peerId: string;
  readonly name: string;
  readonly state: MediaState;
  /** Sets the password when this join creates the room; must match otherwise. */
  readonly password?: string | undefined;
  readonly moderatorToken?: string | undefined;
  /** Capacity of a room this join creates. */
  readonly capacity: number;
  readonly now: number;
}

export type JoinRefusal = 'room-full' | 'room-locked' | 'room-expired' | 'wrong-password';

export type JoinOutcome =
  | {
      readonly ok: true;
      readonly room: RoomView;
      readonly sessionId: string;
      /** True when this join started the session (first join of an empty room). */
      readonly sessionStarted: boolean;
      /** The other peers, oldest first. */
      readonly peers: readonly PeerRecord[];
      readonly peer: PeerRecord;
      /** Plain token, only when this join made the peer the room's moderator (shown once). */
      readonly moderatorToken?: string;
    }
  | { readonly ok: false; readonly code: JoinRefusal };

export interface CreateRoomInput {
  readonly name: string;
  readonly password?: string | undefined;
  readonly expiresAt?: number | undefined;
  readonly capacity: number;
  readonly now: number;
}

export interface ResumeBinding {
  readonly room: string;
  readonly peerId: string;
}

export interface SessionQuery {
  readonly state: 'live' | 'ended';
  readonly room?: string | undefined;
  /** 1–1000. */
  readonly limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string | undefined;
}

export interface SessionPage {
  /** Newest first. */
  readonly items: readonly SessionRecord[];
  readonly nextCursor?: string;
}

/** A joiner waiting in a room's lobby, held on the connection of process `node`. */
export interface LobbyEntry {
  readonly id: string;
  readonly name: string;
  /** The node (process) holding the waiting connection; '' outside a cluster. */
  readonly node: string;
  readonly since: number;
}

/** A room's lobby: on or off, and who waits, oldest first. */
export interface LobbyView {
  readonly enabled: boolean;
  /** Grows with every change (never goes back while the room exists). */
  readonly version: number;
  readonly waiting: readonly LobbyEntry[];
}

/**
 * What one process knows of a room's lobby, for writing it back after Redis lost it: the joiners
 * it holds, and the newest state it has shown (`known`, absent when it has shown none).
 */
export interface HeldLobby {
  readonly room: string;
  readonly waiting: readonly LobbyEntry[];
  readonly known?: { readonly version: number; readonly enabled: boolean };
}

export type LobbyEnqueueOutcome =
  | { readonly outcome: 'queued'; readonly view: LobbyView }
  /** The lobby is off (or there is no such room): the join goes ahead as usual. */
  | { readonly outcome: 'off' }
  /** `max` are already waiting. */
  | { readonly outcome: 'full' };

export interface Store {
  /** True when other processes share this state (Redis): a closing process leaves it alone. */
  readonly shared: boolean;

  // --- rooms ----------------------------------------------------------------------------------
  /** Makes an `api` room with a fresh moderator token. Throws `TfxError('conflict')` if it exists. */
  createRoom(input: CreateRoomInput): Promise<{ room: RoomView; moderatorToken: string }>;
  /** The room, unless it does not exist or is an expired `api` room nobody is in. */
  getRoom(name: string, now: number): Promise<RoomView | undefined>;
  listRooms(now: number): Promise<readonly RoomView[]>;
  setLocked(room: string, locked: boolean): Promise<boolean>;
  isModerator(room: string, moderatorToken: string): Promise<boolean>;

  // --- lobby ----------------------------------------------------------------------------------
  /** The room's lobby; off and empty (version 0) when there is no such room. */
  getLobby(room: string): Promise<LobbyView>;
  /**
   * Turns the lobby on or off. Turning it off takes everyone waiting out of the queue in the same
   * step and returns them (`released`, oldest first) to be admitted. Undefined: no such room.
   */
  setLobby(
    room: string,
    enabled: boolean,
  ): Promise<{ view: LobbyView; released: readonly LobbyEntry[] } | undefined>;
  /** Queues a joiner if the lobby is on and fewer than `max` wait. */
  enqueueLobby(room: string, entry: LobbyEntry, max: number): Promise<LobbyEnqueueOutcome>;
  /** Takes one waiter out of the queue (admitted, denied or gone). Once: undefined after. */
  takeLobby(room: string, id: string): Promise<{ entry: LobbyEntry; view: LobbyView } | undefined>;

  // --- peers ----------------------------------------------------------------------------------
  join(input: JoinInput): Promise<JoinOutcome>;
  /** Removes the peer (and its resume token); records `leftAt`. False if it was not there. */
  leave(room: string, peerId: string, now: number): Promise<{ left: boolean; remaining: number }>;
  updatePeer(
    room: string,
    peerId: string,
    patch: { name?: string | undefined; state?: Partial<MediaState> | undefined },
  ): Promise<PeerRecord | undefined>;
  listPeers(room: string): Promise<readonly PeerRecord[]>;

  // --- resume tokens --------------------------------------------------------------------------
  /** Binds a new token to the peer, replacing (invalidating) its previous one. */
  setResumeToken(room: string, peerId: string, token: string): Promise<void>;
  /** Single use: returns the binding once, and only while the peer is still in its room. */
  takeResumeToken(token: string): Promise<ResumeBinding | undefined>;

  // --- sessions -------------------------------------------------------------------------------
  /**
   * If the room has no peers: ends its live session (appended to the ended list) and forgets a
   * `join` room. Returns the ended session, or undefined when the room is not empty or has none.
   */
  endSessionIfEmpty(room: string, now: number): Promise<SessionRecord | undefined>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  listSessions(query: SessionQuery): Promise<SessionPage>;
  /** Appends an ended session, dropping the oldest beyond `maxEnded` or past the retention. */
  appendEndedSession(session: SessionRecord): Promise<void>;

  /** Flushes and releases. Idempotent. */
  close(): Promise<void>;
}
