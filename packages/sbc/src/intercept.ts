/**
 * Lawful intercept in the SBC (issue #19 item 3; docs/sbc.md, "Lawful intercept"): a call whose
 * caller or callee matches a target (a user, a number, a source address or CIDR) gets a copy of
 * both legs' SIP signalling and of both media directions sent to a delivery point, while the
 * parties see nothing different — nothing here changes a message or an SDP.
 *
 * - Signalling: the zones' message tap already records every message by Call-ID (signals.ts);
 *   after each message the intercepted calls' legs are flushed from that record (everything
 *   newer than what was delivered), so leg B's INVITE — sent before its Call-ID belongs to the
 *   call — and a failover's new leg B are delivered too, in order.
 * - Media: the engine's `forward` (a copy of the RTP both ways) to the channel's own socket; the
 *   channel learns which engine port belongs to which leg to tell the directions apart.
 * - Nothing of it reaches the calls list, logs at info, CDRs or metrics labels: only the
 *   counters of this class, which the server shows to the LI REST alone.
 *
 * The package does no I/O: the delivery (UDP mirror, PCAP files) is the server's.
 */
import { randomBytes } from 'node:crypto';
import type { MediaAddress, MediaEngine } from '@tfx/media';
import {
  serializeMessage,
  type Clock,
  type Endpoint,
  type Logger,
  type MessageTap,
  type SipRequest,
} from '@tfx/sip';
import { cidrContains, parseAddress, parseCidr, type Cidr } from './acl.js';
import type { SbcCall } from './call.js';
import type { SignalRecord } from './signals.js';

export type InterceptKind = 'user' | 'number' | 'source';

/** One LI target, as the admin REST created it. */
export interface InterceptTarget {
  readonly id: string;
  readonly kind: InterceptKind;
  /** `user`: a SIP user; `number`: digits (`+` first allowed); `source`: an address or CIDR. */
  readonly value: string;
}

/** What a new call is matched on. */
export interface CallFacts {
  /** The caller's From user, its authenticated user and the called user (normalized R-URI). */
  readonly users: readonly (string | undefined)[];
  /** The calling and called numbers (From user, P-Asserted-Identity user, R-URI/To user). */
  readonly numbers: readonly (string | undefined)[];
  /** The address leg A's INVITE came from. */
  readonly source: string;
}

/** What a caller's INVITE is matched on: its users and numbers, and its source address. */
export function factsOf(
  request: SipRequest,
  called: string | undefined,
  authUser: string | undefined,
  source: string,
): CallFacts {
  const userOf = (v: { uri: { kind: string; user?: string } } | undefined): string | undefined =>
    v?.uri.kind === 'sip' || v?.uri.kind === 'sips' ? v.uri.user : undefined;
  const h = request.headers;
  const from = userOf(h.from());
  const to = userOf(h.to());
  const pai = /<?(?:sips?|tel):\+?([^@;>]+)/i.exec(h.get('P-Asserted-Identity') ?? '')?.[0];
  const paiUser = pai?.replace(/^<?(?:sips?|tel):/i, '');
  const ruri = request.uri.kind === 'sip' ? request.uri.user : undefined;
  return {
    users: [from, authUser, called, ruri, to],
    numbers: [from, paiUser, called, ruri, to],
    source,
  };
}

/** A number compared without visual separators: `+44 (20) 7946-0000` is `+442079460000`. */
export function canonicalNumber(s: string): string {
  return s.replace(/[\s().-]/g, '');
}

/** The first target the call matches (pure). */
export function matchTarget(
  targets: readonly InterceptTarget[],
  facts: CallFacts,
): InterceptTarget | undefined {
  const users = new Set(facts.users.filter((u): u is string => !!u).map((u) => u.toLowerCase()));
  const numbers = new Set(
    facts.numbers.filter((n): n is string => !!n).map((n) => canonicalNumber(n)),
  );
  const src = parseAddress(facts.source);
  for (const t of targets) {
    if (t.kind === 'user' && users.has(t.value.toLowerCase())) return t;
    if (t.kind === 'number' && numbers.has(canonicalNumber(t.value))) return t;
    if (t.kind === 'source' && src) {
      const c: Cidr | undefined = parseCidr(t.value);
      if (c && cidrContains(c, src)) return t;
    }
  }
  return undefined;
}

/** One copied message or packet. */
export interface InterceptRecord {
  /** `sip`: a SIP message; `rtp`: an RTP (or RTCP) packet. */
  readonly kind: 'sip' | 'rtp';
  /** The leg it went over: `a` (the caller's), `b` (toward the callee). */
  readonly leg: 'a' | 'b';
  /** `in`: the SBC received it from that leg's party; `out`: the SBC sent it to that party. */
  readonly direction: 'in' | 'out';
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly bytes: Uint8Array;
  /** Unix ms. */
  readonly at: number;
}

/**
 * How the channel tells the legs' media apart. `source`: the engine sends each copy from the
 * socket of the leg the packet goes to (built-in engine): from leg a's port, a copy of what goes
 * to a; from any other, of what goes to b (the channel's socket is the call's own).
 * `destination`: media sent BY leg a arrives at `mediaAddress.port`, by leg b at `port + 2`
 * (rtpengine's subscription).
 */
export type MediaLegMap =
  { readonly by: 'source'; readonly a: number } | { readonly by: 'destination' };

/** One intercepted call's delivery (the server's: UDP mirror and/or a PCAP file). */
export interface InterceptChannel {
  /** Where the engine sends the media copy; undefined: no media copy. */
  readonly mediaAddress: MediaAddress | undefined;
  deliver(r: InterceptRecord): void;
  /** The engine forwards media now; `remotes`: the parties' media addresses, when known. */
  media(map: MediaLegMap, remotes: { a?: Endpoint; b?: Endpoint }): void;
  /** The call is over (after its last messages): flush and close. Idempotent. */
  close(): void;
}

export interface InterceptDelivery {
  /**
   * Opens a call's channel. `pair`: the engine needs two media ports (`port`, `port + 2`).
   * Rejects when the delivery point cannot take it (the call goes on, counted as failed).
   */
  open(o: {
    readonly correlationId: string;
    readonly call: string;
    readonly target: InterceptTarget;
    readonly at: number;
    readonly pair: boolean;
  }): Promise<InterceptChannel>;
}

export interface InterceptCounters {
  /** Calls that matched a target. */
  intercepted: number;
  /** Calls whose channel or media copy failed (their signalling may be partial). */
  failed: number;
  /** SIP messages delivered. */
  messages: number;
}

/** How long an ended call's Call-IDs are still copied (the ACK, the 200 to a BYE). */
export const DRAIN_MS = 5000;

interface Watched {
  readonly call: SbcCall;
  readonly correlationId: string;
  channel: InterceptChannel | undefined;
  /** The last signal-record sequence delivered. */
  seq: number;
  /** Set at the end: the legs' Call-IDs for the drain. */
  legs: readonly string[] | undefined;
  /** The engine forwards this call's media (rtpengine: once both parties are in it). */
  forwarded: boolean;
  /** The call's media is in the engine (not direct between the parties). */
  readonly anchored: boolean;
  closed: boolean;
}

export interface LawfulInterceptOptions {
  readonly targets: () => readonly InterceptTarget[];
  readonly delivery: InterceptDelivery;
  readonly engine: MediaEngine;
  readonly signals: SignalRecord;
  /** A call's legs' Call-IDs, leg A's first. */
  readonly legs: (call: SbcCall) => readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
}

export class LawfulIntercept {
  readonly counters: InterceptCounters = { intercepted: 0, failed: 0, messages: 0 };
  readonly #o: LawfulInterceptOptions;
  readonly #watched = new Map<SbcCall, Watched>();

  constructor(o: LawfulInterceptOptions) {
    this.#o = o;
  }

  /** Calls being copied now (live or draining). */
  get active(): number {
    return this.#watched.size;
  }

  /** The zones' tap: the signal record first, then the intercepted calls' new messages. */
  wrap(inner: MessageTap): MessageTap {
    return {
      enabled: true,
      record: (direction, transport, local, remote, message, at) => {
        inner.record(direction, transport, local, remote, message, at);
        if (this.#watched.size === 0) return;
        const callId = message.headers.callId()?.trim();
        if (!callId) return;
        for (const w of this.#watched.values())
          if (this.#legsOf(w).includes(callId)) this.#flush(w);
      },
    };
  }

  /**
   * A new call (before leg B exists): when it matches a target, its channel is opened, the
   * messages so far delivered, and the media copied once `offered` (leg A's offer in the
   * engine) resolves. Never throws; a failure is counted and logged without the call's parties.
   */
  consider(call: SbcCall, facts: CallFacts, offered: Promise<unknown> | undefined): void {
    let target: InterceptTarget | undefined;
    try {
      target = matchTarget(this.#o.targets(), facts);
    } catch {
      target = undefined;
    }
    if (!target) return;
    this.counters.intercepted++;
    const w: Watched = {
      call,
      correlationId: `li-${randomBytes(8).toString('hex')}`,
      channel: undefined,
      seq: -1,
      legs: undefined,
      forwarded: false,
      anchored: offered !== undefined,
      closed: false,
    };
    this.#watched.set(call, w);
    const fail = (err: unknown): void => {
      this.counters.failed++;
      this.#o.logger.warn({ correlationId: w.correlationId, err }, 'sbc: LI delivery failed');
    };
    this.#o.delivery
      .open({
        correlationId: w.correlationId,
        call: call.id,
        target,
        at: this.#o.clock.now(),
        pair: this.#o.engine.kind === 'rtpengine',
      })
      .then((channel) => {
        if (w.closed) {
          channel.close();
          return;
        }
        w.channel = channel;
        this.#flush(w);
        // The built-in engine copies from the offer on (early media too); rtpengine once the
        // callee's party exists in it, at the answer (#flush).
        if (offered && this.#copiesMedia(channel) && this.#o.engine.kind !== 'rtpengine') {
          w.forwarded = true;
          offered.then(() => this.#media(w, channel, true), fail);
        }
      }, fail);
  }

  /** The call ended: its legs are still copied for DRAIN_MS, then the channel closes. */
  ended(call: SbcCall): void {
    const w = this.#watched.get(call);
    if (!w) return;
    w.legs = this.#o.legs(call);
    this.#flush(w);
    this.#o.clock.setTimer(DRAIN_MS, () => this.#close(w));
  }

  /** Stops every copy (the SBC closes). Idempotent. */
  close(): void {
    for (const w of [...this.#watched.values()]) this.#close(w);
  }

  #close(w: Watched): void {
    if (w.closed) return;
    this.#flush(w);
    w.closed = true;
    this.#watched.delete(w.call);
    w.channel?.close();
  }

  #legsOf(w: Watched): readonly string[] {
    return w.legs ?? this.#o.legs(w.call);
  }

  /** Delivers the legs' messages newer than the last delivered (leg A's Call-ID first). */
  #flush(w: Watched): void {
    const ch = w.channel;
    if (!ch || w.closed) return;
    const legs = this.#legsOf(w);
    for (const e of this.#o.signals.entries(legs, w.seq)) {
      w.seq = e.seq;
      this.counters.messages++;
      ch.deliver({
        kind: 'sip',
        leg: e.callId === legs[0] ? 'a' : 'b',
        direction: e.direction,
        src: e.src,
        dst: e.dst,
        bytes: e.bytes ?? serializeMessage(e.message),
        at: e.at,
      });
      // The caller got a 2xx to an INVITE: the engine has both parties' media (the answer).
      const m = e.message;
      if (
        e.direction === 'out' &&
        e.callId === legs[0] &&
        m.kind === 'response' &&
        m.status >= 200 &&
        m.status < 300 &&
        m.headers.cseq()?.method === 'INVITE' &&
        w.anchored &&
        this.#copiesMedia(ch)
      ) {
        const first = !w.forwarded;
        w.forwarded = true;
        this.#media(w, ch, first && this.#o.engine.kind === 'rtpengine').catch(() => undefined);
      }
    }
  }

  #copiesMedia(ch: InterceptChannel): boolean {
    return ch.mediaAddress !== undefined && this.#o.engine.capabilities.forward;
  }

  /**
   * Media both ways to the channel (engine `forward`, when `forward`), then which engine port is
   * which leg and the parties' media addresses (again at each answer: leg B's party has no tag in
   * the built-in engine before it, and its port is "the other one" until then).
   */
  async #media(w: Watched, ch: InterceptChannel, forward: boolean): Promise<void> {
    if (w.closed) return;
    const key = { callId: w.call.mediaId };
    try {
      if (forward) await this.#o.engine.forward(key, ch.mediaAddress as MediaAddress);
      const stats = await this.#o.engine.query(key);
      const leg = (tag: string): (typeof stats.legs)[number] | undefined =>
        stats.legs.find((l) => l.tag === tag);
      const a = leg(w.call.a.mediaTag);
      const b = leg(w.call.b.mediaTag);
      const remotes = { ...(a?.remote && { a: a.remote }), ...(b?.remote && { b: b.remote }) };
      if (this.#o.engine.kind === 'rtpengine') ch.media({ by: 'destination' }, remotes);
      else if (a) ch.media({ by: 'source', a: a.local.port }, remotes);
      else throw new Error('the engine does not know leg A');
    } catch (err) {
      this.counters.failed++;
      this.#o.logger.warn({ correlationId: w.correlationId, err }, 'sbc: LI media copy failed');
    }
  }
}
