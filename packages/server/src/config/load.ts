/**
 * Loading the configuration: defaults < YAML file < environment < flags, validated once against
 * the schema, cross-checked, and frozen. Nothing listens until this has succeeded.
 *
 * Errors are `TfxError`s (`config-invalid`, `config-unknown-key`, `insecure-http-refused`) whose
 * message names the key and where its value came from (file, environment variable or flag).
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { TfxError } from '@tfx/protocol';
import { configSchema, type Config } from './schema.js';
import { configLeaves, type ConfigLeaf } from './leaves.js';

export interface ConfigSources {
  /** YAML file path (from --config or TFX_CONFIG). */
  readonly file?: string | undefined;
  /** Environment (usually process.env); only TFX_* variables are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values keyed by dotted config key, as strings (or booleans for switches). */
  readonly flags?: Readonly<Record<string, string | boolean | undefined>>;
  /** Already-parsed layer between the file and the environment (e.g. `<dataDir>/overrides.yaml`). */
  readonly overrides?:
    { readonly label: string; readonly values: Record<string, unknown> } | undefined;
}

/** Largest configuration file read (bytes). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Environment variables that are not options but are understood. */
const NON_OPTION_ENV = new Set(['TFX_CONFIG']);

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

function listLeafPaths(value: unknown, prefix: string[], out: string[][]): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) listLeafPaths(v, [...prefix, k], out);
  } else {
    out.push(prefix);
  }
}

/** Turns the text of an environment variable or flag into the option's type. */
export function coerce(leaf: ConfigLeaf, raw: string | boolean, source: string): unknown {
  if (typeof raw === 'boolean') {
    if (leaf.kind !== 'boolean') {
      throw new TfxError('config-invalid', `${leaf.key}: a value is required (from ${source})`, {
        key: leaf.key,
        source,
      });
    }
    return raw;
  }
  const text = raw.trim();
  switch (leaf.kind) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) {
        throw new TfxError(
          'config-invalid',
          `${leaf.key}: expected a number, got "${text}" (from ${source})`,
          { key: leaf.key, source },
        );
      }
      return n;
    }
    case 'boolean': {
      const v = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new TfxError(
        'config-invalid',
        `${leaf.key}: expected true or false, got "${text}" (from ${source})`,
        { key: leaf.key, source },
      );
    }
    case 'string[]':
      if (text.startsWith('[')) return parseJson(leaf, text, source);
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    case 'object[]':
      return parseJson(leaf, text, source);
    default:
      return text;
  }
}

function parseJson(leaf: ConfigLeaf, text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TfxError('config-invalid', `${leaf.key}: expected a JSON array (from ${source})`, {
      key: leaf.key,
      source,
    });
  }
}

/** Reads a YAML configuration file into a plain object; a clear error for unreadable or invalid YAML. */
export function readYamlFile(file: string): Tree {
  let text: string;
  try {
    // A configuration is kilobytes; a file this large is a mistake (or an attack on a reload).
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES)
      throw new Error(`${size} bytes, more than the ${MAX_CONFIG_BYTES} a configuration may have`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TfxError(
      'config-invalid',
      `cannot read config file ${file}: ${(err as Error).message}`,
      { file },
    );
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new TfxError(
      'config-invalid',
      `${file}: invalid YAML: ${first?.message ?? 'parse error'}`,
      { file },
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TfxError(
      'config-invalid',
      `${file}: the top level must be a mapping of sections (server:, sip:, …)`,
      { file },
    );
  }
  return value as Tree;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

/** True for 127.0.0.0/8, ::1 and localhost names. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.');
  return false;
}

/** Builds the configuration from its sources. Throws a `TfxError` naming the key and source. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const leaves = configLeaves();
  const byEnv = new Map(leaves.map((l) => [l.env, l]));
  const byKey = new Map(leaves.map((l) => [l.key, l]));
  const provenance = new Map<string, string>();
  let tree: Tree = {};

  if (sources.file) {
    const file = resolve(sources.file);
    tree = readYamlFile(file);
    const paths: string[][] = [];
    listLeafPaths(tree, [], paths);
    for (const p of paths) provenance.set(p.join('.'), `file ${file}`);
  }

  if (sources.overrides) {
    const paths: string[][] = [];
    listLeafPaths(sources.overrides.values, [], paths);
    for (const p of paths) {
      const leaf = byKey.get(p.join('.'));
      if (!leaf) {
        throw new TfxError(
          'config-unknown-key',
          `unknown key "${p.join('.')}" in ${sources.overrides.label}`,
          {
            key: p.join('.'),
            source: sources.overrides.label,
          },
        );
      }
      const value = p.reduce<unknown>((node, k) => (node as Tree)[k], sources.overrides.values);
      setPath(tree, p, value);
      provenance.set(leaf.key, sources.overrides.label);
    }
  }

  for (const [name, raw] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith('TFX_') || raw === undefined || NON_OPTION_ENV.has(name)) continue;
    const leaf = byEnv.get(name);
    if (!leaf) {
      throw new TfxError(
        'config-unknown-key',
        `unknown environment variable ${name}: no such option (see docs/configuration.md)`,
        {
          source: `environment ${name}`,
        },
      );
    }
    const source = `environment ${name}`;
    setPath(tree, leaf.path, coerce(leaf, raw, source));
    provenance.set(leaf.key, source);
  }

  for (const [key, raw] of Object.entries(sources.flags ?? {})) {
    if (raw === undefined) continue;
    const leaf = byKey.get(key);
    if (!leaf) throw new TfxError('config-unknown-key', `unknown option ${key}`, { key });
    const source = `flag ${leaf.flag}`;
    setPath(tree, leaf.path, coerce(leaf, raw, source));
    provenance.set(leaf.key, source);
  }

  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const base = issue.path.map(String);
      if (issue.code === 'unrecognized_keys') {
        const dotted = issue.keys.map((k) => [...base, k].join('.'));
        const keys = issue.keys.map((k) => keyOf([...issue.path, k]));
        const where = provenance.get(dotted[0] ?? '') ?? sourceOf(provenance, base);
        return {
          key: keys.join(', '),
          unknown: true,
          text: `unknown key ${keys.map((k) => `"${k}"`).join(', ')}${where ? ` in ${where}` : ''}`,
        };
      }
      const key = keyOf(issue.path) || '(top level)';
      const where = sourceOf(provenance, base);
      return {
        key,
        unknown: false,
        text: `${key}: ${issue.message}${where ? ` (from ${where})` : ''}`,
      };
    });
    const code = problems.every((p) => p.unknown) ? 'config-unknown-key' : 'config-invalid';
    throw new TfxError(code, `invalid configuration: ${problems.map((p) => p.text).join('; ')}`, {
      problems: problems.map((p) => p.text),
    });
  }

  const config = result.data;
  crossCheck(config, provenance);
  return deepFreeze(config);
}

/** A key as operators read it: `sbc.zones[1].normalize[3].match` (array indexes in brackets). */
function keyOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function sourceOf(provenance: Map<string, string>, path: readonly string[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const hit = provenance.get(path.slice(0, n).join('.'));
    if (hit) return hit;
  }
  // A value inside an array (sip.users.0.password) is provenance of the array's key.
  return undefined;
}

/** Rules that span several options. */
function crossCheck(config: Config, provenance: Map<string, string>): void {
  if (
    config.server.insecureHttp &&
    !isLoopbackHost(config.server.host) &&
    config.server.trustProxy.length === 0
  ) {
    throw new TfxError(
      'insecure-http-refused',
      `server.insecureHttp is allowed only on a loopback host (127.0.0.1, ::1, localhost) or behind a trusted proxy (server.trustProxy); host is ${config.server.host}` +
        (provenance.get('server.insecureHttp')
          ? ` (insecure HTTP set by ${provenance.get('server.insecureHttp')})`
          : ''),
      { key: 'server.insecureHttp' },
    );
  }
  if (config.redis.url && !config.admin.token) {
    throw new TfxError(
      'config-invalid',
      'with redis.url (several processes sharing Redis) admin.token must be set, the same on every process (--admin-token or TFX_ADMIN_TOKEN); a generated token would differ per process',
      { key: 'admin.token' },
    );
  }
  if (Boolean(config.tls.cert) !== Boolean(config.tls.key)) {
    throw new TfxError('config-invalid', 'tls.cert and tls.key must be given together', {
      key: config.tls.cert ? 'tls.key' : 'tls.cert',
    });
  }
}
