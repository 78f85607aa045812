/**
 * Next hops (RFC 3261 §16.6 steps 6–7, §19.1): where a request named by a URI goes, before any
 * RFC 3263 lookup. Pure.
 */
import {
  canonicalHost,
  defaultPort,
  type SipUri,
  type TransportProtocol,
  type Uri,
} from '../syntax/index.js';

/** Where a client transaction sends: a transport and address, plus, optionally, a flow. */
export interface Hop {
  readonly transport: TransportProtocol;
  readonly remote: { readonly address: string; readonly port: number };
  /** A flow token (WS/TCP/TLS clients are reached on their own connection). */
  readonly flowToken?: string;
}

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.kind === 'sip';
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

/** The hop a URI names (§19.1: maddr ignored; no DNS SRV: host and default port). */
export function hopOf(uri: Uri): Hop | undefined {
  if (uri.kind !== 'sip') return undefined;
  const transport = uriTransport(uri);
  if (!transport) return undefined;
  return {
    transport,
    remote: { address: canonicalHost(uri.host), port: uri.port ?? defaultPort(transport) },
  };
}
