/**
 * One signalling connection's own state: its peer (once joined), its rate-limit buckets, and how
 * it answers a refused event — with the ack if the client passed one, else with `event-error` —
 * counting every refusal, and closing the connection once it has used up its abuse strikes.
 */
import type { Ack, ConnectErrorData, ErrorCode } from '@tfx/protocol';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { Counter, TokenBucket } from './limits.js';
import type { SignallingMetrics } from './metrics.js';
import type { Peer, TfxSocket } from './room.js';

/** Invalid or excess events a connection may send before it is closed (refills 1 per 2 s). */
export const ABUSE_STRIKES = 20;
export const ABUSE_REFILL_PER_S = 0.5;

export type AnyAck = (result: Ack<Record<string, unknown>>) => void;

export class Conn {
  peer: Peer | undefined;
  /** A join or resume is in flight. */
  busy = false;
  gone = false;
  readonly events: TokenBucket;
  readonly strikes: TokenBucket;
  readonly presence: TokenBucket;

  constructor(
    readonly socket: TfxSocket,
    readonly ip: string,
    now: number,
    cfg: Config['signalling'],
    private readonly metrics: SignallingMetrics,
  ) {
    this.events = new TokenBucket(cfg.eventsPerSecond * 2, cfg.eventsPerSecond, now);
    this.strikes = new TokenBucket(ABUSE_STRIKES, ABUSE_REFILL_PER_S, now);
    this.presence = new TokenBucket(
      cfg.presenceQueriesPerMinute,
      cfg.presenceQueriesPerMinute / 60,
      now,
    );
  }

  /** Answers a refused event (ack, or `event-error` when there is none) and counts it. */
  refuse(
    event: string,
    ack: AnyAck | undefined,
    code: ErrorCode,
    message: string,
    notifyWithoutAck = true,
    to?: string,
  ): void {
    this.metrics.error(code);
    const error = { code, message };
    if (ack) ack({ ok: false, error });
    else if (notifyWithoutAck && !this.gone) {
      this.socket.emit('event-error', to === undefined ? { event, error } : { event, error, to });
    }
  }

  /** Spends one abuse strike; with none left, closes the connection. */
  strike(now: number, log: Logger): void {
    if (this.strikes.take(now) || this.gone) return;
    this.metrics.abuseDisconnects.inc();
    (this.peer?.log ?? log).info({ ip: this.ip }, 'closing an abusive signalling connection');
    this.socket.disconnect(true);
  }
}

/** This process's open connections (added and deleted by ingress.ts), and how many per address. */
export class Connections implements Iterable<Conn> {
  private readonly all = new Set<Conn>();
  readonly perIp = new Counter();

  add(conn: Conn): void {
    this.all.add(conn);
    this.perIp.increment(conn.ip);
  }

  delete(conn: Conn): void {
    if (this.all.delete(conn)) this.perIp.decrement(conn.ip);
  }

  get size(): number {
    return this.all.size;
  }

  bySocket(socket: TfxSocket): Conn | undefined {
    for (const c of this.all) if (c.socket === socket) return c;
    return undefined;
  }

  [Symbol.iterator](): Iterator<Conn> {
    return this.all[Symbol.iterator]();
  }
}

/** A handshake refusal socket.io hands to the client as `connect_error` with `err.data`. */
export function connectError(code: ErrorCode, message: string): Error {
  const err = new Error(message) as Error & { data: ConnectErrorData };
  err.data = { code, message };
  return err;
}
