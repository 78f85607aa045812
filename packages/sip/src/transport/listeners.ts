/**
 * Listener specs and the small socket helpers behind them. The TransportLayer owns every
 * listener; this file only creates and binds sockets and reports what was bound.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { once } from 'node:events';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { isIP, connect as netConnect, type Server as NetServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { TfxError } from '@tfx/protocol';
import { ipFamily, uriHost } from './address.js';
import type { Endpoint, TransportProtocol } from './types.js';

/**
 * dgram resolves the destination of every `send` through its `lookup`: `dns.lookup` by default,
 * which answers an IP literal on the next tick (option checks, a closure and a `nextTick` per
 * datagram; ~2 % of a 1000 calls/s profile, issue #23). The transport layer resolves names
 * before it sends, so a UDP destination here is an IP literal, answered at once; anything else
 * still goes to `dns.lookup`. (As the media worker's sockets do.)
 */
let lastIp = '';
let lastFamily = 0;
export function ipLiteralLookup(
  address: string,
  options: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  if (address === lastIp) {
    cb(null, address, lastFamily);
    return;
  }
  const f = isIP(address);
  if (f !== 0) {
    lastIp = address;
    lastFamily = f;
    cb(null, address, f);
    return;
  }
  const family = typeof options === 'number' ? options : 0;
  dnsLookup(address, { family }, cb);
}

/** Certificate and key for a TLS or WSS listener (PEM). */
export interface TlsIdentity {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA certificates to trust for client certificates. */
  readonly ca?: string | Buffer | Array<string | Buffer>;
  /** Ask clients for a certificate (mutual TLS). Default false. */
  readonly requestCert?: boolean;
}

export type ListenSpec =
  | { readonly transport: 'udp' | 'tcp'; readonly address: string; readonly port: number }
  | ({ readonly transport: 'tls'; readonly address: string; readonly port: number } & TlsIdentity)
  | {
      readonly transport: 'ws';
      readonly address: string;
      readonly port: number;
      /** HTTP path of the WebSocket endpoint. Default `/sip`; `*` accepts any path. */
      readonly path?: string;
    }
  | ({
      readonly transport: 'wss';
      readonly address: string;
      readonly port: number;
      readonly path?: string;
    } & TlsIdentity);

/** What a listener bound. */
export interface ListenerInfo {
  readonly id: string;
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** WebSocket path, for WS and WSS. */
  readonly path?: string;
  /** The UDP socket's receive buffer as the kernel granted it (Linux reports twice the request). */
  readonly recvBufferSize?: number;
  /** Whether this WebSocket endpoint rides on a server the caller owns (`attachWebSocket`). */
  readonly attached?: boolean;
}

/** Binds a UDP socket. `recvBufferSize` is applied by Node right after bind (SO_RCVBUF). */
export async function bindUdp(
  address: string,
  port: number,
  recvBufferSize: number,
): Promise<{ socket: UdpSocket; local: Endpoint; recvBufferSize: number }> {
  const family = ipFamily(address);
  if (family === 0) {
    throw new TfxError('listen-failed', `UDP listener needs an IP address, got "${address}"`);
  }
  const socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    recvBufferSize,
    // An IPv6 socket takes only IPv6: IPv4 gets its own listener, so addresses stay unmapped.
    ipv6Only: family === 6,
    lookup: ipLiteralLookup,
  });
  try {
    // Listening before bind: with a synchronous lookup, bind emits 'listening' (or 'error') at once.
    const ready = Promise.race([
      once(socket, 'listening'),
      once(socket, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
    socket.bind(port, address);
    await ready;
  } catch (error) {
    socket.close();
    throw new TfxError(
      'listen-failed',
      `UDP ${address}:${port}: ${(error as Error).message}`,
      { transport: 'udp', address, port },
      { cause: error },
    );
  }
  const bound = socket.address();
  return {
    socket,
    local: { address: bound.address, port: bound.port },
    recvBufferSize: socket.getRecvBufferSize(),
  };
}

/** Listens a TCP, TLS or HTTP(S) server on address:port and returns the bound endpoint. */
export async function listenServer(
  server: NetServer | HttpServer,
  transport: TransportProtocol,
  address: string,
  port: number,
): Promise<Endpoint> {
  try {
    server.listen({ host: address, port, ipv6Only: ipFamily(address) === 6 });
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
  } catch (error) {
    server.close();
    throw new TfxError(
      'listen-failed',
      `${transport.toUpperCase()} ${address}:${port}: ${(error as Error).message}`,
      { transport, address, port },
      { cause: error },
    );
  }
  const bound = server.address();
  if (bound === null || typeof bound === 'string') {
    throw new TfxError('listen-failed', `${transport} listener has no address`);
  }
  return { address: bound.address, port: bound.port };
}

/** Closes a server, resolving once it stopped listening (harmless if it never listened). */
export function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** Refuses an HTTP upgrade with a status line, and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/** RFC 7118 §4.1: the client offers the `sip` subprotocol in Sec-WebSocket-Protocol. */
export function offersSip(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((p) => p.trim().toLowerCase() === 'sip');
}

/** The path of an upgrade request, without its query. */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Options of an outbound TLS connection (see `TransportLayerOptions.tlsClient`). */
export interface TlsClientOptions {
  readonly ca?: string | Buffer | Array<string | Buffer>;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Default true. */
  readonly rejectUnauthorized?: boolean;
}

/** Opens a TCP or TLS connection (handshake done), or rejects with `sip-transport-error`. */
export function openStream(
  transport: 'tcp' | 'tls',
  ip: string,
  port: number,
  opts: { timeoutMs: number; tls?: TlsClientOptions; servername?: string },
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket =
      transport === 'tls'
        ? tlsConnect({
            host: ip,
            port,
            ca: opts.tls?.ca,
            cert: opts.tls?.cert,
            key: opts.tls?.key,
            rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
            ...(opts.servername ? { servername: opts.servername } : {}),
          })
        : netConnect({ host: ip, port });
    const timer = setTimeout(() => {
      socket.destroy(new Error(`connect timeout after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    timer.unref();
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(
        new TfxError(
          'sip-transport-error',
          `${transport} connect to ${ip}:${port}: ${error.message}`,
          { transport, address: ip, port, reason: 'connect-failed' },
          { cause: error },
        ),
      );
    };
    socket.once('error', onError);
    socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** An outbound WebSocket, open, with the endpoints of the TCP connection under it. */
export interface OpenedWebSocket {
  readonly ws: WebSocket;
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

/**
 * Opens a WebSocket to a SIP server (RFC 7118 §4.1): offers the `sip` subprotocol and refuses a
 * server that does not select it ("If the server [...] does not select the "sip" subprotocol
 * [...] the client MUST close the connection" is RFC 6455 §4.1's rule for an unrequested one; a
 * SIP client has nothing to speak without it). Rejects with `sip-transport-error`.
 */
export function openWebSocket(
  transport: 'ws' | 'wss',
  ip: string,
  port: number,
  opts: {
    timeoutMs: number;
    path: string;
    maxPayload: number;
    tls?: TlsClientOptions;
    servername?: string;
  },
): Promise<OpenedWebSocket> {
  const url = `${transport}://${uriHost(ip)}:${port}${opts.path.startsWith('/') ? '' : '/'}${opts.path}`;
  return new Promise<OpenedWebSocket>((resolve, reject) => {
    let endpoints: { local: Endpoint; remote: Endpoint } | undefined;
    const ws = new WebSocket(url, 'sip', {
      handshakeTimeout: opts.timeoutMs,
      maxPayload: opts.maxPayload,
      perMessageDeflate: false,
      ...(transport === 'wss'
        ? {
            ca: opts.tls?.ca,
            cert: opts.tls?.cert,
            key: opts.tls?.key,
            rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
            ...(opts.servername ? { servername: opts.servername } : {}),
          }
        : {}),
    });
    const onError = (error: Error) => fail(error.message, error);
    const onUnexpected = (_req: unknown, res: IncomingMessage) =>
      fail(`HTTP ${res.statusCode ?? '?'} instead of an upgrade`);
    const detach = () => {
      ws.off('error', onError);
      ws.off('unexpected-response', onUnexpected);
      // Until the connection takes over: an 'error' without a listener would throw.
      ws.on('error', () => {});
    };
    const fail = (message: string, cause?: unknown) => {
      detach();
      ws.terminate();
      reject(
        new TfxError(
          'sip-transport-error',
          `${transport} connect to ${url}: ${message}`,
          { transport, address: ip, port, reason: 'connect-failed' },
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    ws.once('upgrade', (res: IncomingMessage) => {
      const socket = res.socket;
      endpoints = {
        local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
        remote: { address: socket.remoteAddress ?? ip, port: socket.remotePort ?? port },
      };
    });
    ws.on('unexpected-response', onUnexpected);
    ws.on('error', onError);
    ws.once('open', () => {
      detach();
      if (ws.protocol !== 'sip') {
        fail('the server did not select the "sip" subprotocol');
        return;
      }
      if (!endpoints) {
        fail('no socket under the WebSocket');
        return;
      }
      resolve({ ws, ...endpoints });
    });
  });
}
