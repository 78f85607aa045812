/**
 * Layers import only downward (docs/architecture.md): contracts → pure cores → I/O adapters → apps.
 * This test reads every import of every source file and fails on an upward or sideways import,
 * across packages and inside the SIP stack.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

/** Which workspace packages each package may import. */
const PACKAGE_RULES: Record<string, readonly string[]> = {
  '@tfx/protocol': [],
  '@tfx/sip': ['@tfx/protocol'],
  // The media plane imports only the contracts (docs/architecture.md).
  '@tfx/media': ['@tfx/protocol'],
  '@tfx/sdk': ['@tfx/protocol'],
  // The SBC stands on the SIP stack and the MediaEngine contract; no HTTP, no config (docs/sbc.md).
  '@tfx/sbc': ['@tfx/protocol', '@tfx/sip', '@tfx/media'],
  '@tfx/server': ['@tfx/protocol', '@tfx/sip', '@tfx/media', '@tfx/sbc'],
  '@tfx/widget-sdk': ['@tfx/protocol'],
  // Widgets depend only on the widget SDK (docs/architecture.md), as a third party's would.
  '@tfx/widgets': ['@tfx/widget-sdk'],
  '@tfx/web': ['@tfx/protocol', '@tfx/sdk', '@tfx/widget-sdk'],
  tfx: ['@tfx/protocol', '@tfx/sip', '@tfx/server'],
};

/** Inside @tfx/sip: which folders each folder may import (pure cores first). */
const SIP_RULES: Record<string, readonly string[]> = {
  syntax: [],
  framing: [],
  time: [],
  gate: [],
  route: [],
  auth: ['syntax'],
  element: ['syntax'],
  transaction: ['syntax', 'auth', 'time'],
  transport: ['syntax', 'framing'],
  locate: [],
  stack: ['syntax', 'transport', 'transaction', 'locate', 'gate', 'time'],
  proxy: ['syntax', 'stack', 'element', 'transaction', 'time'],
  // Issue #16: the dialog layer stands on stack, element and transaction (syntax, auth and time
  // are pure floors); the user-agent core stands above the dialog layer.
  dialog: ['syntax', 'auth', 'time', 'transaction', 'element', 'stack'],
  ua: ['syntax', 'auth', 'time', 'transport', 'transaction', 'stack', 'dialog', 'element'],
};

/** Inside @tfx/media: pure cores first; the engines stand on them (docs/media.md). */
const MEDIA_RULES: Record<string, readonly string[]> = {
  engine: [],
  sdp: [],
  rtp: [],
  stun: [],
  codec: ['rtp'],
  // WebRTC leg pieces: ICE-lite checks (on stun), SDP attributes (on sdp), DTLS-SRTP (werift).
  webrtc: ['stun', 'sdp', 'rtp'],
  builtin: ['engine', 'sdp', 'rtp', 'codec', 'webrtc'],
  // rtpengine: the ng protocol's engine; tones are encoded to A-law WAV with codec's G.711.
  rtpengine: ['engine', 'sdp', 'rtp', 'codec'],
};

/** Node modules a pure media core may not load (no sockets, files, threads or timers). */
const MEDIA_PURE_FORBIDDEN = /^node:(dgram|fs|fs\/promises|worker_threads|child_process|timers)$/;

/**
 * The pure parts of the SIP stack import no Node module, so they run in a browser (a web phone
 * may reuse them). Their Node adapters live in files named `node-*.ts`.
 */
const SIP_PURE = ['syntax', 'auth', 'transaction', 'time', 'element', 'route', 'gate', 'dialog'];

const THIRD_PARTY_FORBIDDEN: Record<string, RegExp> = {
  '@tfx/protocol': /^(?!zod$|zod\/)/, // protocol may import only zod
  '@tfx/sdk': /^(node:|fastify|socket\.io$|ws$|pino)/,
  '@tfx/widget-sdk': /^/, // the widget SDK imports nothing but @tfx/protocol
  '@tfx/widgets': /^(node:|fastify|socket\.io|ws$|pino|@tfx\/sdk)/,
  // The SBC loads no config and serves no HTTP: the server wires it (docs/sbc.md).
  '@tfx/sbc':
    /^(fastify|@fastify\/|socket\.io|ws$|pino|yaml$|zod$|ioredis$|prom-client$|node:(fs|http|https))/,
};

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re =
    /(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3]) as string);
  return specs;
}

/**
 * The value imports of a file: what loads at run time. `import type` / `export type` are erased;
 * `import { type A }` is not (verbatimModuleSyntax keeps the module).
 */
function valueImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re =
    /(?:^|\s)(?:import|export)\s(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2]) as string);
  return specs;
}

/** Every module a file loads, following relative value imports (`.js` → `.ts`). */
function loadedFrom(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const spec of valueImportsOf(file)) {
    if (spec.startsWith('.'))
      loadedFrom(resolve(dirname(file), spec).replace(/\.js$/, '.ts'), seen);
    else seen.add(spec);
  }
  return seen;
}

function packageName(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name;
}

// ---- @tfx/server: floors inside the package (issue 26; docs/architecture.md, "Floors") ----------
// A unit is a folder of packages/server/src or a file at its root. Each floor imports only the
// floors below it (and, where `sideways` is true, its own floor). Features never import each
// other, and the floors above reach a feature only through its contract (`index.ts`,
// `service.ts`). New folders get a floor here, or this test names them.

interface ServerFloor {
  readonly name: string;
  readonly units: readonly string[];
  /** Units of this floor may import each other. */
  readonly sideways: boolean;
}

const SERVER_FLOORS: readonly ServerFloor[] = [
  {
    name: 'foundations',
    units: ['config', 'store', 'log.ts', 'tls.ts', 'admin-token.ts'],
    sideways: true,
  },
  { name: 'platform', units: ['module.ts', 'platform.ts', 'cluster'], sideways: true },
  {
    name: 'features',
    units: ['signalling', 'sip', 'widgets', 'media', 'sbc', 'language', 'gateway'],
    sideways: false,
  },
  { name: 'services', units: ['turn', 'api', 'console'], sideways: true },
  { name: 'entry', units: ['index.ts'], sideways: false },
];

/** What other units may import of a feature. */
const FEATURE_CONTRACT = ['index.ts', 'service.ts'];

/** One import of one file, both relative to packages/server/src (`signalling/join.ts`). */
interface ServerImport {
  readonly file: string;
  readonly spec: string;
}

/** The floor rule's violations among `imports` (pure: the test below runs it on made-up lists). */
function serverLayerViolations(imports: readonly ServerImport[]): string[] {
  const floorOf = new Map<string, number>();
  SERVER_FLOORS.forEach((f, i) => f.units.forEach((u) => floorOf.set(u, i)));
  const unitOf = (path: string): string => path.split('/')[0] ?? path;
  const out: string[] = [];
  const unplaced = new Set<string>();
  for (const { file, spec } of imports) {
    const from = unitOf(file);
    const fromFloor = floorOf.get(from);
    if (fromFloor === undefined) unplaced.add(from);
    if (!spec.startsWith('.')) continue;
    const target = join(dirname(file), spec).replace(/\.js$/, '.ts');
    if (target.startsWith('..')) continue; // outside src: the package rule's business
    const to = unitOf(target);
    if (to === from) continue;
    const toFloor = floorOf.get(to);
    if (toFloor === undefined || fromFloor === undefined) {
      if (toFloor === undefined) unplaced.add(to);
      continue;
    }
    const floor = SERVER_FLOORS[fromFloor] as ServerFloor;
    const targetFloor = SERVER_FLOORS[toFloor] as ServerFloor;
    const what = `${file} (${floor.name}) imports ${spec} (${to}, ${targetFloor.name})`;
    if (toFloor > fromFloor) out.push(`${what}: upward`);
    else if (toFloor === fromFloor && !floor.sideways) out.push(`${what}: sideways`);
    else if (
      targetFloor.name === 'features' &&
      !FEATURE_CONTRACT.includes(target.slice(to.length + 1))
    )
      out.push(`${what}: past the feature's contract (${FEATURE_CONTRACT.join(', ')})`);
  }
  for (const unit of unplaced) out.push(`${unit} has no floor in SERVER_FLOORS`);
  return out;
}

describe('floors inside @tfx/server', () => {
  const src = join(process.cwd(), 'packages/server/src');
  const real = (): ServerImport[] =>
    sourceFiles(src).flatMap((f) => importsOf(f).map((spec) => ({ file: relative(src, f), spec })));

  it('every folder and root file of packages/server/src imports only what its floor allows', () => {
    expect(serverLayerViolations(real())).toEqual([]);
  });

  it('names an upward, a sideways and a past-the-contract import, and a folder with no floor', () => {
    expect(
      serverLayerViolations([
        { file: 'signalling/join.ts', spec: './rooms.js' },
        { file: 'signalling/join.ts', spec: '../store/index.js' },
        { file: 'api/admin.ts', spec: '../signalling/service.js' },
        { file: 'store/memory.ts', spec: '../signalling/index.js' },
        { file: 'signalling/join.ts', spec: '../sip/index.js' },
        { file: 'api/admin.ts', spec: '../signalling/rooms.js' },
        { file: 'elsewhere/x.ts', spec: '../store/index.js' },
      ]),
    ).toEqual([
      'store/memory.ts (foundations) imports ../signalling/index.js (signalling, features): upward',
      'signalling/join.ts (features) imports ../sip/index.js (sip, features): sideways',
      "api/admin.ts (services) imports ../signalling/rooms.js (signalling, features): past the feature's contract (index.ts, service.ts)",
      'elsewhere has no floor in SERVER_FLOORS',
    ]);
  });
});
// ---- end of @tfx/server floors ------------------------------------------------------------------

const root = process.cwd();
const packages = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')));

describe('layering', () => {
  it('every workspace package has a rule', () => {
    for (const dir of packages) expect(Object.keys(PACKAGE_RULES), dir).toContain(packageName(dir));
  });

  it('packages import only the packages below them, and declare them as dependencies', () => {
    const violations: string[] = [];
    for (const dir of packages) {
      const name = packageName(dir);
      const allowed = PACKAGE_RULES[name] ?? [];
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      for (const dep of Object.keys(pkg.dependencies ?? {})) {
        if ((dep.startsWith('@tfx/') || dep === 'tfx') && !allowed.includes(dep))
          violations.push(`${name} depends on ${dep}`);
      }
      for (const file of sourceFiles(join(dir, 'src'))) {
        for (const spec of importsOf(file)) {
          const where = relative(root, file);
          if (spec.startsWith('@tfx/') || spec === 'tfx') {
            const target = spec.split('/').slice(0, 2).join('/');
            if (!allowed.includes(target)) violations.push(`${where} imports ${spec}`);
          } else if (spec.startsWith('.')) {
            const target = resolve(dirname(file), spec);
            if (!target.startsWith(join(dir, 'src')))
              violations.push(`${where} reaches outside its package: ${spec}`);
          } else {
            const forbidden = THIRD_PARTY_FORBIDDEN[name];
            if (forbidden?.test(spec))
              violations.push(`${where} imports ${spec}, not allowed in ${name}`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });

  // The call page's bundle stays without zod (docs/benchmarks.md, "Call"): the protocol's subpath
  // entries load no zod, and the browser packages import runtime values only from them.
  it('the zod-free entries of @tfx/protocol never load zod', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages/protocol/package.json'), 'utf8')) as {
      exports: Record<string, { source: string }>;
    };
    const entries = Object.entries(pkg.exports).filter(([k]) => k !== '.');
    expect(entries.map(([k]) => k)).toEqual(expect.arrayContaining(['./core', './widgets']));
    for (const [, { source }] of entries) {
      const loaded = [...loadedFrom(join(root, 'packages/protocol', source))];
      expect(
        loaded.filter((m) => m === 'zod' || m.startsWith('zod/')),
        source,
      ).toEqual([]);
    }
  });

  it('the SDK and the web app import only types from the root of @tfx/protocol', () => {
    const violations: string[] = [];
    for (const dir of ['packages/sdk/src', 'packages/web/src']) {
      for (const file of sourceFiles(join(root, dir))) {
        if (valueImportsOf(file).includes('@tfx/protocol'))
          violations.push(`${relative(root, file)}: use @tfx/protocol/core or /widgets`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('sip.js is imported only by the SDK SIP entry (packages/sdk/src/sip) and the dial pad loads it through that entry', () => {
    const violations: string[] = [];
    for (const dir of ['packages/sdk/src', 'packages/web/src']) {
      for (const file of sourceFiles(join(root, dir))) {
        const rel = relative(root, file);
        if (rel.startsWith('packages/sdk/src/sip/')) continue;
        if (importsOf(file).some((s) => s === 'sip.js' || s.startsWith('sip.js/')))
          violations.push(`${rel}: import @tfx/sdk/sip instead`);
        if (!rel.startsWith('packages/web/src/phone/') && importsOf(file).includes('@tfx/sdk/sip'))
          violations.push(
            `${rel}: only the dial pad (packages/web/src/phone) loads the SIP client`,
          );
      }
    }
    expect(violations).toEqual([]);
  });

  it('inside the SIP stack, pure cores never import transactions or transports', () => {
    const sipSrc = join(root, 'packages/sip/src');
    const violations: string[] = [];
    for (const file of sourceFiles(sipSrc)) {
      const folder = relative(sipSrc, file).split('/')[0] ?? '';
      const allowed = SIP_RULES[folder];
      if (!allowed) continue;
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const targetFolder = relative(sipSrc, resolve(dirname(file), spec)).split('/')[0] ?? '';
        if (
          targetFolder === folder ||
          (!(targetFolder in SIP_RULES) && !targetFolder.endsWith('.js'))
        )
          continue;
        if (targetFolder.endsWith('.js')) continue; // shared leaf modules at the package root (logger.ts, …)
        if (!allowed.includes(targetFolder))
          violations.push(`${relative(root, file)} (${folder}) imports ${spec} (${targetFolder})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('inside @tfx/media, the pure cores (engine, sdp, rtp, stun, codec) import no other folder and no I/O', () => {
    const mediaSrc = join(root, 'packages/media/src');
    const violations: string[] = [];
    for (const file of sourceFiles(mediaSrc)) {
      const folder = relative(mediaSrc, file).split('/')[0] ?? '';
      const allowed = MEDIA_RULES[folder];
      if (!allowed) continue;
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) {
          if (!['builtin', 'rtpengine'].includes(folder) && MEDIA_PURE_FORBIDDEN.test(spec))
            violations.push(`${relative(root, file)} (${folder}, pure) imports ${spec}`);
          continue;
        }
        const target = relative(mediaSrc, resolve(dirname(file), spec)).split('/')[0] ?? '';
        if (target === folder || target.endsWith('.js')) continue;
        if (!allowed.includes(target))
          violations.push(`${relative(root, file)} (${folder}) imports ${spec} (${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('every folder of the SIP stack has a layering rule', () => {
    const sipSrc = join(root, 'packages/sip/src');
    const folders = readdirSync(sipSrc).filter((n) => statSync(join(sipSrc, n)).isDirectory());
    expect(folders.filter((f) => !(f in SIP_RULES))).toEqual([]);
  });

  it('the pure parts of the SIP stack import no Node module (node-*.ts adapters aside)', () => {
    const sipSrc = join(root, 'packages/sip/src');
    const violations: string[] = [];
    for (const folder of SIP_PURE) {
      for (const file of sourceFiles(join(sipSrc, folder))) {
        if (/(^|\/)node-[^/]*\.ts$/.test(file)) continue;
        for (const spec of importsOf(file)) {
          if (spec.startsWith('node:') || spec === 'ws' || spec === 'dns-packet')
            violations.push(`${relative(root, file)} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  // A cycle, even of types only, makes two files one unit: neither can be read (or moved) alone.
  it('the SIP stack and the SDK have no import cycles between files, type imports included', () => {
    const cycles: string[] = [];
    for (const dir of ['packages/sip/src', 'packages/sdk/src']) {
      const files = sourceFiles(join(root, dir));
      const edges = new Map<string, string[]>();
      for (const file of files) {
        edges.set(
          file,
          importsOf(file)
            .filter((s) => s.startsWith('.'))
            .map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'))
            .map((t) => (existsSync(t) ? t : join(t.replace(/\.ts$/, ''), 'index.ts'))),
        );
      }
      const state = new Map<string, 'open' | 'done'>();
      const stack: string[] = [];
      const visit = (f: string): void => {
        if (state.get(f) === 'done') return;
        if (state.get(f) === 'open') {
          const from = stack.indexOf(f);
          cycles.push([...stack.slice(from), f].map((x) => relative(root, x)).join(' → '));
          return;
        }
        state.set(f, 'open');
        stack.push(f);
        for (const t of edges.get(f) ?? []) visit(t);
        stack.pop();
        state.set(f, 'done');
      };
      for (const f of files) visit(f);
    }
    expect(cycles).toEqual([]);
  });
});
