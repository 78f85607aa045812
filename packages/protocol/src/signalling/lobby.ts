/**
 * Signalling wire contract, part 3: the lobby. A moderator turns it on with `lobby`; from then
 * on a join without the room's moderator token is answered `waiting-in-lobby` and the joiner
 * waits on its connection. Moderators get `lobby-state` (the queue as it is now) on every change
 * and answer with `admit` or `deny`; the waiting client then gets `admitted` (its join result, as
 * if the join had succeeded) or `denied`. Turning the lobby off admits everyone waiting.
 * See docs/signalling.md.
 */
import { z } from 'zod';
import { displayNameSchema, tokenSchema } from './schemas.js';

/** A waiting joiner's id: server-made, not a peer id (it has none until admitted). */
export const lobbyIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

/** `lobby`: turn the room's lobby on or off (moderator only). Acks `{ enabled }`. */
export const lobbyRequestSchema = z.object({ moderatorToken: tokenSchema, enabled: z.boolean() });
export type LobbyRequest = z.input<typeof lobbyRequestSchema>;

/** `admit` / `deny`: let one waiting joiner in, or turn it away (moderator only). */
export const admitRequestSchema = z.object({ moderatorToken: tokenSchema, id: lobbyIdSchema });
export type AdmitRequest = z.input<typeof admitRequestSchema>;
export const denyRequestSchema = admitRequestSchema;
export type DenyRequest = AdmitRequest;

export const lobbyEntrySchema = z.object({ id: lobbyIdSchema, name: displayNameSchema });
export type LobbyEntry = z.infer<typeof lobbyEntrySchema>;

/** Server → moderators: the lobby as it is now (on every change, and to a moderator that joins). */
export interface LobbyState {
  readonly enabled: boolean;
  /** Oldest first. */
  readonly waiting: readonly LobbyEntry[];
}

/** Server → a waiting joiner that a moderator turned away. */
export interface LobbyDenied {
  readonly reason: 'denied';
}

/** Joiners one room's lobby holds at most; past it a join is refused with `rate-limited`. */
export const LOBBY_MAX_WAITING = 32;
