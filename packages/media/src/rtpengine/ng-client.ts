/**
 * The ng control protocol client (rtpengine docs/ng_control_protocol.md): each request is
 * `<cookie> <bencoded dictionary>` in one UDP datagram; the reply carries the same cookie.
 *
 * - A request that gets no reply is sent again **with the same cookie** (rtpengine keeps a cookie
 *   cache and answers a retransmission with the reply it already gave, so an `offer` is never
 *   executed twice), at `retransmitMs`, doubling, until `timeoutMs` has passed: then the request
 *   fails with {@link NgError} reason `timeout`.
 * - A reply is matched by cookie; one for no pending request (late, duplicated, forged) is counted
 *   in `stats.stray` and dropped. A reply that is not `<cookie> <dict>` is counted in
 *   `stats.malformed` and dropped; the request it may have been for keeps waiting.
 * - `result: error` fails the request with reason `error` and rtpengine's `error-reason`;
 *   `result: load limit` (the `supports: [load limit]` extension) fails it with reason `load-limit`.
 *
 * The transport and the timers are injected, so the retransmission logic is tested with a fake
 * transport that drops and a manual clock; the default transport is a UDP socket.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { TfxError, type ErrorCode } from '@tfx/protocol';
import { BencodeError, decodeDict, encode, type BDict, type BValue } from './bencode.js';

/** Where an rtpengine listens for ng: `udp:HOST:PORT`, `udp:[V6]:PORT` (Kamailio's rtpengine_sock form). */
export interface NgAddress {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Parses `udp:127.0.0.1:2223`, `udp:[::1]:2223` or `udp6:[::1]:2223`; throws on anything else. */
export function parseNgUrl(url: string): NgAddress {
  const m =
    /^udp6?:(?:\[([0-9a-fA-F:.]+)\]|([0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(
      url.trim(),
    );
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535))
    throw new NgError(
      'bad-url',
      `"${url}" is not an ng address (udp:HOST:PORT or udp:[IPv6]:PORT)`,
    );
  const host = (m[1] ?? m[2]) as string;
  return { host, port, family: m[1] !== undefined ? 6 : 4 };
}

export function formatNgUrl(a: NgAddress): string {
  return a.family === 6 ? `udp:[${a.host}]:${a.port}` : `udp:${a.host}:${a.port}`;
}

export type NgErrorReason =
  /** No reply within `timeoutMs` after all retransmissions. */
  | 'timeout'
  /** rtpengine answered `result: error`; `details.errorReason` holds its words. */
  | 'error'
  /** rtpengine answered `result: load limit`. */
  | 'load-limit'
  /** The reply dictionary has no usable `result`. */
  | 'bad-reply'
  /** The request could not be encoded or sent. */
  | 'send-failed'
  /** The client (or its instance set) was closed. */
  | 'closed'
  /** A malformed ng URL in the configuration. */
  | 'bad-url'
  /** No instance of the set is up. */
  | 'no-instance';

/** UDP's largest payload over IPv4 (65535 − 8 − 20 bytes). */
const MAX_UDP_PAYLOAD = 65_507;

/** The catalogue code of each reason (`@tfx/protocol` errors.ts, the `media-*` codes). */
function codeOf(reason: NgErrorReason, errorReason?: string): ErrorCode {
  switch (reason) {
    case 'timeout':
      return 'media-engine-timeout';
    case 'load-limit':
    case 'no-instance':
    case 'closed':
    case 'send-failed':
      return 'media-engine-unavailable';
    case 'bad-url':
      return 'config-invalid';
    case 'error':
      // rtpengine's words for an unknown call or party (call.c: "Unknown call-id", "Call-ID not found or tags didn't match" …)
      return errorReason && /unknown (call|from|to|tag)|not found/i.test(errorReason)
        ? 'media-session-not-found'
        : 'media-not-acceptable';
    default:
      return 'internal';
  }
}

/** An ng failure, with its catalogue code and the exact `reason`. */
export class NgError extends TfxError {
  readonly reason: NgErrorReason;
  constructor(reason: NgErrorReason, message: string, details?: Record<string, unknown>) {
    const why = typeof details?.errorReason === 'string' ? details.errorReason : undefined;
    super(codeOf(reason, why), message, { reason, ...details });
    this.name = 'NgError';
    this.reason = reason;
  }
}

/** Sends datagrams to one ng address and hands back what comes from it. */
export interface NgTransport {
  send(msg: Buffer): void;
  onMessage(cb: (msg: Buffer) => void): void;
  close(): void;
}

export interface NgTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: NgTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A connected UDP socket: only datagrams from the rtpengine's address reach `onMessage`. */
export function udpTransport(addr: NgAddress, onError?: (err: Error) => void): NgTransport {
  const sock: Socket = createSocket({ type: addr.family === 6 ? 'udp6' : 'udp4' });
  let cb: ((msg: Buffer) => void) | undefined;
  let connected = false;
  const queue: Buffer[] = [];
  let closed = false;
  sock.on('message', (m) => cb?.(m));
  sock.on('error', (e) => onError?.(e));
  sock.connect(addr.port, addr.host, () => {
    connected = true;
    for (const m of queue.splice(0)) sock.send(m);
  });
  sock.unref();
  return {
    send(msg) {
      if (closed) return;
      if (connected) sock.send(msg, (e) => e && onError?.(e));
      else queue.push(msg);
    },
    onMessage(f) {
      cb = f;
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    },
  };
}

export interface NgClientOptions {
  /** Give up on a request after this long (all retransmissions included). Default 2000 ms. */
  readonly timeoutMs?: number;
  /** First retransmission after this long, then doubling. Default 250 ms. */
  readonly retransmitMs?: number;
  readonly transport?: NgTransport;
  readonly timers?: NgTimers;
}

export interface NgClientStats {
  requests: number;
  retransmits: number;
  timeouts: number;
  errors: number;
  stray: number;
  malformed: number;
}

interface Pending {
  readonly command: string;
  readonly wire: Buffer;
  readonly resolve: (d: BDict) => void;
  readonly reject: (e: Error) => void;
  readonly deadline: unknown;
  retransmit: unknown;
  interval: number;
}

/** One ng client per rtpengine instance. `close()` is idempotent and fails what is pending. */
export class NgClient {
  readonly address: NgAddress;
  readonly stats: NgClientStats = {
    requests: 0,
    retransmits: 0,
    timeouts: 0,
    errors: 0,
    stray: 0,
    malformed: 0,
  };
  private readonly transport: NgTransport;
  private readonly timers: NgTimers;
  private readonly timeoutMs: number;
  private readonly retransmitMs: number;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(6).toString('hex');
  private seq = 0;
  private closed = false;

  constructor(address: NgAddress | string, options: NgClientOptions = {}) {
    this.address = typeof address === 'string' ? parseNgUrl(address) : address;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.retransmitMs = options.retransmitMs ?? 250;
    this.timers = options.timers ?? realTimers;
    this.transport = options.transport ?? udpTransport(this.address);
    this.transport.onMessage((m) => this.receive(m));
  }

  get url(): string {
    return formatNgUrl(this.address);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `{ command, ...body }` and resolves with the reply dictionary when its `result` is `ok`
   * or `pong`; rejects with {@link NgError} otherwise.
   */
  request(command: string, body: Record<string, BValue | undefined> = {}): Promise<BDict> {
    if (this.closed)
      return Promise.reject(new NgError('closed', `ng client ${this.url} is closed`));
    const cookie = `${this.prefix}_${(++this.seq).toString(36)}`;
    let wire: Buffer;
    try {
      wire = Buffer.concat([Buffer.from(`${cookie} `), encode({ ...body, command })]);
    } catch (e) {
      const why = e instanceof BencodeError ? e.message : String(e);
      return Promise.reject(new NgError('send-failed', `ng ${command}: cannot encode: ${why}`));
    }
    // One ng message is one UDP datagram: a longer one would never arrive (and time out).
    if (wire.length > MAX_UDP_PAYLOAD)
      return Promise.reject(
        new NgError(
          'send-failed',
          `ng ${command}: ${wire.length} bytes, longer than one UDP datagram (${MAX_UDP_PAYLOAD})`,
        ),
      );
    this.stats.requests++;
    return new Promise<BDict>((resolve, reject) => {
      const p: Pending = {
        command,
        wire,
        resolve,
        reject,
        interval: this.retransmitMs,
        retransmit: undefined,
        deadline: this.timers.setTimeout(() => {
          this.settle(cookie);
          this.stats.timeouts++;
          reject(
            new NgError(
              'timeout',
              `ng ${command} to ${this.url}: no reply within ${this.timeoutMs} ms`,
              {
                url: this.url,
              },
            ),
          );
        }, this.timeoutMs),
      };
      this.pending.set(cookie, p);
      this.arm(cookie, p);
      this.transport.send(wire);
    });
  }

  /** `ping` → `pong`. */
  async ping(): Promise<void> {
    const r = await this.request('ping');
    if (r.result !== 'pong')
      throw new NgError('bad-reply', `ng ping to ${this.url}: result ${String(r.result)}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cookie of [...this.pending.keys()]) {
      const p = this.pending.get(cookie) as Pending;
      this.settle(cookie);
      p.reject(new NgError('closed', `ng ${p.command} to ${this.url}: client closed`));
    }
    this.transport.close();
  }

  private arm(cookie: string, p: Pending): void {
    p.retransmit = this.timers.setTimeout(() => {
      if (!this.pending.has(cookie)) return;
      this.stats.retransmits++;
      this.transport.send(p.wire);
      p.interval *= 2;
      this.arm(cookie, p);
    }, p.interval);
  }

  private settle(cookie: string): void {
    const p = this.pending.get(cookie);
    if (!p) return;
    this.pending.delete(cookie);
    this.timers.clearTimeout(p.deadline);
    this.timers.clearTimeout(p.retransmit);
  }

  private receive(msg: Buffer): void {
    const sp = msg.indexOf(0x20);
    if (sp <= 0 || sp > 128) {
      this.stats.malformed++;
      return;
    }
    const cookie = msg.toString('latin1', 0, sp);
    const p = this.pending.get(cookie);
    if (!p) {
      this.stats.stray++;
      return;
    }
    let reply: BDict;
    try {
      reply = decodeDict(msg.subarray(sp + 1));
    } catch {
      this.stats.malformed++;
      return; // the request keeps waiting: a retransmission may bring a good copy
    }
    this.settle(cookie);
    const result = reply.result;
    if (result === 'ok' || result === 'pong') {
      p.resolve(reply);
      return;
    }
    this.stats.errors++;
    if (result === 'error') {
      const why =
        typeof reply['error-reason'] === 'string' ? reply['error-reason'] : 'no reason given';
      p.reject(
        new NgError('error', `rtpengine ${this.url} refused ${p.command}: ${why}`, {
          errorReason: why,
        }),
      );
    } else if (result === 'load limit') {
      p.reject(
        new NgError('load-limit', `rtpengine ${this.url} is at its load limit (${p.command})`),
      );
    } else {
      p.reject(
        new NgError(
          'bad-reply',
          `rtpengine ${this.url} replied to ${p.command} with result ${String(result)}`,
        ),
      );
    }
  }
}
