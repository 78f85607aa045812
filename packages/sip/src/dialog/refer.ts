/**
 * Call transfer (RFC 3515 REFER, RFC 3891 Replaces). REFER inside a dialog asks the peer to
 * send a request to the Refer-To URI; accepting it (202) creates an implicit subscription of
 * event `refer` whose NOTIFYs carry a message/sipfrag of the new call's progress ("SIP/2.0 100
 * Trying" … final, then `Subscription-State: terminated`). A Refer-To may embed a Replaces
 * header (attended transfer): the INVITE sent to it replaces an existing dialog, matched by
 * Call-ID and tags (481 when none matches).
 */
import { TfxError } from '@tfx/protocol';
import {
  createResponse,
  parseNameAddr,
  reasonPhrase,
  type NameAddr,
  type SipRequest,
} from '../syntax/index.js';
import type { IncomingRequest } from '../transaction/index.js';
import type { LayerContext } from './context.js';
import { dialogKey } from './dialog.js';
import type { DialogSession, Payload } from './session.js';
import {
  ClientSubscription,
  ServerSubscription,
  subscriptionKey,
  type SubscriptionStateValue,
} from './subscription.js';

/** RFC 3891 §6.1: `Replaces = "Replaces" HCOLON callid *(SEMI replaces-param)`. */
export interface Replaces {
  readonly callId: string;
  /** The tag of the UA that receives the INVITE with Replaces (its local tag). */
  readonly toTag: string;
  /** The tag of the other side of the replaced dialog (the receiver's remote tag). */
  readonly fromTag: string;
  readonly earlyOnly: boolean;
}

/** RFC 3891 §6.1: "A Replaces header field MUST contain exactly one to-tag and exactly one from-tag". */
export function parseReplaces(value: string): Replaces | undefined {
  const [callId, ...params] = value.split(';').map((p) => p.trim());
  if (!callId || !/^[\w.!%*+`'~()<>:\\"/[\]?{}@-]+$/.test(callId)) return undefined;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of params) {
    const eq = p.indexOf('=');
    const k = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (k === 'to-tag') {
      if (toTag !== undefined || v === '') return undefined;
      toTag = v;
    } else if (k === 'from-tag') {
      if (fromTag !== undefined || v === '') return undefined;
      fromTag = v;
    } else if (k === 'early-only') earlyOnly = true;
  }
  if (toTag === undefined || fromTag === undefined) return undefined;
  return { callId, toTag, fromTag, earlyOnly };
}

export function formatReplaces(r: Replaces): string {
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}`;
}

/**
 * The Replaces value naming `session` as its peer sees it: for the peer, our local tag is its
 * remote tag. A Refer-To `<sip:peer?Replaces=…>` with it transfers the peer's call to the
 * refer target (attended transfer, RFC 5589 §7).
 */
export function replacesFor(session: DialogSession): Replaces {
  const { id } = session.dialog;
  return { callId: id.callId, toTag: id.remoteTag, fromTag: id.localTag, earlyOnly: false };
}

/** Percent-encodes a header value for a URI's `?name=value` (RFC 3261 §19.1.1 hvalue). */
export function referToWithReplaces(uri: string, r: Replaces): string {
  const v = formatReplaces(r).replace(/[^A-Za-z0-9\-_.!~*'()[\]/?:+$]/g, (ch) =>
    [...new TextEncoder().encode(ch)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
  return `<${uri}?Replaces=${v}>`;
}

export interface ReferTo {
  readonly target: NameAddr;
  /** RFC 3891: the Replaces the INVITE to the target must carry, when the Refer-To embeds one. */
  readonly replaces: Replaces | undefined;
}

/** RFC 3515 §2.1: exactly one Refer-To (compact `r`), a name-addr; a URI header Replaces parsed. */
export function parseReferTo(request: SipRequest): ReferTo | undefined {
  const values = request.headers.getAll('refer-to');
  if (values.length !== 1) return undefined;
  const na = parseNameAddr(values[0] as string);
  if (!na.ok) return undefined;
  const uri = na.value.uri;
  const raw =
    uri.kind === 'sip' ? uri.headers.find(([k]) => k.toLowerCase() === 'replaces') : undefined;
  const replaces = raw ? parseReplaces(raw[1]) : undefined;
  if (raw && !replaces) return undefined;
  return { target: na.value, replaces };
}

/** RFC 3420 message/sipfrag of a status line: "SIP/2.0 200 OK" → 200. */
export function parseSipfragStatus(body: Uint8Array | string): number | undefined {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const m = /^SIP\/2\.0 ([1-6]\d\d)(?: |\r|\n|$)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface ReferEvents {
  /** The REFER's final response (202 accepted; a failure ends the transfer). */
  onResponse?(status: number): void;
  /** A NOTIFY's sipfrag status (100 Trying … final) and whether the subscription ended. */
  onProgress?(status: number | undefined, state: SubscriptionStateValue): void;
  onTerminated?(reason: string): void;
}

/**
 * RFC 3515 §2.4.1: sends REFER in the dialog. The implicit subscription is ready before the
 * 202, because "the NOTIFY may arrive before the 2xx". Its id is the REFER's CSeq (§2.4.6).
 */
export function sendRefer(
  c: LayerContext,
  session: DialogSession,
  referTo: string,
  events: ReferEvents = {},
  payload: Payload = {},
): ClientSubscription {
  if (session.state !== 'confirmed') {
    throw new TfxError('bad-request', 'REFER needs a confirmed dialog');
  }
  const seq = (session.dialog.localSeq ?? 0) + 1;
  const sub = new ClientSubscription(
    c,
    {
      event: 'refer',
      id: String(seq),
      request: session.dialog.createRequest('REFER', c.o.local, { cseq: seq }),
      expires: 60,
    },
    {
      onNotify: (n, ss) => events.onProgress?.(parseSipfragStatus(n.body), ss),
      onTerminated: (reason) => events.onTerminated?.(reason),
    },
  );
  sub.session = session;
  session.subscriptions.set(sub.key, sub);
  c.ops.sendInDialog(
    session,
    'REFER',
    { ...payload, headers: [['Refer-To', referTo], ...(payload.headers ?? [])] },
    (r) => {
      events.onResponse?.(r.status);
      if (r.status >= 300) sub.end('rejected', r);
      else {
        if (sub.state === 'init') sub.state = 'pending';
        sub.armTimerN();
      }
    },
  );
  return sub;
}

/** A REFER we received in a dialog: the app accepts (202 + NOTIFYs) or rejects it. */
export class IncomingRefer {
  readonly request: SipRequest;
  readonly referTo: ReferTo;
  readonly session: DialogSession;
  readonly subscription: ServerSubscription;
  readonly #c: LayerContext;
  readonly #incoming: IncomingRequest;
  #answered = false;

  constructor(
    c: LayerContext,
    session: DialogSession,
    incoming: IncomingRequest,
    referTo: ReferTo,
  ) {
    this.#c = c;
    this.#incoming = incoming;
    this.request = incoming.request;
    this.session = session;
    this.referTo = referTo;
    const seq = incoming.request.headers.cseq()?.seq;
    this.subscription = new ServerSubscription(c, incoming, { type: 'refer', id: String(seq) });
  }

  /**
   * RFC 3515 §2.4.2: "the UA MUST [respond] 202 Accepted", then §2.4.4: "the agent [...] MUST
   * send a NOTIFY" at once; the first says "SIP/2.0 100 Trying". `expires` is the implicit
   * subscription's duration (default 60 s).
   */
  accept(expires = 60): void {
    if (this.#answered) throw new TfxError('bad-request', 'the REFER is answered already');
    this.#answered = true;
    const response = createResponse(this.request, 202, undefined, {
      headers: [['Contact', this.#c.o.local.contact]],
    });
    this.subscription.attach(this.session, expires);
    this.#c.sendResponse(response, this.#incoming.transaction, this.#incoming.ctx);
    this.notify(100);
  }

  reject(status = 603): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#c.reply(this.#incoming, status);
  }

  /**
   * RFC 3515 §2.4.5: "Each NOTIFY MUST contain a body of type message/sipfrag" with the status
   * line of the referred request's response; a final one ends the subscription (§2.4.7:
   * terminated, reason noresource).
   */
  notify(status: number, reason = reasonPhrase(status)): void {
    const final = status >= 200;
    this.subscription.notify({
      state: final ? 'terminated' : 'active',
      ...(final && { reason: 'noresource' }),
      body: `SIP/2.0 ${status} ${reason}\r\n`,
      contentType: 'message/sipfrag;version=2.0',
    });
  }
}

/** RFC 3515 §2.4.2: a REFER in a dialog; 400 without exactly one valid Refer-To. */
export function onRefer(
  c: LayerContext,
  session: DialogSession,
  incoming: IncomingRequest,
  handler: ((refer: IncomingRefer) => void) | undefined,
): void {
  const referTo = parseReferTo(incoming.request);
  if (!referTo) {
    c.counters.badRequests++;
    c.reply(incoming, 400);
    return;
  }
  if (!handler) {
    c.reply(incoming, 501);
    return;
  }
  handler(new IncomingRefer(c, session, incoming, referTo));
}

/**
 * RFC 3891 §3: the dialog an INVITE's Replaces names, or the status to refuse it with. "If no
 * match is found, the UAS rejects the INVITE and returns a 481"; "If the Replaces header field
 * matches a confirmed dialog [and] contains the early-only flag, the UAS MUST reject [with] 486";
 * an early dialog this UA did not initiate gets 481.
 */
export function findReplaced(
  c: LayerContext,
  r: Replaces,
): { session: DialogSession } | { status: 481 | 486 } {
  const session = c.dialogs.get(
    dialogKey({ callId: r.callId, localTag: r.toTag, remoteTag: r.fromTag }),
  );
  if (!session || session.state === 'terminated' || session.usage !== 'invite')
    return { status: 481 };
  if (session.state === 'confirmed' && r.earlyOnly) return { status: 486 };
  if (session.state === 'early' && session.dialog.role === 'uas') return { status: 481 };
  return { session };
}

/** The key of a REFER's implicit subscription in its dialog. */
export function referKey(cseq: number): string {
  return subscriptionKey('refer', String(cseq));
}
