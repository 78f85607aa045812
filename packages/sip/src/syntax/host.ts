/**
 * The one host canonicaliser of the stack: every comparison of hosts (is this URI us? is this
 * the flow the request came on? is this the Via's source?) goes through `canonicalHost`. Pure.
 */
import { isIPv6 } from './uri.js';

/**
 * Canonical text of an IP address, for comparisons: brackets removed, lower case, IPv6 in its
 * RFC 5952 compressed form, and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack
 * socket reports IPv4 peers) turned into plain IPv4. A host name is returned lower-cased.
 */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (zone >= 0 && isIPv6(h.slice(0, zone))) h = h.slice(0, zone);
  if (!isIPv6(h)) return h;
  const groups = expandIpv6(h);
  if (!groups) return h;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return compressIpv6(groups);
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
