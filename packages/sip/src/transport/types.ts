import type { SipMessage, TransportProtocol } from '../syntax/index.js';

export {
  TRANSPORTS,
  defaultPort,
  isReliable,
  transportFromVia,
  type TransportProtocol,
} from '../syntax/index.js';

/** An IP address and port. IPv6 addresses are written without brackets. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** A live connection (a flow, RFC 5626): TCP, TLS or WebSocket. */
export interface ConnectionRef {
  /** The flow id: unique in this process, never reused. */
  readonly id: string;
  readonly transport: Exclude<TransportProtocol, 'udp'>;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Whether we accepted it (`inbound`) or opened it (`outbound`). */
  readonly direction: 'inbound' | 'outbound';
  readonly closed: boolean;
  /** Writes bytes as they are (for WebSocket: one frame). Resolves once handed to the kernel. */
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the connection; harmless when already closed. */
  close(reason?: string): void;
}

/** Where a message came from: what every listener hands to the one ingress. */
export interface ReceiveContext {
  readonly transport: TransportProtocol;
  /** The local address and port it arrived on. */
  readonly local: Endpoint;
  /** The packet source (for a connection: its peer). */
  readonly remote: Endpoint;
  /** The connection it arrived on, for TCP, TLS, WS and WSS. */
  readonly connection?: ConnectionRef;
}

/** What the ingress emits to the upper layer (the transaction layer). */
export interface InboundMessage {
  readonly message: SipMessage;
  readonly ctx: ReceiveContext;
}

export type InboundHandler = (inbound: InboundMessage) => void;

/** Why the ingress did not deliver a received message. */
export type DropReason =
  /** Larger than `maxMessageBytes` (a request was answered with 513 when possible). */
  | 'too-large'
  /** Not a SIP message at all. */
  | 'parse-error'
  /** The sanity check refused it (a request was answered with the mapped status). */
  | 'sanity'
  /** A response whose top Via is not ours (RFC 3261 §18.1.2). */
  | 'via-not-ours'
  /** No upper layer registered. */
  | 'no-handler'
  /** The upper layer threw; logged. */
  | 'handler-error'
  /** The transport layer is closed. */
  | 'closed'
  /** A defect in the receive path (logged as an error); never expected. */
  | 'internal';

export const DROP_REASONS: readonly DropReason[] = [
  'too-large',
  'parse-error',
  'sanity',
  'via-not-ours',
  'no-handler',
  'handler-error',
  'closed',
  'internal',
];

/**
 * Counters. Every received datagram or framed message ends in exactly one of: `delivered`,
 * `keepalives`, or one `drops` reason; so `received = delivered + keepalives + Σ drops`.
 */
export interface TransportCounters {
  received: number;
  delivered: number;
  keepalives: number;
  /** Messages (and keep-alive pongs) written to the network. */
  sent: number;
  /** Messages that failed to parse (also counted in `drops['parse-error']` or `'sanity'`). */
  parseErrors: number;
  /** Requests refused by the ingress and answered with an error response. */
  replied: number;
  /** Connections closed because their stream could not be framed. */
  framingErrors: number;
  /** Connections refused by `maxConnections` or `maxConnectionsPerIp`. */
  refusedConnections: number;
  /** Of those (TCP/TLS), how many had their first request answered 503 with Retry-After. */
  overloadReplies: number;
  /** WebSocket connections closed for a protocol error (oversized frame, invalid UTF-8, …). */
  wsProtocolErrors: number;
  drops: Record<DropReason, number>;
}

export function newCounters(): TransportCounters {
  const drops = {} as Record<DropReason, number>;
  for (const reason of DROP_REASONS) drops[reason] = 0;
  return {
    received: 0,
    delivered: 0,
    keepalives: 0,
    sent: 0,
    parseErrors: 0,
    replied: 0,
    framingErrors: 0,
    refusedConnections: 0,
    overloadReplies: 0,
    wsProtocolErrors: 0,
    drops,
  };
}
