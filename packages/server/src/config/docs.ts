/** Renders docs/configuration.md from the schema, so the reference can never drift from the code. */
import { configLeaves, type ConfigLeaf } from './leaves.js';

function fmtDefault(leaf: ConfigLeaf): string {
  if (leaf.default === undefined) return '—';
  return `\`${JSON.stringify(leaf.default)}\``;
}

function fmtType(leaf: ConfigLeaf): string {
  if (leaf.kind === 'enum') return (leaf.enumValues ?? []).map((v) => `\`${v}\``).join(' \\| ');
  return leaf.kind;
}

export function renderConfigDocs(): string {
  const leaves = configLeaves();
  const sections = new Map<string, ConfigLeaf[]>();
  for (const l of leaves) {
    const section = l.path.length > 1 ? (l.path[0] as string) : '(top level)';
    sections.set(section, [...(sections.get(section) ?? []), l]);
  }
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from packages/server/src/config/schema.ts by `npm run docs:config`. Do not edit by hand:',
    '     test/config-docs.test.ts fails when this file and the schema disagree. -->',
    '',
    'Every option can be set four ways; the first that is present wins:',
    '',
    '1. a flag of `tfx start`: key `a.bC` is `--a-b-c` (switches also take `--no-a-b-c`);',
    '2. an environment variable: `TFX_A_B_C` (lists as `a,b` or JSON, objects as JSON);',
    '3. the YAML file given with `--config FILE` (or `TFX_CONFIG`);',
    '4. the default below.',
    '',
    'Short aliases: `--port` (server.port), `--host` (server.host), `--cert`/`--key` (tls.cert/tls.key),',
    '`--insecure-http` (server.insecureHttp), `--redis` (redis.url), `--no-sip` (sip.enabled=false).',
    '',
    'The configuration is validated once at start, before anything listens: unknown keys and bad',
    'values are errors that name the key and where the value came from. Check a file without',
    'starting anything with `tfx config check FILE`; list every key with `tfx config keys`.',
    '',
    'Example `tfx.yaml`:',
    '',
    '```yaml',
    'server:',
    '  port: 443',
    '  publicUrl: https://meet.example.com',
    'tls:',
    '  cert: /etc/letsencrypt/live/meet.example.com/fullchain.pem',
    '  key: /etc/letsencrypt/live/meet.example.com/privkey.pem',
    'turn:',
    '  secret: change-me-to-a-long-random-string',
    '  urls: ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:443?transport=tcp"]',
    'sip:',
    '  domain: example.com',
    '  users:',
    '    - { username: alice, password: a-long-password }',
    '```',
    '',
  ];
  for (const [section, items] of sections) {
    out.push(`## ${section === '(top level)' ? 'Top level' : `\`${section}\``}`, '');
    out.push(
      '| key | type | default | environment | flag | description |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const l of items) {
      out.push(
        `| \`${l.key}\` | ${fmtType(l)} | ${fmtDefault(l)} | \`${l.env}\` | \`${l.flag}\` | ${l.description.replace(/\|/g, '\\|')} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
