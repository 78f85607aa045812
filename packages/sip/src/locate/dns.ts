/**
 * The DNS the locator uses in production: Node's resolver (c-ares) for NAPTR, SRV, A and AAAA,
 * against the system's servers or the ones given (`sip.dnsServers`), with a bounded cache of
 * answers (negative ones too) so a busy proxy does not ask for the same name on every request.
 * Without servers of its own, a name DNS has no address for falls back to the system's lookup
 * (getaddrinfo: /etc/hosts, as before).
 * The one file of `locate/` that does I/O.
 */
import { Resolver, lookup } from 'node:dns/promises';
import type { DnsLookup, NaptrRecord, SrvRecord } from './locate.js';

export interface NodeDnsOptions {
  /** "address" or "address:port" of DNS servers; default: the system's. */
  readonly servers?: readonly string[];
  /** Per query attempt. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** Attempts per query. Default 2. */
  readonly tries?: number;
  /** How long an answer (or its absence) is kept. Default 30 s. */
  readonly cacheMs?: number;
  /** At most this many answers kept (oldest dropped). Default 10 000. */
  readonly maxCache?: number;
  readonly now?: () => number;
  /**
   * Ask the system (getaddrinfo: /etc/hosts, then its resolver) for a name DNS gave no address
   * for. Default: only when no `servers` are given (whoever names servers means those alone).
   */
  readonly systemLookup?: boolean;
}

export interface DnsCounters {
  queries: number;
  cacheHits: number;
  failures: number;
}

/** Query errors that mean "no such records" rather than "DNS is broken". */
const NOT_FOUND = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME']);

export function nodeDns(
  options: NodeDnsOptions = {},
): DnsLookup & { readonly counters: DnsCounters } {
  const resolver = new Resolver({
    timeout: options.timeoutMs ?? 2000,
    tries: options.tries ?? 2,
  });
  if (options.servers && options.servers.length > 0) resolver.setServers([...options.servers]);
  const cacheMs = options.cacheMs ?? 30_000;
  const maxCache = options.maxCache ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<readonly unknown[]> }>();
  const counters: DnsCounters = { queries: 0, cacheHits: 0, failures: 0 };
  const systemLookup = options.systemLookup ?? !(options.servers && options.servers.length > 0);

  function cached<T>(key: string, query: () => Promise<readonly T[]>): Promise<readonly T[]> {
    const hit = cache.get(key);
    if (hit && now() - hit.at < cacheMs) {
      counters.cacheHits++;
      return hit.value as Promise<readonly T[]>;
    }
    counters.queries++;
    const value = query().catch((err: NodeJS.ErrnoException) => {
      if (!NOT_FOUND.has(err.code ?? '')) counters.failures++;
      return [] as readonly T[];
    });
    cache.delete(key);
    cache.set(key, { at: now(), value });
    if (cache.size > maxCache) cache.delete(cache.keys().next().value as string);
    return value;
  }

  return {
    counters,
    naptr: (name) =>
      cached<NaptrRecord>(`naptr ${name}`, async () =>
        (await resolver.resolveNaptr(name)).map((r) => ({
          order: r.order,
          preference: r.preference,
          flags: r.flags,
          service: r.service,
          replacement: r.replacement,
        })),
      ),
    srv: (name) =>
      cached<SrvRecord>(`srv ${name}`, async () =>
        (await resolver.resolveSrv(name)).map((r) => ({
          priority: r.priority,
          weight: r.weight,
          port: r.port,
          name: r.name,
        })),
      ),
    addresses: (name) =>
      cached<string>(`addr ${name}`, async () => {
        const [v4, v6] = await Promise.all([
          resolver.resolve4(name).catch(() => [] as string[]),
          resolver.resolve6(name).catch(() => [] as string[]),
        ]);
        if (v4.length + v6.length > 0 || !systemLookup) return [...v4, ...v6];
        return (await lookup(name, { all: true })).map((a) => a.address);
      }),
  };
}
