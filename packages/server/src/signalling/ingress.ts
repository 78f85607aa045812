/**
 * Connection and ingress: everything between a socket.io connection and an event's handler.
 *
 *   allowRequest (Origin) → handshake (protocol version, draining, connections per IP, resume
 *   token) → connection → per event: events/s bucket → known event → schema → ack present where
 *   required → handler (the table in server.ts)
 *
 * Every refused event is answered with a typed error (ack, or `event-error` without an ack) and
 * counted; repeated abuse closes the connection (connection.ts).
 */
import type { IncomingMessage } from 'node:http';
import {
  CLIENT_EVENT_SCHEMAS,
  ERROR_CATALOGUE,
  MIN_COMPATIBLE_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  TfxError,
  isClientEventName,
  isCompatibleProtocol,
  type ClientEventName,
  type ParsedClientEvent,
  type SocketAuth,
} from '@tfx/protocol';
import type { Config } from '../config/index.js';
import { Conn, connectError, type AnyAck, type Connections } from './connection.js';
import type { SignallingContext } from './context.js';
import type { Joins } from './join.js';
import type { Resumes } from './resume.js';
import { clientIp, originAllowed, trustMatcher } from './net.js';
import type { TfxSocket } from './room.js';

export type Handler<E extends ClientEventName> = (
  conn: Conn,
  req: ParsedClientEvent<E>,
  ack: AnyAck | undefined,
) => void | Promise<void>;
export type Handlers = { readonly [E in ClientEventName]: Handler<E> };

/** socket.io's `allowRequest`: a browser page may connect only from an allowed origin. */
export function originGate(
  ctx: SignallingContext,
  server: Config['server'],
  publicUrl: () => string,
): (req: IncomingMessage, callback: (err: string | null, ok: boolean) => void) => void {
  return (req, callback) => {
    if (originAllowed(req.headers.origin, req.headers.host, publicUrl(), server.allowedOrigins)) {
      callback(null, true);
      return;
    }
    ctx.metrics.error('origin-not-allowed');
    ctx.log.debug({ origin: req.headers.origin?.slice(0, 200) }, 'origin refused');
    callback('origin-not-allowed', false);
  };
}

export const shutdownNotice = (): {
  kind: 'shutting-down';
  message: string;
  retryAfterMs: number;
} => ({
  kind: 'shutting-down',
  message: 'this server is shutting down; reconnect with your resume token',
  retryAfterMs: 1000,
});

export class Ingress {
  private readonly protocolMin: number;
  private readonly protocolMax: number;
  private readonly trusted: ((ip: string) => boolean) | undefined;

  constructor(
    private readonly ctx: SignallingContext,
    config: Config,
    private readonly conns: Connections,
    private readonly joins: Joins,
    private readonly resumes: Resumes,
    private readonly handlers: Handlers,
  ) {
    this.protocolMax = config.cluster.protocolVersion ?? PROTOCOL_VERSION;
    this.protocolMin = config.cluster.minProtocolVersion ?? MIN_COMPATIBLE_PROTOCOL_VERSION;
    this.trusted = trustMatcher(config.server.trustProxy);
  }

  /** socket.io middleware: runs the handshake checks before a connection is accepted. */
  middleware(socket: TfxSocket, next: (err?: Error) => void): void {
    const { ctx } = this;
    const remote = socket.conn.remoteAddress ?? socket.handshake.address;
    socket.data.ip = clientIp(remote, socket.handshake.headers['x-forwarded-for'], this.trusted);
    this.handshake(socket).then(
      () => next(),
      (err: unknown) => {
        const code = err instanceof TfxError ? err.code : 'internal';
        if (!(err instanceof TfxError)) ctx.log.error({ err }, 'handshake failed');
        ctx.metrics.error(code);
        const message = err instanceof TfxError ? err.message : ERROR_CATALOGUE.internal.summary;
        next(connectError(code, message));
      },
    );
  }

  private async handshake(socket: TfxSocket): Promise<void> {
    const { ctx } = this;
    const auth = (socket.handshake.auth ?? {}) as Partial<Record<keyof SocketAuth, unknown>>;
    if (!this.compatible(auth.protocol)) {
      throw new TfxError(
        'version-mismatch',
        `this server speaks signalling protocol ${this.protocolMin}–${this.protocolMax}, the client ${String(auth.protocol)}; reload the page`,
        { min: this.protocolMin, max: this.protocolMax },
      );
    }
    if (ctx.lifecycle.draining || ctx.lifecycle.closed) throw new TfxError('shutting-down');
    if (this.conns.perIp.get(socket.data.ip) >= ctx.cfg.connectionsPerIp) {
      throw new TfxError('rate-limited', 'too many connections from this address');
    }
    if (auth.resumeToken !== undefined)
      socket.data.resume = await this.resumes.resumable(auth.resumeToken);
  }

  private compatible(version: unknown): boolean {
    if (
      this.protocolMin === MIN_COMPATIBLE_PROTOCOL_VERSION &&
      this.protocolMax === PROTOCOL_VERSION
    )
      return isCompatibleProtocol(version);
    return (
      typeof version === 'number' &&
      Number.isInteger(version) &&
      version >= this.protocolMin &&
      version <= this.protocolMax
    );
  }

  onConnection(socket: TfxSocket): void {
    const { ctx } = this;
    if (ctx.lifecycle.closed) {
      socket.disconnect(true);
      return;
    }
    const conn = new Conn(socket, socket.data.ip, ctx.clock.now(), ctx.cfg, ctx.metrics);
    this.conns.add(conn);
    ctx.metrics.connections.inc();
    socket.use((packet) => this.receive(conn, packet));
    socket.on('disconnect', (reason) => this.onDisconnect(conn, reason));
    socket.on('error', (err) => ctx.log.debug({ err }, 'socket error'));
    if (ctx.lifecycle.draining) socket.emit('server-notice', shutdownNotice());
    if (socket.data.resume) {
      this.resumes
        .resume(conn, socket.data.resume)
        .catch((err: unknown) => this.failed(conn, 'resume', undefined, err));
    }
  }

  private onDisconnect(conn: Conn, reason: string): void {
    conn.gone = true;
    this.conns.delete(conn);
    this.ctx.metrics.connections.dec();
    if (reason === 'parse error') this.ctx.metrics.error('invalid-event');
    this.joins.disconnected(conn, reason);
  }

  /** The one entry of every client event: limits, then schema, then the handler. */
  private receive(conn: Conn, packet: unknown[]): void {
    const { ctx } = this;
    const now = ctx.clock.now();
    const last = packet[packet.length - 1];
    const ack = packet.length > 1 && typeof last === 'function' ? (last as AnyAck) : undefined;
    const event = packet[0];
    const name = typeof event === 'string' ? event.slice(0, 64) : typeof event;
    if (!conn.events.take(now)) {
      conn.refuse(name, ack, 'rate-limited', 'too many events; slow down', false);
      conn.strike(now, ctx.log);
      return;
    }
    if (!isClientEventName(event)) {
      conn.refuse(name, ack, 'invalid-event', `unknown event ${JSON.stringify(name)}`);
      conn.strike(now, ctx.log);
      return;
    }
    const argc = packet.length - 1 - (ack ? 1 : 0);
    const payload = argc === 1 ? packet[1] : undefined;
    const parsed = argc <= 1 ? CLIENT_EVENT_SCHEMAS[event].safeParse(payload) : undefined;
    if (!parsed?.success) {
      const issue = parsed?.error.issues[0];
      const where = issue
        ? `${issue.path.join('.') || 'payload'}: ${issue.message}`
        : 'too many arguments';
      conn.refuse(event, ack, 'invalid-event', `invalid ${event}: ${where}`.slice(0, 300));
      conn.strike(now, ctx.log);
      return;
    }
    if (!ack && (event === 'join' || event === 'presence')) {
      conn.refuse(event, undefined, 'invalid-event', `${event} needs an acknowledgement callback`);
      return;
    }
    try {
      const handler = this.handlers[event] as Handler<typeof event>;
      const result = handler(conn, parsed.data as ParsedClientEvent<typeof event>, ack);
      if (result) result.catch((err: unknown) => this.failed(conn, event, ack, err));
    } catch (err) {
      this.failed(conn, event, ack, err);
    }
  }

  private failed(conn: Conn, event: string, ack: AnyAck | undefined, err: unknown): void {
    if (err instanceof TfxError) {
      conn.refuse(event, ack, err.code, err.message);
      return;
    }
    (conn.peer?.log ?? this.ctx.log).error({ err, event }, 'signalling handler failed');
    conn.refuse(event, ack, 'internal', ERROR_CATALOGUE.internal.summary);
  }
}
