/**
 * REST contract of the WebRTC ↔ SIP gateway's room dial-out (`POST /api/v1/gateway/room-dial-out`),
 * declared once: the server validates with these schemas, the dial pad reads the same shape.
 * No admin token: the room's moderator token is the credential (docs/sdk.md, "Calling phones").
 */
import { z } from 'zod';
import { isoTimeSchema } from './schemas.js';

export const roomDialOutBodySchema = z.strictObject({
  room: z.string().min(1).max(64).describe('The room the moderator dials out from.'),
  moderatorToken: z.string().min(1).max(256).describe("The room's moderator token."),
});

export const roomDialOutResponseSchema = z.strictObject({
  username: z
    .string()
    .describe(
      'A digest username for /sip, valid until expiresAt: the billed account, a marker, the expiry and a nonce.',
    ),
  password: z.string().describe('Its password (HMAC of the username under the server key).'),
  domain: z.string().describe('The SIP domain (realm) to sign in to.'),
  account: z.string().describe('The SIP account the calls are billed to (gateway.roomDialOut).'),
  expiresAt: isoTimeSchema,
});

export type RoomDialOutBody = z.infer<typeof roomDialOutBodySchema>;
export type RoomDialOutResponse = z.infer<typeof roomDialOutResponseSchema>;
