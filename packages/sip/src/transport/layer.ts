/**
 * The TransportLayer owns every listener (UDP, TCP, TLS, WS, WSS) and every connection, feeds all
 * of them into the one ingress, and sends messages by transport, flow or flow token.
 *
 * Outbound flows are opened on demand for TCP, TLS, WS and WSS (dial.ts), reused by address,
 * and kept alive by CRLF pings (RFC 5626 §4.4.1) or WebSocket pings. A WebSocket client named
 * by a `.invalid` host is reached over the connection it came on (aliases.ts, RFC 7118 §5).
 * TCP/TLS connections past the limits get a 503 with Retry-After to their first request
 * (refusal.ts).
 *
 * Ownership (docs/sip.md): TransportLayer → listeners → accepted connections; → outbound
 * connections; → refused connections awaiting their 503. `close()` closes all of them, is idempotent, and makes later use throw
 * `shutting-down`.
 */
import { lookup } from 'node:dns/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Socket as UdpSocket } from 'node:dgram';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TfxError } from '@tfx/protocol';
import { serializeMessage, type SipMessage } from '../syntax/index.js';
import { silentLogger, type Logger } from '../logger.js';
import { canonicalHost, firstInterfaceAddress, ipFamily, sameHost, viaIsOurs } from './address.js';
import { InvalidHostAliases, isInvalidHost } from './aliases.js';
import { Connection, StreamConnection, WsConnection, type ConnectionHooks } from './connection.js';
import { dial, nodeTimerClock } from './dial.js';
import { decodeFlowToken, encodeFlowToken, newFlowTokenSecret, type Flow } from './flow-token.js';
import { Ingress } from './ingress.js';
import { Refusals } from './refusal.js';
import { TRANSPORT_DEFAULTS, type TransportLayerOptions } from './options.js';
import {
  bindUdp,
  closeServer,
  listenServer,
  offersSip,
  refuseUpgrade,
  requestPath,
  type ListenSpec,
  type ListenerInfo,
} from './listeners.js';
import {
  defaultPort,
  type ConnectionRef,
  type Endpoint,
  type InboundHandler,
  type ReceiveContext,
  type TransportCounters,
  type TransportProtocol,
} from './types.js';
import { responseDestination, rewriteTopVia, setViaTransport } from './via.js';

/** Where to send. A flow (id or token) wins while alive; otherwise transport, address and port. */
export interface SendTarget {
  /** A connection's flow id (`ctx.connection.id`). */
  readonly flow?: string;
  /** A flow token from `flowTokenFor` (checked: a forged one is refused). */
  readonly flowToken?: string;
  readonly transport?: TransportProtocol;
  /** IP address or host name (A/AAAA lookup). */
  readonly address?: string;
  /** Default: the transport's default port. */
  readonly port?: number;
}

export interface SendResult {
  /** The transport actually used (a large UDP request may have gone over TCP, §18.1.1). */
  readonly transport: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** The connection used, for TCP, TLS, WS and WSS. */
  readonly flow?: string;
  readonly bytes: number;
}

type ResolvedOptions = {
  -readonly [K in keyof typeof TRANSPORT_DEFAULTS]: number;
} & { maxBufferBytes: number; replyTooLarge: boolean; wsClientPath: string };

interface UdpListener {
  readonly info: ListenerInfo;
  readonly socket: UdpSocket;
}

interface ServerListener {
  readonly info: ListenerInfo;
  /** Closes what this listener owns (not a server attached from outside). */
  close(): Promise<void>;
}

let nextListenerId = 0;

export class TransportLayer {
  private readonly opts: ResolvedOptions;
  private readonly log: Logger;
  private readonly ingress: Ingress;
  private readonly secret: Uint8Array | string;
  private readonly udp: UdpListener[] = [];
  private readonly servers: ServerListener[] = [];
  private readonly byId = new Map<string, Connection>();
  private readonly byKey = new Map<string, Connection>();
  private readonly perIp = new Map<string, number>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  /** `.invalid` hosts of WebSocket clients → the connection they came on (RFC 7118 §5). */
  private readonly aliases = new InvalidHostAliases();
  private readonly refusals: Refusals;
  private readonly hooks: ConnectionHooks;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: TransportLayerOptions = {}) {
    const maxMessageBytes = options.maxMessageBytes ?? TRANSPORT_DEFAULTS.maxMessageBytes;
    const pick = (k: keyof typeof TRANSPORT_DEFAULTS): number => {
      const value = options[k] ?? TRANSPORT_DEFAULTS[k];
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TfxError('config-invalid', `TransportLayer: ${k} must be an integer >= 0`);
      }
      return value;
    };
    this.opts = {
      maxMessageBytes: pick('maxMessageBytes'),
      maxHeaderBytes: pick('maxHeaderBytes'),
      maxWriteBufferBytes: pick('maxWriteBufferBytes'),
      idleTimeoutMs: pick('idleTimeoutMs'),
      wsPingIntervalMs: pick('wsPingIntervalMs'),
      maxConnections: pick('maxConnections'),
      maxConnectionsPerIp: pick('maxConnectionsPerIp'),
      udpRecvBufferBytes: pick('udpRecvBufferBytes'),
      udpMaxRequestBytes: pick('udpMaxRequestBytes'),
      connectTimeoutMs: pick('connectTimeoutMs'),
      keepAliveIntervalMs: pick('keepAliveIntervalMs'),
      keepAlivePongTimeoutMs: pick('keepAlivePongTimeoutMs'),
      overloadRetryAfterSeconds: pick('overloadRetryAfterSeconds'),
      maxBufferBytes: options.maxBufferBytes ?? maxMessageBytes,
      replyTooLarge: options.replyTooLarge ?? true,
      wsClientPath: options.wsClientPath ?? '/',
    };
    if (this.opts.keepAliveIntervalMs > 0 && this.opts.keepAlivePongTimeoutMs === 0) {
      throw new TfxError('config-invalid', 'TransportLayer: keepAlivePongTimeoutMs must be > 0');
    }
    this.refusals = new Refusals({
      retryAfterSeconds: this.opts.overloadRetryAfterSeconds,
      timeoutMs: Math.min(5000, this.opts.connectTimeoutMs || 5000),
      maxBytes: this.opts.maxMessageBytes,
      maxHeaderBytes: this.opts.maxHeaderBytes,
      maxPending: 64,
    });
    this.log = options.logger ?? silentLogger;
    this.secret = options.flowTokenSecret ?? newFlowTokenSecret();
    this.ingress = new Ingress(
      {
        maxMessageBytes,
        replyTooLarge: this.opts.replyTooLarge,
        sanity: options.sanity,
        isOurVia: options.isOurVia ?? ((via) => viaIsOurs(via, this.listeners(), options)),
        logger: this.log,
      },
      { reply: (bytes, ctx) => this.replyOnFlow(bytes, ctx) },
    );
    this.hooks = {
      message: (c, bytes) => this.ingress.receive(bytes, contextOf(c)),
      keepalive: (c, bytes) => {
        this.ingress.receive(bytes, contextOf(c));
        if (bytes.length === 4) this.counters.sent++;
      },
      framingError: (c, error) => {
        this.counters.framingErrors++;
        this.log.warn(
          { flow: c.id, remote: c.remote, reason: error.reason },
          'sip: stream framing failed, closing connection',
        );
      },
      closed: (c, reason) => this.forget(c, reason),
      protocolError: (c, code) => {
        this.counters.wsProtocolErrors++;
        this.log.info({ flow: c.id, remote: c.remote, code }, 'sip: WebSocket protocol error');
      },
      keepaliveSent: () => void this.counters.sent++,
    };
  }

  /** Counters: received, delivered, sent, parse errors, drops by reason (see TransportCounters). */
  get counters(): TransportCounters {
    return this.ingress.counters;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Registers the upper layer: every accepted message is handed to it as `{ message, ctx }`. */
  onMessage(handler: InboundHandler | undefined): void {
    this.ensureOpen();
    this.ingress.setHandler(
      handler &&
        ((inbound) => {
          if (inbound.ctx.connection) this.aliases.learn(inbound.message, inbound.ctx.connection);
          handler(inbound);
        }),
    );
  }

  /** The one ingress; listeners call it, and so may tests and other transports. */
  receive(bytes: Uint8Array, ctx: ReceiveContext): void {
    this.ingress.receive(bytes, ctx);
  }

  listeners(): ListenerInfo[] {
    return [...this.udp.map((l) => l.info), ...this.servers.map((l) => l.info)];
  }

  connections(): ConnectionRef[] {
    return [...this.byId.values()];
  }

  connection(flow: string): ConnectionRef | undefined {
    return this.byId.get(flow);
  }

  /** Starts a listener; port 0 picks a free port (see the returned info). */
  async listen(spec: ListenSpec): Promise<ListenerInfo> {
    this.ensureOpen();
    switch (spec.transport) {
      case 'udp':
        return this.listenUdp(spec.address, spec.port);
      case 'tcp':
        return this.listenStream(spec.address, spec.port, 'tcp', createNetServer());
      case 'tls':
        return this.listenStream(
          spec.address,
          spec.port,
          'tls',
          createTlsServer({
            cert: spec.cert,
            key: spec.key,
            ca: spec.ca,
            requestCert: spec.requestCert ?? false,
          }),
        );
      case 'ws':
      case 'wss': {
        const server =
          spec.transport === 'wss'
            ? createHttpsServer({ cert: spec.cert, key: spec.key, ca: spec.ca })
            : createHttpServer();
        server.on('request', (_req, res) => {
          res.statusCode = 426;
          res.setHeader('Connection', 'close');
          res.end('Upgrade Required: SIP over WebSocket (RFC 7118)\n');
        });
        const local = await listenServer(server, spec.transport, spec.address, spec.port);
        this.ensureOpenOr(() => server.close());
        return this.attach(server, spec.transport, spec.path ?? '/sip', local, false);
      }
    }
  }

  /**
   * Serves SIP over WebSocket (RFC 7118) on an HTTP(S) server the caller owns, at `path`
   * (default `/sip`). Upgrades to other paths are left to other listeners. The server is not
   * closed by `close()`; only the WebSocket connections are.
   */
  attachWebSocket(
    server: HttpServer | HttpsServer,
    options: { readonly path?: string; readonly secure?: boolean } = {},
  ): ListenerInfo {
    this.ensureOpen();
    const bound = server.address();
    if (bound === null || typeof bound === 'string') {
      throw new TfxError(
        'listen-failed',
        'attachWebSocket: the server must be listening on a port',
      );
    }
    const secure = options.secure ?? 'setSecureContext' in server;
    return this.attach(
      server,
      secure ? 'wss' : 'ws',
      options.path ?? '/sip',
      { address: bound.address, port: bound.port },
      true,
    );
  }

  /**
   * Sends a message or raw bytes. With a flow (id or token) it goes over that connection
   * (RFC 5626 connection reuse); otherwise by transport to address:port, reusing an open
   * TCP/TLS connection to that address or opening one.
   */
  async send(message: SipMessage | Uint8Array, target: SendTarget): Promise<SendResult> {
    this.ensureOpen();
    const bytes = message instanceof Uint8Array ? message : serializeMessage(message);
    if (target.flowToken !== undefined) {
      const flow = this.resolveFlowToken(target.flowToken);
      if (!flow) {
        throw new TfxError('forbidden', 'invalid flow token', { reason: 'bad-flow-token' });
      }
      return this.sendOnFlow(bytes, flow);
    }
    if (target.flow !== undefined) {
      const connection = this.byId.get(target.flow);
      if (connection && !connection.closed) return this.sendOn(connection, bytes);
      if (target.address === undefined) throw flowFailed(target.flow);
    }
    const transport = target.transport;
    if (!transport || target.address === undefined) {
      throw new TfxError('bad-request', 'send: a target needs a flow, or a transport and address');
    }
    if (isInvalidHost(target.address)) {
      // RFC 7118 §5: a WebSocket client's `.invalid` host is reached only over its own
      // connection (learned when it sent us something); no DNS, no new connection.
      const connection = this.aliases.lookup(target.address);
      if (!connection) throw flowFailed(`${target.address} (no connection)`);
      return this.sendOn(connection as Connection, bytes);
    }
    const port = target.port ?? defaultPort(transport);
    if (
      transport === 'udp' &&
      !(message instanceof Uint8Array) &&
      message.kind === 'request' &&
      this.opts.udpMaxRequestBytes > 0 &&
      bytes.length > this.opts.udpMaxRequestBytes
    ) {
      const viaTcp = await this.tryTcpFallback(bytes, target.address, port);
      if (viaTcp) return viaTcp;
    }
    return this.sendTo(bytes, transport, target.address, port);
  }

  /**
   * Sends a response per RFC 3261 §18.2.2 and RFC 3581 §4, from its top Via; `ctx` is where
   * the request came from (reliable transports answer on that connection).
   */
  async sendResponse(response: SipMessage, ctx?: ReceiveContext): Promise<SendResult> {
    this.ensureOpen();
    const vias = response.headers.typed('via');
    const top = vias.ok ? vias.value[0] : undefined;
    if (!top) throw new TfxError('bad-request', 'sendResponse: the response has no valid Via');
    const bytes = serializeMessage(response);
    const dest = responseDestination(top, ctx);
    if (dest.kind === 'connection') {
      return this.sendOn(dest.connection as Connection, bytes);
    }
    if (dest.transport === 'ws' || dest.transport === 'wss') {
      // A WebSocket client cannot be reached but on its own connection (RFC 7118 §5).
      throw flowFailed(ctx?.connection?.id ?? 'none');
    }
    if (dest.transport === 'udp' && ctx?.transport === 'udp') {
      // Answer from the socket the request came in on: a NAT maps only that one.
      return this.sendUdp(bytes, dest.address, dest.port, ctx.local);
    }
    return this.sendTo(bytes, dest.transport, dest.address, dest.port);
  }

  /** A flow token naming the flow `ctx` arrived on (RFC 5626 §5.2), for Record-Route or Path. */
  flowTokenFor(ctx: ReceiveContext): string {
    const flow: Flow = {
      transport: ctx.transport,
      connectionId: ctx.connection?.id ?? '',
      local: ctx.local,
      remote: ctx.remote,
    };
    return encodeFlowToken(flow, this.secret);
  }

  /** The flow a token names, or undefined if it is malformed or forged. */
  resolveFlowToken(token: string): Flow | undefined {
    return decodeFlowToken(token, this.secret);
  }

  /** The sent-by (host and port) to write in a Via for requests sent over `transport`. */
  sentBy(transport: TransportProtocol): { host: string; port: number } | undefined {
    // On every forwarded request (Via, Record-Route): no listener list is built.
    let listener: ListenerInfo | undefined;
    if (transport === 'udp') listener = this.udp[0]?.info;
    else listener = this.servers.find((l) => l.info.transport === transport)?.info;
    if (!listener) return undefined;
    return { host: this.advertisedHostOf(listener), port: listener.port };
  }

  /** Closes every listener and connection. Idempotent; later use throws `shutting-down`. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  // --- internals ---------------------------------------------------------------------------

  private async doClose(): Promise<void> {
    this.ingress.close();
    this.refusals.close();
    for (const connection of [...this.byId.values()]) connection.close('shutdown');
    const udp = this.udp
      .splice(0)
      .map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve())));
    const servers = this.servers.splice(0).map((l) => l.close());
    await Promise.all([...udp, ...servers]);
    this.log.info({}, 'sip: transport layer closed');
  }

  private ensureOpen(): void {
    if (this.closing) {
      throw new TfxError('shutting-down', 'the SIP transport layer is closed');
    }
  }

  /** After an await: if the layer closed meanwhile, undo and throw. */
  private ensureOpenOr(undo: () => void): void {
    if (this.closing) {
      undo();
      this.ensureOpen();
    }
  }

  private async listenUdp(address: string, port: number): Promise<ListenerInfo> {
    const { socket, local, recvBufferSize } = await bindUdp(
      address,
      port,
      this.opts.udpRecvBufferBytes,
    );
    this.ensureOpenOr(() => socket.close());
    if (recvBufferSize < this.opts.udpRecvBufferBytes) {
      this.log.warn(
        { requested: this.opts.udpRecvBufferBytes, granted: recvBufferSize },
        'sip: UDP receive buffer smaller than requested (raise net.core.rmem_max)',
      );
    }
    const info: ListenerInfo = {
      id: `udp-${++nextListenerId}`,
      transport: 'udp',
      address: canonicalHost(local.address),
      port: local.port,
      family: ipFamily(local.address) === 6 ? 6 : 4,
      recvBufferSize,
    };
    const localEp = { address: info.address, port: info.port };
    socket.on('message', (msg, rinfo) => {
      this.ingress.receive(msg, {
        transport: 'udp',
        local: localEp,
        remote: { address: canonicalHost(rinfo.address), port: rinfo.port },
      });
    });
    socket.on('error', (error) =>
      this.log.warn({ err: error, listener: info.id }, 'sip: UDP error'),
    );
    this.udp.push({ info, socket });
    this.log.info({ transport: 'udp', address: info.address, port: info.port }, 'sip: listening');
    return info;
  }

  private async listenStream(
    address: string,
    port: number,
    transport: 'tcp' | 'tls',
    server: ReturnType<typeof createNetServer>,
  ): Promise<ListenerInfo> {
    const accept = (socket: Socket) => {
      if (!this.admit(socket.remoteAddress ?? '', transport)) {
        // Past the limits: the first request is answered 503 + Retry-After, then the
        // connection closes (refusal.ts), instead of a silent reset the client retries at once.
        this.refusals.refuse(socket, (outcome) => {
          if (outcome === 'answered') this.counters.overloadReplies++;
        });
        return;
      }
      this.adopt(
        new StreamConnection(socket, transport, 'inbound', this.hooks, this.opts, this.opts),
      );
    };
    if (transport === 'tls') {
      server.on('secureConnection', accept);
      server.on('tlsClientError', (error: Error) =>
        this.log.debug({ err: error }, 'sip: TLS handshake failed'),
      );
    } else {
      server.on('connection', accept);
    }
    server.on('error', (error: Error) => this.log.warn({ err: error }, 'sip: listener error'));
    const local = await listenServer(server, transport, address, port);
    this.ensureOpenOr(() => server.close());
    const info: ListenerInfo = {
      id: `${transport}-${++nextListenerId}`,
      transport,
      address: canonicalHost(local.address),
      port: local.port,
      family: ipFamily(local.address) === 6 ? 6 : 4,
    };
    this.servers.push({ info, close: () => closeServer(server) });
    this.log.info({ transport, address: info.address, port: info.port }, 'sip: listening');
    return info;
  }

  private attach(
    server: HttpServer | HttpsServer,
    transport: 'ws' | 'wss',
    path: string,
    local: Endpoint,
    attached: boolean,
  ): ListenerInfo {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.opts.maxMessageBytes,
      perMessageDeflate: false,
      // RFC 7118 §4.1: the server selects the "sip" subprotocol.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    const localEp = { address: canonicalHost(local.address), port: local.port };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (path !== '*' && requestPath(req) !== path) {
        // Not ours: on a server we own nobody else will answer, so refuse; else leave it.
        if (!attached) refuseUpgrade(socket, 404, 'Not Found');
        return;
      }
      if (this.closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
      if (!offersSip(req)) return refuseUpgrade(socket, 400, 'Bad Request (no sip subprotocol)');
      const remoteAddress = req.socket.remoteAddress ?? '';
      if (!this.admit(remoteAddress, transport)) {
        return refuseUpgrade(socket, 503, 'Service Unavailable');
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        if (this.closing) {
          ws.terminate();
          return;
        }
        const remote = { address: remoteAddress, port: req.socket.remotePort ?? 0 };
        // The address this connection reached (not the wildcard the server may listen on).
        const local = {
          address: req.socket.localAddress ?? localEp.address,
          port: req.socket.localPort ?? localEp.port,
        };
        const limits = { ...this.opts, pingIntervalMs: this.opts.wsPingIntervalMs };
        this.adopt(new WsConnection(ws, transport, local, remote, this.hooks, limits));
      });
    };
    server.on('upgrade', onUpgrade);
    const info: ListenerInfo = {
      id: `${transport}-${++nextListenerId}`,
      transport,
      address: localEp.address,
      port: localEp.port,
      family: ipFamily(localEp.address) === 6 ? 6 : 4,
      path,
      attached,
    };
    this.servers.push({
      info,
      close: async () => {
        server.off('upgrade', onUpgrade);
        wss.close();
        if (!attached) await closeServer(server);
      },
    });
    this.log.info({ transport, port: info.port, path, attached }, 'sip: WebSocket listening');
    return info;
  }

  /** Admission control for a new connection: total and per-IP limits. */
  private admit(remoteAddress: string, transport: TransportProtocol): boolean {
    const ip = canonicalHost(remoteAddress);
    const total = this.byId.size + this.connecting.size;
    const fromIp = this.perIp.get(ip) ?? 0;
    if (total >= this.opts.maxConnections || fromIp >= this.opts.maxConnectionsPerIp) {
      this.log.warn({ remote: ip, transport, total, fromIp }, 'sip: connection refused (limit)');
      this.counters.refusedConnections++;
      return false;
    }
    return true;
  }

  private adopt(connection: Connection): void {
    this.byId.set(connection.id, connection);
    this.byKey.set(
      keyOf(connection.transport, connection.remote.address, connection.remote.port),
      connection,
    );
    if (connection.direction === 'inbound') {
      const ip = connection.remote.address;
      this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    }
    this.log.debug(
      { flow: connection.id, transport: connection.transport, remote: connection.remote },
      'sip: connection open',
    );
  }

  private forget(connection: Connection, reason: string): void {
    if (!this.byId.delete(connection.id)) return;
    this.aliases.forget(connection);
    const key = keyOf(connection.transport, connection.remote.address, connection.remote.port);
    if (this.byKey.get(key) === connection) this.byKey.delete(key);
    if (connection.direction === 'inbound') {
      const ip = connection.remote.address;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
    }
    this.log.debug({ flow: connection.id, reason }, 'sip: connection closed');
  }

  /** Ingress rejects go back on the flow they came on: the connection, or the UDP source. */
  private replyOnFlow(bytes: Uint8Array, ctx: ReceiveContext): void {
    if (this.closing) return;
    const sent = ctx.connection
      ? ctx.connection.send(bytes).then(() => undefined)
      : this.sendUdp(bytes, ctx.remote.address, ctx.remote.port, ctx.local).then(() => undefined);
    sent
      .then(() => void this.counters.sent++)
      .catch((error: unknown) => this.log.debug({ err: error }, 'sip: could not send reply'));
  }

  private async sendOn(connection: Connection, bytes: Uint8Array): Promise<SendResult> {
    await connection.send(bytes);
    this.counters.sent++;
    return {
      transport: connection.transport,
      local: connection.local,
      remote: connection.remote,
      flow: connection.id,
      bytes: bytes.length,
    };
  }

  private async sendOnFlow(bytes: Uint8Array, flow: Flow): Promise<SendResult> {
    if (flow.transport === 'udp') {
      return this.sendUdp(bytes, flow.remote.address, flow.remote.port, flow.local);
    }
    const connection = this.byId.get(flow.connectionId);
    // RFC 5626 §5.3: if the flow is gone, the request fails (a proxy answers 430 Flow Failed).
    if (!connection || connection.closed) throw flowFailed(flow.connectionId);
    return this.sendOn(connection, bytes);
  }

  private async sendTo(
    bytes: Uint8Array,
    transport: TransportProtocol,
    address: string,
    port: number,
  ): Promise<SendResult> {
    if (transport === 'udp') return this.sendUdp(bytes, address, port);
    const ip = await this.resolve(address);
    const existing = this.byKey.get(keyOf(transport, ip, port));
    if (existing && !existing.closed) return this.sendOn(existing, bytes);
    // TLS checks the certificate against the name we were given, not the address it resolved to.
    const servername = ipFamily(address) === 0 ? address : undefined;
    const connection = await this.connect(transport, ip, port, servername);
    return this.sendOn(connection, bytes);
  }

  /** A datagram to address:port (a host name is looked up first), from `from`'s socket if any. */
  private sendUdp(
    bytes: Uint8Array,
    address: string,
    port: number,
    from?: Endpoint,
  ): Promise<SendResult> {
    // An IP address (every response and most requests) needs no look-up: no promise for it.
    if (ipFamily(address) !== 0) return this.sendUdpTo(bytes, canonicalHost(address), port, from);
    return this.resolve(address).then((ip) => this.sendUdpTo(bytes, ip, port, from));
  }

  private sendUdpTo(
    bytes: Uint8Array,
    ip: string,
    port: number,
    from: Endpoint | undefined,
  ): Promise<SendResult> {
    const family = ipFamily(ip) === 6 ? 6 : 4;
    // The listener `from` names (address and port, else port), else the first of the family.
    let listener: UdpListener | undefined;
    let samePort: UdpListener | undefined;
    let first: UdpListener | undefined;
    for (const l of this.udp) {
      if (l.info.family !== family) continue;
      first ??= l;
      if (from && l.info.port === from.port) {
        samePort ??= l;
        if (sameHost(l.info.address, from.address)) {
          listener = l;
          break;
        }
      }
    }
    listener ??= samePort ?? first;
    if (!listener) {
      return Promise.reject(
        new TfxError('sip-transport-error', `no UDP IPv${family} listener to send from`, {
          reason: 'no-listener',
        }),
      );
    }
    const { info, socket } = listener;
    return new Promise<SendResult>((resolve, reject) =>
      socket.send(bytes, port, ip, (error) => {
        if (error) {
          reject(
            new TfxError(
              'sip-transport-error',
              error.message,
              { address: ip, port },
              { cause: error },
            ),
          );
          return;
        }
        this.counters.sent++;
        resolve({
          transport: 'udp',
          local: { address: info.address, port: info.port },
          remote: { address: ip, port },
          bytes: bytes.length,
        });
      }),
    );
  }

  /**
   * RFC 3261 §18.1.1: "If a request is within 200 bytes of the path MTU, or if it is larger than
   * 1300 bytes and the path MTU is unknown, the request MUST be sent using an RFC 2914 congestion
   * controlled transport protocol, such as TCP. If this causes a change in the transport protocol
   * from the one indicated in the top Via, the value in the top Via MUST be changed." And: "if
   * the attempt to establish the connection generates either an ICMP Protocol Not Supported, or
   * results in a TCP reset, the element SHOULD retry the request, using UDP." Only done when we
   * have a TCP listener (the Via must name a transport we serve).
   */
  private async tryTcpFallback(
    bytes: Uint8Array,
    address: string,
    port: number,
  ): Promise<SendResult | undefined> {
    const tcp = this.sentBy('tcp');
    if (!tcp) return undefined;
    const patched = rewriteTopVia(bytes, (value) => setViaTransport(value, 'tcp'));
    if (!patched) return undefined;
    try {
      return await this.sendTo(patched, 'tcp', address, port);
    } catch (error) {
      this.log.debug({ err: error, address, port }, 'sip: TCP fallback failed, retrying over UDP');
      return undefined;
    }
  }

  private connect(
    transport: 'tcp' | 'tls' | 'ws' | 'wss',
    ip: string,
    port: number,
    servername?: string,
  ): Promise<Connection> {
    const key = keyOf(transport, ip, port);
    const pending = this.connecting.get(key);
    if (pending) return pending;
    if (this.byId.size + this.connecting.size >= this.opts.maxConnections) {
      return Promise.reject(
        new TfxError('sip-transport-error', 'too many connections', { reason: 'max-connections' }),
      );
    }
    const attempt = dial(transport, ip, port, servername, this.hooks, {
      ...this.opts,
      clock: this.options.clock ?? nodeTimerClock,
      framer: this.opts,
      tls: this.options.tlsClient,
    }).then((connection) => {
      if (this.closing) {
        connection.close('shutdown');
        throw new TfxError('shutting-down', 'the SIP transport layer is closed');
      }
      this.adopt(connection);
      return connection;
    });
    this.connecting.set(key, attempt);
    const done = () => void this.connecting.delete(key);
    attempt.then(done, done);
    return attempt;
  }

  private async resolve(address: string): Promise<string> {
    if (ipFamily(address) !== 0) return canonicalHost(address);
    try {
      const { address: ip } = await lookup(address);
      return canonicalHost(ip);
    } catch (error) {
      throw new TfxError(
        'sip-transport-error',
        `cannot resolve ${address}`,
        { address, reason: 'dns' },
        { cause: error },
      );
    }
  }

  private advertisedHostOf(listener: ListenerInfo): string {
    if (this.options.advertisedHost) return this.options.advertisedHost;
    if (listener.address !== '0.0.0.0' && listener.address !== '::') return listener.address;
    return firstInterfaceAddress(listener.family) ?? (listener.family === 6 ? '::1' : '127.0.0.1');
  }
}

function contextOf(connection: Connection): ReceiveContext {
  return {
    transport: connection.transport,
    local: connection.local,
    remote: connection.remote,
    connection,
  };
}

function keyOf(transport: TransportProtocol, address: string, port: number): string {
  return `${transport}|${canonicalHost(address)}|${port}`;
}

function flowFailed(flow: string): TfxError {
  return new TfxError('sip-transport-error', `flow ${flow} is gone`, {
    flow,
    reason: 'flow-failed',
  });
}
