/**
 * The user-agent core: a SipStack whose transaction user is the dialog layer, with the
 * operations an application needs — place, answer, reject, cancel and end calls; hold and
 * resume by re-INVITE with the caller's SDP; OPTIONS, MESSAGE, INFO, REFER, SUBSCRIBE; and
 * REGISTER clients. It owns the stack, the dialog layer and its registrations, and closes them.
 *
 *   UserAgentCore ──owns──▶ SipStack (transport, transactions)
 *                 ├──owns──▶ DialogLayer (dialogs → their timers and subscriptions)
 *                 └──owns──▶ Registration* (their refresh timers)
 *
 * Targets are resolved without DNS (IP hosts, or the `outbound` proxy); see docs/sip.md.
 */
import { TfxError } from '@tfx/protocol';
import { nodeDigestHash, randomCnonce } from '../auth/index.js';
import {
  DialogLayer,
  type ClientInvite,
  type ClientInviteEvents,
  type ClientSubscription,
  type ClientSubscriptionEvents,
  type DialogSession,
  type IncomingRefer,
  type LocalParty,
  type AckOptions,
  type Payload,
  type ReferEvents,
  type ServerInvite,
  type ServerSubscription,
  type SessionTimerOptions,
  type SubscribeOptions,
} from '../dialog/index.js';
import { hopOf } from '../element/index.js';
import { SipStack, type ListenPlan, type SipStackOptions, type StackHop } from '../stack/index.js';
import {
  createResponse,
  parseUri,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type Uri,
} from '../syntax/index.js';
import type { IncomingRequest } from '../transaction/index.js';
import type { ListenerInfo, ReceiveContext, TransportProtocol } from '../transport/index.js';
import {
  Registration,
  answerDigest,
  type RegistrationInfo,
  type RegistrationState,
} from './register.js';
import { holdSdp, resumeSdp } from './sdp.js';

export interface UserAgentCoreOptions extends Omit<SipStackOptions, 'tu'> {
  /** The user part of our Contact and default From. Default `tfx`. */
  readonly user?: string;
  /** Transport of the requests we originate (our Via and Contact). Default `udp`. */
  readonly via?: TransportProtocol;
  /**
   * Option tags we support (Supported; Require of others → 420). Default
   * `['100rel', 'replaces', 'timer']`: reliable 1xx, Replaces and session timers are on.
   */
  readonly supported?: readonly string[];
  /** RFC 4028 session timers (with `timer` supported). */
  readonly sessionTimer?: SessionTimerOptions;
  /** An incoming call: `invite.progress()`, `invite.accept(payload)` or `invite.reject()`. */
  readonly onInvite?: (invite: ServerInvite) => void;
  /** A REFER in a call (transfer): `refer.accept()` then `refer.notify(status)`. Else 501. */
  readonly onRefer?: (refer: IncomingRefer) => void;
  /** Event packages we notify for (RFC 6665) and the SUBSCRIBE handler; others get 489. */
  readonly events?: readonly string[];
  readonly onSubscribe?: (sub: ServerSubscription) => void;
  /** Digest credentials for a 401/407 to our INVITEs (§22.2; e.g. a trunk). */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** An out-of-dialog MESSAGE (RFC 3428): answer with `respond(200)`. Without one: 405. */
  readonly onMessage?: (request: SipRequest, respond: (status: number) => void) => void;
}

export interface RegisterOptions {
  /** Registrar URI (§10.2 Request-URI), e.g. `sip:127.0.0.1:5060`. */
  readonly registrar: string;
  /** Address of record, e.g. `sip:alice@example.com`. */
  readonly aor: string;
  readonly username?: string;
  readonly password?: string;
  /** Seconds; default 3600. */
  readonly expires?: number;
  /** Retry after a failure without Retry-After, seconds; default 60. */
  readonly retryAfter?: number;
  readonly onStateChange?: (state: RegistrationState, info: RegistrationInfo) => void;
}

export const DEFAULT_SUPPORTED: readonly string[] = ['100rel', 'replaces', 'timer'];
const ALLOW =
  'INVITE, ACK, CANCEL, BYE, INFO, UPDATE, PRACK, OPTIONS, REFER, SUBSCRIBE, NOTIFY, MESSAGE';

export class UserAgentCore {
  readonly stack: SipStack;
  readonly dialogs: DialogLayer;
  /** Registrations made by {@link register}, closed with the core. */
  readonly registrations = new Set<Registration>();
  readonly #o: UserAgentCoreOptions;
  readonly #supported: readonly string[];
  #closed = false;

  constructor(o: UserAgentCoreOptions) {
    this.#o = o;
    this.#supported = o.supported ?? DEFAULT_SUPPORTED;
    const transport = o.via ?? 'udp';
    const sentBy = (t: TransportProtocol) => this.#sentBy(t);
    const local: LocalParty = {
      get via() {
        const s = sentBy(transport);
        return { transport: transport.toUpperCase(), host: s.host, port: s.port };
      },
      get contact() {
        const s = sentBy(transport);
        const host = s.host.includes(':') ? `[${s.host}]` : s.host;
        const t = transport === 'udp' ? '' : `;transport=${transport}`;
        return `<sip:${o.user ?? 'tfx'}@${host}:${s.port}${t}>`;
      },
    };
    // The stack hands every request and stray response to the dialog layer, made just below.
    const tu = {
      onRequest: (i: IncomingRequest) => this.dialogs.onRequest(i),
      onStrayResponse: (r: SipResponse) => this.dialogs.onStrayResponse(r),
    };
    // §8.2.2.3: the ingress's sanity check answers 420 to a Require it does not know; the
    // extensions this UA supports must pass it (found by sipp's RFC 3262 flow: Require: 100rel).
    const sanity = {
      ...o.transport?.sanity,
      supportedExtensions: [
        ...(o.transport?.sanity?.supportedExtensions ?? []),
        ...this.#supported,
      ],
    };
    this.stack = new SipStack({ ...o, transport: { ...o.transport, sanity }, tu });
    this.dialogs = new DialogLayer({
      clock: this.stack.clock,
      timers: this.stack.transactions.timers,
      sendRequest: (req, target, listener) =>
        this.stack.sendRequest(req, target as StackHop, listener),
      sendStateless: (m, target) => this.#sendStateless(m, target as StackHop | ReceiveContext),
      targetOf: (uri) => this.#hop(uri),
      local,
      supported: this.#supported,
      ...(o.sessionTimer && { sessionTimer: o.sessionTimer }),
      ...(o.credentials && {
        authenticate: (req: SipRequest, r: SipResponse) =>
          answerDigest(req, r, { ...o.credentials!, hash: nodeDigestHash, cnonce: randomCnonce() }),
      }),
      ...(o.onInvite && { onInvite: o.onInvite }),
      ...(o.onRefer && { onRefer: o.onRefer }),
      ...(o.events && { events: o.events }),
      ...(o.onSubscribe && { onSubscribe: o.onSubscribe }),
      onRequest: (i) => this.#outOfDialog(i),
    });
  }

  start(plan: ListenPlan): Promise<ListenerInfo[]> {
    return this.stack.start(plan);
  }

  /** Our address of record for From: `<sip:user@host>`. */
  get from(): string {
    const s = this.#sentBy(this.#o.via ?? 'udp');
    const host = s.host.includes(':') ? `[${s.host}]` : s.host;
    return `<sip:${this.#o.user ?? 'tfx'}@${host}>`;
  }

  // --- calls ---------------------------------------------------------------------------------------

  /**
   * Places a call (§13.2.1). `uri` is the Request-URI; `to`/`from` name-addrs (defaults: `<uri>`
   * and {@link from}). Cancel with `invite.cancel()` (§9.1); the call is
   * `events.onAccepted(session)`; end it with {@link end}.
   */
  call(
    o: { uri: string; from?: string; to?: string } & Payload & AckOptions,
    events: ClientInviteEvents = {},
  ): ClientInvite {
    this.#open();
    return this.dialogs.invite(
      { ...o, from: o.from ?? this.from, to: o.to ?? `<${o.uri}>` },
      events,
    );
  }

  /** Answers an incoming call with 200 and the caller-supplied SDP (§13.3.1.4). */
  answer(invite: ServerInvite, sdp?: string, contentType = 'application/sdp'): DialogSession {
    return invite.accept(sdp === undefined ? {} : { body: sdp, contentType });
  }

  /** Rejects an incoming call (486 Busy Here by default). */
  reject(invite: ServerInvite, status = 486): void {
    invite.reject(status);
  }

  /** Cancels a call we placed that has no final response yet (§9.1). */
  cancel(invite: ClientInvite): void {
    invite.cancel();
  }

  /** Ends a call: BYE on a confirmed dialog (§15.1.1). */
  end(session: DialogSession, onResponse?: (r: SipResponse) => void): void {
    session.bye({}, onResponse);
  }

  /**
   * Holds a call by re-INVITE (RFC 3264 §8.4): `sdp` is our current SDP; it is sent with
   * `a=sendonly` (or `inactive`) and its origin version bumped. The re-INVITE is also a
   * session refresh (RFC 4028). Returns the SDP sent.
   */
  hold(
    session: DialogSession,
    sdp: string,
    onResult?: (r: SipResponse) => void,
    direction: 'sendonly' | 'inactive' = 'sendonly',
  ): string {
    const offer = holdSdp(sdp, direction);
    session.reinvite({ body: offer, contentType: 'application/sdp' }, onResult);
    session.refreshPayload = { body: offer, contentType: 'application/sdp' };
    return offer;
  }

  /** Resumes a held call: the re-INVITE carries `sdp` with `a=sendrecv`. Returns the SDP sent. */
  resume(session: DialogSession, sdp: string, onResult?: (r: SipResponse) => void): string {
    const offer = resumeSdp(sdp);
    session.reinvite({ body: offer, contentType: 'application/sdp' }, onResult);
    session.refreshPayload = { body: offer, contentType: 'application/sdp' };
    return offer;
  }

  /** INFO in a call (RFC 6086). */
  info(session: DialogSession, payload: Payload, onResponse?: (r: SipResponse) => void): void {
    session.request('INFO', payload, onResponse);
  }

  /** Transfers a call (RFC 3515): REFER with `referTo` (a name-addr); NOTIFYs on `events`. */
  refer(session: DialogSession, referTo: string, events: ReferEvents = {}): ClientSubscription {
    return this.dialogs.refer(session, referTo, events);
  }

  // --- outside calls ----------------------------------------------------------------------------

  /** OPTIONS (§11): a probe; the final response, or undefined on a timeout. */
  options(uri: string, onResponse: (r: SipResponse | undefined) => void): void {
    this.#open();
    this.dialogs.request(
      {
        method: 'OPTIONS',
        uri,
        from: this.from,
        to: `<${uri}>`,
        headers: [['Accept', 'application/sdp']],
      },
      onResponse,
    );
  }

  /** MESSAGE (RFC 3428) outside a dialog. */
  message(
    uri: string,
    body: string,
    onResponse?: (r: SipResponse | undefined) => void,
    contentType = 'text/plain',
  ): void {
    this.#open();
    this.dialogs.request(
      { method: 'MESSAGE', uri, from: this.from, to: `<${uri}>`, body, contentType },
      onResponse,
    );
  }

  /** SUBSCRIBE (RFC 6665); `from` defaults to {@link from}. */
  subscribe(
    o: Omit<SubscribeOptions, 'from' | 'to'> & { from?: string; to?: string },
    events: ClientSubscriptionEvents = {},
  ): ClientSubscription {
    this.#open();
    return this.dialogs.subscribe(
      { ...o, from: o.from ?? this.from, to: o.to ?? `<${o.uri}>` },
      events,
    );
  }

  /**
   * A REGISTER client (§10.2) for `aor` at `registrar`, answering digest challenges with
   * `username`/`password` and refreshing before expiry. Call `register()` on it; it is
   * closed (without unregistering) with the core.
   */
  register(o: RegisterOptions): Registration {
    this.#open();
    const reg = new Registration({
      clock: this.stack.clock,
      registrar: o.registrar,
      aor: o.aor,
      contact: () => this.dialogs.local.contact,
      via: () => this.dialogs.local.via,
      ...(o.expires !== undefined && { expires: o.expires }),
      ...(o.username !== undefined && { username: o.username }),
      ...(o.password !== undefined && { password: o.password }),
      ...(o.retryAfter !== undefined && { retryAfter: o.retryAfter }),
      ...(o.onStateChange && { onStateChange: o.onStateChange }),
      hash: nodeDigestHash,
      cnonce: () => randomCnonce(),
      send: (request, onFinal) => {
        let done = false;
        const final = (r: SipResponse | undefined) => {
          if (done) return;
          done = true;
          onFinal(r);
        };
        try {
          this.stack.sendRequest(request, this.#hop(request.uri), {
            onResponse: (r) => r.status >= 200 && final(r),
            onError: () => final(undefined),
          });
        } catch {
          final(undefined);
        }
      },
    });
    this.registrations.add(reg);
    return reg;
  }

  /** Closes registrations (no REGISTER sent: unregister first), the dialog layer and the stack. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.registrations) r.close();
    this.dialogs.close();
    await this.stack.close();
  }

  // --- incoming outside dialogs -----------------------------------------------------------------

  #outOfDialog(incoming: IncomingRequest): void {
    const { request } = incoming;
    const respond = (status: number, headers: Array<readonly [string, string]> = []) => {
      const response = createResponse(request, status, undefined, { headers });
      if (incoming.transaction) incoming.transaction.respond(response);
      else this.#sendStateless(response, incoming.ctx as ReceiveContext);
    };
    if (request.method === 'OPTIONS') {
      // §11.2: "The response to an OPTIONS is constructed using the standard rules [...] Allow,
      // Accept, Accept-Encoding, Accept-Language, and Supported header fields SHOULD be present".
      respond(200, [
        ['Allow', ALLOW],
        ['Accept', 'application/sdp'],
        ['Supported', this.#supported.join(', ')],
        ...(this.#o.events && this.#o.events.length > 0
          ? [['Allow-Events', this.#o.events.join(', ')] as const]
          : []),
      ]);
      return;
    }
    if (request.method === 'MESSAGE' && this.#o.onMessage) {
      this.#o.onMessage(request, (status) => respond(status));
      return;
    }
    respond(405, [['Allow', ALLOW]]);
  }

  // --- plumbing ------------------------------------------------------------------------------------

  #open(): void {
    if (this.#closed) throw new TfxError('shutting-down', 'the user agent is closed');
  }

  #sentBy(transport: TransportProtocol): { host: string; port: number } {
    const s = this.stack.sentBy(transport);
    if (!s) throw new TfxError('bad-request', `the user agent has no ${transport} listener`);
    return s;
  }

  #hop(uri: Uri | string): StackHop {
    const u = typeof uri === 'string' ? parseUri(uri) : { ok: true as const, value: uri };
    const hop = u.ok ? hopOf(u.value) : undefined;
    if (!hop) throw new TfxError('bad-request', 'no transport target for the URI');
    return hop;
  }

  #sendStateless(m: SipMessage, target: StackHop | ReceiveContext): void {
    const p =
      m.kind === 'request'
        ? this.stack.forward(m, target as StackHop)
        : this.stack.respond(m, target as ReceiveContext);
    p.catch(() => {
      // Stateless: the transport counts its failures; 2xx/ACK retransmissions cover loss.
    });
  }
}
