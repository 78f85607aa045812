/**
 * Locating SIP servers (RFC 3263 §4): from a SIP or SIPS URI to an ordered list of
 * (transport, IP address, port) to try, one after another, on a 503, a timeout or a transport
 * failure (§4.3). NAPTR, then SRV (RFC 2782 ordering: priority, then weighted random), then A and
 * AAAA. Pure: the DNS is injected ({@link DnsLookup}) and so is the randomness, so tests drive both.
 *
 * What each step does, as the RFC has it:
 * - A numeric host: that address; the port from the URI or the transport's default (§4.2).
 * - A `transport` parameter or an explicit port: no NAPTR; with a port, straight to A/AAAA (§4.1,
 *   §4.2); without one, the SRV name of that transport.
 * - Otherwise NAPTR records of the host whose service names a transport we use (`SIP+D2U`,
 *   `SIP+D2T`, `SIPS+D2T`, `SIP+D2W`, `SIPS+D2W`; SIPS URIs take only the `SIPS+` ones), by order
 *   then preference; each replacement is an SRV name. No NAPTR: SRV of `_sips._tcp`, `_sip._tcp`,
 *   `_sip._udp` (those we use; SIPS only the first). No SRV: A/AAAA of the host at the default
 *   port, UDP for `sip:`, TLS for `sips:` (§4.1 last paragraph).
 */

export type LocateTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly service: string;
  readonly replacement: string;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly name: string;
}

/** What the locator asks of DNS. Every method resolves to [] for "no such records". */
export interface DnsLookup {
  naptr(name: string): Promise<readonly NaptrRecord[]>;
  srv(name: string): Promise<readonly SrvRecord[]>;
  /** A then AAAA addresses of a name. */
  addresses(name: string): Promise<readonly string[]>;
}

/** Where to send: one element of the ordered list. */
export interface LocatedTarget {
  readonly transport: LocateTransport;
  readonly address: string;
  readonly port: number;
}

/** The parts of a SIP URI the procedure reads. */
export interface LocateInput {
  /** `sips:` */
  readonly secure: boolean;
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port?: number | undefined;
  /** The URI's `transport` parameter, lower case. */
  readonly transport?: string | undefined;
}

export interface LocateOptions {
  /** Transports we can send on. Default: udp, tcp, tls. */
  readonly transports?: readonly LocateTransport[];
  /** At most this many targets (the rest are never tried). Default 16. */
  readonly maxTargets?: number;
  /** A number in [0, 1) for SRV's weighted choice. Default Math.random. */
  readonly random?: () => number;
}

export const DEFAULT_PORTS: Readonly<Record<LocateTransport, number>> = {
  udp: 5060,
  tcp: 5060,
  tls: 5061,
  ws: 80,
  wss: 443,
};

/** NAPTR service field → transport (RFC 3263 §4.1, RFC 7118 §5 for WebSocket). */
const NAPTR_SERVICES: Readonly<Record<string, LocateTransport>> = {
  'sip+d2u': 'udp',
  'sip+d2t': 'tcp',
  'sips+d2t': 'tls',
  'sip+d2w': 'ws',
  'sips+d2w': 'wss',
};

/** SRV names tried without NAPTR, in our order of preference. */
const SRV_PREFIXES: readonly { readonly prefix: string; readonly transport: LocateTransport }[] = [
  { prefix: '_sip._udp.', transport: 'udp' },
  { prefix: '_sip._tcp.', transport: 'tcp' },
  { prefix: '_sips._tcp.', transport: 'tls' },
];

const SECURE: ReadonlySet<LocateTransport> = new Set(['tls', 'wss']);

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/**
 * RFC 2782 ordering: ascending priority; within a priority, repeatedly pick at random with
 * probability proportional to weight (zero-weight records first get a small chance, as the RFC
 * orders them first among equals). A lone "." target means "not offered here": no records.
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number): SrvRecord[] {
  if (records.length === 1 && (records[0]!.name === '.' || records[0]!.name === '')) return [];
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) {
    if (r.name === '.' || r.name === '') continue;
    const list = byPriority.get(r.priority) ?? [];
    list.push(r);
    byPriority.set(r.priority, list);
  }
  const out: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero weights first, then the others (RFC 2782 "Usage rules").
    const pool = [...byPriority.get(priority)!].sort(
      (a, b) => (a.weight === 0 ? -1 : 0) - (b.weight === 0 ? -1 : 0),
    );
    while (pool.length > 0) {
      // A uniform integer in [0, sum of weights]; the first record whose running sum reaches it.
      const total = pool.reduce((s, r) => s + r.weight, 0);
      const pick = Math.min(total, Math.floor(random() * (total + 1)));
      let running = 0;
      let chosen = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        running += pool[i]!.weight;
        if (running >= pick) {
          chosen = i;
          break;
        }
      }
      out.push(pool.splice(chosen, 1)[0]!);
    }
  }
  return out;
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The ordered targets for a URI; [] when DNS knows no way there. */
export async function locate(
  input: LocateInput,
  dns: DnsLookup,
  options: LocateOptions = {},
): Promise<LocatedTarget[]> {
  const usable = new Set(options.transports ?? ['udp', 'tcp', 'tls']);
  const max = options.maxTargets ?? 16;
  const random = options.random ?? Math.random;
  const host = lower(input.host);
  const allowed = (t: LocateTransport): boolean =>
    usable.has(t) && (!input.secure || SECURE.has(t));

  // §4.1: the transport, if the URI fixes it.
  let fixed: LocateTransport | undefined;
  if (input.transport !== undefined) {
    const t = input.transport.toLowerCase();
    fixed = t === 'tcp' && input.secure ? 'tls' : (t as LocateTransport);
    if (!(t in DEFAULT_PORTS) || !allowed(fixed)) return [];
  } else if (input.port !== undefined || isIpLiteral(host)) {
    fixed = input.secure ? 'tls' : 'udp';
    if (!allowed(fixed)) return [];
  }

  const out: LocatedTarget[] = [];
  const seen = new Set<string>();
  const add = (transport: LocateTransport, address: string, port: number): void => {
    const key = `${transport} ${address} ${port}`;
    if (out.length >= max || seen.has(key)) return;
    seen.add(key);
    out.push({ transport, address, port });
  };
  const viaAddresses = async (name: string, transport: LocateTransport, port: number) => {
    if (isIpLiteral(name)) add(transport, name, port);
    else for (const a of await dns.addresses(name)) add(transport, a, port);
  };
  const viaSrv = async (name: string, transport: LocateTransport): Promise<boolean> => {
    // True when the name has SRV records at all: a lone "." (RFC 2782: "decidedly not
    // available") ends the search for that transport as surely as real targets do.
    const raw = await dns.srv(name);
    for (const r of orderSrv(raw, random)) {
      if (out.length >= max) break;
      await viaAddresses(lower(r.name), transport, r.port);
    }
    return raw.length > 0;
  };

  // §4.2: a numeric host or an explicit port needs no SRV.
  if (isIpLiteral(host)) {
    add(fixed!, host, input.port ?? DEFAULT_PORTS[fixed!]);
    return out;
  }
  if (input.port !== undefined) {
    await viaAddresses(host, fixed!, input.port);
    return out;
  }
  if (fixed !== undefined) {
    const srvName = `${fixed === 'tls' ? '_sips._tcp' : fixed === 'wss' ? '_sips._ws' : fixed === 'ws' ? '_sip._ws' : `_sip._${fixed}`}.${host}`;
    if (!(await viaSrv(srvName, fixed))) await viaAddresses(host, fixed, DEFAULT_PORTS[fixed]);
    return out;
  }

  // §4.1: NAPTR.
  const naptr = (await dns.naptr(host))
    .filter(
      (r) => r.flags.toLowerCase() === 's' && NAPTR_SERVICES[r.service.toLowerCase()] !== undefined,
    )
    .filter((r) => allowed(NAPTR_SERVICES[r.service.toLowerCase()]!))
    .sort((a, b) => a.order - b.order || a.preference - b.preference);
  if (naptr.length > 0) {
    for (const r of naptr) {
      if (out.length >= max) break;
      await viaSrv(lower(r.replacement), NAPTR_SERVICES[r.service.toLowerCase()]!);
    }
    if (out.length > 0) return out;
  }
  // No (usable) NAPTR: SRV of each transport we use, in our order.
  let anySrv = false;
  for (const { prefix, transport } of SRV_PREFIXES) {
    if (!allowed(transport) || out.length >= max) continue;
    anySrv = (await viaSrv(`${prefix}${host}`, transport)) || anySrv;
  }
  if (anySrv) return out;
  // No SRV either: A/AAAA at the default port.
  const transport: LocateTransport = input.secure ? 'tls' : 'udp';
  if (allowed(transport)) await viaAddresses(host, transport, DEFAULT_PORTS[transport]);
  return out;
}
