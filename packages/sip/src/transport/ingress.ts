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
  parseVia,
  safeReasonPhrase,
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
  /** Passed to the syntax layer's `checkMessage` (its `maxBytes` is `maxMessageBytes`). */
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

/** Oversized messages are parsed (to answer 513) only up to this size; beyond, just dropped. */
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
  /** Inputs that reached an outcome (delivered, keep-alive or a drop). */
  private ended = 0;
  private closed = false;
  private readonly maxMessageBytes: number;
  private readonly replyTooLarge: boolean;
  /** The sanity options with `maxBytes`, built once (a spread per message cost ~2 % of OPTIONS). */
  private readonly sanity: SanityOptions;
  private readonly isOurVia: (via: Via) => boolean;
  private readonly log: Logger;

  constructor(
    options: IngressOptions,
    private readonly deps: IngressDeps,
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? INGRESS_DEFAULTS.maxMessageBytes;
    this.replyTooLarge = options.replyTooLarge ?? INGRESS_DEFAULTS.replyTooLarge;
    this.sanity = { ...options.sanity, maxBytes: this.maxMessageBytes };
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
    const received = this.counters.received;
    const ended = this.ended;
    try {
      return this.run(bytes, ctx);
    } catch (error) {
      // A defect, never expected: contained (a listener callback must not throw) and counted
      // once, so the counters stay balanced.
      this.log.error({ err: error, remote: ctx.remote }, 'sip: ingress defect');
      if (this.counters.received === received) this.counters.received++;
      return this.ended === ended ? this.drop('internal', ctx) : 'internal';
    }
  }

  private run(bytes: Uint8Array, ctx: ReceiveContext): ReceiveOutcome {
    this.counters.received++;
    if (this.closed) return this.drop('closed', ctx);
    if (isKeepAlive(bytes)) {
      this.counters.keepalives++;
      this.ended++;
      return 'keepalive';
    }
    // Far past the limit: not even parsed for a 513.
    if (bytes.length > Math.max(OVERSIZE_PARSE_CAP, this.maxMessageBytes)) {
      return this.drop('too-large', ctx);
    }

    // Stage: parse. A failed parse may still give a partial message to answer 400 or 513 with.
    const parsed = parseMessage(bytes, { maxBytes: this.maxMessageBytes });
    const tooLarge = !parsed.ok && parsed.error.code === 'too-large';
    if (!parsed.ok && !tooLarge) this.counters.parseErrors++;
    const message = parsed.ok ? parsed.message : parsed.partial;

    // Stage: Via stamping, before anything answers, so replies see received/rport.
    if (message?.kind === 'request') this.stampTopVia(message, ctx);

    // Stage: sanity (the syntax layer maps parse errors and RFC 3261 checks to a verdict).
    const verdict = checkMessage(parsed, this.sanity);
    const failure: DropReason = tooLarge ? 'too-large' : parsed.ok ? 'sanity' : 'parse-error';
    if (verdict.action === 'reject') {
      if (verdict.status !== 513 || this.replyTooLarge) {
        this.answer(verdict.request, ctx, verdict.status, verdict.reason, verdict.unsupported);
      }
      return this.drop(failure, ctx, verdict.reason);
    }
    if (verdict.action === 'drop' || !parsed.ok) {
      return this.drop(failure, ctx, verdict.action === 'drop' ? verdict.reason : undefined);
    }

    if (parsed.message.kind === 'response') {
      // RFC 3261 §18.1.2: "If the value of the "sent-by" parameter in that header field value
      // does not correspond to a value that the client transport is configured to insert into
      // requests, the response MUST be silently discarded."
      const top = topVia(parsed.message);
      if (!top || !this.isOurVia(top)) return this.drop('via-not-ours', ctx);
    }
    return this.deliver(parsed.message, ctx);
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
    this.ended++;
    return 'delivered';
  }

  /** Stamps `received`/`rport` on the top Via (skipped when the top Via does not parse). */
  private stampTopVia(request: SipRequest, ctx: ReceiveContext): void {
    const raw = request.headers.getAll('via')[0];
    if (raw === undefined) return;
    const top = parseVia(raw);
    if (!top.ok) return;
    const next = stampVia(raw, top.value, ctx.remote);
    if (next !== undefined) {
      request.headers.shift('via');
      request.headers.prepend('Via', next);
    }
  }

  /** Sends an error response on the flow the request came on. Never for ACK (§17). */
  private answer(
    request: SipRequest,
    ctx: ReceiveContext,
    status: number,
    reason: string,
    unsupported?: readonly string[],
  ): void {
    if (request.method === 'ACK') return;
    try {
      // RFC 3261 §8.2.2.3: a 420 "MUST ... list the extensions ... in an Unsupported header".
      const headers: Array<readonly [string, string]> =
        unsupported && unsupported.length > 0 ? [['Unsupported', unsupported.join(', ')]] : [];
      const response = createResponse(request, status, safeReasonPhrase(reason), { headers });
      this.deps.reply(serializeMessage(response), ctx);
      this.counters.replied++;
    } catch (error) {
      // A request too broken to build a response from is just dropped.
      this.log.debug({ err: error, remote: ctx.remote, status }, 'sip: could not answer request');
    }
  }

  private drop(reason: DropReason, ctx: ReceiveContext, detail?: string): ReceiveOutcome {
    this.counters.drops[reason]++;
    this.ended++;
    this.log.debug(
      { remote: ctx.remote, transport: ctx.transport, reason, detail },
      'sip: message dropped',
    );
    return reason;
  }
}

/**
 * A reason phrase safe to put on the wire: the sanity layer may quote the offending input, so
 * control characters are replaced (RFC 3261 §25.1: Reason-Phrase excludes CR, LF and controls)
 * and the length is capped.
 */

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
