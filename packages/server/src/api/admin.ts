/**
 * What the REST API needs from the signalling side. The signalling module owns the `Store` and
 * the live sockets; it provides this (see `signalling/service.ts`), and the composition root
 * hands it to `createApiModule`.
 */
import type { SessionPage, SessionQuery, SessionRecord } from '../store/index.js';
import type { SignallingService } from '../signalling/service.js';

export interface CreateRoomRequest {
  readonly name: string;
  readonly password?: string | undefined;
  /** Epoch ms. */
  readonly expiresAt?: number | undefined;
}

export interface SessionAdmin {
  /** Newest first, cursor-paginated (stable under concurrent appends). */
  listSessions(query: SessionQuery): Promise<SessionPage>;
  /** A live or ended session. */
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Disconnects everyone in the live session `id` and ends it. False if it is not live. */
  closeSession(id: string): Promise<boolean>;
  /** Removes one peer of the live session `id` (its peers see it leave). False if not there. */
  kickPeer(sessionId: string, peerId: string): Promise<boolean>;
  /** Makes a room; throws `TfxError('conflict')` when the name is taken. */
  createRoom(
    input: CreateRoomRequest,
  ): Promise<{ room: string; moderatorToken: string; expiresAt?: number | undefined }>;
}

/** The REST API's view of the signalling service (`signalling/service.ts`). */
export function adminFromSignalling(service: SignallingService): SessionAdmin {
  return {
    listSessions: (query) => service.listSessions(query),
    getSession: (id) => service.getSession(id),
    closeSession: (id) => service.closeSession(id),
    kickPeer: (sessionId, peerId) => service.kick(sessionId, peerId),
    createRoom: (input) => service.createRoom(input),
  };
}
