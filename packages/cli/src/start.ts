/** `tfx start`: load and validate the configuration, start the platform, drain on SIGTERM. */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  createLogger,
  loadConfig,
  readOverrides,
  startPlatform,
  type Config,
  type Platform,
  type SbcModule,
} from '@tfx/server';
import { TfxError } from '@tfx/protocol';
import { VERSION } from './version.js';
import { banner, readyLine } from './banner.js';
import { buildModules, type ModuleChoice } from './modules.js';

export function webRoot(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const root = join(dirname(require.resolve('@tfx/web/package.json')), 'dist');
    return existsSync(root) ? root : undefined;
  } catch {
    return undefined;
  }
}

export interface StartArgs {
  readonly configFile?: string | undefined;
  readonly flags: Record<string, string | boolean>;
  readonly env: NodeJS.ProcessEnv;
}

export function resolveConfig(args: StartArgs): Config {
  const sources = {
    file: args.configFile ?? args.env.TFX_CONFIG,
    env: args.env,
    flags: args.flags,
  };
  // <dataDir>/overrides.yaml (console settings) is a layer between the file and the environment;
  // the data directory itself comes from the other layers.
  const overrides = readOverrides(loadConfig(sources).dataDir);
  return overrides ? loadConfig({ ...sources, overrides }) : loadConfig(sources);
}

export async function runStart(args: StartArgs, choice: ModuleChoice): Promise<Platform> {
  const config = resolveConfig(args);
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const root = webRoot();
  const modules = buildModules(config, logger, choice, root, () => resolveConfig(args));
  const platform = await startPlatform(config, {
    logger,
    modules,
    webRoot: choice.command === 'start' ? root : undefined,
    version: VERSION,
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    const force = setTimeout(() => {
      logger.warn(
        { graceMs: config.server.shutdownGraceMs },
        'drain took too long: closing remaining connections',
      );
      platform.context.app.server.closeAllConnections();
      setTimeout(() => process.exit(0), 1000).unref();
    }, config.server.shutdownGraceMs);
    force.unref();
    platform
      .close(signal)
      .then(() => {
        logger.flush?.();
        process.stdout.write(`${JSON.stringify({ event: 'stopped', signal })}\n`);
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // SIGHUP reloads the SBC's rules (as `tfx sbc reload`; the result is logged and kept for
  // GET /api/v1/sbc/reload). `tfx start` only: `tfx sip` keeps the default (terminate).
  const sbc = modules.find((m): m is SbcModule => m.name === 'sbc');
  if (sbc) process.on('SIGHUP', () => void sbc.reload('signal'));
  // Signal handlers are in place before anyone is told we are ready.
  process.stderr.write(
    `${banner(VERSION, config, platform, resolve(config.dataDir, 'admin-token'))}\n`,
  );
  process.stdout.write(`${readyLine(VERSION, platform)}\n`);
  return platform;
}

/** Prints a configuration or startup error the way an operator can act on it. */
export function reportError(err: unknown): number {
  if (err instanceof TfxError) {
    process.stderr.write(`tfx: ${err.code}: ${err.message}\n`);
    return err.code.startsWith('config') || err.code === 'insecure-http-refused' ? 2 : 1;
  }
  process.stderr.write(`tfx: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
