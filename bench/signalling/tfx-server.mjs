// Starts TFX for bench/signalling exactly as `tfx start` composes it (the CLI's buildModules),
// with bench/signalling/tfx-bench.yaml. Prints {"ready":true,"port":N,"limits":{…}} on stdout.
// Needs the build (npm run bench:signalling builds first).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig, startPlatform } from '@tfx/server';
import { buildModules } from '../../packages/cli/dist/modules.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tfx-bench-'));
const config = loadConfig({
  file: fileURLToPath(new URL('./tfx-bench.yaml', import.meta.url)),
  env: {},
  // --redis URL: one node of a scale-out deployment (bench/signalling/scale-out.mjs).
  flags: {
    dataDir,
    ...(process.argv.includes('--redis')
      ? { 'redis.url': process.argv[process.argv.indexOf('--redis') + 1] }
      : {}),
  },
});
const logger = createLogger({
  level: config.log.level,
  format: 'json',
  destination: process.stderr,
});
const modules = buildModules(config, logger, { command: 'start' });
const platform = await startPlatform(config, { logger, modules, version: 'bench' });
const https = platform.listeners[0];
process.stdout.write(
  `${JSON.stringify({ ready: true, port: https.port, pid: process.pid, modules: modules.map((m) => m.name), limits: config.signalling })}\n`,
);
const stop = () =>
  platform.close('bench').finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
