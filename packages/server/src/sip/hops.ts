/**
 * Proxy helpers (RFC 3261 §16): next hops from URIs, request copies per branch, our Via and
 * Record-Route values, and the branch that carries the loop-detection hash (§16.6 step 8).
 */
import { randomBytes } from 'node:crypto';
import {
  SipHeaders,
  defaultPort,
  formatUri,
  type NameAddr,
  type SipRequest,
  type SipUri,
  type TransportProtocol,
  type Uri,
} from '@tfx/sip';

/** Where a client transaction sends: a transaction context plus, optionally, a flow. */
export interface Hop {
  readonly transport: TransportProtocol;
  readonly remote: { readonly address: string; readonly port: number };
  /** A flow token (WS/TCP/TLS clients are reached on their own connection). */
  readonly flowToken?: string;
}

/** Process-unique prefix of our branches, so our own Via entries are recognised (§16.3 step 4). */
const INSTANCE = randomBytes(3).toString('hex');
export const BRANCH_PREFIX = `z9hG4bKtfx${INSTANCE}`;
let branchCounter = 0;

/** FNV-1a 32-bit, hex: cheap, stable hash for loop detection (not a security primitive). */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * §16.6 step 8: the branch "SHOULD" carry a hash over the fields a loop would leave unchanged,
 * so that §16.3 step 4 can tell a loop (same hash) from a spiral (changed Request-URI…).
 */
export function loopHash(request: SipRequest): string {
  const h = request.headers;
  return fnv(
    `${request.uriText}|${h.from()?.tag ?? ''}|${h.to()?.tag ?? ''}|${h.callId() ?? ''}|${h.cseq()?.seq ?? ''}|${h.get('proxy-require') ?? ''}`,
  );
}

export function newBranch(hash: string): string {
  branchCounter = (branchCounter + 1) % 0x7fffffff;
  return `${BRANCH_PREFIX}${hash}.${branchCounter.toString(36)}`;
}

/** §16.11: a stateless proxy derives the branch from the incoming one (ACK for a 2xx). */
export function statelessBranch(request: SipRequest): string {
  const top = request.headers.via()[0];
  return `${BRANCH_PREFIX}${fnv(`${top?.branch ?? ''}|${request.uriText}`)}.s`;
}

/**
 * §16.3 step 4: "If the request contains a Via header field with a sent-by value that equals
 * a value placed into previous requests by the proxy, the request has been forwarded by this
 * element before. The request has either looped or is legitimately spiraling through the
 * element. To determine if the request has looped, the element MAY perform the branch
 * parameter calculation described in Step 8 of Section 16.6 on this message and compare it to
 * the parameter received in that Via header field. If the parameters match, the request has
 * looped." Our Via entries are recognised by the branch prefix.
 */
export function hasLooped(request: SipRequest): boolean {
  const vias = request.headers.via();
  let hash: string | undefined;
  for (const v of vias) {
    if (!v.branch?.startsWith(BRANCH_PREFIX) || v.branch.endsWith('.s')) continue;
    hash ??= loopHash(request);
    if (v.branch.slice(BRANCH_PREFIX.length, BRANCH_PREFIX.length + 8) === hash) return true;
  }
  return false;
}

/** A copy of a request whose headers can be changed without touching the original. */
export function copyRequest(request: SipRequest): SipRequest {
  return {
    kind: 'request',
    method: request.method,
    uri: request.uri,
    uriText: request.uriText,
    version: request.version,
    headers: new SipHeaders([...request.headers.fields()]),
    body: request.body,
  };
}

export function withUri(request: SipRequest, uri: Uri): SipRequest {
  request.uri = uri;
  (request as { uriText: string }).uriText = formatUri(uri);
  return request;
}

/** Transport named by a SIP URI (§19.1.1 `transport` parameter; `sips:` means TLS). */
export function uriTransport(uri: SipUri): TransportProtocol | undefined {
  const t = uri.params.get('transport');
  if (t === undefined || t === null) return uri.scheme === 'sips' ? 'tls' : 'udp';
  const lower = t.toLowerCase();
  if (lower === 'udp' || lower === 'tcp' || lower === 'ws' || lower === 'wss') return lower;
  if (lower === 'tls') return 'tls';
  return undefined;
}

/** Unbracketed host of a URI (IPv6 references lose their brackets). */
export function bareHost(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The hop a URI names (§19.1: maddr ignored; no DNS SRV: host and default port). */
export function hopOf(uri: Uri): Hop | undefined {
  if (uri.kind !== 'sip') return undefined;
  const transport = uriTransport(uri);
  if (!transport) return undefined;
  return {
    transport,
    remote: { address: bareHost(uri.host), port: uri.port ?? defaultPort(transport) },
  };
}

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.kind === 'sip';
}

/** A `Record-Route`/`Route` value pointing at us, optionally carrying a flow token. */
export function recordRouteValue(
  sentBy: { readonly host: string; readonly port: number },
  transport: TransportProtocol,
  flowToken?: string,
): string {
  const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
  const user = flowToken !== undefined ? `${flowToken}@` : '';
  return `<sip:${user}${host}:${sentBy.port};transport=${transport};lr>`;
}

/** The Via a proxy puts on top of a forwarded request (§16.6 step 8; rport, RFC 3581). */
export function viaValue(
  sentBy: { readonly host: string; readonly port: number },
  transport: TransportProtocol,
  branch: string,
): string {
  const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
  return `SIP/2.0/${transport.toUpperCase()} ${host}:${sentBy.port};branch=${branch};rport`;
}

/** Display form of a From/To for the console: `user@host`. */
export function addressOf(na: NameAddr | undefined): string {
  if (!na) return '';
  const u = na.uri;
  if (u.kind !== 'sip') return u.raw;
  return u.user !== undefined ? `${u.user}@${u.host}` : u.host;
}
