/**
 * One B2BUA call: two legs, each a dialog of its own zone (own Call-ID, tags, CSeq, Via,
 * Contact), and a media session in the MediaEngine that both legs' SDP goes through. Nothing of
 * one leg's signalling is copied into the other: the SBC reads the offer and answer, the status
 * codes and the caller's and callee's users, and builds the other leg's messages from its own
 * zone (topology hiding, docs/sbc.md).
 *
 *   SbcCall ──owns──▶ Leg A (ServerInvite → DialogSession, in the zone the call came from)
 *           ──owns──▶ Leg B (ClientInvite → DialogSession, in the trunk's zone)
 *           ──owns──▶ media session (engine call named by the SBC call id; tags a / b)
 *
 * State machine (explicit; `end` is the only way out, idempotent):
 *
 *   offering ──B 1xx──▶ early ──B 2xx + A 2xx──▶ confirmed ──BYE/failure──▶ ended
 *       └────────────── CANCEL / failure / no route ──────────────────────────▲
 */
import { ERROR_CATALOGUE, TfxError } from '@tfx/protocol';
import type { CallStats, LegProfile, PlaySource } from '@tfx/media';
import {
  generateTag,
  type Clock,
  type ClientInvite,
  type DialogSession,
  type Payload,
  type ServerInvite,
  type SipRequest,
  type SipResponse,
} from '@tfx/sip';
import { directMedia, type MediaPath } from './anchor.js';
import type { DtmfInterworking } from './dtmf.js';
import { failureTone, standInAnswer, type CallTones, type FailureTone } from './tones.js';
import { sameSdp } from './per-leg.js';
import { ProvisionalRelay } from './reliable.js';
import { allowOf, type ZoneAgent } from './zone.js';

/** Leg B's INVITE as the call uses it: one ClientInvite, or a parallel fork (fork.ts). */
export type OutgoingInvite = Pick<ClientInvite, 'request' | 'cancel'>;

export type CallState = 'offering' | 'early' | 'confirmed' | 'ended';

/** Why a call ended (for logs, counters and the calls list). */
export type EndReason =
  | 'caller-bye'
  | 'callee-bye'
  | 'caller-cancel'
  | 'rejected'
  | 'no-route'
  | 'media-failed'
  | 'leg-failed'
  | 'media-timeout'
  | 'session-expired'
  | 'transfer-failed'
  | 'shutdown'
  /** The zone's maximum call duration passed (fraud limits): BYE on both legs. */
  | 'max-duration'
  /** Released for an emergency call at capacity (admission.ts; RFC 4411 Reason on the BYE). */
  | 'preempted';

/** One side of the call. */
export interface Leg {
  readonly zone: ZoneAgent;
  /** The media engine's tag for this side (`a` or `b`: never the far end's SIP tag). */
  readonly mediaTag: 'a' | 'b';
  readonly profile: LegProfile;
  session: DialogSession | undefined;
  /** The SDP this leg's peer sent last (offer or answer), and the one the SBC sent it last. */
  remoteSdp?: string | undefined;
  localSdp?: string | undefined;
}

/** A transfer under way on a call (transfer.ts): the REFER's leg, and how to stop it. */
export interface TransferInProgress {
  /** The transferor's leg (the REFER came on it). */
  readonly from: Leg;
  /** The transferor hung up meanwhile: a failed transfer then ends the call. */
  transferorGone: boolean;
  /** Stops the transfer: cancels or ends the new leg, deletes its media session. Idempotent. */
  abort(): void;
}

/** The call a leg's dialog belongs to (a REFER names only its dialog). */
const callOfSession = new WeakMap<DialogSession, SbcCall>();

export function callOf(session: DialogSession): SbcCall | undefined {
  return callOfSession.get(session);
}

export interface CallDeps {
  /** The media engine (anchored), or `directMedia` (SDP untouched: anchor.ts). */
  readonly engine: MediaPath;
  readonly onEnded: (call: SbcCall, reason: EndReason) => void;
  /**
   * The call is ending, before its last message (the final response to A, the BYEs) is sent: the
   * CDR is written here (cdr.ts), synchronously. `status` is the one A gets if unanswered.
   */
  readonly onEnding?: (call: SbcCall, reason: EndReason, status: number) => void;
  /**
   * A peer's BYE on a call whose media the engine carries: the engine is asked for the call's
   * stats (`query`, at most `timeoutMs` on `clock`) and they go to `onStats` (the CDR) before the
   * call ends; the BYE's 2xx waits for it (the dialog layer's `onTerminated` promise). Without
   * it, or on a timeout or an error, the call ends with what it has.
   */
  readonly finalStats?: {
    readonly clock: Clock;
    readonly timeoutMs: number;
    readonly onStats: (call: SbcCall, stats: CallStats) => void;
  };
  readonly log: (level: 'info' | 'warn' | 'debug', obj: object, msg: string) => void;
  /** SIP INFO ↔ RFC 4733 (dtmf.ts); without it every INFO is relayed as it came. */
  readonly dtmf?: DtmfInterworking;
  /** Ringback, busy and congestion tones, announcements (tones.ts); none without it. */
  readonly tones?: CallTones;
}

const SDP = 'application/sdp';
const decoder = new TextDecoder();

function sdpOf(m: SipRequest | SipResponse): string | undefined {
  if (m.body.length === 0) return undefined;
  const ct = m.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (ct !== undefined && ct !== SDP) return undefined;
  return decoder.decode(m.body);
}

/** The SIP status a TfxError ends a transaction with (the catalogue's, else 500). */
export function sipStatusOf(err: unknown): number {
  if (err instanceof TfxError) {
    const spec = ERROR_CATALOGUE[err.code] as { sip?: number };
    return spec.sip ?? 500;
  }
  return 500;
}

/**
 * The status relayed to the caller for the callee's final failure: a 3xx carries the far side's
 * Contacts (not relayed: 480), 401/407 are the far side's challenge (403: the caller cannot answer
 * it); others pass as they are.
 */
export function relayedStatus(status: number): number {
  if (status >= 300 && status < 400) return 480;
  if (status === 401 || status === 407) return 403;
  if (status < 300 || status > 699) return 500;
  return status;
}

export class SbcCall {
  readonly id: string;
  /** The legs; a transfer puts the new leg in the transferor's place. */
  a: Leg;
  b: Leg;
  /** The transfer in progress (REFER executed), if any. */
  transfer: TransferInProgress | undefined;
  readonly startedAt: number;
  /** The caller's INVITE (leg A, out of dialog). */
  readonly incoming: ServerInvite;
  /** Our INVITE of leg B (the current trunk's). */
  outgoing: OutgoingInvite | undefined;
  #state: CallState = 'offering';
  #endReason: EndReason | undefined;
  #mediaOpen = false;
  /** A peer's BYE is waiting for the media stats before the call ends (#endOnBye). */
  #byeEnding: Promise<void> | undefined;
  /** Lets that BYE be answered now: the call ended another way meanwhile (its CDR is written). */
  #releaseBye: (() => void) | undefined;
  /** The engine's call id of the media session (the call id; a transfer makes a new one). */
  #mediaId: string;
  /** The answer A was given in a provisional response, repeated in the 2xx (RFC 3264 §4). */
  #earlyAnswer: string | undefined;
  /** The caller's INVITE had no offer: B's 2xx carries it, A's ACK the answer (RFC 3264 §5). */
  #lateOffer = false;
  /**
   * An offer made in a 2xx (late offer, or a re-INVITE without SDP): `answerer`'s ACK brings the
   * answer, which becomes the body of our ACK to `offerer` (whose 2xx made the offer).
   */
  #awaitAnswer: { readonly answerer: Leg; readonly offerer: Leg } | undefined;
  /**
   * §12.1.2: each early dialog of leg B (a forking far side) has its own early dialog on leg A:
   * B's To tag → the To tag A sees (the first is the INVITE's own tag, later ones new tags).
   */
  readonly #aTagOf = new Map<string, string>();
  /** 18x toward A, held while A's PRACK of a reliable one is outstanding (RFC 3262 §3). */
  readonly #provisional: ProvisionalRelay;
  readonly #deps: CallDeps;
  /** The caller was answered early by the SBC (a stand-in answer, tones.ts), and hears a tone. */
  #standIn = false;
  #toneOn = false;
  /** A failure tone plays: the call ends when it is over (or sooner, by a CANCEL). */
  #failing = false;
  #stopWait: (() => void) | undefined;

  constructor(
    id: string,
    incoming: ServerInvite,
    a: Omit<Leg, 'session'>,
    b: Omit<Leg, 'session'>,
    deps: CallDeps,
    now: number,
  ) {
    this.id = id;
    this.#mediaId = id;
    this.incoming = incoming;
    this.a = { ...a, session: undefined };
    this.b = { ...b, session: undefined };
    this.#deps = deps;
    this.startedAt = now;
    this.#provisional = new ProvisionalRelay(incoming, () => {
      const s = incoming.session;
      if (s && s !== this.a.session) this.watch(this.a, s);
    });
  }

  get state(): CallState {
    return this.#state;
  }

  /** A method, not a field read: TypeScript keeps no narrowing of it across an await. */
  #isEnded(): boolean {
    return this.#state === 'ended';
  }

  get endReason(): EndReason | undefined {
    return this.#endReason;
  }

  /** The media session's id in the engine. */
  get mediaId(): string {
    return this.#mediaId;
  }

  get deps(): CallDeps {
    return this.#deps;
  }

  // --- setup -------------------------------------------------------------------------------------

  /** Whether the caller sent no offer (RFC 3264 §5: B's 2xx offers, A's ACK answers). */
  get lateOffer(): boolean {
    return this.#lateOffer;
  }

  /**
   * Anchors the caller's offer: the SDP for leg B (A's media address hidden behind B's zone's).
   * Undefined for an INVITE without SDP (late offer): leg B's INVITE goes without one too, like
   * Kamailio + rtpengine pass it through, and the offer comes back in B's 2xx.
   */
  async offerFromA(): Promise<string | undefined> {
    const sdp = sdpOf(this.incoming.request);
    if (sdp === undefined) {
      this.#lateOffer = true;
      return undefined;
    }
    const r = await this.#deps.engine.offer({
      callId: this.#mediaId,
      fromTag: this.a.mediaTag,
      sdp,
      from: this.a.profile,
      to: this.b.profile,
    });
    if (this.#isEnded()) {
      // Cancelled while the engine worked: the session it just made goes too.
      await this.#deps.engine.delete({ callId: this.#mediaId }).catch(() => undefined);
      return r.sdp;
    }
    this.#mediaOpen = true;
    this.a.remoteSdp = sdp;
    this.b.localSdp = r.sdp;
    return r.sdp;
  }

  /** Leg B's INVITE got a provisional response (with an early dialog when it has a tag). */
  async onProgress(r: SipResponse, session: DialogSession | undefined): Promise<void> {
    if (this.#state === 'ended' || r.status <= 100) return;
    if (session && session !== this.b.session) this.watch(this.b, session);
    if (this.#state === 'offering') this.#state = 'early';
    // A late offer's 18x SDP is no offer (RFC 3261 §13.2.1: the offer is in the 2xx here, leg B
    // not offering 100rel): the 18x reaches A without it.
    const sdp = this.#lateOffer ? undefined : sdpOf(r);
    if (sdp === undefined && r.status === 180 && this.#tones()?.ringback === true) {
      if (this.#toneOn) return; // ringing already (a 180 again, another fork)
      if (await this.#tone(r, { tone: 'ringback' })) {
        this.#deps.tones!.counters.ringback++;
        return;
      }
      if (this.#isEnded()) return;
    }
    if (sdp !== undefined) await this.#stopTone();
    let payload: Payload = {};
    if (sdp !== undefined) {
      const answer = await this.#answer(sdp);
      if (answer === undefined || this.#isEnded()) return;
      this.#earlyAnswer = answer;
      this.#standIn = false;
      this.b.remoteSdp = sdp;
      this.a.localSdp = answer;
      payload = { body: answer, contentType: SDP };
    }
    // RFC 3262 §3 toward A: one unacknowledged reliable 18x at a time (reliable.ts).
    this.#provisional.send(r.status === 199 ? 183 : r.status, payload, this.#aTag(r));
  }

  /**
   * The To tag leg A answers with for B's response `r` (§12.1.2: one early dialog per fork): the
   * INVITE's own tag for the first of B's tags, a new one for each other fork.
   */
  #aTag(r: SipResponse): string | undefined {
    const bTag = r.headers.to()?.tag;
    if (bTag === undefined) return undefined;
    let aTag = this.#aTagOf.get(bTag);
    if (aTag === undefined) {
      aTag = this.#aTagOf.size === 0 ? this.incoming.toTag : generateTag();
      this.#aTagOf.set(bTag, aTag);
    }
    return aTag;
  }

  /** Leg B answered: answer leg A with the engine's rewrite of B's answer. */
  async onAccepted(session: DialogSession, r: SipResponse): Promise<void> {
    this.watch(this.b, session);
    if (this.#state === 'ended') {
      session.bye();
      return;
    }
    await this.#stopTone();
    if (this.#lateOffer) {
      await this.#acceptLateOffer(session, r);
      return;
    }
    const sdp = sdpOf(r);
    // A stand-in early answer (tones.ts) is no answer of the callee's: its 2xx must carry one.
    const early = this.#standIn ? undefined : this.#earlyAnswer;
    const answer = sdp !== undefined ? await this.#answer(sdp) : early;
    if (this.#isEnded()) return; // #answer failed and ended the call (B gets a BYE there)
    if (answer === undefined) {
      this.#deps.log('warn', { call: this.id }, 'sbc: the callee answered without SDP');
      this.end('leg-failed', 488);
      return;
    }
    await this.#confirmA(r, answer);
  }

  /**
   * Answers leg A (2xx) with `sdp`, on the early dialog of B's fork that answered. RFC 3262 §3:
   * "[the UAS] MUST NOT send a final response until those provisional responses are
   * acknowledged" when an unacknowledged reliable 18x carried a session description: the 2xx
   * waits for A's PRACK.
   */
  async #confirmA(r: SipResponse, sdp: string): Promise<void> {
    const inv = this.incoming;
    await this.#provisional.settled(() => this.#isEnded());
    if (this.#isEnded()) return;
    if (inv.answered) {
      // The caller's CANCEL crossed B's 2xx (B is ACKed by the dialog layer and gets a BYE), or
      // A never PRACKed our reliable 18x (504).
      this.end(inv.unacked === undefined ? 'caller-cancel' : 'leg-failed');
      return;
    }
    const bSdp = sdpOf(r);
    if (bSdp !== undefined) this.b.remoteSdp = bSdp;
    this.a.localSdp = sdp;
    const a = inv.accept({ body: sdp, contentType: SDP }, 200, this.#aTag(r));
    this.watch(this.a, a);
    this.#state = 'confirmed';
  }

  /**
   * RFC 3264 §5, late offer: B's 2xx carries the offer; through the engine (B → A) it becomes
   * the offer in A's 2xx; A's ACK brings the answer, which goes into B's ACK (the dialog layer
   * holds B's ACK back: `deferAck`).
   */
  async #acceptLateOffer(session: DialogSession, r: SipResponse): Promise<void> {
    const sdp = sdpOf(r);
    if (sdp === undefined) {
      this.#deps.log('warn', { call: this.id }, 'sbc: a 2xx to a late offer without SDP');
      this.end('leg-failed', 488); // B is ACKed (no body) before its BYE
      return;
    }
    let offer: string;
    try {
      offer = await this.#offerAcross(this.b, this.a, sdp);
      this.#mediaOpen = true;
    } catch (err) {
      this.#deps.log('warn', { call: this.id, err }, 'sbc: the media engine refused the offer');
      this.end('media-failed', sipStatusOf(err));
      return;
    }
    if (this.#isEnded()) return;
    this.#awaitAnswer = { answerer: this.a, offerer: this.b };
    await this.#confirmA(r, offer);
  }

  /**
   * The ACK of a 2xx that carried our offer (late offer, re-INVITE without SDP). RFC 3264 §5:
   * the answer MUST be in the ACK; without one (or one the engine refuses) the offerer still
   * gets its ACK (§13.2.2.4) and the call ends with a BYE on both legs.
   */
  #onAck(leg: Leg, ack: SipRequest): void {
    const w = this.#awaitAnswer;
    if (!w || w.answerer !== leg || this.#isEnded()) return;
    this.#awaitAnswer = undefined;
    const target = w.offerer.session;
    const sdp = sdpOf(ack);
    if (sdp === undefined) {
      this.#deps.log('info', { call: this.id }, 'sbc: an ACK without the answer (RFC 3264 §5)');
      this.end('leg-failed');
      return;
    }
    this.#deps.engine
      .answer({ callId: this.#mediaId, fromTag: w.offerer.mediaTag, toTag: leg.mediaTag, sdp })
      .then(
        (res) => {
          if (this.#isEnded() || !target?.ackDue) return;
          leg.remoteSdp = sdp;
          w.offerer.localSdp = res.sdp;
          target.ack({ body: res.sdp, contentType: SDP });
        },
        (err: unknown) => {
          this.#deps.log('info', { call: this.id, err }, 'sbc: a bad answer in the ACK');
          this.end('media-failed');
        },
      );
  }

  /** Leg B failed (final non-2xx, timeout, transport error) and no other trunk is left. */
  onFailed(r: SipResponse | undefined, err?: TfxError): void {
    if (this.#state === 'ended') return;
    const status = r ? relayedStatus(r.status) : err ? sipStatusOf(err) : 500;
    if (r?.status === 487) this.end('caller-cancel', status);
    else this.failWith(r?.status ?? status, status);
  }

  /**
   * Ends the unanswered call with `status` toward the caller, after the zone's tone or
   * announcement for the far side's `farStatus` (tones.ts) when one is configured and the caller
   * can be given early media; a CANCEL meanwhile ends it at once.
   */
  failWith(farStatus: number, status: number, headers?: [string, string][]): void {
    if (this.#state === 'ended' || this.#failing) return;
    const t = this.#deps.tones;
    const tone = t && failureTone(farStatus, this.#tones(), (p) => t.durationOf(p));
    if (!tone || this.#state === 'confirmed') {
      this.end('rejected', status, headers);
      return;
    }
    this.#failing = true;
    void this.#playFailure(tone, status, headers);
  }

  async #playFailure(
    tone: FailureTone,
    status: number,
    headers?: [string, string][],
  ): Promise<void> {
    const t = this.#deps.tones!;
    await this.#stopTone();
    if (await this.#tone(undefined, tone.source)) {
      t.counters.failure++;
      // The tone's time on the SBC's clock; an end meanwhile (CANCEL, close) stops the wait.
      await new Promise<void>((resolve) => {
        const timer = t.clock.setTimer(tone.ms, () => resolve());
        this.#stopWait = () => {
          t.clock.clearTimer(timer);
          resolve();
        };
      });
      this.#stopWait = undefined;
    }
    this.end('rejected', status, headers);
  }

  /** The caller zone's tones, when the call's media is anchored (direct media has no engine). */
  #tones(): ReturnType<CallTones['spec']> {
    if (this.#deps.engine === directMedia || this.#lateOffer) return undefined;
    return this.#deps.tones?.spec(this.a.zone.name);
  }

  /**
   * Plays `src` toward the caller over early media: the callee's early answer if the caller has
   * one, else the SBC's own 183 with a stand-in answer (tones.ts). False when it cannot.
   */
  async #tone(r: SipResponse | undefined, src: PlaySource): Promise<boolean> {
    const t = this.#deps.tones;
    if (!t || this.#isEnded() || this.incoming.answered) return false;
    if (this.#earlyAnswer === undefined) {
      const fake = this.b.localSdp && standInAnswer(this.b.localSdp, this.b.profile.mediaAddress);
      if (!fake) return false;
      try {
        const res = await this.#deps.engine.answer({
          callId: this.#mediaId,
          fromTag: this.a.mediaTag,
          toTag: this.b.mediaTag,
          sdp: fake,
        });
        if (this.#isEnded() || this.incoming.answered) return false;
        this.#earlyAnswer = res.sdp;
        this.#standIn = true;
        this.a.localSdp = res.sdp;
        // RFC 3261 §13.3.1.1 / RFC 3960: early media toward the caller in a 183 with SDP.
        this.#provisional.send(183, { body: res.sdp, contentType: SDP }, r && this.#aTag(r));
      } catch (err) {
        t.counters.failed++;
        this.#deps.log('info', { call: this.id, err }, 'sbc: no early media for a tone');
        return false;
      }
    }
    try {
      await t.engine.playMedia({ callId: this.#mediaId, tag: this.a.mediaTag }, src, { repeat: 0 });
      this.#toneOn = true;
      return true;
    } catch (err) {
      t.counters.failed++;
      this.#deps.log('info', { call: this.id, err }, 'sbc: the tone did not start');
      return false;
    }
  }

  async #stopTone(): Promise<void> {
    if (!this.#toneOn) return;
    this.#toneOn = false;
    await this.#deps.tones?.engine
      .stopMedia({ callId: this.#mediaId, tag: this.a.mediaTag })
      .catch(() => undefined);
  }

  /** The caller sent CANCEL (§9.2: the dialog layer answers 200 and 487 to A itself). */
  onCancel(): void {
    if (this.#state === 'ended' || this.#state === 'confirmed') return;
    this.end('caller-cancel', 487);
  }

  // --- in the dialogs ------------------------------------------------------------------------------

  other(leg: Leg): Leg {
    return leg === this.a ? this.b : this.a;
  }

  /** The leg whose dialog is `session`, if any. */
  legOf(session: DialogSession): Leg | undefined {
    return this.a.session === session ? this.a : this.b.session === session ? this.b : undefined;
  }

  /**
   * A transfer completed (transfer.ts): `leg` (the new call's, with its dialog) takes the
   * transferor's place, and the media session is the transfer's. The transferor's dialog is
   * released (no events reach the call any more); the caller BYEs it. Returns the old media id.
   */
  replaceLeg(transferor: Leg, leg: Leg, session: DialogSession, mediaId: string): string {
    const old = this.#mediaId;
    if (transferor.session) {
      callOfSession.delete(transferor.session);
      transferor.session.events = {};
    }
    if (this.a === transferor) this.a = leg;
    else this.b = leg;
    this.#mediaId = mediaId;
    this.watch(leg, session);
    return old;
  }

  /** Hooks a leg's dialog: BYE, re-INVITE, UPDATE, INFO and failures reach the other leg. */
  watch(leg: Leg, session: DialogSession): void {
    leg.session = session;
    callOfSession.set(session, this);
    session.events = {
      onTerminated: (why) => {
        if (this.#state === 'ended' || why === 'bye' || why === 'closed') return;
        if (leg.session !== session) return; // an early dialog of another fork
        const t = this.transfer;
        if (t && t.from === leg) {
          // The transferor may hang up once its REFER is accepted (RFC 5589 §6): the transfer
          // goes on; if it fails, the call ends (transfer.ts).
          t.transferorGone = true;
          return;
        }
        if (why === 'remote-bye')
          return this.#endOnBye(leg === this.a ? 'caller-bye' : 'callee-bye');
        // RFC 4028 §10: the leg's session expired without a refresh (its BYE is sent).
        else if (why === 'expired') this.end('session-expired');
        // 'failed': a 481/408 in the dialog (§12.2.1.2); 'no-ack': §13.3.1.4's 64*T1. Early
        // dialogs that end with B's INVITE are `onFailed`'s business (it relays B's status).
        else if (this.#state === 'confirmed') this.end('leg-failed');
      },
      onReinvite: (inv) => void this.#relayOffer(leg, inv),
      onAck: (ack) => this.#onAck(leg, ack),
      onRequest: (req, respond) => void this.#relayRequest(leg, req, respond),
    };
  }

  /**
   * §14: a re-INVITE on one leg becomes a re-INVITE on the other, its SDP through the engine
   * (hold, resume, codec change). §14.1 glare on the far leg answers this one 491 so its sender
   * retries after its own timer.
   */
  async #relayOffer(from: Leg, inv: ServerInvite): Promise<void> {
    const to = this.other(from);
    const target = to.session;
    const sdp = sdpOf(inv.request);
    if (this.#state !== 'confirmed') {
      inv.reject(491);
      return;
    }
    if (sdp !== undefined && sameSdp(sdp, from.remoteSdp) && from.localSdp !== undefined) {
      // RFC 4028 §10: a session refresh repeating the last SDP is this leg's own business; the
      // leg's dialog answers it with its own Session-Expires, the other leg sees nothing.
      inv.accept({ body: from.localSdp, contentType: SDP });
      return;
    }
    if (this.transfer !== undefined || !target || target.state !== 'confirmed') {
      inv.reject(491);
      return;
    }
    if (sdp === undefined) {
      this.#relayOfferless(from, to, target, inv);
      return;
    }
    let offer: string;
    try {
      offer = await this.#offerAcross(from, to, sdp);
    } catch (err) {
      inv.reject(sipStatusOf(err));
      return;
    }
    try {
      target.reinvite({ body: offer, contentType: SDP }, (r) => {
        if (r.status >= 300) {
          inv.reject(r.status === 491 ? 491 : relayedStatus(r.status));
          return;
        }
        const answer = sdpOf(r);
        if (answer === undefined) {
          inv.reject(488);
          return;
        }
        this.#deps.engine
          .answer({
            callId: this.#mediaId,
            fromTag: from.mediaTag,
            toTag: to.mediaTag,
            sdp: answer,
          })
          .then(
            (res) => {
              from.remoteSdp = sdp;
              to.localSdp = offer;
              to.remoteSdp = answer;
              from.localSdp = res.sdp;
              if (!inv.answered) inv.accept({ body: res.sdp, contentType: SDP });
            },
            (err: unknown) => inv.reject(sipStatusOf(err)),
          );
      });
    } catch {
      // §14.1: an INVITE transaction is already in progress on the far leg.
      inv.reject(491);
    }
  }

  /**
   * §14 / RFC 3264 §5: a re-INVITE without an offer goes to the other leg without one; that
   * leg's 2xx offers (through the engine) in our 2xx; the ACK's answer goes into its ACK.
   */
  #relayOfferless(from: Leg, to: Leg, target: DialogSession, inv: ServerInvite): void {
    try {
      target.reinvite(
        {},
        (r) => {
          const offer = r.status < 300 ? sdpOf(r) : undefined;
          if (r.status >= 300) {
            inv.reject(r.status === 491 ? 491 : relayedStatus(r.status));
            return;
          }
          if (offer === undefined) {
            inv.reject(488); // its ACK (no body) is sent before the call ends
            this.end('leg-failed');
            return;
          }
          this.#offerAcross(to, from, offer).then(
            (sdp) => {
              if (inv.answered || this.#isEnded()) return;
              this.#awaitAnswer = { answerer: from, offerer: to };
              to.remoteSdp = offer;
              from.localSdp = sdp;
              inv.accept({ body: sdp, contentType: SDP });
            },
            (err: unknown) => {
              inv.reject(sipStatusOf(err));
              this.end('media-failed');
            },
          );
        },
        { deferAck: true },
      );
    } catch {
      inv.reject(491); // §14.1: an INVITE transaction is in progress on the far leg
    }
  }

  /** An offer from one leg through the engine: the SDP the other leg receives (its zone's). */
  async #offerAcross(from: Leg, to: Leg, sdp: string): Promise<string> {
    const r = await this.#deps.engine.offer({
      callId: this.#mediaId,
      fromTag: from.mediaTag,
      toTag: to.mediaTag,
      sdp,
      from: from.profile,
      to: to.profile,
    });
    return r.sdp;
  }

  /** UPDATE (RFC 3311) and INFO pass to the other leg; OPTIONS is answered here. */
  async #relayRequest(
    from: Leg,
    req: SipRequest,
    respond: (status: number, payload?: Payload) => void,
  ): Promise<void> {
    const to = this.other(from);
    const target = to.session;
    if (req.method === 'OPTIONS') {
      // §11.2: answered here (in a dialog too), never relayed.
      respond(200, {
        headers: [
          ['Allow', allowOf(from.zone.spec)],
          ['Accept', SDP],
        ],
      });
      return;
    }
    if (req.method === 'UPDATE' && sdpOf(req) === undefined) {
      // RFC 3311 §5.2 / RFC 4028 §10: an UPDATE without an offer only refreshes this leg's
      // session; its dialog answers with this leg's Session-Expires. Nothing crosses.
      respond(200);
      return;
    }
    if (!target || target.state === 'terminated') {
      respond(481);
      return;
    }
    if (req.method === 'UPDATE') {
      const sdp = sdpOf(req) as string;
      if (this.transfer !== undefined) {
        respond(491);
        return;
      }
      let offer: string;
      try {
        offer = await this.#offerAcross(from, to, sdp);
      } catch (err) {
        respond(sipStatusOf(err));
        return;
      }
      target.update({ body: offer, contentType: SDP }, (r) => {
        const answer = sdpOf(r);
        if (r.status >= 300 || answer === undefined) {
          respond(r.status >= 300 ? relayedStatus(r.status) : 488);
          return;
        }
        this.#deps.engine
          .answer({
            callId: this.#mediaId,
            fromTag: from.mediaTag,
            toTag: to.mediaTag,
            sdp: answer,
          })
          .then(
            (res) => {
              from.remoteSdp = sdp;
              to.localSdp = offer;
              to.remoteSdp = answer;
              from.localSdp = res.sdp;
              respond(200, { body: res.sdp, contentType: SDP });
            },
            (err: unknown) => respond(sipStatusOf(err)),
          );
      });
      return;
    }
    if (req.method === 'INFO') {
      if (this.#deps.dtmf?.onInfo(this, from, req, respond, this.#deps.engine !== directMedia))
        return;
      const ct = req.headers.get('content-type');
      target.request(
        'INFO',
        req.body.length > 0 && ct !== undefined ? { body: req.body, contentType: ct } : {},
        (r) => respond(r.status < 300 ? 200 : relayedStatus(r.status)),
      );
      return;
    }
    respond(501);
  }

  /** B's SDP answer (or an early answer) through the engine; on failure the call ends. */
  async #answer(sdp: string): Promise<string | undefined> {
    try {
      const r = await this.#deps.engine.answer({
        callId: this.#mediaId,
        fromTag: this.a.mediaTag,
        toTag: this.b.mediaTag,
        sdp,
      });
      return r.sdp;
    } catch (err) {
      this.#deps.log('warn', { call: this.id, err }, 'sbc: the media engine refused the answer');
      this.end('media-failed', sipStatusOf(err));
      return undefined;
    }
  }

  // --- the end -------------------------------------------------------------------------------------

  /**
   * A peer's BYE (its dialog has ended, its 2xx waits for the returned promise). Kamailio's order:
   * `rtpengine_query`/`rtpengine_delete` (a blocking ng round trip), then the BYE is relayed and
   * `acc` writes the record: the engine's stats of the call are in the CDR before the BYE is
   * answered, a call shorter than the engine's stats interval included. So: the engine's stats
   * now (bounded), then `end` (the CDR line, the other leg's BYE, the media deleted). A second
   * BYE meanwhile (the other leg's) shares the wait; another end meanwhile (shutdown, a timeout)
   * writes the record itself and answers the BYE at once (the stats then come too late).
   */
  #endOnBye(reason: EndReason): Promise<void> {
    this.#byeEnding ??= new Promise<void>((release) => {
      this.#releaseBye = release;
      this.#queryStats()
        .then((stats) => {
          if (this.#isEnded()) return;
          if (stats) this.#deps.finalStats?.onStats(this, stats);
          this.end(reason);
        })
        .catch((err: unknown) => {
          this.#deps.log('warn', { call: this.id, err }, 'sbc: ending the call after a BYE failed');
        })
        .finally(release);
    });
    return this.#byeEnding;
  }

  /** The engine's stats of the call now, or undefined (no engine, none in time, an error). */
  #queryStats(): Promise<CallStats | undefined> {
    const f = this.#deps.finalStats;
    const engine = this.#deps.engine;
    if (!f || !engine.query || !this.#mediaOpen) return Promise.resolve(undefined);
    const callId = this.#mediaId;
    return new Promise((resolve) => {
      const timer = f.clock.setTimer(f.timeoutMs, () => {
        this.#deps.log('info', { call: this.id }, 'sbc: no media stats in time for the CDR');
        resolve(undefined);
      });
      const done = (stats: CallStats | undefined): void => {
        f.clock.clearTimer(timer);
        resolve(stats);
      };
      Promise.resolve()
        .then(() => engine.query?.({ callId }))
        .then(done, (err: unknown) => {
          this.#deps.log('debug', { call: this.id, err }, 'sbc: media query failed');
          done(undefined);
        });
    });
  }

  /**
   * Ends the call on both legs, whatever state it is in: a confirmed dialog gets a BYE (§15), the
   * caller's unanswered INVITE a final `status`, our unanswered INVITE a CANCEL (§9.1: the dialog
   * layer ACKs and BYEs a 2xx that crosses it), and the media session is deleted. Idempotent.
   */
  end(reason: EndReason, status = 500, headers?: [string, string][]): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#endReason = reason;
    this.#stopWait?.();
    this.#deps.onEnding?.(this, reason, status);
    if (!this.incoming.answered) this.incoming.reject(status, headers && { headers });
    for (const leg of [this.a, this.b]) {
      const s = leg.session;
      if (s && s.state === 'confirmed') s.bye(headers && { headers });
    }
    this.outgoing?.cancel();
    this.transfer?.abort();
    this.transfer = undefined;
    if (this.#mediaOpen) {
      this.#mediaOpen = false;
      this.#deps.engine.delete({ callId: this.#mediaId }).catch((err: unknown) => {
        this.#deps.log('debug', { call: this.id, err }, 'sbc: media delete failed');
      });
    }
    this.#deps.onEnded(this, reason);
    // A BYE waiting for the media stats (#endOnBye) is answered now: the record is written.
    this.#releaseBye?.();
  }
}
