import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Canonical text of an IP address, for comparisons: brackets removed, lower case, IPv6 in its
 * RFC 5952 compressed form, and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack
 * socket reports IPv4 peers) turned into plain IPv4. A host name is returned lower-cased.
 */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (zone >= 0 && isIP(h.slice(0, zone)) === 6) h = h.slice(0, zone);
  if (isIP(h) !== 6) return h;
  const groups = expandIpv6(h);
  if (!groups) return h;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return compressIpv6(groups);
}

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

function expandIpv6(text: string): number[] | undefined {
  let h = text;
  const tail: number[] = [];
  const lastColon = h.lastIndexOf(':');
  const maybeV4 = h.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const parts = maybeV4.split('.').map(Number);
    if (parts.length !== 4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = parts;
    tail.push((a << 8) | b, (c << 8) | d);
    h = h.slice(0, lastColon + 1);
    if (!h.endsWith('::')) h = h.slice(0, -1);
  }
  const double = h.indexOf('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const want = 8 - tail.length;
  if (double >= 0) {
    const head = parse(h.slice(0, double));
    const rest = parse(h.slice(double + 2));
    const zeros = want - head.length - rest.length;
    if (zeros < 0) return undefined;
    groups = [...head, ...new Array<number>(zeros).fill(0), ...rest];
  } else {
    groups = parse(h);
  }
  groups = [...groups, ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

function compressIpv6(groups: number[]): string {
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::" (the first on ties).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
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
