/**
 * CIDR allow/deny lists of a zone (Kamailio's `permissions` address table, built in): pure
 * parsing and matching of IPv4 and IPv6 addresses and prefixes, no I/O.
 *
 * A zone's ACL decides, for a source address:
 *   - on a `deny` prefix                       → denied (deny wins over allow);
 *   - else `allow` given and not on it          → denied (an allow-only list lets only it in);
 *   - else                                      → allowed.
 * An IPv4-mapped IPv6 source (`::ffff:192.0.2.1`, dual-stack sockets) is matched as its IPv4
 * address.
 */

/** A parsed prefix: the family, the network bits as a bigint and the prefix length. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bits: bigint;
  readonly prefix: number;
  /** Canonical text (`10.0.0.0/8`, `2001:db8::/32`; a host is `/32` or `/128`). */
  readonly text: string;
}

/** `zones[].acl` as configured: CIDRs or bare addresses (a host). */
export interface AclSpec {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255 || (p.length > 1 && p.startsWith('0'))) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  // An embedded IPv4 tail (`::ffff:192.0.2.1`) is two groups.
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined || lastColon < 0) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (g: string): bigint | undefined =>
    /^[0-9a-fA-F]{1,4}$/.test(g) ? BigInt(`0x${g}`) : undefined;
  const list = (h: string | undefined): bigint[] | undefined => {
    if (h === undefined || h === '') return [];
    const out: bigint[] = [];
    for (const g of h.split(':')) {
      const v = group(g);
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  };
  const head = list(halves[0]);
  const rest = list(halves[1]);
  if (!head || !rest) return undefined;
  const given = head.length + rest.length;
  let groups: bigint[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - given).fill(0n), ...rest];
  } else {
    if (given !== 8) return undefined;
    groups = head;
  }
  return groups.reduce((v, g) => (v << 16n) | g, 0n);
}

/** An address as (family, bits); IPv4-mapped IPv6 becomes IPv4. Undefined when not an address. */
export function parseAddress(s: string): { family: 4 | 6; bits: bigint } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, bits: v4 };
  const text = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const v6 = parseV6(text.split('%')[0] ?? '');
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, bits: v6 & 0xffffffffn };
  return { family: 6, bits: v6 };
}

function formatBits(family: 4 | 6, bits: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => (bits >> BigInt(112 - 16 * i)) & 0xffffn);
  // RFC 5952 §4.2.3: the longest run of two or more zero groups becomes `::`.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a host: /32, /128). Host bits under the
 * prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`). Undefined when it is neither.
 */
export function parseCidr(s: string): Cidr | undefined {
  if (s.length > 64) return undefined;
  const slash = s.indexOf('/');
  const addr = parseAddress(slash < 0 ? s : s.slice(0, slash));
  if (!addr) return undefined;
  const width = addr.family === 4 ? 32 : 128;
  // A mapped IPv6 prefix (`::ffff:10.0.0.0/104`) counts from the IPv4 part.
  const mapped = addr.family === 4 && !/^\d/.test(s);
  let prefix = width;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p) - (mapped ? 96 : 0);
    if (prefix < 0 || prefix > width) return undefined;
  }
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  const bits = addr.bits & mask;
  return { family: addr.family, bits, prefix, text: `${formatBits(addr.family, bits)}/${prefix}` };
}

/** True when `address` (already parsed) lies in `cidr`. */
export function cidrContains(cidr: Cidr, address: { family: 4 | 6; bits: bigint }): boolean {
  if (cidr.family !== address.family) return false;
  const width = cidr.family === 4 ? 32 : 128;
  return address.bits >> BigInt(width - cidr.prefix) === cidr.bits >> BigInt(width - cidr.prefix);
}

/** The canonical text of an address or CIDR (`::FFFF:10.0.0.1` → `10.0.0.1/32`). */
export function canonicalCidr(s: string): string | undefined {
  return parseCidr(s)?.text;
}

export type AclDecision =
  | { readonly allowed: true; readonly rule?: string }
  | { readonly allowed: false; readonly rule: string };

/** A compiled ACL: decide(source) in the order deny, then allow (when an allow list is given). */
export class Acl {
  readonly deny: readonly Cidr[];
  readonly allow: readonly Cidr[] | undefined;

  constructor(spec: AclSpec, where = 'acl') {
    const compile = (list: readonly string[], key: string): Cidr[] =>
      list.map((s, i) => {
        const c = parseCidr(s);
        if (!c) throw new TypeError(`${where}.${key}[${i}]: ${s} is not an address or CIDR`);
        return c;
      });
    this.deny = compile(spec.deny ?? [], 'deny');
    this.allow = spec.allow !== undefined ? compile(spec.allow, 'allow') : undefined;
  }

  /** True when the ACL decides nothing (no lists). */
  get empty(): boolean {
    return this.deny.length === 0 && this.allow === undefined;
  }

  decide(source: string): AclDecision {
    const addr = parseAddress(source);
    if (!addr) return { allowed: false, rule: 'unparsable source' };
    for (const c of this.deny)
      if (cidrContains(c, addr)) return { allowed: false, rule: `deny ${c.text}` };
    if (this.allow === undefined) return { allowed: true };
    for (const c of this.allow)
      if (cidrContains(c, addr)) return { allowed: true, rule: `allow ${c.text}` };
    return { allowed: false, rule: 'not on the allow list' };
  }
}
