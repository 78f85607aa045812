/**
 * Checks an envelope read from another node's stream before anything acts on it: a pure
 * function, no logging (the router counts what fails, `tfx_cluster_bad_messages_total`, and
 * skips it). Every kind needs its `t` and a string `room`; the lobby kinds, which carry ids and
 * names that end up in moderators' browsers, are checked field by field against the wire
 * contract's own schemas (`@tfx/protocol`, signalling/lobby.ts).
 */
import { LOBBY_MAX_WAITING, lobbyEntrySchema, lobbyIdSchema } from '@tfx/protocol';
import type { Envelope } from './types.js';

export const ENVELOPE_KINDS: readonly Envelope['t'][] = [
  'deliver',
  'nack',
  'joined',
  'left',
  'moved',
  'updated',
  'locked',
  'muted',
  'kick',
  'lobby',
  'admit',
  'deny',
];

const MAX_ROOM_CHARS = 256;

export function isEnvelope(x: unknown): x is Envelope {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  if (typeof e.room !== 'string' || !ENVELOPE_KINDS.includes(e.t as Envelope['t'])) return false;
  switch (e.t) {
    case 'lobby':
      return (
        e.room.length <= MAX_ROOM_CHARS &&
        Number.isSafeInteger(e.v) &&
        (e.v as number) >= 0 &&
        typeof e.enabled === 'boolean' &&
        Array.isArray(e.waiting) &&
        e.waiting.length <= LOBBY_MAX_WAITING &&
        e.waiting.every((w) => {
          const r = lobbyEntrySchema.safeParse(w);
          return r.success && r.data.name === (w as { name: unknown }).name;
        })
      );
    case 'admit':
    case 'deny':
      return e.room.length <= MAX_ROOM_CHARS && lobbyIdSchema.safeParse(e.id).success;
    default:
      return true;
  }
}

/** The `lobby` envelope for a lobby as the store returned it (ids and names only leave). */
export function lobbyEnvelope(
  room: string,
  view: {
    readonly enabled: boolean;
    readonly version: number;
    readonly waiting: readonly { readonly id: string; readonly name: string }[];
  },
): Envelope {
  return {
    t: 'lobby',
    room,
    v: view.version,
    enabled: view.enabled,
    waiting: view.waiting.map((w) => ({ id: w.id, name: w.name })),
  };
}
