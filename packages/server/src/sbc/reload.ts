/**
 * Reloading the SBC's rules while it runs (issue #17 items 5 and 7): `POST /api/v1/sbc/reload`
 * (admin token; `tfx sbc reload` calls it) and SIGHUP (`tfx start` hands the signal here) read
 * the configuration again — the same file, environment, flags and `<dataDir>/overrides.yaml` the
 * process started with — validate all of it, and swap the SBC's normalization rules, header
 * allow-lists, option tags, trunks and routes atomically (`Sbc.reload`). A file that fails is
 * refused with the message naming the key (`sbc.zones[1].normalize[3].match: …`) and the
 * running rules keep serving. Calls in progress keep the rules they started with.
 *
 * What a reload does not change (reported in `restartNeeded`, not refused): a zone's listeners,
 * media address, trust, WebRTC, security and limits, and every section other than `sbc`. Adding
 * or removing a zone is refused (its listeners would need a restart).
 *
 * The last reload and its result are kept for `GET /api/v1/sbc/reload` and the console, and
 * counted in `tfx_sbc_reloads_total{result}`.
 */
import { Counter } from 'prom-client';
import {
  TfxError,
  errorResponseSchema,
  sbcReloadSchema,
  sbcReloadStateSchema,
  type SbcReload,
  type SbcReloadState,
} from '@tfx/protocol';
import type { Sbc, SbcConfig } from '@tfx/sbc';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { PlatformContext } from '../module.js';

export type ReloadSource = SbcReload['source'];

export interface SbcReloaderOptions {
  /** Reads and validates the configuration again; throws a TfxError naming the key. */
  readonly read: (() => Config) | undefined;
  /** The running SBC (undefined: not running). */
  readonly sbc: () => Sbc | undefined;
  /** The configuration the process started with (for what a reload cannot change). */
  readonly running: () => Config | undefined;
  /** What the SBC takes from a configuration. */
  readonly sbcConfigOf: (config: Config) => SbcConfig;
  readonly logger: () => Logger | undefined;
  readonly now?: () => number;
}

export class SbcReloader {
  #last: SbcReload | undefined;
  readonly counts = { ok: 0, refused: 0 };
  readonly #o: SbcReloaderOptions;

  constructor(o: SbcReloaderOptions) {
    this.#o = o;
  }

  /** Whether an SBC runs (reloads need one). */
  get running(): boolean {
    return this.#o.sbc() !== undefined;
  }

  get last(): SbcReload | undefined {
    return this.#last;
  }

  state(): SbcReloadState {
    return { generation: this.#o.sbc()?.rulesGeneration ?? 1, last: this.#last ?? null };
  }

  /** One reload; never throws: the result says ok or why it was refused. */
  reload(source: ReloadSource): SbcReload {
    const at = new Date((this.#o.now ?? Date.now)()).toISOString();
    const sbc = this.#o.sbc();
    const log = this.#o.logger();
    const done = (ok: boolean, message: string, restartNeeded: string[] = []): SbcReload => {
      const r: SbcReload = {
        at,
        ok,
        source,
        message,
        generation: sbc?.rulesGeneration ?? 1,
        restartNeeded,
      };
      this.#last = r;
      if (ok) this.counts.ok++;
      else this.counts.refused++;
      if (ok) log?.info({ source, generation: r.generation, restartNeeded }, 'sbc: reloaded');
      else log?.warn({ source, reason: message }, 'sbc: reload refused; the old rules serve');
      return r;
    };
    if (!sbc)
      return done(false, 'the SBC is not running (no sbc.zones): starting it needs a restart');
    if (!this.#o.read) return done(false, 'this process has no configuration file to read again');
    let config: Config;
    try {
      config = this.#o.read();
    } catch (err) {
      return done(false, (err as Error).message);
    }
    try {
      const r = sbc.reload(this.#o.sbcConfigOf(config));
      const others = otherSections(this.#o.running(), config);
      const restart = [...r.restartNeeded, ...others];
      const cfg = config.sbc;
      return done(
        true,
        `rules generation ${r.generation}: ${cfg.trunks.length} trunk(s), ${cfg.routes.length} route(s), ` +
          `${cfg.zones.reduce((n, z) => n + z.normalize.length, 0) + cfg.trunks.reduce((n, t) => n + t.normalize.length, 0)} normalization rule(s)` +
          (restart.length > 0 ? `; not applied until a restart: ${restart.join(', ')}` : ''),
        restart,
      );
    } catch (err) {
      return done(false, `invalid configuration: ${(err as Error).message}`);
    }
  }
}

/** Top-level sections other than `sbc` that differ from the running configuration. */
function otherSections(running: Config | undefined, next: Config): string[] {
  if (!running) return [];
  const out: string[] = [];
  for (const k of Object.keys(next) as Array<keyof Config>) {
    if (k === 'sbc') continue;
    if (JSON.stringify(running[k]) !== JSON.stringify(next[k])) out.push(k);
  }
  // The CDR store (its file sync, Redis stream) is opened once at start.
  if (JSON.stringify(running.sbc.cdr) !== JSON.stringify(next.sbc.cdr)) out.push('sbc.cdr');
  return out;
}

/** `POST /api/v1/sbc/reload` and `GET /api/v1/sbc/reload`, and `tfx_sbc_reloads_total`. */
export function registerReloadRoutes(ctx: PlatformContext, reloader: SbcReloader): void {
  new Counter({
    name: 'tfx_sbc_reloads_total',
    help: 'Reloads of the SBC rules (REST, tfx sbc reload, SIGHUP), by result (ok, refused).',
    labelNames: ['result'],
    registers: [ctx.metrics],
    collect() {
      this.reset();
      if (reloader.counts.ok > 0) this.inc({ result: 'ok' }, reloader.counts.ok);
      if (reloader.counts.refused > 0) this.inc({ result: 'refused' }, reloader.counts.refused);
    },
  });
  const unauthorized = errorResponseSchema.describe('Missing or wrong admin token (unauthorized).');
  ctx.app.post(
    '/api/v1/sbc/reload',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary:
          'Read the configuration file again and swap the SBC rules (normalization, trunks, routes) atomically',
        description:
          'A refused file changes nothing: the old rules keep serving, and the error names the key (sbc.zones[1].normalize[3].match: …). Calls in progress keep the rules they started with. Zones (listeners, media, trust, security, limits) need a restart: listed in restartNeeded. `tfx sbc reload` and SIGHUP do the same.',
        operationId: 'reloadSbc',
        tags: ['sbc'],
        security: [{ admin: [] }],
        response: {
          200: sbcReloadSchema,
          401: unauthorized,
          422: errorResponseSchema.describe(
            'The new configuration was refused; the message names the key (reload-refused).',
          ),
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (): Promise<SbcReload> => {
      const r = reloader.reload('rest');
      if (r.ok) return r;
      if (/^the SBC is not running/.test(r.message)) throw new TfxError('unavailable', r.message);
      throw new TfxError('reload-refused', r.message, { at: r.at });
    },
  );
  ctx.app.get(
    '/api/v1/sbc/reload',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'The rules generation serving new calls and the last reload with its result',
        operationId: 'getSbcReload',
        tags: ['sbc'],
        security: [{ admin: [] }],
        response: {
          200: sbcReloadStateSchema,
          401: unauthorized,
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (): Promise<SbcReloadState> => {
      if (!reloader.running)
        throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      return reloader.state();
    },
  );
}
