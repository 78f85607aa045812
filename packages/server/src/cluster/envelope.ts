/**
 * Checks an envelope read from another node's stream before anything acts on it: a pure
 * function, no logging (the router counts what fails, `tfx_cluster_bad_messages_total`, and
 * skips it). Every kind needs its `t` and a string `room`; the lobby kinds, which carry ids and
 * names that end up in moderators' browsers, are checked field by field against the wire
 * contract's own schemas (`@tfx/protocol`, signalling/lobby.ts).
 */
import { LOBBY_MAX_WAITING, lobbyEntrySchema, lobbyIdSchema } from '@tfx/protocol';
import type { Envelope, RelayedItem } from './types.js';

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
const MAX_ID_CHARS = 256;
/** Far above any relayed item `signalling.maxMessageBytes` lets in; a corrupt length stops here. */
export const MAX_PACKET_CHARS = 1 << 22;

/**
 * A relayed item as the target's socket.io connection receives it: an EVENT packet (type 2) of
 * the default namespace, `2["signal",{"from":…,…}]` (socket.io protocol v5, which socket.io's
 * own encoder writes for `socket.emit('signal', payload)`). The sending node encodes it once; the
 * receiving node writes it to the socket as it is (signalling/room.ts). `payload.from` must be
 * its first key (relay.ts builds it so), which `isRelayedPacket` checks.
 */
export function encodeRelayed(item: RelayedItem): string {
  return `2${JSON.stringify([item.event, item.payload])}`;
}

/**
 * The structural check of a packet read from another node's stream, without parsing it (that is
 * the point of passing it through): an EVENT packet of the named event whose payload starts with
 * the sender's stamp `from`, ends as the encoder ends it, is bounded, and holds no record
 * separator (U+001E, which would split it into several packets on a long-polling connection;
 * JSON.stringify always escapes it). The payload itself was validated against the client event
 * schema by the sending node when its client sent it (ingress.ts), as on one process.
 */
export function isRelayedPacket(packet: string, event: string, from: string): boolean {
  if (packet.length > MAX_PACKET_CHARS || !packet.endsWith('}]')) return false;
  const head = `2[${JSON.stringify(event)},{"from":${JSON.stringify(from)}`;
  if (!packet.startsWith(head)) return false;
  const next = packet.charCodeAt(head.length);
  // ',' (more keys follow) or '}' (the stamp was the only key)
  return (next === 44 || next === 125) && !packet.includes('\x1e');
}

export function isEnvelope(x: unknown): x is Envelope {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  if (typeof e.room !== 'string' || !ENVELOPE_KINDS.includes(e.t as Envelope['t'])) return false;
  switch (e.t) {
    case 'deliver':
      return (
        (e.event === 'signal' || e.event === 'message') &&
        typeof e.to === 'string' &&
        e.to.length <= MAX_ID_CHARS &&
        typeof e.from === 'string' &&
        e.from.length <= MAX_ID_CHARS &&
        typeof e.packet === 'string' &&
        isRelayedPacket(e.packet, e.event, e.from)
      );
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
