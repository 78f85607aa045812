/**
 * Plugs TURN credentials into signalling: every join and resume ack gets `mintIceServers(…)` for
 * that peer at that moment (fresh time-limited credentials), with the built-in STUN responder's
 * real port when it runs.
 */
import type { PlatformContext, PlatformModule } from '../module.js';
import type { SignallingService } from '../signalling/service.js';
import { mintIceServers } from './credentials.js';
import type { StunModule } from './stun-responder.js';

export interface IceModuleOptions {
  /** The signalling service (exists after the signalling module's setup). */
  readonly service: () => SignallingService;
  readonly stun?: StunModule | undefined;
  /** Clock (epoch ms); default `Date.now`. */
  readonly now?: () => number;
}

export function createIceModule(options: IceModuleOptions): PlatformModule {
  const now = options.now ?? Date.now;
  return {
    name: 'ice',
    setup(ctx: PlatformContext): void {
      options.service().setIceServerProvider(({ peerId }) =>
        mintIceServers(ctx.config, peerId, now(), {
          publicUrl: ctx.publicUrl(),
          stunPort: options.stun?.address()?.port,
        }),
      );
    },
    close(): void {},
  };
}
