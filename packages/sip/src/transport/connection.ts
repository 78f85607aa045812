/**
 * Connections (flows): a TCP or TLS socket with its stream framer, or a WebSocket carrying one SIP
 * message per frame (RFC 7118 §5). Each has a flow id, an idle timer and a bounded write buffer;
 * what it reads goes to its hooks, which feed the one ingress.
 */
import type { Socket } from 'node:net';
import { isUtf8 } from 'node:buffer';
import type { WebSocket, RawData } from 'ws';
import { TfxError } from '@tfx/protocol';
import { StreamFramer, type FramerOptions, type FramingError } from '../framing/index.js';
import { canonicalHost } from './address.js';
import { KeepAlive, type KeepAliveOptions } from './keepalive.js';
import type { ConnectionRef, Endpoint, TransportProtocol } from './types.js';

export interface ConnectionHooks {
  /** One whole SIP message (stream: framed; WebSocket: one frame). */
  message(connection: Connection, bytes: Uint8Array): void;
  /** A CRLF keep-alive (double CRLF ping or single CRLF pong), already answered when needed. */
  keepalive(connection: Connection, bytes: Uint8Array): void;
  /** The stream could not be framed; the connection is being closed. */
  framingError(connection: Connection, error: FramingError): void;
  /** The connection is closed (called once). */
  closed(connection: Connection, reason: string): void;
  /** A WebSocket peer broke RFC 6455 or our frame limit (code from the ws library); closing. */
  protocolError?(connection: Connection, code: string): void;
  /** A client keep-alive ping was written (RFC 5626 §4.4.1); for the `sent` counter. */
  keepaliveSent?(connection: Connection): void;
}

export interface ConnectionLimits {
  /** Close after this long without traffic in either direction; 0 disables. */
  readonly idleTimeoutMs: number;
  /** Close when more than this many bytes wait to be written (a peer that does not read). */
  readonly maxWriteBufferBytes: number;
}

const CRLF = Uint8Array.of(0x0d, 0x0a);
const CRLFCRLF = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);

let nextId = 0;
function newFlowId(transport: string): string {
  nextId++;
  return `${transport}-${nextId.toString(36)}-${Math.floor(Math.random() * 0xffffff).toString(36)}`;
}

export abstract class Connection implements ConnectionRef {
  readonly id: string;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  private closedReason: string | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly transport: Exclude<TransportProtocol, 'udp'>,
    readonly direction: 'inbound' | 'outbound',
    local: Endpoint,
    remote: Endpoint,
    protected readonly hooks: ConnectionHooks,
    protected readonly limits: ConnectionLimits,
  ) {
    this.id = newFlowId(transport);
    this.local = { address: canonicalHost(local.address), port: local.port };
    this.remote = { address: canonicalHost(remote.address), port: remote.port };
    if (limits.idleTimeoutMs > 0) {
      this.idleTimer = setTimeout(() => this.close('idle'), limits.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Why it closed, once closed. */
  get closeReason(): string | undefined {
    return this.closedReason;
  }

  /** Marks traffic: restarts the idle timer. */
  protected touch(): void {
    this.idleTimer?.refresh();
  }

  async send(bytes: Uint8Array): Promise<void> {
    if (this.closed) {
      throw new TfxError('sip-transport-error', `connection ${this.id} is closed`, {
        flow: this.id,
        reason: 'flow-failed',
      });
    }
    if (this.pendingWriteBytes() + bytes.length > this.limits.maxWriteBufferBytes) {
      this.close('write-buffer-full');
      throw new TfxError('sip-transport-error', `connection ${this.id}: peer is not reading`, {
        flow: this.id,
        reason: 'write-buffer-full',
      });
    }
    this.touch();
    await this.write(bytes);
  }

  close(reason = 'closed'): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.teardown(reason);
    this.hooks.closed(this, reason);
  }

  /** Called when the peer or the network closed it. */
  protected remoteClosed(reason: string): void {
    this.close(reason);
  }

  protected abstract write(bytes: Uint8Array): Promise<void>;
  protected abstract pendingWriteBytes(): number;
  protected abstract teardown(reason: string): void;
}

/** TCP or TLS: a byte stream, framed by Content-Length (RFC 3261 §18.3). */
export class StreamConnection extends Connection {
  private readonly framer: StreamFramer;
  private keepAlive: KeepAlive | undefined;

  constructor(
    private readonly socket: Socket,
    transport: 'tcp' | 'tls',
    direction: 'inbound' | 'outbound',
    hooks: ConnectionHooks,
    limits: ConnectionLimits,
    framerOptions: FramerOptions,
  ) {
    super(
      transport,
      direction,
      { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
      { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      hooks,
      limits,
    );
    this.framer = new StreamFramer(framerOptions);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      // 'close' follows; the reason is recorded there.
    });
    socket.on('close', (hadError) => this.remoteClosed(hadError ? 'error' : 'remote-closed'));
    socket.on('end', () => this.remoteClosed('remote-closed'));
  }

  /**
   * RFC 5626 §4.4.1: client-side keep-alives on a flow we opened: a double-CRLF ping every
   * interval, and the flow fails (the connection closes, reason `keepalive-timeout`) when no
   * single-CRLF pong comes back in time.
   */
  startKeepAlive(options: KeepAliveOptions): void {
    if (this.closed || this.keepAlive) return;
    this.keepAlive = new KeepAlive(options, {
      ping: () => {
        this.write(CRLFCRLF).then(
          () => this.hooks.keepaliveSent?.(this),
          () => {},
        );
      },
      failed: () => this.close('keepalive-timeout'),
    });
  }

  /** The keep-alive machine, when started (tests read its state and counts). */
  get keepAliveState(): KeepAlive | undefined {
    return this.keepAlive;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.touch();
    for (const event of this.framer.push(chunk)) {
      if (this.closed) return;
      switch (event.type) {
        case 'message':
          this.hooks.message(this, event.bytes);
          break;
        case 'ping':
          // RFC 5626 §3.5.1: the server answers a double-CRLF ping with a single CRLF pong.
          this.write(CRLF).catch(() => {});
          this.hooks.keepalive(this, CRLFCRLF);
          break;
        case 'pong':
          this.keepAlive?.pong();
          this.hooks.keepalive(this, CRLF);
          break;
        case 'error':
          this.hooks.framingError(this, event.error);
          this.close(`framing: ${event.error.reason}`);
          return;
      }
    }
    if (this.keepAlive?.state === 'awaiting-pong' && this.framer.takeHeldPong()) {
      this.keepAlive.pong();
      this.hooks.keepalive(this, CRLF);
    }
  }

  protected write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => {
        if (error) {
          reject(
            new TfxError('sip-transport-error', error.message, { flow: this.id }, { cause: error }),
          );
        } else resolve();
      });
    });
  }

  protected pendingWriteBytes(): number {
    return this.socket.writableLength;
  }

  protected teardown(): void {
    this.keepAlive?.stop();
    this.socket.destroy();
  }
}

/**
 * WebSocket (RFC 7118): one SIP message per text or binary frame; kept alive by WS pings (RFC
 * 6455 §5.5.2), whichever side opened it.
 */
export class WsConnection extends Connection {
  private alive = true;
  private pingTimer: NodeJS.Timeout | undefined;
  private protocolError: string | undefined;

  constructor(
    private readonly ws: WebSocket,
    transport: 'ws' | 'wss',
    local: Endpoint,
    remote: Endpoint,
    hooks: ConnectionHooks,
    limits: ConnectionLimits & { readonly pingIntervalMs: number },
    direction: 'inbound' | 'outbound' = 'inbound',
  ) {
    super(transport, direction, local, remote, hooks, limits);
    ws.on('message', (data: RawData) => this.onFrame(toBytes(data)));
    ws.on('pong', () => {
      this.alive = true;
      this.touch();
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // The ws library reports protocol violations (an oversized frame: 1009, invalid UTF-8 in a
      // text frame: 1007, a bad opcode or mask: 1002) here, then closes; 'close' follows.
      this.protocolError ??= error.code ?? 'error';
    });
    ws.on('close', () => {
      if (this.protocolError !== undefined) {
        this.hooks.protocolError?.(this, this.protocolError);
        this.remoteClosed(`ws: ${this.protocolError}`);
      } else this.remoteClosed('remote-closed');
    });
    if (limits.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.ping(), limits.pingIntervalMs);
      this.pingTimer.unref();
    }
  }

  private ping(): void {
    if (!this.alive) {
      // No pong since the last ping: the peer is gone.
      this.close('ping-timeout');
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      this.close('error');
    }
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.closed) return;
    this.touch();
    if (isCrlfOnly(bytes)) {
      // Some clients (SIP.js keepAliveInterval) send RFC 5626 CRLF pings over WebSocket too.
      if (bytes.length === 4) this.write(CRLF).catch(() => {});
      this.hooks.keepalive(this, bytes);
      return;
    }
    this.hooks.message(this, bytes);
  }

  protected write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      // RFC 7118 §5.1: text frames for UTF-8 messages, binary frames otherwise.
      this.ws.send(bytes, { binary: !isUtf8(bytes) }, (error) => {
        if (error) {
          reject(
            new TfxError('sip-transport-error', error.message, { flow: this.id }, { cause: error }),
          );
        } else resolve();
      });
    });
  }

  protected pendingWriteBytes(): number {
    return this.ws.bufferedAmount;
  }

  protected teardown(reason: string): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (reason === 'idle' || reason === 'closed') {
      // A clean close handshake; the ws library destroys the socket if the peer never answers.
      this.ws.close(1000, reason);
      setTimeout(() => this.ws.terminate(), 2000).unref();
    } else {
      this.ws.terminate();
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function isCrlfOnly(bytes: Uint8Array): boolean {
  if (bytes.length !== 2 && bytes.length !== 4) return false;
  for (let i = 0; i < bytes.length; i += 2) {
    if (bytes[i] !== 0x0d || bytes[i + 1] !== 0x0a) return false;
  }
  return true;
}
