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
import type { LegProfile } from '@tfx/media';
import type {
  ClientInvite,
  DialogSession,
  Payload,
  ServerInvite,
  SipRequest,
  SipResponse,
} from '@tfx/sip';
import type { MediaPath } from './anchor.js';
import type { ZoneAgent } from './zone.js';

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
  | 'shutdown';

/** One side of the call. */
export interface Leg {
  readonly zone: ZoneAgent;
  /** The media engine's tag for this side (`a` or `b`: never the far end's SIP tag). */
  readonly mediaTag: 'a' | 'b';
  readonly profile: LegProfile;
  session: DialogSession | undefined;
}

export interface CallDeps {
  /** The media engine (anchored), or `directMedia` (SDP untouched: anchor.ts). */
  readonly engine: MediaPath;
  readonly onEnded: (call: SbcCall, reason: EndReason) => void;
  readonly log: (level: 'info' | 'warn' | 'debug', obj: object, msg: string) => void;
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
  readonly a: Leg;
  readonly b: Leg;
  readonly startedAt: number;
  /** The caller's INVITE (leg A, out of dialog). */
  readonly incoming: ServerInvite;
  /** Our INVITE of leg B (the current trunk's). */
  outgoing: OutgoingInvite | undefined;
  #state: CallState = 'offering';
  #endReason: EndReason | undefined;
  #mediaOpen = false;
  /** The answer A was given in a provisional response, repeated in the 2xx (RFC 3264 §4). */
  #earlyAnswer: string | undefined;
  readonly #deps: CallDeps;

  constructor(
    id: string,
    incoming: ServerInvite,
    a: Omit<Leg, 'session'>,
    b: Omit<Leg, 'session'>,
    deps: CallDeps,
    now: number,
  ) {
    this.id = id;
    this.incoming = incoming;
    this.a = { ...a, session: undefined };
    this.b = { ...b, session: undefined };
    this.#deps = deps;
    this.startedAt = now;
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

  // --- setup -------------------------------------------------------------------------------------

  /** Anchors the caller's offer: the SDP for leg B (A's media address hidden behind B's zone's). */
  async offerFromA(): Promise<string> {
    const sdp = sdpOf(this.incoming.request);
    if (sdp === undefined) {
      throw new TfxError('media-unsupported', 'an INVITE without an SDP offer (late offer)');
    }
    const r = await this.#deps.engine.offer({
      callId: this.id,
      fromTag: this.a.mediaTag,
      sdp,
      from: this.a.profile,
      to: this.b.profile,
    });
    if (this.#isEnded()) {
      // Cancelled while the engine worked: the session it just made goes too.
      await this.#deps.engine.delete({ callId: this.id }).catch(() => undefined);
      return r.sdp;
    }
    this.#mediaOpen = true;
    return r.sdp;
  }

  /** Leg B's INVITE got a provisional response (with an early dialog when it has a tag). */
  async onProgress(r: SipResponse, session: DialogSession | undefined): Promise<void> {
    if (this.#state === 'ended' || r.status <= 100) return;
    if (session && session !== this.b.session) this.#watch(this.b, session);
    if (this.#state === 'offering') this.#state = 'early';
    const sdp = sdpOf(r);
    let payload: Payload = {};
    if (sdp !== undefined) {
      const answer = await this.#answer(sdp);
      if (answer === undefined || this.#isEnded()) return;
      this.#earlyAnswer = answer;
      payload = { body: answer, contentType: SDP };
    }
    const inv = this.incoming;
    // RFC 3262 §3: one unacknowledged reliable provisional at a time; a later one (without news
    // for the caller) waits for nothing: it is dropped.
    if (inv.answered || inv.unacked !== undefined) return;
    inv.progress(r.status === 199 ? 183 : r.status, payload);
    if (inv.session && inv.session !== this.a.session) this.#watch(this.a, inv.session);
  }

  /** Leg B answered: answer leg A with the engine's rewrite of B's answer. */
  async onAccepted(session: DialogSession, r: SipResponse): Promise<void> {
    this.#watch(this.b, session);
    if (this.#state === 'ended') {
      session.bye();
      return;
    }
    const sdp = sdpOf(r);
    const answer = sdp !== undefined ? await this.#answer(sdp) : this.#earlyAnswer;
    if (this.#isEnded()) return; // #answer failed and ended the call (B gets a BYE there)
    if (answer === undefined) {
      this.#deps.log('warn', { call: this.id }, 'sbc: the callee answered without SDP');
      this.end('leg-failed', 488);
      return;
    }
    if (this.incoming.answered) {
      // The caller's CANCEL crossed B's 2xx: B is ACKed (by the dialog layer) and gets a BYE.
      this.end('caller-cancel');
      return;
    }
    const a = this.incoming.accept({ body: answer, contentType: SDP });
    this.#watch(this.a, a);
    this.#state = 'confirmed';
  }

  /** Leg B failed (final non-2xx, timeout, transport error) and no other trunk is left. */
  onFailed(r: SipResponse | undefined, err?: TfxError): void {
    if (this.#state === 'ended') return;
    const status = r ? relayedStatus(r.status) : err ? sipStatusOf(err) : 500;
    this.end(r?.status === 487 ? 'caller-cancel' : 'rejected', status);
  }

  /** The caller sent CANCEL (§9.2: the dialog layer answers 200 and 487 to A itself). */
  onCancel(): void {
    if (this.#state === 'ended' || this.#state === 'confirmed') return;
    this.end('caller-cancel', 487);
  }

  // --- in the dialogs ------------------------------------------------------------------------------

  #other(leg: Leg): Leg {
    return leg === this.a ? this.b : this.a;
  }

  /** Hooks a leg's dialog: BYE, re-INVITE, UPDATE, INFO and failures reach the other leg. */
  #watch(leg: Leg, session: DialogSession): void {
    leg.session = session;
    session.events = {
      onTerminated: (why) => {
        if (this.#state === 'ended' || why === 'bye' || why === 'closed') return;
        if (leg.session !== session) return; // an early dialog of another fork
        if (why === 'remote-bye') this.end(leg === this.a ? 'caller-bye' : 'callee-bye');
        // 'failed': a 481/408 in the dialog (§12.2.1.2); 'no-ack': §13.3.1.4's 64*T1. Early
        // dialogs that end with B's INVITE are `onFailed`'s business (it relays B's status).
        else if (this.#state === 'confirmed') this.end('leg-failed');
      },
      onReinvite: (inv) => void this.#relayOffer(leg, inv),
      onRequest: (req, respond) => void this.#relayRequest(leg, req, respond),
    };
  }

  /**
   * §14: a re-INVITE on one leg becomes a re-INVITE on the other, its SDP through the engine
   * (hold, resume, codec change). §14.1 glare on the far leg answers this one 491 so its sender
   * retries after its own timer.
   */
  async #relayOffer(from: Leg, inv: ServerInvite): Promise<void> {
    const to = this.#other(from);
    const target = to.session;
    const sdp = sdpOf(inv.request);
    if (this.#state !== 'confirmed' || !target || target.state !== 'confirmed') {
      inv.reject(491);
      return;
    }
    if (sdp === undefined) {
      inv.reject(488); // a re-INVITE without an offer (late offer): not yet
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
          .answer({ callId: this.id, fromTag: from.mediaTag, toTag: to.mediaTag, sdp: answer })
          .then(
            (res) => {
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

  /** An offer from one leg through the engine: the SDP the other leg receives (its zone's). */
  async #offerAcross(from: Leg, to: Leg, sdp: string): Promise<string> {
    const r = await this.#deps.engine.offer({
      callId: this.id,
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
    const to = this.#other(from);
    const target = to.session;
    if (req.method === 'OPTIONS') {
      respond(200, { headers: [['Accept', SDP]] });
      return;
    }
    if (!target || target.state === 'terminated') {
      respond(481);
      return;
    }
    if (req.method === 'UPDATE') {
      const sdp = sdpOf(req);
      if (sdp === undefined) {
        target.update({}, (r) => respond(r.status < 300 ? 200 : relayedStatus(r.status)));
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
          .answer({ callId: this.id, fromTag: from.mediaTag, toTag: to.mediaTag, sdp: answer })
          .then(
            (res) => respond(200, { body: res.sdp, contentType: SDP }),
            (err: unknown) => respond(sipStatusOf(err)),
          );
      });
      return;
    }
    if (req.method === 'INFO') {
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
        callId: this.id,
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
   * Ends the call on both legs, whatever state it is in: a confirmed dialog gets a BYE (§15), the
   * caller's unanswered INVITE a final `status`, our unanswered INVITE a CANCEL (§9.1: the dialog
   * layer ACKs and BYEs a 2xx that crosses it), and the media session is deleted. Idempotent.
   */
  end(reason: EndReason, status = 500): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#endReason = reason;
    if (!this.incoming.answered) this.incoming.reject(status);
    for (const leg of [this.a, this.b]) {
      const s = leg.session;
      if (s && s.state === 'confirmed') s.bye();
    }
    this.outgoing?.cancel();
    if (this.#mediaOpen) {
      this.#mediaOpen = false;
      this.#deps.engine.delete({ callId: this.id }).catch((err: unknown) => {
        this.#deps.log('debug', { call: this.id, err }, 'sbc: media delete failed');
      });
    }
    this.#deps.onEnded(this, reason);
  }
}
