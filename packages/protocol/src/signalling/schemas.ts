/**
 * Signalling wire contract, part 1: a zod schema for every event payload, built on the zod-free
 * rules of `rules.ts` (version, limits, room names). Types are inferred from the schemas, so the
 * server (which validates every incoming event with these schemas before any logic), the SDK and
 * the tests share one definition.
 *
 * Client→server object schemas strip unknown keys instead of refusing them: a client one protocol
 * version ahead may send fields this server does not know yet (see `MIN_COMPATIBLE_PROTOCOL_VERSION`).
 */
import { z } from 'zod';
import { LIMITS, ROOM_NAME_PATTERN } from './rules.js';

/** A room name as sent by a client: lowercased, then checked against `ROOM_NAME_PATTERN`. */
export const roomNameSchema = z
  .string()
  .max(64)
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(ROOM_NAME_PATTERN, 'invalid room name'));

export const peerIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.peerIdMax)
  .regex(/^[A-Za-z0-9_-]+$/);
export type PeerId = z.infer<typeof peerIdSchema>;

export const displayNameSchema = z.string().trim().min(1).max(LIMITS.nameMax);
export const passwordSchema = z.string().min(1).max(LIMITS.passwordMax);
export const tokenSchema = z.string().min(1).max(LIMITS.tokenMax);

/**
 * What a peer tells the others about itself: microphone and camera on, presenting a screen, a
 * raised hand (asking to speak; the call page shows it on the tile and lists hands in order), and
 * the ids of the widgets open on its call page (the operator console's "which rooms use which
 * widget"; the widgets themselves open and close for everyone over the data channels).
 */
export const mediaStateSchema = z.object({
  audio: z.boolean(),
  video: z.boolean(),
  screen: z.boolean().optional(),
  hand: z.boolean().optional(),
  widgets: z
    .array(
      z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9_-]+$/),
    )
    .max(LIMITS.openWidgetsMax)
    .optional(),
});
export type MediaState = z.infer<typeof mediaStateSchema>;
/** Every key of {@link MediaState}: what an `update` may change. */
export const MEDIA_STATE_KEYS = ['audio', 'video', 'screen', 'hand', 'widgets'] as const;

export const peerInfoSchema = z.object({
  id: peerIdSchema,
  name: displayNameSchema,
  state: mediaStateSchema,
});
export type PeerInfo = z.infer<typeof peerInfoSchema>;

export const iceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

// --- join / leave / update -------------------------------------------------------------------

/**
 * `join`. A password sets the room's password when this join creates the room; otherwise it must
 * match. A valid `moderatorToken` (from `POST /api/v1/rooms` or an earlier join) makes the peer a
 * moderator and lets it in past a lock and a password (not past the capacity).
 */
export const joinRequestSchema = z.object({
  room: roomNameSchema,
  name: displayNameSchema,
  password: passwordSchema.optional(),
  moderatorToken: tokenSchema.optional(),
  state: mediaStateSchema.optional(),
});
export type JoinRequest = z.input<typeof joinRequestSchema>;
export type ParsedJoinRequest = z.output<typeof joinRequestSchema>;

/** What a successful `join` acks, and what `resumed` carries after a resume. */
export interface JoinResult {
  readonly protocol: number;
  readonly peerId: PeerId;
  readonly room: string;
  /** The live session of the room (REST `/api/v1/sessions/{id}`). */
  readonly sessionId: string;
  /** The other peers present, oldest first (peers within their resume grace included). */
  readonly peers: readonly PeerInfo[];
  readonly iceServers: readonly IceServer[];
  /** Single use: reconnect with `auth.resumeToken` to resume; every resume hands out a new one. */
  readonly resumeToken: string;
  /** How long after a disconnect the resume token stays good. */
  readonly resumeGraceMs: number;
  /** Only to the peer that became moderator by this join (first joiner of an empty room). */
  readonly moderatorToken?: string;
  /** True when this peer holds the moderator token (got it now or presented it). */
  readonly moderator: boolean;
  readonly capacity: number;
  readonly locked: boolean;
  readonly hasPassword: boolean;
}

/** `leave`: no payload (`{}`, `null` and none are all fine). */
export const leaveRequestSchema = z.object({}).nullish();
export type LeaveRequest = z.input<typeof leaveRequestSchema>;

/** `update`: change one's own display name and/or media state; peers get `peer-updated`. */
export const updateRequestSchema = z
  .object({
    name: displayNameSchema.optional(),
    state: mediaStateSchema.partial().optional(),
  })
  .refine((u) => u.name !== undefined || u.state !== undefined, 'nothing to update');
export type UpdateRequest = z.input<typeof updateRequestSchema>;

// --- relay -----------------------------------------------------------------------------------

export const sessionDescriptionSchema = z.object({
  type: z.enum(['offer', 'answer']),
  sdp: z.string().max(LIMITS.sdpMax),
});

/** An ICE candidate (`RTCIceCandidateInit`), or null for end-of-candidates. */
export const candidateSchema = z
  .object({
    candidate: z.string().max(LIMITS.candidateMax),
    sdpMid: z.string().max(64).nullable().optional(),
    sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
    usernameFragment: z.string().max(256).nullable().optional(),
  })
  .nullable();

/** `signal`: an offer, an answer or an ICE candidate for one peer of the same room. */
export const signalRequestSchema = z.discriminatedUnion('kind', [
  z.object({
    to: peerIdSchema,
    kind: z.literal('offer'),
    data: sessionDescriptionSchema.extend({ type: z.literal('offer') }),
  }),
  z.object({
    to: peerIdSchema,
    kind: z.literal('answer'),
    data: sessionDescriptionSchema.extend({ type: z.literal('answer') }),
  }),
  z.object({ to: peerIdSchema, kind: z.literal('candidate'), data: candidateSchema }),
]);
export type SignalRequest = z.input<typeof signalRequestSchema>;
export type SignalKind = SignalRequest['kind'];
/** What the addressed peer receives: the request with `to` replaced by the server-stamped `from`. */
type ParsedSignal = z.output<typeof signalRequestSchema>;
export type SignalDelivery = ParsedSignal extends infer S
  ? S extends { to: string }
    ? { from: PeerId } & Omit<S, 'to'>
    : never
  : never;

/** True when `value` is plain JSON (no binary, no functions) nested at most `maxDepth` deep. */
export function isPlainJson(value: unknown, maxDepth: number = LIMITS.messageDepthMax): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
      continue;
    }
    if (typeof v !== 'object' || depth >= maxDepth) return false;
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    for (const item of Object.values(v)) stack.push([item, depth + 1]);
  }
  return true;
}

export const jsonDataSchema = z.custom<unknown>(
  (v) => v !== undefined && isPlainJson(v),
  'data must be plain JSON',
);

/** `message`: an application message (chat, widget traffic before DataChannels are up) to one peer. */
export const messageRequestSchema = z.object({ to: peerIdSchema, data: jsonDataSchema });
export type MessageRequest = z.input<typeof messageRequestSchema>;
export interface MessageDelivery {
  readonly from: PeerId;
  readonly data: unknown;
}

// --- presence --------------------------------------------------------------------------------

/** `presence`: does a room exist, and how many are in it — without joining it. Rate-limited. */
export const presenceRequestSchema = z.object({ room: roomNameSchema });
export type PresenceRequest = z.input<typeof presenceRequestSchema>;
export interface PresenceResult {
  readonly exists: boolean;
  /** Absent for password-protected rooms. */
  readonly count?: number;
}

export const peerLeftReasonSchema = z.enum(['left', 'timeout', 'kicked', 'closed']);
export interface PeerLeft {
  readonly peerId: PeerId;
  readonly reason: z.infer<typeof peerLeftReasonSchema>;
}

// --- moderation ------------------------------------------------------------------------------

export const kickRequestSchema = z.object({ moderatorToken: tokenSchema, peerId: peerIdSchema });
export type KickRequest = z.input<typeof kickRequestSchema>;

export const lockRequestSchema = z.object({ moderatorToken: tokenSchema, locked: z.boolean() });
export type LockRequest = z.input<typeof lockRequestSchema>;

export const muteKindSchema = z.enum(['audio', 'video', 'screen']);
export type MuteKind = z.infer<typeof muteKindSchema>;
/** `mute-all`: asks every other peer to mute (default: audio). Clients honour it; it is a request. */
export const muteAllRequestSchema = z.object({
  moderatorToken: tokenSchema,
  kinds: z.array(muteKindSchema).min(1).max(3).optional(),
});
export type MuteAllRequest = z.input<typeof muteAllRequestSchema>;

export interface MutedByModerator {
  readonly kinds: readonly MuteKind[];
}
export interface Kicked {
  readonly reason: 'kicked' | 'session-closed';
}
export interface RoomLocked {
  readonly locked: boolean;
}

// --- notices ---------------------------------------------------------------------------------

export interface ServerNotice {
  /** `shutting-down`: this process is draining; keep the resume token and reconnect (elsewhere). */
  readonly kind: 'shutting-down';
  readonly message: string;
  /** Suggested wait before reconnecting. */
  readonly retryAfterMs?: number;
}
