/**
 * The REST API under `/api/v1` (`name: 'api'`). Every route:
 *   admin auth (`ctx.requireAdmin`) → request validation (zod, `@tfx/protocol` REST schemas) →
 *   handler → response validation against the same schemas → errors from the catalogue.
 * The schemas also make the OpenAPI document (`/api/v1/openapi.json`), with `security: admin`.
 *
 * Times cross this boundary as ISO-8601 UTC strings; inside the server they are epoch ms.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  TfxError,
  createRoomBodySchema,
  createRoomResponseSchema,
  errorResponseSchema,
  listSessionsQuerySchema,
  participantParamsSchema,
  sessionPageSchema,
  sessionParamsSchema,
  sessionSchema,
  type Session,
} from '@tfx/protocol';
import type { PlatformContext, PlatformModule } from '../module.js';
import type { SessionRecord } from '../store/index.js';
import type { SessionAdmin } from './admin.js';

export interface ApiModuleOptions {
  /** The signalling side's admin service; a function because it exists only once signalling
   * has been set up (modules set up in order: signalling before api). */
  readonly admin: () => SessionAdmin;
  /** Clock (epoch ms); default `Date.now`. */
  readonly now?: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A store record as the REST contract shows it. */
export function toRestSession(s: SessionRecord): Session {
  return {
    id: s.id,
    room: s.room,
    startedAt: iso(s.startedAt),
    ...(s.endedAt !== undefined
      ? { endedAt: iso(s.endedAt), durationMs: Math.max(0, s.endedAt - s.startedAt) }
      : {}),
    peakParticipants: s.peakParticipants,
    participants: s.participants.map((p) => ({
      id: p.id,
      name: p.name,
      joinedAt: iso(p.joinedAt),
      ...(p.leftAt !== undefined ? { leftAt: iso(p.leftAt) } : {}),
    })),
  };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `room-` and 10 base-32 characters: 50 bits from the CSPRNG (the issue asks for ≥ 40). */
export function generateRoomName(): string {
  const bytes = randomBytes(10);
  let out = 'room-';
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

const errors = {
  400: errorResponseSchema.describe('The request failed its schema (bad-request).'),
  401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
};
const security = [{ admin: [] }];
const noContent = z.null().describe('Done.');

export function createApiModule(options: ApiModuleOptions): PlatformModule {
  const now = options.now ?? Date.now;
  return {
    name: 'api',
    setup(ctx: PlatformContext): void {
      const { app } = ctx;
      const admin = (): SessionAdmin => options.admin();
      const pre = { preHandler: ctx.requireAdmin };

      app.get(
        '/api/v1/sessions',
        {
          ...pre,
          schema: {
            summary: 'List live or ended sessions, newest first',
            operationId: 'listSessions',
            tags: ['sessions'],
            security,
            querystring: listSessionsQuerySchema,
            response: { 200: sessionPageSchema, ...errors },
          },
        },
        async (req) => {
          const q = req.query;
          const page = await admin().listSessions({
            state: q.state,
            room: q.room,
            limit: q.limit,
            cursor: q.cursor,
          });
          return {
            items: page.items.map(toRestSession),
            ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
          };
        },
      );

      app.get(
        '/api/v1/sessions/:id',
        {
          ...pre,
          schema: {
            summary: 'One live or ended session',
            operationId: 'getSession',
            tags: ['sessions'],
            security,
            params: sessionParamsSchema,
            response: {
              200: sessionSchema,
              ...errors,
              404: errorResponseSchema.describe('No such session (not-found).'),
            },
          },
        },
        async (req) => {
          const s = await admin().getSession(req.params.id);
          if (!s) throw new TfxError('not-found', `no session ${req.params.id}`);
          return toRestSession(s);
        },
      );

      app.delete(
        '/api/v1/sessions/:id',
        {
          ...pre,
          schema: {
            summary: 'Close a live session: disconnect everyone in it and end it',
            operationId: 'closeSession',
            tags: ['sessions'],
            security,
            params: sessionParamsSchema,
            response: {
              204: noContent,
              ...errors,
              404: errorResponseSchema.describe('No such session (not-found).'),
              409: errorResponseSchema.describe('The session has already ended (conflict).'),
            },
          },
        },
        async (req, reply) => {
          const { id } = req.params;
          const s = await admin().getSession(id);
          if (!s) throw new TfxError('not-found', `no session ${id}`);
          if (s.endedAt !== undefined || !(await admin().closeSession(id)))
            throw new TfxError('conflict', `session ${id} has already ended`);
          return reply.code(204).send(null);
        },
      );

      app.delete(
        '/api/v1/sessions/:id/participants/:peerId',
        {
          ...pre,
          schema: {
            summary: 'Kick one participant out of a live session',
            operationId: 'kickParticipant',
            tags: ['sessions'],
            security,
            params: participantParamsSchema,
            response: {
              204: noContent,
              ...errors,
              404: errorResponseSchema.describe(
                'No such session, or no such participant in the room now (not-found).',
              ),
              409: errorResponseSchema.describe('The session has already ended (conflict).'),
            },
          },
        },
        async (req, reply) => {
          const { id, peerId } = req.params;
          const s = await admin().getSession(id);
          if (!s) throw new TfxError('not-found', `no session ${id}`);
          if (s.endedAt !== undefined)
            throw new TfxError('conflict', `session ${id} has already ended`);
          if (!(await admin().kickPeer(id, peerId)))
            throw new TfxError('not-found', `no participant ${peerId} in session ${id}`);
          return reply.code(204).send(null);
        },
      );

      app.post(
        '/api/v1/rooms',
        {
          ...pre,
          schema: {
            summary: 'Create a room (named or generated), optionally with a password and expiry',
            operationId: 'createRoom',
            tags: ['rooms'],
            security,
            body: createRoomBodySchema,
            response: {
              201: createRoomResponseSchema,
              ...errors,
              409: errorResponseSchema.describe('A room with this name exists (conflict).'),
            },
          },
        },
        async (req, reply) => {
          const body = req.body;
          const expiresAt = body.expiresAt !== undefined ? Date.parse(body.expiresAt) : undefined;
          if (expiresAt !== undefined && expiresAt <= now())
            throw new TfxError('bad-request', 'expiresAt must be in the future', {
              key: 'expiresAt',
            });
          let created: Awaited<ReturnType<SessionAdmin['createRoom']>> | undefined;
          // A generated name collides with probability ~n/2^50; retry a few times anyway.
          for (let attempt = 0; !created; attempt++) {
            const name = body.name ?? generateRoomName();
            try {
              created = await admin().createRoom({ name, password: body.password, expiresAt });
            } catch (err) {
              const retry =
                body.name === undefined &&
                attempt < 3 &&
                err instanceof TfxError &&
                err.code === 'conflict';
              if (!retry) throw err;
            }
          }
          const base = ctx.publicUrl().replace(/\/$/, '');
          return reply.code(201).send({
            room: created.room,
            url: `${base}/r/${encodeURIComponent(created.room)}`,
            moderatorToken: created.moderatorToken,
            ...(created.expiresAt !== undefined ? { expiresAt: iso(created.expiresAt) } : {}),
          });
        },
      );
    },
    close(): void {
      // Routes go with the HTTPS server; nothing else to release.
    },
  };
}
