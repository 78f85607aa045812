/**
 * The WebRTC ↔ SIP gateway's room dial-out (`name: 'gateway'`): with `gateway.roomDialOut` set,
 * `POST /api/v1/gateway/room-dial-out` gives a room's moderator a short-lived digest credential
 * billed to that SIP account (dial-out.ts); the dial pad signs in to `/sip` with it, and every
 * call still passes the webrtc zone's digest, fraud limits and routes. Unset (the default),
 * nobody dials out from a room without a SIP account of their own: the route answers 403.
 * The SBC module reads `dialOut` through the composition root (features never import each other).
 */
import {
  TfxError,
  errorResponseSchema,
  roomDialOutBodySchema,
  roomDialOutResponseSchema,
} from '@tfx/protocol';
import type { PlatformContext, PlatformModule } from '../module.js';
import { RoomDialOut, dialOutKey } from './dial-out.js';

export interface GatewayModuleOptions {
  /** Whether `token` is `room`'s moderator token (the signalling store's `isModerator`). */
  readonly isModerator: () => ((room: string, token: string) => Promise<boolean>) | undefined;
  /** Clock (epoch ms); default `Date.now`. */
  readonly now?: () => number;
}

export interface GatewayModule extends PlatformModule {
  /** The room dial-out credentials, once set up with `gateway.roomDialOut`; else undefined. */
  readonly dialOut: RoomDialOut | undefined;
}

export function createGatewayModule(options: GatewayModuleOptions): GatewayModule {
  let dialOut: RoomDialOut | undefined;
  return {
    name: 'gateway',
    get dialOut() {
      return dialOut;
    },
    setup(ctx: PlatformContext): void {
      const account = ctx.config.gateway.roomDialOut;
      if (account) dialOut = new RoomDialOut(account, dialOutKey(ctx.adminToken), options.now);
      const domain = (): string => ctx.config.sip.domain ?? new URL(ctx.publicUrl()).hostname;
      ctx.app.post(
        '/api/v1/gateway/room-dial-out',
        {
          schema: {
            summary: "A room moderator's short-lived SIP credential for calls to phones",
            operationId: 'roomDialOut',
            tags: ['gateway'],
            body: roomDialOutBodySchema,
            response: {
              200: roomDialOutResponseSchema,
              400: errorResponseSchema.describe('The body is not valid (bad-request).'),
              403: errorResponseSchema.describe(
                'Room dial-out is off (forbidden), or the token is not the room’s moderator token (not-moderator).',
              ),
            },
          },
        },
        async (req) => {
          if (!dialOut)
            throw new TfxError(
              'forbidden',
              'Room dial-out is off on this server (gateway.roomDialOut is not set)',
            );
          const check = options.isModerator();
          const { room, moderatorToken } = req.body;
          if (!check || !(await check(room, moderatorToken)))
            throw new TfxError('not-moderator', 'Only a moderator of the room may dial out');
          const c = dialOut.mint();
          ctx.logger.info(
            { room, account: c.account, username: c.username },
            'gateway: room dial-out credential issued',
          );
          return {
            username: c.username,
            password: c.password,
            domain: domain(),
            account: c.account,
            expiresAt: new Date(c.expiresAt).toISOString(),
          };
        },
      );
    },
    close(): void {
      // The route goes with the HTTPS server.
    },
  };
}
