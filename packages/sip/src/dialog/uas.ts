/**
 * The UAS side of INVITE (RFC 3261 §13.3): an initial INVITE handed to the app, its responses
 * building the dialog (§12.1.1), the 2xx retransmitted until the ACK (§13.3.1.4), reliable
 * provisional responses until their PRACK (RFC 3262 §3), and CANCEL (§9.2).
 */
import { TfxError } from '@tfx/protocol';
import { createResponse, type SipRequest, type SipResponse } from '../syntax/index.js';
import type { TimerHandle } from '../time/index.js';
import type { IncomingRequest } from '../transaction/index.js';
import type { LayerContext } from './context.js';
import { Dialog } from './dialog.js';
import { hasOptionTag, parseRAck } from './prack.js';
import { answer, arm, rejectTooBrief, stop as stopTimer } from './session-timer.js';
import { ServerInvite, type DialogSession, type Payload, type PendingAck } from './session.js';

/**
 * An INVITE outside any dialog. §8.1.1.3 / §8.1.1.8: a dialog-creating INVITE needs a From tag
 * and exactly one Contact (a SIP URI); without them no dialog can be built (§12.1.1), so it is
 * refused with 400.
 */
export function onInitialInvite(
  c: LayerContext,
  incoming: IncomingRequest,
  replaces?: DialogSession,
): void {
  const { request } = incoming;
  const contacts = request.headers.contact();
  if (
    request.headers.from()?.tag === undefined ||
    contacts.length !== 1 ||
    contacts[0]?.star !== false
  ) {
    c.counters.badRequests++;
    c.reply(incoming, 400);
    return;
  }
  if (rejectTooBrief(c, incoming)) return;
  const invite = new ServerInvite(c.ops, incoming, undefined);
  invite.replaces = replaces;
  if (incoming.transaction) c.unanswered.set(incoming.transaction, invite);
  if (c.o.onInvite) c.o.onInvite(invite);
  else invite.reject(480);
}

/** §9.2: 200 to the CANCEL; 487 to the INVITE if it has no final response yet. */
export function onCancel(c: LayerContext, incoming: IncomingRequest): void {
  const target = incoming.cancels;
  if (!target) {
    c.reply(incoming, 481);
    return;
  }
  c.reply(incoming, 200);
  const inv = c.unanswered.get(target);
  if (inv && !inv.answered) {
    inv.reject(487);
    return;
  }
  if (target.lastResponse === undefined || target.lastResponse.status < 200) {
    target.respond(createResponse(target.request, 487));
  }
}

/** Sends the response of a ServerInvite; builds the dialog on a tagged 1xx/2xx (§12.1.1). */
export function respondInvite(
  c: LayerContext,
  invite: ServerInvite,
  status: number,
  payload: Payload,
  toTag: string = invite.toTag,
): DialogSession | undefined {
  const { request } = invite;
  const dialogForming = status > 100 && status < 300;
  const headers: Array<readonly [string, string]> = [];
  if (dialogForming) {
    // §12.1.1: "the UAS MUST add a Contact header field to the response."
    headers.push(['Contact', c.o.local.contact], ...c.supportedHeader());
  }
  // RFC 3262 §3: "If the UAS [...] supports the 100rel extension [and] the request contained a
  // Supported or Require header field with the option tag 100rel, the UAS MAY send the
  // provisional response reliably": we do when the UAS supports 100rel. "The UAS MUST NOT send
  // a second reliable provisional response until the first is acknowledged."
  const reliable =
    status > 100 &&
    status < 200 &&
    c.supported.has('100rel') &&
    (hasOptionTag(request, 'require', '100rel') || hasOptionTag(request, 'supported', '100rel'));
  if (reliable && invite.unacked !== undefined) {
    throw new TfxError(
      'bad-request',
      'a reliable provisional response awaits its PRACK (RFC 3262 §3)',
    );
  }
  if (reliable) {
    // §3: "the initial value of the response number [...] MUST be between 1 and 2**31 - 1".
    // Each early dialog numbers its own reliable responses (the UAC checks them per To tag).
    const last = invite.rseqs.get(toTag);
    invite.rseq = last === undefined ? 1 + Math.floor(c.random() * 1000) : last + 1;
    invite.rseqs.set(toTag, invite.rseq);
    headers.push(['Require', '100rel'], ['RSeq', String(invite.rseq)]);
  }
  // RFC 4028 §9: the 2xx to a session refresh request carries the session interval and refresher.
  const timer = status >= 200 && status < 300 ? answer(c, request) : undefined;
  if (timer) headers.push(...timer.headers);
  headers.push(...(payload.headers ?? []));
  const response = createResponse(request, status, undefined, {
    toTag,
    headers,
    ...(payload.body !== undefined && { body: payload.body }),
    ...(payload.contentType !== undefined && { contentType: payload.contentType }),
  });
  let session = invite.forks.get(toTag);
  if (dialogForming && !session) {
    session = c.add(Dialog.uas(request, toTag, status));
    session.serverInvite = invite;
    invite.forks.set(toTag, session);
  }
  if (session) invite.session = session;
  if (session && status >= 200 && status < 300) {
    session.dialog.confirm();
    // §12.2.2: a UAS accepting a target refresh request replaces the remote target.
    session.dialog.refreshTarget(request);
  }
  c.sendResponse(response, invite.transaction, invite.ctx);
  if (reliable && invite.rseq !== undefined) startReliable(c, invite, invite.rseq, toTag, response);
  if (status < 200) return session;
  stopReliable(c, invite);
  if (invite.transaction) c.unanswered.delete(invite.transaction);
  for (const s of invite.forks.values()) {
    s.serverInvite = undefined;
    // §12.1.1 / §13.2.2.4: the INVITE's final response settles it; the other forks' early
    // dialogs we answered for stay unconfirmed forever: they end here without a message.
    if (s !== session && s.dialog.state === 'early') c.terminate(s, 'failed');
  }
  if (status < 300 && session) {
    start2xxRetransmit(c, session, invite, response);
    if (timer) arm(c, session, timer.interval, timer.localRefresher);
    else stopTimer(c, session);
  } else if (
    session &&
    session.dialog.state === 'early' &&
    invite.request.headers.to()?.tag === undefined
  ) {
    // §12.1.1: a non-2xx final response to the initial INVITE ends its early dialog.
    c.terminate(session, 'failed');
  }
  return session;
}

/**
 * §13.3.1.4: "the 2xx response is passed to the transport with an interval that starts at T1
 * seconds and doubles for each retransmission until it reaches T2 seconds [...]. Response
 * retransmissions cease when an ACK request for the response is received." "If the server
 * retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
 * confirmed, but the session SHOULD be terminated. This is accomplished with a BYE".
 */
function start2xxRetransmit(
  c: LayerContext,
  session: DialogSession,
  invite: ServerInvite,
  response: SipResponse,
): void {
  const { T1 } = c.o.timers;
  const pending: PendingAck = {
    cseq: invite.request.headers.cseq()?.seq ?? 0,
    response,
    tx: invite.transaction,
    ctx: invite.ctx,
    interval: T1,
    started: c.o.clock.now(),
    timer: undefined,
  };
  session.pendingAck = pending;
  arm2xx(c, session, pending);
}

function arm2xx(c: LayerContext, session: DialogSession, p: PendingAck): void {
  const { T1, T2 } = c.o.timers;
  p.timer = c.o.clock.setTimer(p.interval, () => {
    if (session.pendingAck !== p) return;
    if (c.o.clock.now() - p.started >= 64 * T1) {
      session.pendingAck = undefined;
      session.events.onTerminated?.('no-ack');
      if (session.state === 'confirmed') c.ops.sendBye(session, {});
      return;
    }
    c.counters.okRetransmits++;
    c.sendResponse(p.response, p.tx, p.ctx);
    p.interval = Math.min(2 * p.interval, T2);
    arm2xx(c, session, p);
  });
}

/** §13.3.1.4: the ACK of our 2xx stops its retransmissions. */
export function onAck(c: LayerContext, session: DialogSession, ack: SipRequest): void {
  const p = session.pendingAck;
  if (p && ack.headers.cseq()?.seq === p.cseq) {
    if (p.timer) c.o.clock.clearTimer(p.timer);
    session.pendingAck = undefined;
    session.events.onAck?.(ack);
  }
}

/**
 * RFC 3262 §3: "The reliable provisional response is passed to the transaction layer
 * periodically with an interval that starts at T1 seconds and doubles for each
 * retransmission." "Once a reliable provisional response is received [acknowledged by PRACK],
 * retransmissions of that reliable provisional response MUST cease." "If a reliable
 * provisional response is retransmitted for 64*T1 seconds without reception of a
 * corresponding PRACK, the UAS SHOULD reject the original request with a 5xx response."
 */
function startReliable(
  c: LayerContext,
  invite: ServerInvite,
  rseq: number,
  toTag: string,
  response: SipResponse,
): void {
  const { T1 } = c.o.timers;
  const u = {
    rseq,
    toTag,
    response,
    timer: undefined as TimerHandle | undefined,
    interval: T1,
    started: c.o.clock.now(),
  };
  invite.unacked = u;
  const arm = (): void => {
    const left = u.started + 64 * T1 - c.o.clock.now();
    u.timer = c.o.clock.setTimer(Math.min(u.interval, left), () => {
      if (invite.unacked !== u) return;
      if (c.o.clock.now() - u.started >= 64 * T1) {
        invite.unacked = undefined;
        invite.reject(504);
        return;
      }
      c.sendResponse(u.response, invite.transaction, invite.ctx);
      u.interval *= 2;
      arm();
    });
  };
  arm();
}

function stopReliable(c: LayerContext, invite: ServerInvite): void {
  if (invite.unacked?.timer) c.o.clock.clearTimer(invite.unacked.timer);
  invite.unacked = undefined;
}

/**
 * RFC 3262 §3: "If the PRACK does match an unacknowledged reliable provisional response, a 2xx
 * response MUST be sent to the PRACK". "If a PRACK request is received by the UA core that
 * does not match any unacknowledged reliable provisional response, the UAS MUST respond to the
 * PRACK with a 481 response."
 */
export function onPrack(c: LayerContext, session: DialogSession, incoming: IncomingRequest): void {
  const rack = parseRAck(incoming.request);
  const invite = session.serverInvite;
  const u = invite?.unacked;
  if (
    !rack ||
    !invite ||
    !u ||
    rack.rseq !== u.rseq ||
    session.dialog.id.localTag !== u.toTag ||
    rack.method !== 'INVITE' ||
    rack.cseq !== invite.request.headers.cseq()?.seq
  ) {
    c.reply(incoming, 481);
    return;
  }
  stopReliable(c, invite);
  c.reply(incoming, 200);
  invite.onPrack?.(incoming.request);
}
