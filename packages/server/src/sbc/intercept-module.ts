/**
 * Lawful intercept's parts in the SBC module (docs/sbc.md, "Lawful intercept"): the targets and
 * audit log in the data dir (intercept-store.ts), the admin REST (intercept.ts) and the delivery
 * points (intercept-delivery.ts), handed to the SBC as `SbcOptions.intercept`.
 */
import { join } from 'node:path';
import type { Sbc, SbcOptions } from '@tfx/sbc';
import type { Logger } from '../log.js';
import type { PlatformContext } from '../module.js';
import { LiDelivery } from './intercept-delivery.js';
import { InterceptStore } from './intercept-store.js';
import { registerInterceptRoutes } from './intercept.js';

export class LiServices {
  store: InterceptStore | undefined;
  delivery: LiDelivery | undefined;
  #udp: string | undefined;
  #files = false;

  constructor(readonly sbc: () => Sbc | undefined) {}

  /** The store (targets survive restarts) and the REST, whether or not the SBC runs. */
  setup(ctx: PlatformContext): void {
    this.store = new InterceptStore(ctx.dataDir);
    registerInterceptRoutes(
      ctx,
      () => this.store,
      () => {
        const c = this.sbc()?.intercept?.counters;
        return {
          delivery: { ...(this.#udp !== undefined && { udp: this.#udp }), files: this.#files },
          intercepted: c?.intercepted ?? 0,
          active: this.sbc()?.intercept?.active ?? 0,
          failed: c?.failed ?? 0,
          messages: c?.messages ?? 0,
          packets: this.delivery?.counters.packets ?? 0,
          dropped: this.delivery?.counters.dropped ?? 0,
        };
      },
    );
  }

  /** The SBC's `intercept` option; undefined when no delivery point is configured. */
  start(ctx: PlatformContext, logger: Logger): SbcOptions['intercept'] {
    const cfg = ctx.config.sbc.intercept;
    this.#udp = cfg.udp;
    this.#files = cfg.files;
    const store = this.store;
    if (!store || (cfg.udp === undefined && !cfg.files)) return undefined;
    this.delivery = new LiDelivery({
      udp: cfg.udp,
      filesDir: cfg.files ? join(store.dir, 'calls') : undefined,
      mediaAddress: cfg.mediaAddress,
      logger,
    });
    return { targets: store.view, delivery: this.delivery };
  }

  close(): void {
    this.delivery?.close();
    this.store?.close();
  }
}
