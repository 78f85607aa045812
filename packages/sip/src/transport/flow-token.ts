/**
 * Flow tokens (RFC 5626 §5.2): an opaque, unforgeable name for "the flow this request came in
 * on", carried in a Record-Route user part or a URI parameter, so later requests for that UA
 * (behind a NAT, or on a WebSocket) go back over the same connection.
 *
 * RFC 5626 §5.2: "The proxy MUST be able to determine the flow from the flow token [...]
 * the proxy MUST ensure that the flow token cannot be forged" — so the token carries an HMAC
 * over its contents, checked in constant time.
 *
 * Format: base64url( HMAC-SHA256(secret, payload)[0..16] || payload ), payload being
 * `v1|transport|connectionId|localAddr|localPort|remoteAddr|remotePort` in UTF-8. The alphabet
 * (A–Z a–z 0–9 - _) is safe unescaped in a URI user part and in a URI parameter.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TRANSPORTS, type Endpoint, type TransportProtocol } from './types.js';

export interface Flow {
  readonly transport: TransportProtocol;
  /** The connection's flow id; empty for UDP (a UDP flow is the local socket and remote pair). */
  readonly connectionId: string;
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

const MAC_BYTES = 16;
const VERSION = 'v1';
/** Tokens longer than this are refused before any work. */
const MAX_TOKEN_CHARS = 512;

/** A fresh random secret, for a process that has none configured (tokens then die with it). */
export function newFlowTokenSecret(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function encodeFlowToken(flow: Flow, secret: Uint8Array | string): string {
  const payload = Buffer.from(
    [
      VERSION,
      flow.transport,
      flow.connectionId,
      flow.local.address,
      flow.local.port,
      flow.remote.address,
      flow.remote.port,
    ].join('|'),
    'utf8',
  );
  const mac = createHmac('sha256', secret).update(payload).digest().subarray(0, MAC_BYTES);
  return Buffer.concat([mac, payload]).toString('base64url');
}

/** The flow named by a token, or undefined if the token is malformed or was not made with this secret. */
export function decodeFlowToken(token: string, secret: Uint8Array | string): Flow | undefined {
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length <= MAC_BYTES) return undefined;
  const mac = bytes.subarray(0, MAC_BYTES);
  const payload = bytes.subarray(MAC_BYTES);
  const expected = createHmac('sha256', secret).update(payload).digest().subarray(0, MAC_BYTES);
  if (!timingSafeEqual(mac, expected)) return undefined;
  const parts = payload.toString('utf8').split('|');
  if (parts.length !== 7 || parts[0] !== VERSION) return undefined;
  const [, transport, connectionId, localAddr, localPort, remoteAddr, remotePort] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!(TRANSPORTS as readonly string[]).includes(transport)) return undefined;
  const lp = Number(localPort);
  const rp = Number(remotePort);
  if (!isPort(lp) || !isPort(rp)) return undefined;
  return {
    transport: transport as TransportProtocol,
    connectionId,
    local: { address: localAddr, port: lp },
    remote: { address: remoteAddr, port: rp },
  };
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}
