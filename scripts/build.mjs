#!/usr/bin/env node
// Builds everything `tfx start` serves: TypeScript packages (tsc -b, incremental) and the web app (Vite).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const steps = [
  {
    label: 'TypeScript packages (tsc -b)',
    cmd: 'npx',
    args: ['tsc', '-b', 'packages/cli', 'packages/media', 'packages/sdk', 'packages/widget-sdk'],
  },
  {
    // One ES module served at /widget-sdk/v1.js (packages/widget-sdk/dist/v1.js).
    label: 'widget SDK bundle (vite build)',
    cmd: 'npx',
    args: ['vite', 'build', '--logLevel', 'warn'],
    cwd: 'packages/widget-sdk',
  },
  {
    // Built-in widgets, served at /widgets/<id>/ (packages/widgets/dist).
    label: 'built-in widgets (vite build)',
    cmd: 'npx',
    args: ['vite', 'build', '--logLevel', 'warn'],
    cwd: 'packages/widgets',
  },
];
if (existsSync('packages/web/vite.config.ts')) {
  steps.push({
    label: 'web app (vite build)',
    cmd: 'npx',
    args: ['vite', 'build', '--logLevel', 'warn'],
    cwd: 'packages/web',
  });
}
for (const [i, s] of steps.entries()) {
  const t0 = Date.now();
  process.stderr.write(`[build ${i + 1}/${steps.length}] ${s.label}…\n`);
  const r = spawnSync(s.cmd, s.args, { stdio: 'inherit', cwd: s.cwd ?? process.cwd() });
  if (r.status !== 0) {
    process.stderr.write(`build failed at: ${s.label}\n`);
    process.exit(r.status ?? 1);
  }
  process.stderr.write(
    `[build ${i + 1}/${steps.length}] done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}
