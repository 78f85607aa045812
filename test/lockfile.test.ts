/**
 * Reproducible installs (docs/operations.md, "Installing for production"): `npm ci` installs exactly
 * the committed package-lock.json, and refuses it when it has drifted from a package.json. This test
 * names the drift before CI's `npm ci` does: every dependency a package.json declares must be in the
 * lock with the same range, the lock must hold every platform's optional packages that `npm install`
 * would add (otherwise a fresh `npm install` rewrites it), and no locked package may demand a Node
 * newer than the one TFX declares (the EBADENGINE warning).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface PackageJson {
  name?: string;
  engines?: { node?: string };
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface LockEntry extends PackageJson {
  version?: string;
  optional?: boolean;
  dev?: boolean;
  os?: string[];
  cpu?: string[];
  link?: boolean;
}

const root = join(import.meta.dirname, '..');
const readJson = <T>(p: string): T => JSON.parse(readFileSync(join(root, p), 'utf8')) as T;
const pkg = readJson<PackageJson>('package.json');
const lock = readJson<{ lockfileVersion: number; packages: Record<string, LockEntry> }>(
  'package-lock.json',
);

/** The lowest major.minor a `>=X.Y` range allows (all TFX declares), as [major, minor]. */
function floor(range: string): [number, number] | null {
  const m = /^>=\s*(\d+)(?:\.(\d+))?/.exec(range.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : null;
}

/** True when a package's `engines.node` range admits the Node version TFX's floor names. */
function admits(range: string, [major, minor]: [number, number]): boolean {
  // Ranges seen in the tree: ">=18", ">= 14.0.0", "^18 || >=20", "^20.19.0 || >=22.12.0", "*".
  return range.split('||').some((alt) => {
    const a = alt.trim();
    if (a === '*' || a === '') return true;
    const ge = /^>=\s*(\d+)(?:\.(\d+))?/.exec(a);
    if (ge) {
      const [M, m] = [Number(ge[1]), Number(ge[2] ?? 0)];
      return major > M || (major === M && minor >= m);
    }
    const caret = /^\^\s*(\d+)(?:\.(\d+))?/.exec(a);
    if (caret) {
      const [M, m] = [Number(caret[1]), Number(caret[2] ?? 0)];
      return major === M && minor >= m;
    }
    // Anything else (a range TFX cannot read here) is treated as admitting: this test only
    // catches the plain "needs a newer Node" case that npm reports as EBADENGINE.
    return true;
  });
}

describe('the committed lock file', () => {
  it('is lockfile version 3 (npm 9+), the format npm ci reads without rewriting', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it('declares every dependency of every package.json with the same range', () => {
    const manifests: Array<[string, PackageJson]> = [['', pkg]];
    for (const ws of pkg.workspaces ?? [])
      manifests.push([ws, readJson<PackageJson>(`${ws}/package.json`)]);
    const drift: string[] = [];
    for (const [path, manifest] of manifests) {
      const entry = lock.packages[path];
      if (!entry) {
        drift.push(`${path || '(root)'}: not in package-lock.json`);
        continue;
      }
      for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
        for (const [name, range] of Object.entries(manifest[field] ?? {})) {
          if (entry[field]?.[name] !== range)
            drift.push(
              `${path || '(root)'} ${field}.${name}: package.json ${range}, lock ${entry[field]?.[name] ?? 'missing'}`,
            );
        }
        for (const name of Object.keys(entry[field] ?? {})) {
          if (!(name in (manifest[field] ?? {})))
            drift.push(`${path || '(root)'} ${field}.${name}: in the lock only`);
        }
      }
    }
    expect(drift, 'run `npm install` and commit package-lock.json').toEqual([]);
  });

  it("holds every platform's optional packages, not only this machine's", () => {
    // npm install adds the optional packages of other platforms (rollup's @rollup/rollup-*) when
    // the lock lacks them, and then `npm ci` refuses the committed lock as out of sync. Every
    // optional dependency a locked package names must itself be locked, next to it or hoisted.
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`])
          missing.push(`${path || '(root)'} → ${name}`);
      }
    }
    expect(missing, 'run `npm install` and commit package-lock.json').toEqual([]);
  });

  it('has no package that needs a newer Node than TFX declares (no EBADENGINE)', () => {
    const tfxFloor = floor(pkg.engines?.node ?? '');
    expect(tfxFloor).not.toBeNull();
    const tooNew = Object.entries(lock.packages)
      .filter(([path, e]) => path.startsWith('node_modules/') && e.engines?.node)
      .filter(([, e]) => !admits(e.engines!.node!, tfxFloor!))
      .map(([path, e]) => `${path}@${e.version} needs node ${e.engines!.node}`);
    expect(
      tooNew,
      'pin it to a release that supports TFX’s Node floor (package.json overrides)',
    ).toEqual([]);
  });
});

describe('engine ranges as this test reads them', () => {
  it.each([
    ['>=18', [20, 19], true],
    ['>=22', [20, 19], false],
    ['>= 20.19.0', [20, 19], true],
    ['>=20.20', [20, 19], false],
    ['^18 || >=20', [20, 19], true],
    ['^20.19.0 || >=22.12.0', [20, 19], true],
    ['^22.12.0', [20, 19], false],
    ['*', [20, 19], true],
  ] as const)('%s admits Node %j: %s', (range, version, expected) => {
    expect(admits(range, [version[0], version[1]])).toBe(expected);
  });
});
