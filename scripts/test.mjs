#!/usr/bin/env node
// `npm test`: the whole suite. Installs missing system tools (root on Debian/Ubuntu) or stops with
// the command to run; builds; runs each suite, timing it; ends with `N passed, N failed`.
//
//   npm test                      every suite
//   npm test -- --only unit,e2e   some suites (lint, unit, integration, e2e)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSystemDeps } from './system-deps.mjs';

const argv = process.argv.slice(2);
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((argv[onlyArg + 1] ?? '').split(',')) : null;
const outDir = join(process.cwd(), 'test-results');
mkdirSync(outDir, { recursive: true });

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...opts });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(127));
  });
}

function vitestCounts(file) {
  if (!existsSync(file)) return null;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  // A file that fails to load counts as one failure even though none of its tests ran.
  const failedFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).every((a) => a.status !== 'failed'),
  ).length;
  return {
    passed: r.numPassedTests ?? 0,
    failed: (r.numFailedTests ?? 0) + failedFiles,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
  };
}

function playwrightCounts(file) {
  if (!existsSync(file)) return null;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const s = r.stats ?? {};
  // A test that failed once and passed on its CI retry is "flaky": it counts as passed, and is
  // named in the summary so that it is seen and fixed rather than forgotten.
  const flaky = [];
  const walk = (suite) => {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests ?? [])
        if (t.status === 'flaky') flaky.push(`${spec.file}:${spec.line} ${spec.title}`);
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of r.suites ?? []) walk(suite);
  return {
    passed: (s.expected ?? 0) + (s.flaky ?? 0),
    failed: s.unexpected ?? 0,
    skipped: s.skipped ?? 0,
    suitesFailed: (r.errors ?? []).length,
    flaky,
  };
}

const suites = [
  {
    name: 'lint',
    async run() {
      const eslint = await run('npx', ['eslint', '.', '--max-warnings=0']);
      const prettier = await run('npx', ['prettier', '--check', '.', '--log-level', 'warn']);
      // The build type-checks the sources; this type-checks tests and benchmarks too.
      const types = await run('npx', ['tsc', '-p', 'tsconfig.test.json']);
      // The web app and the built-in widgets are bundled by Vite, which does not type-check:
      // check them here (an undefined name once reached the pre-join screen this way).
      const appTypes = await run('npx', ['tsc', '-p', 'packages/web/tsconfig.json', '--noEmit']);
      const widgetTypes = await run('npx', ['tsc', '-p', 'packages/widgets/tsconfig.json']);
      const codes = [eslint, prettier, types, appTypes, widgetTypes];
      return {
        passed: codes.filter((c) => c === 0).length,
        failed: codes.filter((c) => c !== 0).length,
        skipped: 0,
      };
    },
  },
  {
    name: 'unit',
    async run() {
      const file = join(outDir, 'unit.json');
      rmSync(file, { force: true });
      const code = await run('npx', [
        'vitest',
        'run',
        '--project',
        'unit',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${file}`,
      ]);
      return counted(vitestCounts(file), code);
    },
  },
  {
    name: 'integration',
    async run() {
      const file = join(outDir, 'integration.json');
      rmSync(file, { force: true });
      const code = await run('npx', [
        'vitest',
        'run',
        '--project',
        'integration',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${file}`,
      ]);
      return counted(vitestCounts(file), code);
    },
  },
  {
    name: 'e2e',
    enabled: () => existsSync('playwright.config.ts'),
    async run() {
      const file = join(outDir, 'e2e.json');
      rmSync(file, { force: true });
      // Browsers gather ICE candidates on every interface: run them in a namespace with loopback only.
      const code = await run(
        'unshare',
        [
          '--net',
          '--',
          'sh',
          '-c',
          'ip link set lo up && exec "$@"',
          'netns',
          'npx',
          'playwright',
          'test',
          // list for people, json for the totals (written to PLAYWRIGHT_JSON_OUTPUT_NAME)
          '--reporter=list,json',
        ],
        {
          env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: file },
        },
      );
      return counted(playwrightCounts(file), code);
    },
  },
];

/** A runner that exits non-zero without counting a failure still counts as one failure. */
function counted(c, code) {
  if (!c)
    return { passed: 0, failed: 1, skipped: 0, note: `runner exited ${code} without results` };
  const failed = c.failed + (code !== 0 && c.failed === 0 ? 1 : 0);
  const notes = [];
  if (code !== 0 && c.failed === 0) notes.push(`runner exited ${code}`);
  if (c.flaky?.length)
    notes.push(`${c.flaky.length} flaky, passed on retry: ${c.flaky.join('; ')}`);
  return { passed: c.passed, failed, skipped: c.skipped, note: notes.join('; ') };
}

const t0 = Date.now();
const deps = ensureSystemDeps();
if (!deps.ok) {
  process.stderr.write(`\nnpm test cannot run every suite on this machine.\n${deps.message}`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}

process.stderr.write('\n=== build ===\n');
const buildCode = await run('node', ['scripts/build.mjs']);
const results = [];
if (buildCode !== 0) {
  results.push({
    name: 'build',
    passed: 0,
    failed: 1,
    skipped: 0,
    seconds: 0,
    note: 'build failed',
  });
} else {
  for (const s of suites) {
    if (only && !only.has(s.name)) continue;
    if (s.enabled && !s.enabled()) continue;
    process.stderr.write(`\n=== ${s.name} ===\n`);
    const start = Date.now();
    const r = await s.run();
    results.push({ name: s.name, ...r, seconds: (Date.now() - start) / 1000 });
  }
}

process.stdout.write('\nsuite         passed  failed  skipped   time\n');
for (const r of results) {
  process.stdout.write(
    `${r.name.padEnd(12)} ${String(r.passed).padStart(7)} ${String(r.failed).padStart(7)} ${String(r.skipped).padStart(8)} ${r.seconds.toFixed(1).padStart(7)} s${r.note ? `  (${r.note})` : ''}\n`,
  );
}
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
process.stdout.write(`total time ${((Date.now() - t0) / 1000).toFixed(1)} s\n\n`);
process.stdout.write(
  `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
);
process.exit(failed > 0 ? 1 : 0);
