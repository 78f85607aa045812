/**
 * A lean Redis connection for the unicast router's two hot commands (XADD on the publisher, the
 * blocking XREAD on the reader): RESP2 over one TCP (or TLS, `rediss://`) socket, commands
 * written as one pre-encoded Buffer each, replies parsed straight to strings (resp.ts), one
 * callback per command and no Promise, no Command object, no auto-pipelining. Why: see resp.ts.
 *
 * It keeps what the router relied on from ioredis (store/redis/client.ts):
 * - `queue` mode (the publisher): commands given while Redis is away wait and are written when
 *   it is back; commands written and not answered when the connection dropped are written again
 *   after it reconnects, first and in their order (at least once, as ioredis'
 *   `autoResendUnfulfilledCommands` does; the router bounds how many may wait);
 * - `blocking` mode (the reader): a command outstanding when the connection drops fails, so that
 *   the read loop retries from the last id it read (nothing is lost: the stream keeps entries);
 * - reconnects forever with a capped back-off (100 ms × attempt, at most 1 s), connects within
 *   2 s or retries, AUTH (user and password of the URL), SELECT (its path), CLIENT SETNAME;
 * - never throws from a socket event; errors go to `onError` (deduplicated by the caller).
 *
 * States: idle → connecting → ready ⇄ connecting (after a drop) → closed (`disconnect`, idempotent:
 * everything waiting fails with "connection closed").
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { encodeCommand, ReplyParser, RespError, RespProtocolError, type Reply } from './resp.js';

export type ReplyCallback = (err: Error | undefined, reply: Reply) => void;

export interface HopConnectionOptions {
  readonly url: string;
  readonly mode: 'queue' | 'blocking';
  /** Shown by CLIENT LIST. */
  readonly name?: string;
  readonly onError?: (err: Error) => void;
  readonly connectTimeoutMs?: number;
}

interface Pending {
  readonly bytes: Buffer;
  readonly cb: ReplyCallback;
  /** A handshake command of one connection (AUTH, SELECT, SETNAME): never resent. */
  readonly handshake?: boolean;
}

type State = 'idle' | 'connecting' | 'ready' | 'closed';

const CLOSED = 'connection closed';

export class HopConnection {
  private state: State = 'idle';
  private socket: Socket | undefined;
  private parser = new ReplyParser();
  /** Written, waiting for their replies, oldest first. */
  private written: Pending[] = [];
  /** Not written yet (while connecting). */
  private queued: Pending[] = [];
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private firstReady: { resolve(): void; reject(err: Error): void } | undefined;

  constructor(private readonly o: HopConnectionOptions) {}

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Connects; resolves when the first connection is ready, rejects if it fails. */
  connect(): Promise<void> {
    if (this.state !== 'idle') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.firstReady = { resolve, reject };
      this.open();
    });
  }

  /** Sends one command (`args[0]` is its name). The callback runs once, with the reply or an error. */
  call(args: readonly string[], cb: ReplyCallback): void {
    if (this.state === 'closed') {
      cb(new Error(CLOSED), null);
      return;
    }
    const p: Pending = { bytes: encodeCommand(args), cb };
    if (this.state === 'ready' && this.socket) {
      this.written.push(p);
      this.socket.write(p.bytes);
    } else this.queued.push(p);
  }

  /** Closes for good (idempotent): what waits fails with "connection closed". */
  disconnect(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.firstReady?.reject(new Error(CLOSED));
    this.firstReady = undefined;
    this.failAll(new Error(CLOSED));
  }

  private failAll(err: Error): void {
    const all = [...this.written, ...this.queued];
    this.written = [];
    this.queued = [];
    for (const p of all) p.cb(err, null);
  }

  private open(): void {
    this.state = 'connecting';
    const url = new URL(this.o.url);
    const port = Number(url.port || 6379);
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const socket =
      url.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: host })
        : netConnect({ host, port });
    this.socket = socket;
    this.parser = new ReplyParser();
    socket.setNoDelay(true);
    socket.setTimeout(this.o.connectTimeoutMs ?? 2000, () =>
      socket.destroy(new Error('redis connect timeout')),
    );
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () =>
      this.handshake(socket, url),
    );
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (err: Error) => this.o.onError?.(err));
    socket.on('close', () => this.onClose(socket));
  }

  private handshake(socket: Socket, url: URL): void {
    socket.setTimeout(0);
    const steps: string[][] = [];
    const password = decodeURIComponent(url.password);
    const user = decodeURIComponent(url.username);
    if (password) steps.push(user ? ['AUTH', user, password] : ['AUTH', password]);
    const db = Number(url.pathname.slice(1) || 0);
    if (db > 0) steps.push(['SELECT', String(db)]);
    if (this.o.name) steps.push(['CLIENT', 'SETNAME', this.o.name]);
    let left = steps.length;
    const done = (): void => {
      if (this.socket !== socket || this.state !== 'connecting') return;
      this.state = 'ready';
      this.attempts = 0;
      // Unanswered commands of the dropped connection first (queue mode), then the new ones.
      const waiting = this.queued;
      this.queued = [];
      for (const p of waiting) {
        this.written.push(p);
        socket.write(p.bytes);
      }
      this.firstReady?.resolve();
      this.firstReady = undefined;
    };
    if (left === 0) {
      done();
      return;
    }
    for (const args of steps) {
      const p: Pending = {
        bytes: encodeCommand(args),
        handshake: true,
        cb: (err) => {
          if (err) {
            this.o.onError?.(err);
            socket.destroy();
            return;
          }
          if (--left === 0) done();
        },
      };
      this.written.push(p);
      socket.write(p.bytes);
    }
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    this.parser.push(chunk);
    for (;;) {
      const r = this.parser.next();
      if (r === undefined) return;
      if (r instanceof RespProtocolError) {
        this.o.onError?.(r);
        socket.destroy();
        return;
      }
      const p = this.written.shift();
      if (!p) {
        this.o.onError?.(new RespProtocolError('reply without a command'));
        socket.destroy();
        return;
      }
      try {
        if (r instanceof RespError) p.cb(r, null);
        else p.cb(undefined, r);
      } catch (err) {
        this.o.onError?.(err as Error);
      }
    }
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state === 'closed') return;
    const unanswered = this.written.filter((p) => !p.handshake);
    this.written = [];
    if (this.firstReady) {
      // The first connection failed: startup fails, as ioredis' connect() does.
      const first = this.firstReady;
      this.firstReady = undefined;
      this.state = 'closed';
      for (const p of [...unanswered, ...this.queued]) p.cb(new Error(CLOSED), null);
      this.queued = [];
      first.reject(new Error(`redis connection to ${new URL(this.o.url).host} failed`));
      return;
    }
    if (this.o.mode === 'queue') this.queued = [...unanswered, ...this.queued];
    else {
      const failed = [...unanswered, ...this.queued];
      this.queued = [];
      for (const p of failed) p.cb(new Error('redis connection lost'), null);
    }
    this.state = 'connecting';
    this.attempts++;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        if (this.state === 'connecting') this.open();
      },
      Math.min(100 * this.attempts, 1000),
    );
  }
}
