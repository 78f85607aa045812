/**
 * The leaves of the configuration schema: every option with its key, environment variable,
 * flag, type, default and description. Derived from the schema's JSON Schema form, so the
 * mapping `a.bC` ↔ `TFX_A_B_C` ↔ `--a-b-c` is defined once, here.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export type LeafKind =
  'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'string[]' | 'object[]';

export interface ConfigLeaf {
  /** Dotted key, e.g. `server.port`. */
  readonly key: string;
  readonly path: readonly string[];
  /** Environment variable, e.g. `TFX_SERVER_PORT`. */
  readonly env: string;
  /** Long flag, e.g. `--server-port`. */
  readonly flag: string;
  readonly kind: LeafKind;
  readonly description: string;
  /** The default, or undefined when the option is unset unless given. */
  readonly default: unknown;
  readonly enumValues?: readonly string[];
}

interface JsonSchemaNode {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

export function envName(path: readonly string[]): string {
  return `TFX_${path.map(snake).join('_')}`;
}

export function flagName(path: readonly string[]): string {
  return `--${path.map(kebab).join('-')}`;
}

function kindOf(node: JsonSchemaNode): LeafKind {
  if (node.enum) return 'enum';
  const t = Array.isArray(node.type) ? node.type[0] : node.type;
  switch (t) {
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return node.items?.type === 'object' ? 'object[]' : 'string[]';
    default:
      return 'string';
  }
}

function walk(node: JsonSchemaNode, path: string[], out: ConfigLeaf[]): void {
  if (node.type === 'object' && node.properties) {
    for (const [name, child] of Object.entries(node.properties)) walk(child, [...path, name], out);
    return;
  }
  const kind = kindOf(node);
  out.push({
    key: path.join('.'),
    path,
    env: envName(path),
    flag: flagName(path),
    kind,
    description: node.description ?? '',
    default: node.default,
    ...(kind === 'enum' ? { enumValues: (node.enum ?? []).map(String) } : {}),
  });
}

let cached: readonly ConfigLeaf[] | undefined;

/** Every option of the schema, in declaration order. */
export function configLeaves(): readonly ConfigLeaf[] {
  if (!cached) {
    const json = z.toJSONSchema(configSchema, {
      io: 'input',
      unrepresentable: 'any',
    }) as JsonSchemaNode;
    const out: ConfigLeaf[] = [];
    walk(json, [], out);
    cached = Object.freeze(out);
  }
  return cached;
}
