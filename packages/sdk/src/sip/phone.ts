/**
 * `SipPhone`: the SDK's SIP-over-WebSocket client (RFC 7118) for calls between a browser and the
 * telephone world through TFX's `/sip` (the SBC's `webrtc` zone, or the SIP server). It stands on
 * SIP.js (RFC 3261 transactions and dialogs, digest, the RTCPeerConnection's offer/answer) — why
 * that library and not TFX's own stack is written down in docs/sdk.md — and adds what a dial pad
 * needs: typed targets, one call state machine (`call-state.ts`), readable failure reasons, DTMF
 * through `RTCDTMFSender.insertDTMF`, idempotent `close()`.
 */
import {
  Invitation,
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Session,
} from 'sip.js';
import { Emitter } from '../emitter.js';
import { FINAL_STATES, nextCallState, type CallEvent, type CallSnapshot } from './call-state.js';
import { failureReason, parseDialTarget, validDtmf, validHost } from './dial.js';

export interface SipPhoneOptions {
  /** `wss://host/sip` (or `ws://` on an insecure dev server). Default: this page's origin + `/sip`. */
  readonly server?: string;
  /** The SIP account (the From and the AOR: `sip:user@domain`) and its password. */
  readonly user: string;
  readonly password: string;
  /**
   * The digest username when it is not `user` — a room dial-out credential from
   * `POST /api/v1/gateway/room-dial-out` (calls go out as the account, signed with it).
   */
  readonly authorizationUser?: string;
  /** The SIP domain (the server's `sip.domain`): the account's AOR is `sip:user@domain`. */
  readonly domain: string;
  readonly displayName?: string;
  /** ICE servers for the calls' peer connections (default none: the SBC's engine is reachable). */
  readonly iceServers?: RTCIceServer[];
  /** Registration lifetime asked for (s); the server may shorten it. Default 600. */
  readonly expires?: number;
}

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';

export interface SipPhoneEvents {
  [event: string]: unknown;
  /** The REGISTER state; `reason` when it failed (wrong password, server unreachable). */
  registration: { readonly state: RegistrationState; readonly reason?: string };
  /** Someone calls this browser: the ringing notice. Answer or reject the call. */
  incoming: PhoneCall;
}

export interface PhoneCallEvents {
  [event: string]: unknown;
  state: CallSnapshot;
}

/** An error with a sentence for a person (a refused target, a failed sign-in). */
export class SipPhoneError extends Error {
  override readonly name = 'SipPhoneError';
}

/** One call, either way. */
export class PhoneCall extends Emitter<PhoneCallEvents> {
  #snap: CallSnapshot;
  readonly #session: Session;

  constructor(
    session: Session,
    readonly direction: 'outgoing' | 'incoming',
    /** Who is at the other end, as dialled or as the caller's From shows it. */
    readonly remote: string,
  ) {
    super();
    this.#session = session;
    this.#snap = { state: direction === 'outgoing' ? 'dialling' : 'incoming' };
    session.stateChange.addListener((st) => {
      if (st === SessionState.Established) this.feed({ type: 'answered' });
      else if (st === SessionState.Terminated)
        // SIP.js terminates the session before it hands the final response to the request
        // delegate: decide after it, so the response's status gives the reason.
        queueMicrotask(() =>
          this.feed(
            this.#hungUp
              ? { type: 'hangup' }
              : this.#snap.state === 'dialling' || this.#snap.state === 'ringing'
                ? { type: 'error', reason: 'The call ended before it was answered' }
                : { type: 'remote-ended' },
          ),
        );
    });
  }

  #hungUp = false;
  #earlyMedia = false;

  /**
   * The far end's ringing came with media (a 1xx with SDP — RFC 3960 early media, or the SBC's
   * own ringback): a page plays no ringback tone of its own then.
   */
  get earlyMedia(): boolean {
    return this.#earlyMedia;
  }

  /** @internal A provisional response arrived; `sdp` when it carried a session description. */
  progress(status: number, sdp: boolean): void {
    if (sdp && status > 100 && status < 200) this.#earlyMedia = true;
    this.feed({ type: 'provisional', status });
  }

  get state(): CallSnapshot['state'] {
    return this.#snap.state;
  }
  get snapshot(): CallSnapshot {
    return this.#snap;
  }

  /** @internal Feeds an event of the SIP session into the state machine. */
  feed(ev: CallEvent): void {
    const next = nextCallState(this.#snap, ev);
    if (!next) return;
    this.#snap = next;
    this.emit('state', next);
  }

  /** The call's RTCPeerConnection (for stats), once the offer or answer is made. */
  get peerConnection(): RTCPeerConnection | undefined {
    const sdh = this.#session.sessionDescriptionHandler as
      { peerConnection?: RTCPeerConnection } | undefined;
    return sdh?.peerConnection;
  }

  /** The far side's audio, to play in an `<audio>` element. */
  get remoteStream(): MediaStream | undefined {
    const sdh = this.#session.sessionDescriptionHandler as
      { remoteMediaStream?: MediaStream } | undefined;
    return sdh?.remoteMediaStream;
  }

  /** Answers a ringing incoming call (200 OK with the peer connection's answer). */
  async answer(): Promise<void> {
    if (!(this.#session instanceof Invitation) || this.#snap.state !== 'incoming')
      throw new SipPhoneError('Only a ringing incoming call can be answered');
    this.feed({ type: 'answer' });
    try {
      await this.#session.accept({
        sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
      });
    } catch (err) {
      this.feed({ type: 'error', reason: `Could not answer: ${describe(err)}` });
    }
  }

  /** Declines a ringing incoming call (486 Busy Here, or `status` 480/603). */
  reject(status: 480 | 486 | 603 = 486): void {
    if (!(this.#session instanceof Invitation) || this.#snap.state !== 'incoming') return;
    this.#hungUp = true;
    void this.#session.reject({ statusCode: status }).catch(() => undefined);
    this.feed({ type: 'hangup' });
  }

  /**
   * Ends the call whatever its state: CANCEL while it rings out (RFC 3261 §9.1), BYE once it is
   * connected (§15), a decline while it rings in. Idempotent.
   */
  hangup(): void {
    if (FINAL_STATES.has(this.#snap.state)) return;
    this.#hungUp = true;
    const s = this.#session;
    const done = (p: Promise<unknown>): void => void p.catch(() => undefined);
    if (s.state === SessionState.Established) done(s.bye());
    else if (s instanceof Inviter && s.state !== SessionState.Terminated) done(s.cancel());
    else if (s instanceof Invitation && s.state !== SessionState.Terminated)
      done(s.reject({ statusCode: 486 }));
    this.feed({ type: 'hangup' });
  }

  /**
   * Sends DTMF in the media as RFC 4733 events (`RTCDTMFSender.insertDTMF`): 0-9, A-D, `*`, `#`,
   * `,` (a 2 s pause). `false` when the call is not connected or the tones are not valid.
   */
  sendDtmf(tones: string, duration = 100): boolean {
    if (this.#snap.state !== 'connected' || !validDtmf(tones)) return false;
    const sender = this.peerConnection?.getSenders().find((x) => x.track?.kind === 'audio');
    if (!sender?.dtmf) return false;
    sender.dtmf.insertDTMF(tones, Math.min(6000, Math.max(40, duration)), 70);
    return true;
  }
}

/** The SIP-over-WSS phone of one SIP account. */
export class SipPhone extends Emitter<SipPhoneEvents> {
  readonly #options: SipPhoneOptions;
  readonly #ua: UserAgent;
  #registerer: Registerer | undefined;
  #registration: RegistrationState = 'unregistered';
  readonly #calls = new Set<PhoneCall>();
  #closed = false;
  #dialOnly = false;

  constructor(options: SipPhoneOptions) {
    super();
    const userRe = /^[A-Za-z0-9\-_.!~*'()+%]{1,64}$/;
    if (!userRe.test(options.user)) throw new SipPhoneError('The SIP user name is not valid');
    if (
      options.authorizationUser !== undefined &&
      !/^[A-Za-z0-9\-_.!~*'()+%]{1,128}$/.test(options.authorizationUser)
    )
      throw new SipPhoneError('The SIP authorization user name is not valid');
    if (!validHost(options.domain)) throw new SipPhoneError('The SIP domain is not valid');
    const server = options.server ?? defaultServer();
    if (!/^wss?:\/\/[^\s]+$/.test(server))
      throw new SipPhoneError('The SIP server must be a ws:// or wss:// URL');
    this.#options = options;
    const uri = UserAgent.makeURI(`sip:${options.user}@${options.domain}`);
    if (!uri) throw new SipPhoneError('The SIP address is not valid');
    this.#ua = new UserAgent({
      uri,
      displayName: options.displayName,
      authorizationUsername: options.authorizationUser ?? options.user,
      authorizationPassword: options.password,
      transportOptions: { server },
      logBuiltinEnabled: false,
      userAgentString: 'TFX web phone',
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: { iceServers: options.iceServers ?? [] },
        iceGatheringTimeout: 2000,
      },
      delegate: {
        onInvite: (inv) => this.#incoming(inv),
        onDisconnect: () => {
          if (!this.#closed && this.#registration === 'registered')
            this.#setRegistration('failed', 'The connection to the server was lost');
        },
      },
    });
  }

  get registration(): RegistrationState {
    return this.#registration;
  }

  /** Calls can be placed: registered, or connected with `register: false`. */
  get ready(): boolean {
    return (
      !this.#closed &&
      (this.#registration === 'registered' || (this.#dialOnly && this.#ua.isConnected()))
    );
  }

  /** The calls not yet ended. */
  get calls(): readonly PhoneCall[] {
    return [...this.#calls];
  }

  /**
   * Connects to `/sip` and registers the account (REGISTER, 401, REGISTER with digest —
   * RFC 3261 §10.2, §22.2): incoming calls reach this browser from then on. Rejects with a
   * `SipPhoneError` saying why (wrong user or password: the server's 403). With
   * `register: false` it only opens the WebSocket: calls out, none in (room dial-out).
   */
  async connect(o: { readonly register?: boolean } = {}): Promise<void> {
    this.#alive();
    if (o.register === false) {
      this.#dialOnly = true;
      try {
        await this.#ua.start();
      } catch (err) {
        throw new SipPhoneError(`Cannot reach the SIP server: ${describe(err)}`);
      }
      return;
    }
    this.#setRegistration('registering');
    try {
      await this.#ua.start();
    } catch (err) {
      this.#setRegistration('failed', `Cannot reach the SIP server: ${describe(err)}`);
      throw new SipPhoneError(`Cannot reach the SIP server: ${describe(err)}`);
    }
    const reg = new Registerer(this.#ua, { expires: this.#options.expires ?? 600 });
    this.#registerer = reg;
    await new Promise<void>((resolve, reject) => {
      const fail = (reason: string): void => {
        this.#setRegistration('failed', reason);
        reject(new SipPhoneError(reason));
      };
      reg.stateChange.addListener((st) => {
        if (st === RegistererState.Registered) {
          this.#setRegistration('registered');
          resolve();
        } else if (st === RegistererState.Unregistered && this.#registration === 'registered')
          this.#setRegistration('unregistered');
      });
      reg
        .register({
          requestDelegate: {
            onReject: (r) => {
              const { statusCode, reasonPhrase } = r.message;
              fail(
                statusCode === 401 || statusCode === 403 || statusCode === 407
                  ? 'Sign-in failed: wrong user name or password'
                  : `Sign-in failed: ${failureReason(statusCode ?? 0, reasonPhrase)}`,
              );
            },
          },
        })
        .catch((err: unknown) => fail(`Sign-in failed: ${describe(err)}`));
    });
  }

  /**
   * Calls a number or SIP address (`parseDialTarget`): an INVITE with the peer connection's
   * offer (microphone only), answered with 407 and sent again with digest by the SBC's zone.
   * Throws a `SipPhoneError` for a target it will not dial.
   */
  call(target: string): PhoneCall {
    this.#alive();
    const t = parseDialTarget(target, this.#options.domain);
    if (!t.ok) throw new SipPhoneError(t.error);
    const uri = UserAgent.makeURI(t.uri);
    if (!uri) throw new SipPhoneError('That address is not valid');
    const inviter = new Inviter(this.#ua, uri, {
      // A 1xx with SDP is played at once (RFC 3960): a carrier's announcement, or the SBC's
      // ringback on a 180 (docs/sbc.md, "Tones"), whose 200 repeats the 183's codecs.
      earlyMedia: true,
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
    });
    const call = this.#track(new PhoneCall(inviter, 'outgoing', t.display));
    const start = async (): Promise<void> => {
      if (!this.#ua.isConnected()) await this.#ua.start();
      await inviter.invite({
        requestDelegate: {
          onProgress: (r) =>
            call.progress(
              r.message.statusCode ?? 0,
              /^application\/sdp\b/i.test(r.message.getHeader('content-type') ?? '') &&
                r.message.body.length > 0,
            ),
          onReject: (r) =>
            call.feed({
              type: 'final',
              status: r.message.statusCode ?? 0,
              phrase: r.message.reasonPhrase,
            }),
        },
      });
    };
    start().catch((err: unknown) => call.feed({ type: 'error', reason: describe(err) }));
    return call;
  }

  /** Unregisters, ends every call, closes the WebSocket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#calls) c.hangup();
    // Graceful (un-REGISTER, BYEs, the WebSocket's close) but bounded: a server that stopped
    // answering must not hold the page (SIP.js waits for transactions in progress).
    if (this.#registerer && this.#registration === 'registered')
      await within(this.#registerer.unregister(), CLOSE_GRACE_MS);
    await within(this.#ua.stop(), CLOSE_GRACE_MS);
    this.#setRegistration('unregistered');
    this.removeAllListeners();
  }

  #incoming(inv: Invitation): void {
    if (this.#closed) {
      void inv.reject({ statusCode: 480 }).catch(() => undefined);
      return;
    }
    const from = inv.remoteIdentity;
    const who = from.displayName ? `${from.displayName} <${from.uri.user ?? ''}>` : from.uri.user;
    const call = this.#track(new PhoneCall(inv, 'incoming', who ?? 'unknown'));
    // The caller's CANCEL ends the ringing call (RFC 3261 §9.2: 487 to the INVITE).
    inv.delegate = { onCancel: () => call.feed({ type: 'remote-ended' }) };
    this.emit('incoming', call);
  }

  #track(call: PhoneCall): PhoneCall {
    this.#calls.add(call);
    call.on('state', (s) => {
      if (FINAL_STATES.has(s.state)) this.#calls.delete(call);
    });
    return call;
  }

  #setRegistration(state: RegistrationState, reason?: string): void {
    this.#registration = state;
    this.emit('registration', reason === undefined ? { state } : { state, reason });
  }

  #alive(): void {
    if (this.#closed) throw new SipPhoneError('This phone is closed');
  }
}

/** How long `close()` waits for each graceful step before it lets go. */
const CLOSE_GRACE_MS = 2000;

/** `p`, settled or not within `ms` (its failure ignored). */
function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}

function defaultServer(): string {
  const loc = globalThis.location;
  if (!loc) throw new SipPhoneError('No SIP server given');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/sip`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
