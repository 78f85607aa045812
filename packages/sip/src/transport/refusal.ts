/**
 * A TCP or TLS connection past the connection limit is not dropped silently: it is read until
 * its first whole request, which is answered `503 Service Unavailable` with a `Retry-After`,
 * and then closed. A client thus learns that the server is overloaded (and when to come back)
 * instead of seeing a reset it would retry at once.
 *
 * RFC 3261 §21.5.4: "The server is temporarily unable to process the request due to a temporary
 * overloading [...]. The server MAY indicate when the client should retry the request in a
 * Retry-After header field." RFC 3261 §18.2.2: the response goes back on the connection the
 * request came on.
 *
 * Bounded: at most `maxPending` such connections wait at once (beyond, they are closed at once),
 * each for at most `timeoutMs`, reading at most `maxBytes`. Nothing here enters the connection
 * tables, so a refused connection never counts toward, or is reachable by, normal traffic.
 */
import type { Socket } from 'node:net';
import { StreamFramer } from '../framing/index.js';
import { createResponse, parseMessage, serializeMessage } from '../syntax/index.js';

export interface RefusalOptions {
  /** Seconds to put in Retry-After. */
  readonly retryAfterSeconds: number;
  /** How long to wait for the first request before closing. */
  readonly timeoutMs: number;
  /** Largest first message read (header and body). */
  readonly maxBytes: number;
  readonly maxHeaderBytes: number;
  /** Most refused connections waiting for their first request at once. */
  readonly maxPending: number;
}

/** How a refused connection ended. */
export type RefusalOutcome =
  /** Its first request was answered 503 with Retry-After. */
  | 'answered'
  /** Closed without a reply: no request in time, not a request, an ACK, or unframeable. */
  | 'closed'
  /** Closed at once: too many refused connections were already waiting. */
  | 'overflow';

export class Refusals {
  #pending = new Set<Socket>();

  constructor(private readonly o: RefusalOptions) {}

  get pending(): number {
    return this.#pending.size;
  }

  /** Takes over `socket` (already refused by admission control); `done` reports how it ended. */
  refuse(socket: Socket, done: (outcome: RefusalOutcome) => void): void {
    if (this.#pending.size >= this.o.maxPending) {
      socket.destroy();
      done('overflow');
      return;
    }
    this.#pending.add(socket);
    let finished = false;
    const finish = (outcome: RefusalOutcome, reply?: Uint8Array) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      this.#pending.delete(socket);
      if (reply && socket.writable) {
        // Half-close after the reply, then destroy: a peer that never reads cannot hold it.
        socket.end(reply);
        setTimeout(() => socket.destroy(), 1000).unref();
      } else socket.destroy();
      done(outcome);
    };
    const timer = setTimeout(() => finish('closed'), this.o.timeoutMs);
    timer.unref();
    const framer = new StreamFramer({
      maxHeaderBytes: this.o.maxHeaderBytes,
      maxMessageBytes: this.o.maxBytes,
      maxBufferBytes: this.o.maxBytes,
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.type === 'ping' || event.type === 'pong') continue;
        if (event.type !== 'message') return finish('closed');
        return finish(...this.#answer(event.bytes));
      }
    });
  }

  /** Closes every waiting refused connection (transport shutdown). */
  close(): void {
    for (const socket of this.#pending) socket.destroy();
    this.#pending.clear();
  }

  #answer(bytes: Uint8Array): [RefusalOutcome, Uint8Array?] {
    const parsed = parseMessage(bytes, { maxBytes: this.o.maxBytes });
    if (!parsed.ok || parsed.message.kind !== 'request' || parsed.message.method === 'ACK') {
      return ['closed'];
    }
    try {
      const response = createResponse(parsed.message, 503, 'Service Unavailable', {
        headers: [['Retry-After', String(this.o.retryAfterSeconds)]],
      });
      return ['answered', serializeMessage(response)];
    } catch {
      return ['closed'];
    }
  }
}
