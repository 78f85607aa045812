/**
 * A REFER executed by the SBC itself (RFC 3515; docs/sbc.md, "Transfer"). The transferor's REFER
 * never crosses to the other zone: the SBC accepts it (202, then NOTIFYs with a message/sipfrag of
 * the new call's progress, §2.4.4–§2.4.5), places the new call to the Refer-To's user through the
 * routes of the transferor's zone, and when the target answers moves the transferee onto it:
 *
 *   transferor ──REFER──▶ SBC ──202, NOTIFY 100──▶ transferor
 *   SBC ──INVITE (new media session: transferee's SDP → target's zone)──▶ target
 *   target ──1xx──▶ SBC ──NOTIFY 1xx──▶ transferor
 *   target ──200──▶ SBC ──re-INVITE (the new session's SDP, same o= line, version + 1)──▶ transferee
 *   transferee ──200──▶ SBC: the call's legs are transferee + target, old media deleted
 *   SBC ──NOTIFY 200──▶ transferor, then BYE ──▶ transferor
 *
 * A target the routes do not allow, or that fails, gets the NOTIFY of its final status (403 when
 * no route) and the call stays as it was, unless the transferor hung up meanwhile: then it ends.
 * A Refer-To with Replaces (attended transfer) is refused before this (501, sbc.ts).
 */
import type { LegProfile, MediaEngine } from '@tfx/media';
import type {
  ClientInvite,
  DialogSession,
  IncomingRefer,
  InviteOptions,
  SipResponse,
  Uri,
} from '@tfx/sip';
import {
  relayedStatus,
  sipStatusOf,
  type Leg,
  type SbcCall,
  type TransferInProgress,
} from './call.js';
import { continueOrigin, mediaTargetOf } from './per-leg.js';
import type { TrunkSpec } from './types.js';
import type { ZoneAgent } from './zone.js';

const SDP = 'application/sdp';
const decoder = new TextDecoder();

function sdpOf(r: SipResponse): string | undefined {
  if (r.body.length === 0) return undefined;
  const ct = r.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  return ct === undefined || ct === SDP ? decoder.decode(r.body) : undefined;
}

/** Where the transfer's new call goes: a trunk of the transferor's zone's routes. */
export interface TransferRoute {
  readonly zone: ZoneAgent;
  readonly trunk: TrunkSpec;
  /** The INVITE (without its SDP): Request-URI, From, To, and the transport target. */
  readonly invite: Omit<InviteOptions, 'body' | 'contentType'> & { readonly target: Uri };
}

export interface TransferCounters {
  refused: number;
  executed: number;
  failed: number;
}

export interface TransferDeps {
  readonly engine: MediaEngine;
  readonly profileOf: (zone: ZoneAgent) => LegProfile;
  /** The route of the Refer-To user from the transferor's zone, or undefined (not allowed). */
  readonly route: (from: ZoneAgent, user: string, transferee: Leg) => TransferRoute | undefined;
  readonly newMediaId: () => string;
  readonly counters: TransferCounters;
}

/** The user a Refer-To names: a SIP URI's user, a `tel:` number; undefined for anything else. */
export function referUser(uri: Uri): string | undefined {
  if (uri.kind === 'sip') return uri.user;
  if (uri.scheme === 'tel') return /^tel:([^;?]+)/i.exec(uri.raw)?.[1];
  return undefined;
}

/** Executes `refer` on `call` (the zone's policy said `execute`). */
export function executeRefer(call: SbcCall, refer: IncomingRefer, d: TransferDeps): void {
  const log = call.deps.log;
  const from = call.legOf(refer.session);
  if (!from) {
    refer.reject(481);
    return;
  }
  const to = call.other(from);
  const y = to.session;
  const uri = refer.referTo.target.uri;
  if (uri.kind === 'other' && uri.scheme !== 'tel') {
    // RFC 3261 §21.4.16: 416 Unsupported URI Scheme.
    d.counters.refused++;
    refer.reject(416);
    return;
  }
  // RFC 3515 §2.4.2: "any appropriate 4xx-6xx class response": 491 while an offer/answer or
  // another transfer is under way on the call (the transferor may send the REFER again).
  if (
    call.state !== 'confirmed' ||
    call.transfer !== undefined ||
    !y ||
    y.state !== 'confirmed' ||
    y.clientInvite !== undefined ||
    y.serverInvite !== undefined ||
    to.remoteSdp === undefined
  ) {
    d.counters.refused++;
    refer.reject(491);
    return;
  }
  const user = referUser(uri);
  const route = user === undefined ? undefined : d.route(from.zone, user, to);
  // §2.4.2: "the UA MUST [respond] 202 Accepted", and §2.4.4: a NOTIFY "SIP/2.0 100 Trying" at once.
  refer.accept();
  if (!route) {
    d.counters.failed++;
    log('info', { call: call.id, user }, 'sbc: transfer target not allowed by the routes (403)');
    refer.notify(403);
    return;
  }
  const engine = d.engine;
  const mediaId = d.newMediaId();
  const cProfile = d.profileOf(route.zone);
  let invite: ClientInvite | undefined;
  let newSession: DialogSession | undefined;
  let mediaOpen = false;
  let done = false;
  const t: TransferInProgress = {
    from,
    transferorGone: false,
    abort: () => {
      if (done) return;
      done = true;
      invite?.cancel();
      if (newSession?.state === 'confirmed') newSession.bye();
      if (mediaOpen) engine.delete({ callId: mediaId }).catch(() => undefined);
    },
  };
  call.transfer = t;
  /** §2.4.5: the final sipfrag ends the subscription; the call stays unless the transferor left. */
  const fail = (status: number, why: string): void => {
    if (done) return;
    t.abort();
    if (call.transfer === t) call.transfer = undefined;
    d.counters.failed++;
    log('info', { call: call.id, status, why }, 'sbc: transfer failed');
    refer.notify(status);
    if (t.transferorGone) call.end('transfer-failed');
  };

  const moved = async (
    cLeg: Leg,
    session: DialogSession,
    sdpC: string,
    offerY: string,
    yr: SipResponse,
  ): Promise<void> => {
    if (done) return;
    if (yr.status >= 300) {
      fail(500, `the transferee refused the new media (${yr.status})`);
      return;
    }
    const ans = sdpOf(yr);
    if (ans !== undefined && mediaTargetOf(ans) !== mediaTargetOf(to.remoteSdp)) {
      // The transferee moved its own media: the new session learns its address.
      try {
        await engine.offer({
          callId: mediaId,
          fromTag: to.mediaTag,
          toTag: from.mediaTag,
          sdp: ans,
          from: to.profile,
          to: cProfile,
        });
        await engine.answer({
          callId: mediaId,
          fromTag: to.mediaTag,
          toTag: from.mediaTag,
          sdp: sdpC,
        });
      } catch (err) {
        fail(sipStatusOf(err), 'the engine refused the transferee’s answer');
        return;
      }
      if (done) return;
    }
    if (ans !== undefined) to.remoteSdp = ans;
    to.localSdp = offerY;
    done = true;
    call.transfer = undefined;
    const old = call.replaceLeg(from, cLeg, session, mediaId);
    engine.delete({ callId: old }).catch(() => undefined);
    d.counters.executed++;
    log('info', { call: call.id, trunk: route.trunk.name }, 'sbc: transfer done');
    // §2.4.5: the NOTIFY of the final response; then the transferor's leg ends (RFC 5589 §6).
    refer.notify(200);
    const xs = from.session;
    if (xs?.state === 'confirmed') xs.bye();
  };

  const connect = async (cLeg: Leg, session: DialogSession, r: SipResponse): Promise<void> => {
    newSession = session;
    if (done) {
      if (session.state === 'confirmed') session.bye();
      return;
    }
    const sdpC = sdpOf(r);
    if (sdpC === undefined) {
      fail(488, 'the target answered without SDP');
      return;
    }
    cLeg.remoteSdp = sdpC;
    let forY: string;
    try {
      forY = (
        await engine.answer({
          callId: mediaId,
          fromTag: to.mediaTag,
          toTag: from.mediaTag,
          sdp: sdpC,
        })
      ).sdp;
    } catch (err) {
      fail(sipStatusOf(err), 'the engine refused the target’s answer');
      return;
    }
    if (done) return;
    const ys = to.session;
    if (ys?.state !== 'confirmed') {
      fail(487, 'the transferee left');
      return;
    }
    // RFC 3264 §8: the same o= line toward the transferee, its version one higher.
    const offerY = continueOrigin(to.localSdp, forY);
    try {
      ys.reinvite({ body: offerY, contentType: SDP }, (yr) => {
        void moved(cLeg, session, sdpC, offerY, yr);
      });
    } catch {
      fail(491, 'an INVITE is in progress on the transferee’s leg'); // §14.1
    }
  };

  engine
    .offer({
      callId: mediaId,
      fromTag: to.mediaTag,
      sdp: to.remoteSdp,
      from: to.profile,
      to: cProfile,
    })
    .then(
      (r) => {
        mediaOpen = true;
        if (done) {
          engine.delete({ callId: mediaId }).catch(() => undefined);
          return;
        }
        const cLeg: Leg = {
          zone: route.zone,
          mediaTag: from.mediaTag,
          profile: cProfile,
          session: undefined,
          localSdp: r.sdp,
        };
        log('info', { call: call.id, trunk: route.trunk.name }, 'sbc: transfer: new call');
        try {
          invite = route.zone.invite(
            { ...route.invite, body: r.sdp, contentType: SDP },
            {
              onProgress: (res) => {
                if (!done && res.status > 100) refer.notify(res.status);
              },
              onAccepted: (s, res) => void connect(cLeg, s, res),
              onFailed: (res, err) =>
                fail(res ? relayedStatus(res.status) : sipStatusOf(err), 'the target failed'),
            },
          );
        } catch (err) {
          fail(sipStatusOf(err), 'the new call could not be sent');
        }
      },
      (err: unknown) => fail(sipStatusOf(err), 'the engine refused the transferee’s SDP'),
    );
}
