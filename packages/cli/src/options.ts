/**
 * Flags of `tfx start` (and `tfx sip`), generated from the configuration schema: every key
 * `a.bC` is the flag `--a-b-c`; a few short aliases are added for the options people type most.
 */
import { Command, Option } from 'commander';
import { configLeaves, type ConfigLeaf } from '@tfx/server';

/** Short aliases: flag → config key (and, for switches, the value the flag sets). */
export const ALIASES: readonly {
  flags: string;
  key: string;
  value?: boolean;
  description: string;
}[] = [
  {
    flags: '-p, --port <port>',
    key: 'server.port',
    description: 'HTTPS port (default 8443; 0 picks a free port)',
  },
  {
    flags: '-H, --host <address>',
    key: 'server.host',
    description: 'address to listen on (default 0.0.0.0)',
  },
  {
    flags: '--cert <file>',
    key: 'tls.cert',
    description: 'PEM certificate (default: self-signed, made on first start)',
  },
  { flags: '--key <file>', key: 'tls.key', description: 'PEM private key for --cert' },
  {
    flags: '--insecure-http',
    key: 'server.insecureHttp',
    value: true,
    description: 'plain HTTP (loopback host or trusted proxy only)',
  },
  {
    flags: '--redis <url>',
    key: 'redis.url',
    description: 'share state through Redis (redis://host:6379)',
  },
  { flags: '--no-sip', key: 'sip.enabled', value: false, description: 'do not run the SIP server' },
];

interface Binding {
  readonly attribute: string;
  readonly key: string;
  readonly value?: boolean;
}

/** Adds the generated and alias flags to a command; returns how to read them back. */
export function addConfigFlags(cmd: Command): (cmd: Command) => Record<string, string | boolean> {
  const bindings: Binding[] = [];
  const aliasKeys = new Set(ALIASES.map((a) => a.key));
  for (const a of ALIASES) {
    const opt = new Option(a.flags, a.description);
    cmd.addOption(opt);
    bindings.push({
      attribute: opt.attributeName(),
      key: a.key,
      ...(a.value === undefined ? {} : { value: a.value }),
    });
  }
  for (const leaf of configLeaves()) {
    const desc = describeLeaf(leaf);
    if (leaf.kind === 'boolean') {
      const on = new Option(leaf.flag, desc);
      const off = new Option(leaf.flag.replace(/^--/, '--no-'), `turn off ${leaf.flag}`).hideHelp();
      if (aliasKeys.has(leaf.key)) on.hideHelp();
      cmd.addOption(on).addOption(off);
      bindings.push({ attribute: on.attributeName(), key: leaf.key });
    } else {
      const opt = new Option(`${leaf.flag} <${placeholder(leaf)}>`, desc);
      if (aliasKeys.has(leaf.key) || leaf.key === 'dataDir' || leaf.key === 'admin.token') {
        // shown once, under its friendly name
      }
      if (aliasKeys.has(leaf.key)) opt.hideHelp();
      if (leaf.kind === 'enum' && leaf.enumValues) opt.choices([...leaf.enumValues]);
      cmd.addOption(opt);
      bindings.push({ attribute: opt.attributeName(), key: leaf.key });
    }
  }
  return (c: Command) => {
    const out: Record<string, string | boolean> = {};
    const values = c.opts<Record<string, unknown>>();
    for (const b of bindings) {
      if (c.getOptionValueSource(b.attribute) !== 'cli') continue;
      const v = values[b.attribute];
      if (b.value !== undefined) out[b.key] = b.value;
      else if (typeof v === 'string' || typeof v === 'boolean') out[b.key] = v;
    }
    return out;
  };
}

function placeholder(leaf: ConfigLeaf): string {
  switch (leaf.kind) {
    case 'integer':
    case 'number':
      return 'n';
    case 'string[]':
      return 'a,b';
    case 'object[]':
      return 'json';
    case 'enum':
      return 'value';
    default:
      return leaf.key.endsWith('Dir') || /file|cert|key|manifest/i.test(leaf.key)
        ? 'path'
        : 'value';
  }
}

function describeLeaf(leaf: ConfigLeaf): string {
  const first = leaf.description.split(/(?<=\.)\s/)[0] ?? leaf.description;
  const def =
    leaf.default === undefined || (Array.isArray(leaf.default) && leaf.default.length === 0)
      ? ''
      : ` (default ${JSON.stringify(leaf.default)})`;
  return `${first}${def} [${leaf.env}]`;
}
