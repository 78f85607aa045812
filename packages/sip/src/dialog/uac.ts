/**
 * The UAC side of INVITE (RFC 3261 §13.2): the initial INVITE and its responses forking into
 * early dialogs by To tag (§12.1.2), the ACK of every 2xx and its retransmission (§13.2.2.4),
 * CANCEL (§9.1), and PRACK for reliable provisional responses (RFC 3262 §4).
 */
import { TfxError } from '@tfx/protocol';
import {
  canonicalHeaderName,
  createRequest,
  generateBranch,
  generateCallId,
  generateTag,
  type SipRequest,
  type SipResponse,
} from '../syntax/index.js';
import { buildCancel, type ClientTransactionListener } from '../transaction/index.js';
import type { LayerContext } from './context.js';
import { Dialog, dialogKey } from './dialog.js';
import { hasOptionTag, parseRSeq } from './prack.js';
import {
  floorFrom422,
  onRefreshResponse,
  parseSessionExpires,
  requestHeaders,
} from './session-timer.js';
import {
  ClientInvite,
  type ClientInviteEvents,
  type DialogSession,
  type InviteOptions,
  type Payload,
} from './session.js';

/** Sends an initial INVITE (§13.2.1); responses fork into dialogs by To tag. */
export function sendInvite(
  c: LayerContext,
  o: InviteOptions,
  events: ClientInviteEvents,
): ClientInvite {
  const callId = o.callId ?? generateCallId(c.o.local.via.host);
  c.ownCallIds.add(callId);
  const request = createRequest({
    method: 'INVITE',
    uri: o.uri,
    from: `${o.from};tag=${generateTag()}`,
    to: o.to,
    callId,
    // §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer
    // and MUST be less than 2**31."
    cseq: 1 + Math.floor(c.random() * 10_000),
    via: { ...c.o.local.via, branch: generateBranch() },
    contact: c.o.local.contact,
    headers: withDefaults([...c.supportedHeader(), ...requestHeaders(c, undefined)], o.headers),
    ...(o.body !== undefined && { body: o.body }),
    ...(o.contentType !== undefined && { contentType: o.contentType }),
  });
  // The transaction reports before `new ClientInvite` returns only in theory; the holder is set next.
  const h: { invite?: ClientInvite } = {};
  const tx = c.send(request, listener(c, h, request, events));
  const invite = new ClientInvite(request, tx, c.ops);
  invite.deferAck = o.deferAck === true;
  h.invite = invite;
  return invite;
}

function listener(
  c: LayerContext,
  h: { invite?: ClientInvite },
  request: SipRequest,
  events: ClientInviteEvents,
): ClientTransactionListener {
  // A retried INVITE's old transaction still reports its end: only the current one counts.
  const current = () => (h.invite?.request === request ? h.invite : undefined);
  return {
    onResponse: (r) => {
      const inv = current();
      if (inv) onInviteResponse(c, inv, r, events);
    },
    onError: (e) => {
      const inv = current();
      if (inv && !inv.final) {
        endEarly(c, inv);
        events.onFailed?.(undefined, e);
      }
    },
    onTerminated: () => {
      const inv = current();
      if (inv) endEarly(c, inv);
    },
  };
}

/**
 * Sends the INVITE again in a new transaction, as §8.1.3.5 / §22.2 describe for a retry: the
 * same Call-ID, From and To, "the CSeq [...] incremented by one", a new branch, with `headers`
 * replacing the same-named ones of the first. Used for RFC 4028's 422 and digest challenges.
 */
export function retryInvite(
  c: LayerContext,
  invite: ClientInvite,
  headers: ReadonlyArray<readonly [string, string]>,
  events: ClientInviteEvents,
): void {
  const old = invite.request;
  const names = new Set(headers.map(([k]) => canonicalHeaderName(k)));
  const request = createRequest({
    method: 'INVITE',
    uri: old.uri,
    from: old.headers.get('from') ?? '',
    to: old.headers.get('to') ?? '',
    callId: old.headers.callId() ?? '',
    cseq: (old.headers.cseq()?.seq ?? 0) + 1,
    via: { ...c.o.local.via, branch: generateBranch() },
    contact: c.o.local.contact,
    headers: [
      ...old.headers
        .entries()
        .filter(
          ([k]) => !SKIP_ON_RETRY.has(canonicalHeaderName(k)) && !names.has(canonicalHeaderName(k)),
        ),
      ...headers,
    ],
    ...(old.body.length > 0 && { body: old.body }),
    ...(old.headers.get('content-type') !== undefined && {
      contentType: old.headers.get('content-type'),
    }),
  });
  invite.retries++;
  invite.request = request;
  const h = { invite };
  invite.transaction = c.send(request, listener(c, h, request, events));
}

/** §8.1.1: a request outside any dialog; the final response (or undefined on a timeout). */
export function sendOutOfDialog(
  c: LayerContext,
  o: {
    method: string;
    uri: string;
    from: string;
    to: string;
    callId?: string;
  } & Payload,
  onResponse?: (r: SipResponse | undefined) => void,
): SipRequest {
  const request = createRequest({
    method: o.method,
    uri: o.uri,
    from: `${o.from};tag=${generateTag()}`,
    to: o.to,
    callId: o.callId ?? generateCallId(c.o.local.via.host),
    cseq: 1 + Math.floor(c.random() * 10_000),
    via: { ...c.o.local.via, branch: generateBranch() },
    contact: c.o.local.contact,
    headers: o.headers ?? [],
    ...(o.body !== undefined && { body: o.body }),
    ...(o.contentType !== undefined && { contentType: o.contentType }),
  });
  c.send(request, {
    onResponse: (r) => r.status >= 200 && onResponse?.(r),
    onError: () => onResponse?.(undefined),
  });
  return request;
}

/** The app's header fields, after ours of the names it does not set itself. */
export function withDefaults(
  ours: ReadonlyArray<readonly [string, string]>,
  theirs: ReadonlyArray<readonly [string, string]> = [],
): Array<readonly [string, string]> {
  const names = new Set(theirs.map(([k]) => canonicalHeaderName(k)));
  return [...ours.filter(([k]) => !names.has(canonicalHeaderName(k))), ...theirs];
}

/** Header fields a retried request builds anew (createRequest writes them). */
const SKIP_ON_RETRY = new Set([
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'max-forwards',
  'content-length',
  'content-type',
]);

function onInviteResponse(
  c: LayerContext,
  invite: ClientInvite,
  r: SipResponse,
  events: ClientInviteEvents,
): void {
  const tag = r.headers.to()?.tag;
  if (r.status < 200) {
    invite.provisional = true;
    if (invite.cancelRequested) sendCancel(c, invite);
    let session: DialogSession | undefined;
    // §12.1.2: "A 1xx response [with a To tag] may create an early dialog" (not 100).
    if (r.status > 100 && tag !== undefined && r.headers.contact().length > 0) {
      session = invite.dialogs.get(tag);
      if (!session) {
        session = c.add(Dialog.uac(invite.request, r));
        invite.dialogs.set(tag, session);
      }
      const rseq = parseRSeq(r);
      if (hasOptionTag(r, 'require', '100rel') && rseq !== undefined) {
        // RFC 3262 §4: "If the UAC receives another reliable provisional response to the same
        // request, and its RSeq value is not one higher than the value of the sequence number,
        // that response MUST NOT be acknowledged with a PRACK, and MUST NOT be processed
        // further by the UAC core." A retransmission (the same RSeq) is dropped too: our PRACK's
        // own transaction retransmits it until the UAS answers.
        const last = invite.rseqs.get(tag);
        if (last !== undefined && rseq !== last + 1) return;
        invite.rseqs.set(tag, rseq);
        // RFC 3262 §7.2: "RAck: response-num CSeq-num Method" of the response acknowledged.
        const cseq = invite.request.headers.cseq()?.seq ?? 0;
        session.request('PRACK', { headers: [['RAck', `${rseq} ${cseq} INVITE`]] });
      }
    }
    events.onProgress?.(r, session);
    return;
  }
  if (r.status < 300) {
    if (tag === undefined || r.headers.contact().length === 0) return;
    let session = invite.dialogs.get(tag);
    const isRetransmit = session?.lastAck !== undefined || session?.ackDue !== undefined;
    if (isRetransmit && session) {
      resendAck(c, session); // nothing while the app holds the ACK back (`deferAck`)
      return;
    }
    // An early dialog that ended (a 481 to its PRACK, say) is made anew by the 2xx (§12.1.2).
    if (!session || session.state === 'terminated') {
      session = c.add(Dialog.uac(invite.request, r));
      invite.dialogs.set(tag, session);
    } else session.dialog.confirm(r);
    const keep = invite.accepted === undefined && !invite.cancelRequested;
    // RFC 3264 §5: with `deferAck` the app answers the 2xx's offer in the ACK. A 2xx we end at
    // once (below) is ACKed now, without a body, and BYEd.
    if (keep && invite.deferAck) deferAck(c, session, invite.request);
    else sendAck(c, session, invite.request);
    if (keep) {
      invite.final = r;
      invite.accepted = session;
      onRefreshResponse(c, session, r);
      events.onAccepted?.(session, r);
    } else {
      // §13.2.2.4: "If, after acknowledging any 2xx response to an INVITE, the UAC does not
      // want to continue with that dialog, then the UAC MUST terminate the dialog by sending a
      // BYE request". A second fork's 2xx (we keep the first call), or a 2xx that crossed our
      // CANCEL (§9.1: the CANCEL has no effect on a request that got its final response).
      if (invite.final === undefined) invite.final = r;
      session.bye();
      if (invite.accepted === undefined) events.onFailed?.(r);
    }
    return;
  }
  // §22.2: "When a UAC resubmits a request with its credentials after receiving a 401
  // (Unauthorized) or 407 (Proxy Authentication Required) response, it MUST increment the CSeq
  // header field value as it would normally when sending an updated request."
  if ((r.status === 401 || r.status === 407) && !invite.cancelRequested && invite.retries < 2) {
    const auth = invite.authTried ? undefined : c.o.authenticate?.(invite.request, r);
    if (auth) {
      invite.authTried = true;
      endEarly(c, invite);
      retryInvite(c, invite, [auth], events);
      return;
    }
  }
  // RFC 4028 §7.4: a 422 is retried with the larger interval its Min-SE asks for (once per
  // floor, at most twice), unless the app cancelled meanwhile.
  const asked = parseSessionExpires(invite.request);
  const floor = floorFrom422(c, r, typeof asked === 'object' ? asked.seconds : undefined);
  if (floor !== undefined && invite.retries < 2 && !invite.cancelRequested) {
    endEarly(c, invite);
    retryInvite(c, invite, requestHeaders(c, undefined, floor), events);
    return;
  }
  // §13.2.2.3: a non-2xx final response ends every early dialog of the INVITE.
  invite.final = r;
  endEarly(c, invite);
  events.onFailed?.(r);
}

/**
 * §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent;
 * rather, the client MUST wait for the arrival of a provisional response before sending the
 * request. If the original request has generated a final response, the CANCEL SHOULD NOT be
 * sent". The CANCEL goes to the INVITE's target in its own transaction.
 */
export function sendCancel(c: LayerContext, invite: ClientInvite): void {
  if (!invite.cancelRequested || invite.cancelSent || invite.final !== undefined) return;
  if (!invite.provisional) return; // sent from onInviteResponse when the first 1xx arrives
  invite.cancelSent = true;
  c.o.sendRequest(buildCancel(invite.request), invite.transaction.target, {
    onResponse: () => {},
  });
}

function endEarly(c: LayerContext, invite: ClientInvite): void {
  for (const s of invite.dialogs.values()) {
    if (s.state === 'early') c.terminate(s, 'failed');
  }
}

/**
 * §13.2.2.4: "The UAC core MUST generate an ACK request for each 2xx received from the
 * transaction layer. The header fields of the ACK are constructed in the same way as for any
 * request sent within a dialog [...] with the exception of the CSeq and the header fields
 * related to authentication. The sequence number of the CSeq header field MUST be the same as
 * the INVITE being acknowledged, but the CSeq method MUST be ACK." The ACK goes to the
 * transport directly, and is kept to answer retransmissions of the 2xx.
 */
export function sendAck(
  c: LayerContext,
  session: DialogSession,
  invite: SipRequest,
  payload: Payload = {},
): void {
  const cseq = invite.headers.cseq()?.seq ?? 0;
  const ack = session.dialog.createRequest('ACK', c.o.local, { ...payload, cseq });
  session.lastAck = { cseq, ack };
  c.o.sendStateless(ack, c.o.targetOf(Dialog.nextHopUri(ack)));
}

/**
 * `deferAck`: the 2xx waits for the app's `session.ack(payload)`. §13.2.2.4 still wants an ACK:
 * if the app gives none within 64*T1 (the UAS's own patience, §13.3.1.4) the layer ACKs without
 * a body and ends the dialog with a BYE.
 */
export function deferAck(c: LayerContext, session: DialogSession, invite: SipRequest): void {
  const cseq = invite.headers.cseq()?.seq ?? 0;
  const timer = c.o.clock.setTimer(64 * c.o.timers.T1, () => {
    if (session.ackDue?.timer !== timer) return;
    sendDeferredAck(c, session, {});
    if (session.state === 'confirmed') c.ops.sendBye(session, {}, undefined, 'no-ack');
  });
  session.ackDue = { cseq, invite, timer };
}

/** The app's ACK for a deferred 2xx (RFC 3264 §5: its body answers the 2xx's offer). */
export function sendDeferredAck(c: LayerContext, session: DialogSession, payload: Payload): void {
  const due = session.ackDue;
  if (!due) throw new TfxError('bad-request', 'no 2xx of this dialog waits for its ACK');
  c.o.clock.clearTimer(due.timer);
  session.ackDue = undefined;
  if (session.state === 'terminated') return;
  sendAck(c, session, due.invite, payload);
}

export function resendAck(c: LayerContext, session: DialogSession): void {
  if (!session.lastAck) return;
  c.counters.ackRetransmits++;
  const { ack } = session.lastAck;
  c.o.sendStateless(ack, c.o.targetOf(Dialog.nextHopUri(ack)));
}

/**
 * §13.2.2.4 / RFC 6026 §7.2: a 2xx retransmission after the INVITE client transaction is gone
 * reaches the core as a stray response: resend the ACK of its dialog.
 */
export function onStrayResponse(c: LayerContext, response: SipResponse): void {
  const cseq = response.headers.cseq();
  if (!cseq || cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) {
    return;
  }
  const id = {
    callId: response.headers.callId() ?? '',
    localTag: response.headers.from()?.tag ?? '',
    remoteTag: response.headers.to()?.tag ?? '',
  };
  const session = c.dialogs.get(dialogKey(id));
  if (session?.lastAck?.cseq === cseq.seq) resendAck(c, session);
}
