/**
 * The one ingress (Kamailio's `receive_msg`): every listener — UDP, TCP, TLS, WS, WSS — hands
 * each datagram or framed message to `Ingress.receive`, which runs the fixed stages
 *
 *   size limit → parse → Via stamping (requests) → sanity → Via-is-ours (responses) → deliver
 *
 * and emits `{ message, ctx }` to the one handler the transaction layer registers. Every input
 * ends in exactly one counted outcome. No sockets here: replies go through `deps.reply`.
 */
import {
  checkMessage,
  createResponse,
  parseMessage,
  serializeMessage,
  type SanityOptions,
  type SipMessage,
  type SipRequest,
  type Via,
} from '../syntax/index.js';
import { silentLogger, type Logger } from '../logger.js';
import { stampVia } from './via.js';
import {
  newCounters,
  type DropReason,
  type InboundHandler,
  type ReceiveContext,
  type TransportCounters,
} from './types.js';

export interface IngressOptions {
  /** Largest message accepted, in bytes; larger ones are answered 513 or dropped. Default 65535. */
  readonly maxMessageBytes?: number;
  /** Answer an oversized request with 513 Message Too Large (else drop it). Default true. */
  readonly replyTooLarge?: boolean;
  /** Passed to the syntax layer's `checkMessage`. Default: its defaults. */
  readonly sanity?: SanityOptions;
  /** Whether a Via in a response names this element. Default: every Via is ours. */
  readonly isOurVia?: (via: Via) => boolean;
  /** Default: silent. */
  readonly logger?: Logger;
}

export const INGRESS_DEFAULTS = {
  maxMessageBytes: 65_535,
  replyTooLarge: true,
} as const;

/** Oversized messages are parsed (to answer 513) only up to this size; beyond, dropped. */
const OVERSIZE_PARSE_CAP = 262_144;

export interface IngressDeps {
  /** Sends an error response back on the flow the request came on (same socket or connection). */
  reply(bytes: Uint8Array, ctx: ReceiveContext): void;
}

/** What happened to one received message. */
export type ReceiveOutcome = 'delivered' | 'keepalive' | DropReason;

export class Ingress {
  readonly counters: TransportCounters = newCounters();
  private handler: InboundHandler | undefined;
  private closed = false;
  private readonly maxMessageBytes: number;
  private readonly replyTooLarge: boolean;
  private readonly sanity: SanityOptions | undefined;
  private readonly isOurVia: (via: Via) => boolean;
  private readonly log: Logger;

  constructor(
    options: IngressOptions,
    private readonly deps: IngressDeps,
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? INGRESS_DEFAULTS.maxMessageBytes;
    this.replyTooLarge = options.replyTooLarge ?? INGRESS_DEFAULTS.replyTooLarge;
    this.sanity = options.sanity;
    this.isOurVia = options.isOurVia ?? (() => true);
    this.log = options.logger ?? silentLogger;
  }

  /** Registers the upper layer (one handler; a second call replaces the first). */
  setHandler(handler: InboundHandler | undefined): void {
    this.handler = handler;
  }

  /** After this every received message is dropped as `closed`. */
  close(): void {
    this.closed = true;
    this.handler = undefined;
  }

  receive(bytes: Uint8Array, ctx: ReceiveContext): ReceiveOutcome {
    this.counters.received++;
    if (this.closed) return this.drop('closed', ctx);
    if (isKeepAlive(bytes)) {
      this.counters.keepalives++;
      return 'keepalive';
    }
    if (bytes.length > this.maxMessageBytes) return this.tooLarge(bytes, ctx);

    const parsed = parseMessage(bytes, { maxBytes: this.maxMessageBytes });
    if (!parsed.ok) {
      this.counters.parseErrors++;
      this.log.debug(
        { remote: ctx.remote, transport: ctx.transport, error: parsed.error },
        'sip: unparsable message dropped',
      );
      // Without a parsed request there are no Via, From, To, Call-ID or CSeq to answer with.
      return this.drop('parse-error', ctx);
    }
    const message = parsed.message;

    if (message.kind === 'request') {
      const stamped = this.stampTopVia(message, ctx);
      if (!stamped) return this.refuse(message, ctx, 400, 'Missing or Malformed Via');
    }

    let verdict;
    try {
      verdict = checkMessage(message, this.sanity);
    } catch (error) {
      this.log.error({ err: error, remote: ctx.remote }, 'sip: sanity check threw');
      verdict = { action: 'drop' as const, reason: 'sanity check failed' };
    }
    if (verdict.action === 'reject') {
      if (message.kind === 'request') {
        return this.refuse(message, ctx, verdict.status, verdict.reason);
      }
      return this.drop('sanity', ctx, verdict.reason);
    }
    if (verdict.action === 'drop') return this.drop('sanity', ctx, verdict.reason);

    if (message.kind === 'response') {
      // RFC 3261 §18.1.2: "If the value of the "sent-by" parameter in that header field value
      // does not correspond to a value that the client transport is configured to insert into
      // requests, the response MUST be silently discarded."
      const top = topVia(message);
      if (!top || !this.isOurVia(top)) return this.drop('via-not-ours', ctx);
    }
    return this.deliver(message, ctx);
  }

  private deliver(message: SipMessage, ctx: ReceiveContext): ReceiveOutcome {
    const handler = this.handler;
    if (!handler) return this.drop('no-handler', ctx);
    try {
      handler({ message, ctx });
    } catch (error) {
      this.log.error({ err: error, remote: ctx.remote }, 'sip: inbound handler threw');
      return this.drop('handler-error', ctx);
    }
    this.counters.delivered++;
    return 'delivered';
  }

  /** Stamps `received`/`rport` on the top Via; false if there is no usable top Via. */
  private stampTopVia(request: SipRequest, ctx: ReceiveContext): boolean {
    const vias = request.headers.typed('via');
    if (!vias.ok) return false;
    const top = vias.value[0];
    const raw = request.headers.getAll('via')[0];
    if (!top || raw === undefined) return false;
    const next = stampVia(raw, top, ctx.remote);
    if (next !== undefined) {
      request.headers.shift('via');
      request.headers.prepend('via', next);
    }
    return true;
  }

  /** Oversized: a request is answered 513 (RFC 3261 §21.5.14) when it can be parsed at all. */
  private tooLarge(bytes: Uint8Array, ctx: ReceiveContext): ReceiveOutcome {
    if (this.replyTooLarge && bytes.length <= OVERSIZE_PARSE_CAP) {
      const parsed = parseMessage(bytes, { maxBytes: bytes.length });
      if (parsed.ok && parsed.message.kind === 'request') {
        this.stampTopVia(parsed.message, ctx);
        this.answer(parsed.message, ctx, 513, 'Message Too Large');
      }
    }
    return this.drop('too-large', ctx);
  }

  private refuse(
    request: SipRequest,
    ctx: ReceiveContext,
    status: number,
    reason: string,
  ): ReceiveOutcome {
    this.answer(request, ctx, status, reason);
    return this.drop('sanity', ctx, reason);
  }

  /** Sends an error response on the flow the request came on. Never for ACK (§17.2.1). */
  private answer(request: SipRequest, ctx: ReceiveContext, status: number, reason: string): void {
    if (request.method === 'ACK') return;
    try {
      const response = createResponse(request, status, reason);
      this.deps.reply(serializeMessage(response), ctx);
      this.counters.replied++;
    } catch (error) {
      // A request too broken to build a response from (no Call-ID, no CSeq, …) is just dropped.
      this.log.debug({ err: error, remote: ctx.remote, status }, 'sip: could not answer request');
    }
  }

  private drop(reason: DropReason, ctx: ReceiveContext, detail?: string): ReceiveOutcome {
    this.counters.drops[reason]++;
    this.log.debug(
      { remote: ctx.remote, transport: ctx.transport, reason, detail },
      'sip: message dropped',
    );
    return reason;
  }
}

function topVia(message: SipMessage): Via | undefined {
  const vias = message.headers.typed('via');
  return vias.ok ? vias.value[0] : undefined;
}

/** A datagram or frame holding only CRLFs: a keep-alive (RFC 5626 §3.5.1), not a message. */
export function isKeepAlive(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > 8 || bytes.length % 2 !== 0) return false;
  for (let i = 0; i < bytes.length; i += 2) {
    if (bytes[i] !== 0x0d || bytes[i + 1] !== 0x0a) return false;
  }
  return true;
}
