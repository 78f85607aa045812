/**
 * The names of the SIP transports (RFC 3261 §18, RFC 7118) and what the syntax says about them:
 * their default ports and whether they are reliable. Pure: the transport layer (I/O) and the
 * element helpers both use these without depending on each other.
 */
/** The transports of RFC 3261 §18 and RFC 7118, in lower case as used in code and URIs. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export const TRANSPORTS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

/** Default port per transport (RFC 3261 §19.1.2, RFC 7118 §5: WS uses the HTTP ports). */
export function defaultPort(transport: TransportProtocol): number {
  switch (transport) {
    case 'udp':
    case 'tcp':
      return 5060;
    case 'tls':
      return 5061;
    case 'ws':
      return 80;
    case 'wss':
      return 443;
  }
}

/** Maps a Via transport token (`UDP`, `TCP`, `TLS`, `WS`, `WSS`) to ours; undefined if unknown. */
export function transportFromVia(token: string): TransportProtocol | undefined {
  const t = token.toLowerCase();
  return (TRANSPORTS as readonly string[]).includes(t) ? (t as TransportProtocol) : undefined;
}
