/**
 * The signalling connection: socket.io (WebSocket only) to the TFX server, typed by the
 * protocol's event maps. Reconnects by the `ReconnectPolicy` (socket.io's own reconnection is
 * off) and resumes with the server's single-use resume token, so peers never see us leave.
 * This is the SDK's I/O adapter; the room above it only sees typed events.
 */
import { io } from 'socket.io-client';
import {
  ERROR_CATALOGUE,
  PROTOCOL_VERSION,
  SIGNALLING_PATH,
  isErrorCode,
} from '@tfx/protocol/core';
import type {
  Ack,
  ConnectErrorData,
  EventError,
  JoinRequest,
  JoinResult,
  Kicked,
  LobbyState,
  MessageDelivery,
  MutedByModerator,
  PeerInfo,
  PeerLeft,
  RoomLocked,
  ServerNotice,
  SignalDelivery,
  SignalRequest,
  UpdateRequest,
} from '@tfx/protocol';
import { Emitter } from './emitter.js';
import { realClock, type Clock } from './clock.js';
import { BackoffReconnectPolicy, type ReconnectPolicy } from './reconnect.js';
import { TfxSdkError } from './errors.js';
import { waitForAdmission } from './lobby.js';
import type { TfxSocket } from './socket.js';

export type { TfxSocket } from './socket.js';

export type SignallingState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface SignallingEvents {
  [event: string]: unknown;
  state: SignallingState;
  'peer-joined': PeerInfo;
  'peer-left': PeerLeft;
  'peer-updated': PeerInfo;
  signal: SignalDelivery;
  message: MessageDelivery;
  /** A resume succeeded: the room as it is now, with a new resume token and fresh ICE servers. */
  resumed: JoinResult;
  /** The resume token was refused (grace period over): the owner must join afresh. */
  'resume-failed': TfxSdkError;
  'muted-by-moderator': MutedByModerator;
  kicked: Kicked;
  'room-locked': RoomLocked;
  /** To moderators: the lobby and who waits in it. */
  'lobby-state': LobbyState;
  'server-notice': ServerNotice;
  'event-error': EventError;
  /** The connection is gone for good (policy gave up, or a non-retryable refusal). */
  lost: TfxSdkError;
}

export interface SignallingOptions {
  /** Server origin, e.g. `https://tfx.example.com`. Default: the page's origin. */
  readonly url?: string | undefined;
  readonly reconnectPolicy?: ReconnectPolicy | undefined;
  readonly clock?: Clock | undefined;
  /** Timeout of a request that expects an ack, ms. Default 10000. */
  readonly requestTimeoutMs?: number | undefined;
  /** Socket factory, for tests. Default: socket.io-client's `io`. */
  readonly connect?:
    ((url: string | undefined, opts: Parameters<typeof io>[1]) => TfxSocket) | undefined;
}

function connectErrorCode(err: unknown): ConnectErrorData | undefined {
  const data = (err as { data?: unknown } | null)?.data;
  if (data && typeof data === 'object' && isErrorCode((data as { code?: unknown }).code)) {
    return data as ConnectErrorData;
  }
  return undefined;
}

export class SignallingConnection extends Emitter<SignallingEvents> {
  readonly socket: TfxSocket;
  readonly #policy: ReconnectPolicy;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #state: SignallingState = 'disconnected';
  #resumeToken: string | undefined;
  #lostAt = 0;
  #attempt = 0;
  #timer: unknown = null;
  #closed = false;
  #joined = false;

  constructor(options: SignallingOptions = {}) {
    super();
    this.#policy = options.reconnectPolicy ?? new BackoffReconnectPolicy();
    this.#clock = options.clock ?? realClock;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    const connect =
      options.connect ??
      ((url, opts) => (url === undefined ? io(opts) : io(url, opts)) as TfxSocket);
    this.socket = connect(options.url, {
      path: SIGNALLING_PATH,
      transports: ['websocket'],
      reconnection: false,
      autoConnect: false,
      auth: { protocol: PROTOCOL_VERSION },
    });
    const s = this.socket;
    s.on('peer-joined', (p) => this.emit('peer-joined', p));
    s.on('peer-left', (p) => this.emit('peer-left', p));
    s.on('peer-updated', (p) => this.emit('peer-updated', p));
    s.on('signal', (p) => this.emit('signal', p));
    s.on('message', (p) => this.emit('message', p));
    s.on('muted-by-moderator', (p) => this.emit('muted-by-moderator', p));
    s.on('kicked', (p) => {
      this.#joined = false;
      this.emit('kicked', p);
    });
    s.on('room-locked', (p) => this.emit('room-locked', p));
    s.on('lobby-state', (p) => this.emit('lobby-state', p));
    s.on('server-notice', (p) => this.emit('server-notice', p));
    s.on('event-error', (p) => this.emit('event-error', p));
    s.on('resumed', (r) => {
      this.#resumeToken = r.resumeToken;
      this.#attempt = 0;
      this.#setState('connected');
      this.emit('resumed', r);
    });
    s.on('connect', () => {
      // A fresh connection is "connected" at once; a resume only when `resumed` arrives.
      if (!this.#joined) this.#setState('connected');
    });
    s.on('disconnect', (reason) => this.#onDisconnect(reason));
    s.on('connect_error', (err) => this.#onConnectError(err));
  }

  get state(): SignallingState {
    return this.#state;
  }

  get resumeToken(): string | undefined {
    return this.#resumeToken;
  }

  /** Opens the connection; rejects with the server's refusal (e.g. `version-mismatch`). */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new TfxSdkError('closed'));
    if (this.socket.connected) return Promise.resolve();
    this.#setState('connecting');
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
      };
      const onConnect = (): void => {
        done();
        resolve();
      };
      const onError = (err: Error): void => {
        done();
        const data = connectErrorCode(err);
        reject(
          new TfxSdkError(data?.code ?? 'signalling-failed', data?.message ?? err.message, {
            cause: err,
          }),
        );
      };
      this.socket.on('connect', onConnect);
      this.socket.on('connect_error', onError);
      this.socket.auth = { protocol: PROTOCOL_VERSION };
      this.socket.connect();
    });
  }

  /**
   * Joins. When the room has a lobby, `onWaiting` is called and the promise waits until a
   * moderator admits us (or rejects with `lobby-denied`).
   */
  async join(req: JoinRequest, onWaiting?: () => void): Promise<JoinResult> {
    let result: JoinResult;
    try {
      result = await this.#request<JoinResult>((ack) => this.socket.emit('join', req, ack));
    } catch (err) {
      if (!(err instanceof TfxSdkError) || err.code !== 'waiting-in-lobby') throw err;
      onWaiting?.();
      result = await waitForAdmission(this.socket);
    }
    this.#resumeToken = result.resumeToken;
    this.#joined = true;
    return result;
  }

  async update(req: UpdateRequest): Promise<void> {
    await this.#request((ack) => this.socket.emit('update', req, ack));
  }

  /** Relays a signal to a peer (fire and forget; failures come back as `event-error`). */
  signal(req: SignalRequest): void {
    this.socket.emit('signal', req);
  }

  /** Relays an application message to a peer (fire and forget). */
  message(to: string, data: unknown): void {
    this.socket.emit('message', { to, data });
  }

  async leave(): Promise<void> {
    this.#joined = false;
    if (!this.socket.connected) return;
    await this.#request((ack) => this.socket.emit('leave', {}, ack)).catch(() => undefined);
  }

  /**
   * Drops the transport the way a network cut would (the server keeps our place for its grace
   * period) and resumes. Used to fetch fresh TURN credentials, which the server hands out on
   * every resume; tests call it to simulate a cut.
   */
  dropTransport(): void {
    this.socket.io.engine?.close();
  }

  /** Fresh ICE servers through a resume; resolves with the resumed room. */
  refresh(): Promise<JoinResult> {
    if (!this.#joined || this.#state !== 'connected')
      return Promise.reject(new TfxSdkError('signalling-lost', 'not connected'));
    return new Promise((resolve, reject) => {
      const offOk = this.once('resumed', (r) => {
        offLost();
        offFail();
        resolve(r);
      });
      const offFail = this.once('resume-failed', (e) => {
        offOk();
        offLost();
        reject(e);
      });
      const offLost = this.once('lost', (e) => {
        offOk();
        offFail();
        reject(e);
      });
      this.dropTransport();
    });
  }

  /** Closes for good. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#joined = false;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.socket.disconnect();
    this.#setState('disconnected');
    this.removeAllListeners();
  }

  #setState(state: SignallingState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #request<T extends object = object>(send: (ack: (r: Ack<T>) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new TfxSdkError('signalling-lost', 'not connected'));
        return;
      }
      const timer = this.#clock.setTimeout(
        () => reject(new TfxSdkError('signalling-failed', 'no answer from the server')),
        this.#timeoutMs,
      );
      send((r) => {
        this.#clock.clearTimeout(timer);
        if (r.ok) resolve(r);
        else reject(new TfxSdkError(r.error.code, r.error.message));
      });
    });
  }

  #onDisconnect(reason: string): void {
    if (this.#closed || reason === 'io client disconnect') return;
    if (!this.#joined) {
      this.#setState('disconnected');
      this.emit('lost', new TfxSdkError('signalling-lost', `disconnected: ${reason}`));
      return;
    }
    this.#lostAt = this.#clock.now();
    this.#attempt = 0;
    this.#setState('reconnecting');
    this.#scheduleReconnect(undefined, true);
  }

  #onConnectError(err: Error): void {
    if (this.#closed || this.#state !== 'reconnecting') return;
    const data = connectErrorCode(err);
    if (data?.code === 'invalid-resume-token') {
      this.#joined = false;
      this.#resumeToken = undefined;
      this.#setState('disconnected');
      this.emit('resume-failed', new TfxSdkError(data.code, data.message));
      return;
    }
    this.#scheduleReconnect(data?.code, data ? ERROR_CATALOGUE[data.code].retryable : true);
  }

  #scheduleReconnect(code: string | undefined, retryable: boolean): void {
    this.#attempt++;
    const delay = this.#policy.nextDelay(this.#attempt, {
      code,
      retryable,
      elapsedMs: this.#clock.now() - this.#lostAt,
    });
    if (delay === null) {
      this.#joined = false;
      this.#setState('disconnected');
      this.emit(
        'lost',
        new TfxSdkError(isErrorCode(code) ? code : 'signalling-lost', 'gave up reconnecting'),
      );
      return;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (this.#closed) return;
      this.socket.auth = this.#resumeToken
        ? { protocol: PROTOCOL_VERSION, resumeToken: this.#resumeToken }
        : { protocol: PROTOCOL_VERSION };
      this.socket.connect();
    }, delay);
  }
}
