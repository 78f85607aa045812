/**
 * Who is calling: the client address (X-Forwarded-For only from `server.trustProxy` hops) and
 * whether a page origin may open a signalling connection. Pure functions, no I/O.
 */
import { BlockList, isIP } from 'node:net';

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function normalizeIp(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** A matcher for `server.trustProxy` entries (IPs or CIDRs); undefined when none are set. */
export function trustMatcher(entries: readonly string[]): ((ip: string) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', bits] = entry.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  return (ip) => {
    const v = isIP(ip);
    return v !== 0 && list.check(ip, v === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * The client address: the peer address, unless it is a trusted proxy, in which case the
 * X-Forwarded-For list is walked from the right past trusted hops.
 */
export function clientIp(
  remote: string,
  forwardedFor: string | string[] | undefined,
  trusted: ((ip: string) => boolean) | undefined,
): string {
  let addr = normalizeIp(remote);
  if (!trusted || !trusted(addr) || forwardedFor === undefined) return addr;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => normalizeIp(h.trim()))
    .filter((h) => isIP(h) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    addr = hops[i] as string;
    if (!trusted(addr)) return addr;
  }
  return addr;
}

/**
 * Whether a browser page at `origin` may open a connection. Allowed: no Origin header (not a
 * browser), the server's own origin (same host as the request's Host header, or the public URL),
 * and `server.allowedOrigins`. CORS does not guard WebSocket upgrades, so this check must.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  publicUrl: string,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (host !== undefined && url.host === host.toLowerCase()) return true;
  try {
    if (publicUrl && new URL(publicUrl).origin === url.origin) return true;
  } catch {
    // no usable public URL
  }
  return allowed.some((a) => a.toLowerCase() === url.origin);
}
