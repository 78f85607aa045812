/**
 * Opening outbound connections (flows we start): TCP, TLS, and WebSocket (RFC 7118 §4.1, `ws`
 * and `wss`), each wrapped in its Connection with the layer's hooks and limits; stream flows
 * get the client-side CRLF keep-alives of RFC 5626 §4.4.1 when an interval is configured.
 */
import {
  StreamConnection,
  WsConnection,
  type Connection,
  type ConnectionHooks,
} from './connection.js';
import type { FramerOptions } from '../framing/index.js';
import type { TimerClock } from './keepalive.js';
import { openStream, openWebSocket, type TlsClientOptions } from './listeners.js';

export interface DialOptions {
  readonly connectTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxWriteBufferBytes: number;
  readonly wsPingIntervalMs: number;
  /** HTTP path of outbound WebSocket connections. */
  readonly wsClientPath: string;
  /** 0: no client keep-alives. */
  readonly keepAliveIntervalMs: number;
  readonly keepAlivePongTimeoutMs: number;
  readonly clock: TimerClock;
  readonly framer: FramerOptions;
  readonly tls?: TlsClientOptions | undefined;
}

export async function dial(
  transport: 'tcp' | 'tls' | 'ws' | 'wss',
  ip: string,
  port: number,
  servername: string | undefined,
  hooks: ConnectionHooks,
  o: DialOptions,
): Promise<Connection> {
  if (transport === 'ws' || transport === 'wss') {
    const { ws, local, remote } = await openWebSocket(transport, ip, port, {
      timeoutMs: o.connectTimeoutMs,
      path: o.wsClientPath,
      maxPayload: o.maxMessageBytes,
      tls: o.tls,
      servername,
    });
    const limits = { ...o, pingIntervalMs: o.wsPingIntervalMs };
    return new WsConnection(ws, transport, local, remote, hooks, limits, 'outbound');
  }
  const socket = await openStream(transport, ip, port, {
    timeoutMs: o.connectTimeoutMs,
    tls: o.tls,
    servername,
  });
  const connection = new StreamConnection(socket, transport, 'outbound', hooks, o, o.framer);
  if (o.keepAliveIntervalMs > 0) {
    connection.startKeepAlive({
      intervalMs: o.keepAliveIntervalMs,
      pongTimeoutMs: o.keepAlivePongTimeoutMs,
      clock: o.clock,
    });
  }
  return connection;
}

/** The real clock, for when none is injected (timers unref'd: they never hold the process). */
export const nodeTimerClock: TimerClock = {
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
