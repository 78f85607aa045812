/**
 * Requests inside a dialog (RFC 3261 §12.2, §14, §15; RFC 3311): the ones we send (BYE,
 * re-INVITE with the §14.1 glare retry, UPDATE, any other method) and the ones we receive once
 * the layer has matched them to a dialog and checked their CSeq.
 */
import { TfxError } from '@tfx/protocol';
import { createResponse, type SipRequest, type SipResponse } from '../syntax/index.js';
import type { IncomingRequest } from '../transaction/index.js';
import type { LayerContext } from './context.js';
import {
  answer,
  arm,
  floorFrom422,
  onRefreshResponse,
  parseSessionExpires,
  rejectTooBrief,
  requestHeaders,
} from './session-timer.js';
import {
  ServerInvite,
  type AckOptions,
  type DialogSession,
  type Payload,
  type TerminateReason,
} from './session.js';
import { onPrack } from './uas.js';
import { deferAck, resendAck, sendAck, sendDeferredAck, withDefaults } from './uac.js';

export function sendBye(
  c: LayerContext,
  session: DialogSession,
  payload: Payload,
  onResponse?: (r: SipResponse) => void,
  reason: TerminateReason = 'bye',
): void {
  if (session.state === 'terminated') return;
  // §15: "The caller's UA MAY send a BYE for either confirmed or early dialogs, and the
  // callee's UA MAY send a BYE on confirmed dialogs, but MUST NOT send a BYE on early dialogs."
  if (session.state === 'early' && session.dialog.role === 'uas') {
    throw new TfxError('bad-request', 'a UAS must not send BYE on an early dialog (§15)');
  }
  // §13.2.2.4: every 2xx gets its ACK, even one whose dialog ends now (an app that held the ACK
  // back for an answer it never got).
  if (session.ackDue) sendDeferredAck(c, session, {});
  const bye = session.dialog.createRequest('BYE', c.o.local, payload);
  c.terminate(session, reason);
  c.send(bye, { onResponse: (r) => r.status >= 200 && onResponse?.(r) });
}

/**
 * §8.1.3.1: "If a fatal transport error is reported by the transport layer [...], the condition
 * MUST be treated as a 503 (Service Unavailable) status code"; a timeout of the client transaction
 * "MUST be treated as if a 408 (Request Timeout) status code has been received". The response the
 * TU then acts on (§12.2.1.2: "A UAC SHOULD also terminate a dialog if no response at all is
 * received for the request").
 */
export function syntheticResponse(req: SipRequest, err: TfxError): SipResponse {
  return createResponse(req, err.code === 'sip-transaction-timeout' ? 408 : 503);
}

export function sendInDialog(
  c: LayerContext,
  session: DialogSession,
  method: string,
  payload: Payload,
  onResponse?: (r: SipResponse) => void,
): void {
  const req = session.dialog.createRequest(method, c.o.local, payload);
  let answered = false;
  const handle = (r: SipResponse, noResponse = false): void => {
    if (r.status < 200 || answered) return;
    answered = true;
    // §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction
    // Does Not Exist) or a 408 (Request Timeout), the UAC SHOULD terminate the dialog."
    // RFC 5057 §5.3: a 481 to a NOTIFY, SUBSCRIBE or REFER ends that subscription only,
    // not the call that shares the dialog.
    // RFC 3262 §3 gives a 481 to PRACK its own meaning: the PRACK matched no unacknowledged
    // reliable provisional response (a UAS may send its 2xx before the PRACK arrives, and then
    // answers the late PRACK 481). It ends that transaction, never the dialog.
    const usageOnly =
      (session.usage === 'invite' && SUBSCRIPTION_METHODS.has(method)) ||
      (method === 'PRACK' && r.status === 481);
    const ends = r.status === 481 || r.status === 408 || noResponse;
    if (ends && !usageOnly) c.terminate(session, 'failed');
    else if (r.status < 300 && method === 'UPDATE') session.dialog.refreshTarget(r);
    onResponse?.(r);
  };
  c.send(req, {
    onResponse: (r) => handle(r),
    // No response at all (a timeout, a transport error) ends a call's dialog; a subscription
    // follows RFC 6665's own rules (its timers), as before.
    onError: (e) => {
      if (session.usage === 'invite' && !SUBSCRIPTION_METHODS.has(method) && method !== 'PRACK')
        handle(syntheticResponse(req, e), true);
    },
  });
}

const SUBSCRIPTION_METHODS = new Set(['NOTIFY', 'SUBSCRIBE', 'REFER']);

export function sendReinvite(
  c: LayerContext,
  session: DialogSession,
  payload: Payload,
  onResult?: (r: SipResponse) => void,
  o: AckOptions = {},
): void {
  if (session.state !== 'confirmed') {
    throw new TfxError('bad-request', 're-INVITE needs a confirmed dialog');
  }
  // §14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another
  // INVITE transaction is in progress in either direction."
  if (
    session.clientInvite !== undefined ||
    session.serverInvite !== undefined ||
    session.ackDue !== undefined
  ) {
    throw new TfxError(
      'bad-request',
      'an INVITE transaction is in progress on this dialog (§14.1)',
    );
  }
  const req = session.dialog.createRequest('INVITE', c.o.local, {
    ...payload,
    headers: withDefaults([...c.supportedHeader(), ...requestHeaders(c, session)], payload.headers),
  });
  session.clientInvite = c.send(req, {
    onResponse: (r) => {
      if (r.status < 200) return;
      const seq = req.headers.cseq()?.seq;
      if (r.status < 300) {
        if (session.lastAck?.cseq === seq || session.ackDue?.cseq === seq) {
          resendAck(c, session);
          return;
        }
        session.clientInvite = undefined;
        session.dialog.refreshTarget(r);
        if (o.deferAck) deferAck(c, session, req);
        else sendAck(c, session, req);
        onRefreshResponse(c, session, r);
      } else {
        session.clientInvite = undefined;
      }
      session.reinviteResults.push(r.status);
      if (retryTooBrief(c, session, req, r)) {
        sendReinvite(c, session, payload, onResult, o);
        return;
      }
      if (r.status === 491) {
        // §14.1: "If a UAC receives a 491 response to a re-INVITE, it SHOULD start a timer with
        // a value T chosen as follows: 1. If the UAC is the owner of the Call-ID of the dialog
        // ID (meaning it generated the value), T has a randomly chosen value between 2.1 and 4
        // seconds in units of 10 ms. 2. If the UAC is not the owner of the Call-ID of the
        // dialog ID, T has a randomly chosen value of between 0 and 2 seconds in units of 10
        // ms. When the timer fires, the UAC SHOULD attempt the re-INVITE once more".
        afterGlare(
          c,
          session,
          () => session.clientInvite !== undefined || session.serverInvite !== undefined,
          () => sendReinvite(c, session, payload, onResult, o),
        );
        return;
      }
      if (r.status === 481 || r.status === 408) c.terminate(session, 'failed');
      onResult?.(r);
    },
    onError: (e) => {
      session.clientInvite = undefined;
      // §12.2.1.2: no response at all ends the dialog; the caller hears a 408 or 503 (§8.1.3.1).
      const r = syntheticResponse(req, e);
      session.reinviteResults.push(r.status);
      c.terminate(session, 'failed');
      onResult?.(r);
    },
  });
}

/**
 * The §14.1 timer (also RFC 3311 §5.1 for UPDATE): the Call-ID's owner waits 2.1–4 s, the
 * other side 0–2 s, in units of 10 ms. If the dialog is busy with another offer when it fires,
 * the retry waits until it is not.
 */
function afterGlare(
  c: LayerContext,
  session: DialogSession,
  busy: () => boolean,
  retry: () => void,
): void {
  const owner = c.ownCallIds.has(session.dialog.id.callId);
  const steps = owner ? 210 + Math.floor(c.random() * 191) : Math.floor(c.random() * 201);
  const fire = (): void => {
    session.retryTimer = undefined;
    if (session.state === 'terminated') return;
    if (busy()) {
      session.retryTimer = c.o.clock.setTimer(10, fire);
      return;
    }
    retry();
  };
  session.retryTimer = c.o.clock.setTimer(steps * 10, fire);
}

/**
 * RFC 3311 §5.1: an UPDATE in an early or confirmed dialog; with a body it is an offer. "If a
 * UAC receives a 491 response to an UPDATE, it SHOULD start a timer with a value T chosen as
 * follows" (the §14.1 values) "When the timer fires, the UAC SHOULD attempt the UPDATE once
 * more". A 2xx refreshes the remote target (UPDATE is a target refresh request, §5.1).
 */
export function sendUpdate(
  c: LayerContext,
  session: DialogSession,
  payload: Payload,
  onResult?: (r: SipResponse) => void,
): void {
  if (session.state === 'terminated') {
    throw new TfxError('bad-request', 'the dialog is terminated; cannot send UPDATE');
  }
  const offer = payload.body !== undefined;
  if (offer) session.localOffer = true;
  const refresh = session.state === 'confirmed' ? requestHeaders(c, session) : [];
  const req = session.dialog.createRequest('UPDATE', c.o.local, {
    ...payload,
    headers: withDefaults(refresh, payload.headers),
  });
  c.send(req, {
    onResponse: (r) => {
      if (r.status < 200) return;
      if (offer) session.localOffer = false;
      session.updateResults.push(r.status);
      if (r.status === 491) {
        afterGlare(
          c,
          session,
          () => session.localOffer,
          () => sendUpdate(c, session, payload, onResult),
        );
        return;
      }
      if (retryTooBrief(c, session, req, r)) {
        sendUpdate(c, session, payload, onResult);
        return;
      }
      if (r.status < 300) {
        session.dialog.refreshTarget(r);
        if (refresh.length > 0) onRefreshResponse(c, session, r);
      }
      if (r.status === 481 || r.status === 408) c.terminate(session, 'failed');
      onResult?.(r);
    },
    onError: (e) => {
      if (offer) session.localOffer = false;
      // §12.2.1.2: no response at all ends the dialog; the caller hears a 408 or 503 (§8.1.3.1).
      const r = syntheticResponse(req, e);
      session.updateResults.push(r.status);
      c.terminate(session, 'failed');
      onResult?.(r);
    },
  });
}

/**
 * RFC 4028 §7.4 / §8.2: a 422 to our refresh (re-INVITE or UPDATE) teaches the dialog a larger
 * Min-SE; the request is sent again with it. True when the caller should retry.
 */
function retryTooBrief(
  c: LayerContext,
  session: DialogSession,
  req: SipRequest,
  r: SipResponse,
): boolean {
  const asked = parseSessionExpires(req);
  const floor = floorFrom422(c, r, typeof asked === 'object' ? asked.seconds : undefined);
  if (floor === undefined || session.state !== 'confirmed') return false;
  session.minSE = floor;
  return true;
}

/** An UPDATE without a body only refreshes the session (RFC 3311 §5.2, RFC 4028 §10). */
function isRefresh(request: SipRequest): boolean {
  return request.method === 'UPDATE' && request.body.length === 0;
}

/** A request matched to `session` whose CSeq is in order (§12.2.2); not ACK or CANCEL. */
export function onInDialogRequest(
  c: LayerContext,
  session: DialogSession,
  incoming: IncomingRequest,
): void {
  const { request } = incoming;
  if (request.method === 'BYE') {
    // §15.1.2: "the UAS core [...] SHOULD terminate the session (and therefore stop sending and
    // listening for media) [...] The UAS MUST still respond to any pending requests received for
    // that dialog [...] 487". Then a 2xx to the BYE.
    const pending = session.serverInvite;
    if (pending && !pending.answered) pending.reject(487);
    // The session ends before the 2xx goes: what the owner records at the end (an SBC's CDR)
    // is durable before the peer sees its BYE answered. An owner that must first ask something
    // (the media engine's final stats) returns a promise, bounded by itself; the 2xx waits for
    // it to settle, either way. Retransmitted BYEs meanwhile are absorbed by the non-INVITE
    // server transaction in Trying (§17.2.2: "any further request retransmissions are
    // discarded").
    const owner = c.terminate(session, 'remote-bye');
    if (!owner) {
      c.reply(incoming, 200);
      return;
    }
    const answer = (): void => {
      try {
        c.reply(incoming, 200);
      } catch {
        // The stack closed while the owner worked: there is no transport left to answer on.
      }
    };
    owner.then(answer, answer);
    return;
  }
  if (request.method === 'INVITE') {
    onReinvite(c, session, incoming);
    return;
  }
  if (request.method === 'PRACK') {
    onPrack(c, session, incoming);
    return;
  }
  if (request.method === 'UPDATE' && rejectTooBrief(c, incoming)) return;
  if (request.method === 'UPDATE' && request.body.length > 0) {
    // RFC 3311 §5.2: "If an UPDATE is received that contains an offer, and the UAS has
    // generated an offer (in an UPDATE, PRACK or INVITE) to which it has not yet received an
    // answer, the UAS MUST reject the UPDATE with a 491 response. Similarly, if an UPDATE is
    // received that contains an offer, and the UAS has received an offer (in an UPDATE, PRACK,
    // or INVITE) on which it has not generated an answer, the UAS MUST reject the UPDATE with a
    // 500 response, and MUST include a Retry-After header field with a randomly chosen value
    // between 0 and 10 seconds."
    const ourInviteOffer =
      session.clientInvite !== undefined && session.clientInvite.request.body.length > 0;
    if (session.localOffer || ourInviteOffer) {
      c.counters.glare++;
      c.reply(incoming, 491);
      return;
    }
    const theirs = session.serverInvite;
    if (theirs && !theirs.answered && theirs.request.body.length > 0) {
      c.reply(incoming, 500, {
        headers: [['Retry-After', String(Math.floor(c.random() * 11))]],
      });
      return;
    }
  }
  const respond = (status: number, payload: Payload = {}) => {
    if (status >= 200 && status < 300 && request.method === 'UPDATE') {
      session.dialog.refreshTarget(request);
      // RFC 4028 §9: an UPDATE is a session refresh request when the session runs a timer.
      const timer = session.state === 'confirmed' ? answer(c, request) : undefined;
      if (timer) {
        c.reply(incoming, status, {
          ...payload,
          headers: [...timer.headers, ...(payload.headers ?? [])],
        });
        arm(c, session, timer.interval, timer.localRefresher);
        return;
      }
    }
    c.reply(incoming, status, payload);
  };
  if (session.events.onRequest) session.events.onRequest(request, respond);
  // Without a handler: INFO and an UPDATE without an offer (a session refresh) get 200.
  else respond(request.method === 'INFO' || isRefresh(request) ? 200 : 501);
}

function onReinvite(c: LayerContext, session: DialogSession, incoming: IncomingRequest): void {
  if (rejectTooBrief(c, incoming)) return;
  // §14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog
  // is in progress MUST return a 491 (Request Pending) response to the received INVITE."
  if (session.clientInvite !== undefined) {
    c.counters.glare++;
    c.reply(incoming, 491);
    return;
  }
  // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first
  // INVITE with a lower CSeq sequence number on the same dialog MUST return a 500 (Server
  // Internal Error) response to the second INVITE and MUST include a Retry-After header field
  // with a randomly chosen value of between 0 and 10 seconds."
  if (session.serverInvite !== undefined || session.pendingAck !== undefined) {
    c.reply(incoming, 500, {
      headers: [['Retry-After', String(Math.floor(c.random() * 11))]],
    });
    return;
  }
  const invite = new ServerInvite(c.ops, incoming, session);
  session.serverInvite = invite;
  if (session.events.onReinvite) session.events.onReinvite(invite);
  else invite.accept();
}
