/** The start banner (for people, on stderr) and the ready line (for machines, on stdout). */
import type { Config, ListenerInfo, Platform } from '@tfx/server';

export function readyLine(version: string, platform: Platform): string {
  return JSON.stringify({
    event: 'ready',
    version,
    pid: process.pid,
    url: platform.context.publicUrl(),
    listeners: platform.listeners,
  });
}

function fmt(l: ListenerInfo): string {
  const addr = l.address.includes(':') ? `[${l.address}]` : l.address;
  return `${l.name.padEnd(9)} ${l.protocol.padEnd(5)} ${addr}:${l.port}${l.url ? `  ${l.url}` : ''}`;
}

export function banner(
  version: string,
  config: Config,
  platform: Platform,
  tokenPath: string,
): string {
  const url = platform.context.publicUrl();
  const lines = ['', `  TFX ${version} is running`, '', `  Open      ${url}/`];
  if (platform.tls.origin !== 'operator' && !config.server.insecureHttp) {
    lines.push(
      `            self-signed certificate (${platform.tls.origin}); SHA-256 ${platform.tls.fingerprint.slice(0, 23)}…`,
    );
  }
  lines.push(`  Admin     ${url}/admin/  (REST: ${url}/api/v1, metrics: ${url}/metrics)`);
  if (platform.adminTokenGenerated) {
    lines.push(`            admin token (shown this once): ${platform.context.adminToken}`);
    lines.push(`            saved in ${tokenPath} (mode 0600)`);
  }
  lines.push('', '  Listeners');
  for (const l of platform.listeners) lines.push(`    ${fmt(l)}`);
  lines.push('');
  if (config.turn.urls.length === 0 && !config.turn.stun.enabled) {
    lines.push('  TURN      none configured: calls connect on the same network only.');
    lines.push('            Set turn.urls and turn.secret (docs/coturn.md) for calls across NATs.');
  }
  if (!config.redis.url)
    lines.push('  State     in memory (one process). Use --redis for several processes.');
  lines.push('  Stop      Ctrl+C or SIGTERM (drains connections first)', '');
  return lines.join('\n');
}
