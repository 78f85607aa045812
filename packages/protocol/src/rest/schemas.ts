/**
 * REST contract of `/api/v1`: a zod schema for every request and response, declared once. The
 * server validates requests and responses with them (Fastify + fastify-type-provider-zod), the
 * OpenAPI document at `/api/v1/openapi.json` is generated from them, and the SDK and the tests
 * import them.
 *
 * Conventions: JSON bodies; times are ISO-8601 UTC strings (`2030-01-01T12:00:00.000Z`);
 * durations are integer milliseconds; response objects are strict (a field the document does not
 * describe is a bug, and the server refuses to send it); errors are `{ error: { code, message } }`
 * with a code from the error catalogue.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { ROOM_NAME_PATTERN, LIMITS } from '../signalling/rules.js';

/** An ISO-8601 UTC timestamp with milliseconds, as `Date.prototype.toISOString` writes it. */
export const isoTimeSchema = z.iso.datetime({ offset: false, precision: 3 });

// --- errors ------------------------------------------------------------------------------------

export const errorResponseSchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(ERROR_CODES as [string, ...string[]]).describe('A code from the error catalogue.'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

// --- sessions ----------------------------------------------------------------------------------

export const sessionIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/)
  .describe('Session id.');
export const restPeerIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.peerIdMax)
  .regex(/^[A-Za-z0-9_-]+$/)
  .describe('Peer id.');
export const restRoomNameSchema = z
  .string()
  .regex(ROOM_NAME_PATTERN)
  .describe('Room name: 3–64 of a–z, 0–9 and "-", not starting with "-".');

export const participantSchema = z.strictObject({
  id: restPeerIdSchema,
  name: z.string().describe('Display name.'),
  joinedAt: isoTimeSchema,
  leftAt: isoTimeSchema.optional().describe('Absent while the participant is in the room.'),
});
export type Participant = z.infer<typeof participantSchema>;

export const sessionSchema = z.strictObject({
  id: sessionIdSchema,
  room: restRoomNameSchema,
  startedAt: isoTimeSchema.describe('The first join of the (empty) room.'),
  endedAt: isoTimeSchema
    .optional()
    .describe('When the room had been empty for the resume grace period; absent while live.'),
  durationMs: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('endedAt − startedAt; ended sessions only.'),
  peakParticipants: z.number().int().min(0),
  participants: z
    .array(participantSchema)
    .describe('In order of joining. Ended sessions keep names and times, never addresses.'),
});
export type Session = z.infer<typeof sessionSchema>;

export const SESSION_PAGE_MAX = 1000;
export const SESSION_PAGE_DEFAULT = 50;

export const listSessionsQuerySchema = z.strictObject({
  state: z.enum(['live', 'ended']).default('live').describe('live (default) or ended sessions.'),
  room: z
    .string()
    .max(64)
    .transform((s) => s.toLowerCase())
    .pipe(restRoomNameSchema)
    .optional()
    .describe('Only sessions of this room.'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(SESSION_PAGE_MAX)
    .default(SESSION_PAGE_DEFAULT)
    .describe(`Page size, 1–${SESSION_PAGE_MAX} (default ${SESSION_PAGE_DEFAULT}).`),
  cursor: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('The nextCursor of the previous page. Pages stay stable while sessions are added.'),
});
export type ListSessionsQuery = z.input<typeof listSessionsQuerySchema>;

export const sessionPageSchema = z.strictObject({
  items: z.array(sessionSchema).describe('Newest first.'),
  nextCursor: z
    .string()
    .optional()
    .describe('Present when more items follow: pass it as `cursor` to get the next page.'),
});
export type SessionPage = z.infer<typeof sessionPageSchema>;

export const sessionParamsSchema = z.strictObject({ id: sessionIdSchema });
export const participantParamsSchema = z.strictObject({
  id: sessionIdSchema,
  peerId: restPeerIdSchema,
});

// --- rooms -------------------------------------------------------------------------------------

export const createRoomBodySchema = z.strictObject({
  name: z
    .string()
    .max(64)
    .transform((s) => s.toLowerCase())
    .pipe(restRoomNameSchema)
    .optional()
    .describe('Room name. Default: generated, with at least 40 bits of entropy.'),
  password: z
    .string()
    .min(1)
    .max(LIMITS.passwordMax)
    .optional()
    .describe('Joiners must give this password (stored as a salted scrypt hash).'),
  expiresAt: isoTimeSchema
    .optional()
    .describe('After this time the room refuses joins (room-expired). Must be in the future.'),
});
export type CreateRoomBody = z.input<typeof createRoomBodySchema>;

export const createRoomResponseSchema = z.strictObject({
  room: restRoomNameSchema,
  url: z.url().describe('The call page: server.publicUrl + /r/<room>.'),
  moderatorToken: z
    .string()
    .describe('Shown once: join with it to moderate (kick, lock, mute everyone).'),
  expiresAt: isoTimeSchema.optional(),
});
export type CreateRoomResponse = z.infer<typeof createRoomResponseSchema>;

/** Room names `POST /api/v1/rooms` generates: a readable prefix and 10 base-32 characters (50 bits). */
export const GENERATED_ROOM_PATTERN = /^room-[a-z2-7]{10}$/;
