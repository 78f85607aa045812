import type { Logger } from '../logger.js';
import type { SanityOptions, Via } from '../syntax/index.js';
import { FRAMER_DEFAULTS } from '../framing/index.js';
import type { TlsClientOptions } from './listeners.js';
import type { TimerClock } from './keepalive.js';

export interface TransportLayerOptions {
  /** Largest SIP message, in bytes, on every transport (also the WebSocket max payload). Default 65535. */
  readonly maxMessageBytes?: number;
  /** Largest header section on a stream (TCP/TLS), in bytes. Default 16384. */
  readonly maxHeaderBytes?: number;
  /** Most bytes buffered per stream connection while a message is incomplete. Default: maxMessageBytes. */
  readonly maxBufferBytes?: number;
  /** Most bytes waiting to be written on one connection before it is closed. Default 1 MiB. */
  readonly maxWriteBufferBytes?: number;
  /** Close a connection after this long without traffic either way (CRLF and WS pongs count); 0 = never. Default 300000 (5 min). */
  readonly idleTimeoutMs?: number;
  /** WebSocket ping period; a connection that missed the previous pong is closed. 0 = no pings. Default 30000. */
  readonly wsPingIntervalMs?: number;
  /** Most open connections (inbound and outbound, all transports). Default 10000. */
  readonly maxConnections?: number;
  /** Most inbound connections from one IP address. Default 100. */
  readonly maxConnectionsPerIp?: number;
  /** UDP socket receive buffer (SO_RCVBUF) requested, in bytes. Default 4 MiB. */
  readonly udpRecvBufferBytes?: number;
  /** RFC 3261 §18.1.1: requests larger than this go over TCP instead of UDP, when a TCP listener exists; 0 = never. Default 1300. */
  readonly udpMaxRequestBytes?: number;
  /** Timeout for opening an outbound TCP/TLS connection or WebSocket handshake. Default 10000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * RFC 5626 §4.4.1 client keep-alives: on every TCP/TLS connection we open, a double-CRLF ping
   * about this often (80–100%, jittered); a flow whose pong does not come is closed. 0 = none
   * (outbound WebSocket flows are kept alive by WebSocket pings, `wsPingIntervalMs`). Default 0.
   */
  readonly keepAliveIntervalMs?: number;
  /** How long to wait for the CRLF pong. Default 10000 (RFC 5626 §4.4.1: 10 seconds). */
  readonly keepAlivePongTimeoutMs?: number;
  /** HTTP path of outbound WebSocket connections (`ws://host:port/path`). Default `/`. */
  readonly wsClientPath?: string;
  /** Retry-After (seconds) of the 503 that answers a TCP/TLS connection past the limits. Default 30. */
  readonly overloadRetryAfterSeconds?: number;
  /** Clock of the keep-alive timers. Default: the real clock. */
  readonly clock?: TimerClock;
  /** Secret for flow-token HMACs. Default: random per process (tokens die with the process). */
  readonly flowTokenSecret?: Uint8Array | string;
  /** Host written in Via sent-by and taken as ours in responses. Default: each listener's address (or the first non-internal IPv4 address when bound to 0.0.0.0/::). */
  readonly advertisedHost?: string;
  /** Other names and addresses this element answers to in a response's Via. Default none. */
  readonly aliases?: readonly string[];
  /** Whether a response's top Via is ours. Default: host is ours (listeners, advertisedHost, aliases) and port is a listener's. */
  readonly isOurVia?: (via: Via) => boolean;
  /** Answer oversized requests with 513 (else drop). Default true. */
  readonly replyTooLarge?: boolean;
  /** Options for outbound TLS connections. Default: verify against the system CAs. */
  readonly tlsClient?: TlsClientOptions;
  /** Passed to the syntax layer's sanity check. */
  readonly sanity?: SanityOptions;
  readonly logger?: Logger;
}

export const TRANSPORT_DEFAULTS = {
  maxMessageBytes: 65_535,
  maxHeaderBytes: FRAMER_DEFAULTS.maxHeaderBytes,
  maxWriteBufferBytes: 1_048_576,
  idleTimeoutMs: 300_000,
  wsPingIntervalMs: 30_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  udpRecvBufferBytes: 4 * 1024 * 1024,
  udpMaxRequestBytes: 1300,
  connectTimeoutMs: 10_000,
  keepAliveIntervalMs: 0,
  keepAlivePongTimeoutMs: 10_000,
  overloadRetryAfterSeconds: 30,
} as const;
