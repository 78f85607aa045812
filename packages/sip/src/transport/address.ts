import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { canonicalHost, defaultPort, type TransportProtocol, type Via } from '../syntax/index.js';

export { canonicalHost };

/** Whether two hosts are the same address (or the same name, case-insensitively). */
export function sameHost(a: string, b: string): boolean {
  return canonicalHost(a) === canonicalHost(b);
}

/** 4 or 6 for an IP address (with or without brackets), 0 for a host name. */
export function ipFamily(host: string): 0 | 4 | 6 {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(h) as 0 | 4 | 6;
}

/** The host as written in a SIP URI or Via sent-by: IPv6 in brackets (RFC 3261 §25.1). */
export function uriHost(address: string): string {
  return ipFamily(address) === 6 && !address.startsWith('[') ? `[${address}]` : address;
}

/** `address:port` as written in logs and connection keys, IPv6 bracketed. */
export function formatEndpoint(address: string, port: number): string {
  return `${uriHost(canonicalHost(address))}:${port}`;
}

/** Every address of this machine's interfaces, canonical. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(canonicalHost(a.address));
  }
  return out;
}

/** The first non-internal address of a family, for a Via sent-by when bound to a wildcard. */
export function firstInterfaceAddress(family: 4 | 6): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === (family === 6 ? 'IPv6' : 'IPv4')) return a.address;
    }
  }
  return undefined;
}

/**
 * RFC 3261 §18.1.2: a response's top Via must carry a sent-by we insert: a listener's port, and
 * a host that is a listener's address, the advertised host, an alias, or (with a wildcard
 * listener) any address of this machine.
 */
export function viaIsOurs(
  via: Via,
  listeners: ReadonlyArray<{ readonly address: string; readonly port: number }>,
  o: { readonly aliases?: readonly string[]; readonly advertisedHost?: string },
): boolean {
  const host = canonicalHost(via.host);
  const transport = via.transport.toLowerCase() as TransportProtocol;
  const port = via.port ?? defaultPort(transport);
  if (!listeners.some((l) => l.port === port)) return false;
  const hosts = new Set<string>((o.aliases ?? []).map(canonicalHost));
  if (o.advertisedHost) hosts.add(canonicalHost(o.advertisedHost));
  let wildcard = false;
  for (const l of listeners) {
    if (l.address === '0.0.0.0' || l.address === '::') wildcard = true;
    else hosts.add(l.address);
  }
  if (hosts.has(host)) return true;
  return wildcard && localAddresses().has(host);
}
