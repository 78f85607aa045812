/**
 * The signalling service: what the REST API (`packages/server/src/api/`) and the admin console
 * use to see and act on rooms and sessions. The signalling module (`createSignallingModule()`)
 * exposes it as `module.service` once the platform has run the module's `setup()`.
 *
 * - `listRooms()` — rooms with a live session in this process, their peers (connected or within
 *   their resume grace) and settings. Synchronous, local.
 * - `listSessions(query)` / `getSession(id)` — live and ended sessions from the `Store`
 *   (`{ id, room, startedAt, endedAt?, peakParticipants, participants: [{ id, name, joinedAt,
 *   leftAt? }] }`, epoch ms; the REST layer formats ISO-8601). Pages newest first, opaque cursor.
 * - `kick(sessionId, peerId)` — removes a peer: it gets `kicked`, is disconnected, cannot resume,
 *   and its peers get `peer-left` (reason `kicked`). False when there is no such live peer.
 * - `closeSession(sessionId)` — disconnects everyone (`kicked` with reason `session-closed`) and
 *   ends the session at once. False when it is not live here.
 * - `createRoom({ name?, password?, expiresAt?, capacity? })` — an API room: `name` is validated
 *   and lowercased (`invalid-room-name`), or generated (10 characters of a–z0–9, ≈ 51 bits);
 *   the password is stored as a salted scrypt hash; the room refuses joins from `expiresAt` on
 *   (`room-expired`). Returns the plain moderator token, once. A taken name → `conflict`.
 * - `setIceServerProvider(fn)` — where join and resume acks get their `iceServers` (the TURN
 *   module plugs in time-limited credentials here). Default: `turn.urls` without credentials.
 *
 * Errors are `TfxError`s with catalogue codes.
 */
import type { IceServer, PeerInfo } from '@tfx/protocol';
import type { SessionPage, SessionQuery, SessionRecord, Store } from '../store/index.js';

export interface LivePeerSummary extends PeerInfo {
  readonly connected: boolean;
  readonly moderator: boolean;
}

export interface LiveRoomSummary {
  readonly name: string;
  readonly sessionId: string;
  readonly capacity: number;
  readonly locked: boolean;
  readonly hasPassword: boolean;
  readonly peers: readonly LivePeerSummary[];
}

export interface CreateRoomRequest {
  readonly name?: string | undefined;
  readonly password?: string | undefined;
  /** Epoch ms. */
  readonly expiresAt?: number | undefined;
  /** Default `signalling.roomCapacity`. */
  readonly capacity?: number | undefined;
}

export interface CreatedRoom {
  readonly room: string;
  readonly moderatorToken: string;
  readonly expiresAt?: number;
}

export type IceServerProvider = (peer: {
  readonly peerId: string;
  readonly room: string;
}) => readonly IceServer[] | Promise<readonly IceServer[]>;

export interface SignallingService {
  readonly store: Store;
  listRooms(): LiveRoomSummary[];
  listSessions(query: SessionQuery): Promise<SessionPage>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  kick(sessionId: string, peerId: string): Promise<boolean>;
  closeSession(sessionId: string): Promise<boolean>;
  createRoom(request: CreateRoomRequest): Promise<CreatedRoom>;
  setIceServerProvider(provider: IceServerProvider): void;
}
