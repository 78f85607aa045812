/**
 * One zone of the SBC as a SIP user agent: its own `SipStack` on the zone's listeners (its own
 * addresses and ports), and one dialog layer per transport it listens on, so every request a leg
 * sends in this zone carries this zone's Via and Contact and nothing of another zone.
 *
 *   ZoneAgent ──owns──▶ SipStack (listeners on the zone's address, transactions)
 *             ──owns──▶ DialogLayer per transport (udp, tcp, tls): dialogs of the legs in the zone
 *
 * Out-of-dialog requests: INVITE goes to the SBC (`onInvite`); OPTIONS is answered here (§11.2:
 * "The response to an OPTIONS is constructed using the standard rules for a SIP response"), never
 * relayed; anything else gets 405 with Allow (§8.2.1). A CANCEL is reported (`onCancel`) before the
 * dialog layer answered it (§9.2: 200, then 487 to the INVITE), so the SBC cancels the other leg.
 */
import { randomBytes } from 'node:crypto';
import { TfxError } from '@tfx/protocol';
import {
  DialogLayer,
  SipStack,
  createResponse,
  hopOf,
  realClock,
  silentLogger,
  type ClientInvite,
  type ClientInviteEvents,
  type InviteOptions,
  type ListenSpec,
  type ListenerInfo,
  type LocalParty,
  type Logger,
  type ReceiveContext,
  type ServerInvite,
  type StackHop,
  type StackRequest,
  type TransportProtocol,
  type Clock,
  type TlsIdentity,
  type Uri,
  type SipMessage,
  type SipRequest,
  type AnyServerTransaction,
  type IncomingRefer,
  type MessageTap,
} from '@tfx/sip';
import { sessionTimerOf } from './per-leg.js';
import { ZoneAccess } from './access.js';
import { AUTHENTICATED_METHODS, type AuthOutcome } from './auth.js';
import type { Blacklist } from './blacklist.js';
import { DEFAULT_SECURITY, ZoneSecurityRoute } from './security.js';
import type { WebSocketHost, ZoneSpec } from './types.js';

/** What the agent tells the SBC. */
export interface ZoneAgentEvents {
  /** A new out-of-dialog INVITE that entered through this zone. */
  onInvite(zone: ZoneAgent, invite: ServerInvite, ctx: ReceiveContext): void;
  /** A CANCEL for an INVITE server transaction of this zone (after its 200 and the 487). */
  onCancel(zone: ZoneAgent, cancelled: AnyServerTransaction): void;
  /** A REFER in a dialog of this zone with one valid Refer-To (else the layer answered 400). */
  onRefer?(zone: ZoneAgent, refer: IncomingRefer): void;
  /**
   * A REGISTER out of dialog: the inner registrar (registrar.ts) or TFX's own (local.ts);
   * without this handler REGISTER gets 405.
   */
  onRegister?(zone: ZoneAgent, incoming: StackRequest): void;
}

export interface ZoneAgentOptions {
  readonly spec: ZoneSpec;
  readonly events: ZoneAgentEvents;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly tls?: TlsIdentity;
  readonly timers?: { readonly T1?: number; readonly T2?: number; readonly T4?: number };
  /** The SBC's blacklist (the zone's `blacklist` stage; its bans land there). */
  readonly blacklist?: Blacklist;
  /** Every message in and out of the zone's stack (the SBC's per-call record, signals.ts). */
  readonly tap?: MessageTap;
  /**
   * The SBC's digest gate (auth.ts) for out-of-dialog MESSAGE, SUBSCRIBE and REGISTER of an
   * untrusted zone: a refusal is answered here, an `ok` goes on to the zone's handling.
   */
  readonly authorize?: (
    zone: ZoneAgent,
    request: SipRequest,
    ctx: ReceiveContext,
  ) => Promise<AuthOutcome>;
  /** The flow to a URI when it is not its own address (a registered phone behind NAT). */
  readonly resolveHop?: (uri: Uri) => StackHop | undefined;
  /** SIP over WebSocket on the platform's HTTP(S) server: carried by a `webrtc` zone only. */
  readonly webSocket?: {
    readonly server: WebSocketHost;
    readonly path: string;
    readonly secure: boolean;
  };
}

/** Most pinned contacts (`pin`) kept per zone; the oldest go first. */
const MAX_PINS = 20_000;

/** The key of a URI's next hop: transport, host and port (what `hopOf` derives). */
function pinKey(uri: Uri): string | undefined {
  const h = hopOf(uri);
  return h && `${h.transport}|${h.remote.address}|${h.remote.port}`;
}

/** Methods the SBC's zones answer (§20.5 Allow). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK';

/** §20.5 Allow of a zone: REFER is listed where the zone executes transfers. */
export function allowOf(spec: ZoneSpec): string {
  return spec.refer === 'execute' ? `${ALLOW}, REFER` : ALLOW;
}

/** Option tags the legs support (§8.2.2.3): reliable provisional responses, RFC 4028 timers. */
function supportedOf(spec: ZoneSpec): string[] {
  return sessionTimerOf(spec) ? ['100rel', 'timer'] : ['100rel'];
}

export class ZoneAgent {
  readonly spec: ZoneSpec;
  readonly stack: SipStack;
  readonly #layers = new Map<TransportProtocol, DialogLayer>();
  /** Contacts reached over a flow or a NAT's address, not their own (see `pin`). */
  readonly #pins = new Map<string, StackHop>();
  readonly #o: ZoneAgentOptions;
  readonly #log: Logger;
  #closing: Promise<void> | undefined;
  /** Requests answered here (OPTIONS) and refused (405), for the zone's counters. */
  readonly counters = { options: 0, notAllowed: 0 };
  /** The security stages of an untrusted zone (undefined in a trusted zone). */
  readonly security: ZoneSecurityRoute | undefined;
  /** The zone's `acl` and `blacklist` stages (every zone, first in its pipeline). */
  readonly access: ZoneAccess;

  constructor(o: ZoneAgentOptions) {
    this.#o = o;
    this.spec = o.spec;
    this.#log = (o.logger ?? silentLogger) as Logger;
    const clock = o.clock ?? realClock;
    this.security = o.spec.trusted
      ? undefined
      : new ZoneSecurityRoute({
          zone: o.spec.name,
          settings: { ...DEFAULT_SECURITY, ...o.spec.security },
          clock,
          logger: this.#log,
          respond: (r, ctx) => this.#sendStateless(r, ctx),
          ...(o.blacklist && { blacklist: o.blacklist }),
        });
    const security = this.security;
    const access = new ZoneAccess({
      zone: o.spec.name,
      ...(o.spec.acl && { acl: o.spec.acl }),
      ...(o.blacklist && { blacklist: o.blacklist }),
      clock,
      logger: this.#log,
    });
    this.access = access;
    this.stack = new SipStack({
      // acl → blacklist → (untrusted) flood → scanner → limits, before any transaction.
      screen: (req, ctx) =>
        access.screen(ctx.remote.address) && (security ? security.screen(req, ctx) : true),
      logger: this.#log,
      ...(o.clock && { clock: o.clock }),
      ...(o.timers && { timers: o.timers }),
      ...(o.tap && { tap: o.tap }),
      // §8.2.2.3: the ingress answers 420 to a Require it does not know; the legs' option tags
      // (100rel) must pass it, so a caller requiring 100rel reaches the dialog layer.
      transport: {
        sanity: { supportedExtensions: supportedOf(o.spec) },
        // RFC 5626 flow tokens: a registered contact is reached over the flow it registered on.
        flowTokenSecret: randomBytes(32),
      },
      tu: {
        onRequest: (i) => this.#onRequest(i),
        onStrayResponse: (r) => {
          for (const l of this.#layers.values()) l.onStrayResponse(r);
        },
      },
    });
  }

  get name(): string {
    return this.spec.name;
  }

  /** Binds the zone's listeners (each on the zone's own address) and makes its dialog layers. */
  async start(): Promise<ListenerInfo[]> {
    const plan: ListenSpec[] = this.spec.listen.map((l) => {
      if (l.transport !== 'tls')
        return { transport: l.transport, address: l.address, port: l.port };
      if (!this.#o.tls)
        throw new TfxError('bad-request', `zone ${this.name}: TLS needs a certificate`);
      return { transport: 'tls', address: l.address, port: l.port, ...this.#o.tls };
    });
    const ws = this.spec.webrtc ? this.#o.webSocket : undefined;
    const listeners = await this.stack.start(async (b) => {
      for (const l of plan) await b.listen(l);
      // The platform's `/sip` (RFC 7118) belongs to the webrtc zone: SIP over WS(S) from
      // browsers enters this zone's stack, its security stages and its digest.
      if (ws) b.attachWebSocket(ws.server, { path: ws.path, secure: ws.secure });
    });
    for (const t of new Set(listeners.map((l) => l.transport)))
      this.#layers.set(t, this.#makeLayer(t));
    return listeners;
  }

  listeners(): ListenerInfo[] {
    return this.stack.listeners();
  }

  /** The transport a request to `uri` uses from this zone (its `transport` param, else UDP). */
  transportFor(uri: Uri): TransportProtocol {
    const hop = hopOf(uri);
    if (!hop) throw new TfxError('bad-request', `zone ${this.name}: cannot reach ${uri.kind} URIs`);
    return hop.transport;
  }

  /**
   * Requests to `uri` (an initial INVITE's Request-URI, a dialog's remote target naming the same
   * host, port and transport) go to `hop`: a registered contact's flow (RFC 5626 §5.3) or its
   * NAT's address (RFC 3581), never the address it wrote.
   */
  pin(uri: Uri, hop: StackHop): void {
    const key = pinKey(uri);
    if (key === undefined) return;
    this.#pins.delete(key);
    this.#pins.set(key, hop);
    if (this.#pins.size > MAX_PINS) this.#pins.delete(this.#pins.keys().next().value as string);
  }

  /**
   * Where a request to `uri` goes from this zone: a phone registered through an inner registrar
   * (its flow, registrar.ts), else the URI's pinned hop (a contact of TFX's registrar), else the
   * URI's own address.
   */
  hopFor(uri: Uri): StackHop | undefined {
    const relayed = this.#o.resolveHop?.(uri);
    if (relayed) return relayed;
    const key = pinKey(uri);
    return (key !== undefined ? this.#pins.get(key) : undefined) ?? hopOf(uri);
  }

  /** Places the INVITE of an outgoing leg through this zone. */
  invite(o: InviteOptions & { readonly target: Uri }, events: ClientInviteEvents): ClientInvite {
    const transport = this.hopFor(o.target)?.transport ?? this.transportFor(o.target);
    const layer = this.#layers.get(transport);
    if (!layer) {
      throw new TfxError('unavailable', `zone ${this.name} has no ${transport} listener`);
    }
    const { target: _t, ...rest } = o;
    return layer.invite(rest, events);
  }

  /** The option tags this zone's legs announce in Supported (normalization may strip some). */
  get supported(): readonly string[] {
    return supportedOf(this.spec);
  }

  /** The host written into From/To of requests this zone sends (its first listener's address). */
  get host(): string {
    const s = this.listeners()[0];
    if (!s) throw new TfxError('unavailable', `zone ${this.name} is not listening`);
    return s.address.includes(':') ? `[${s.address}]` : s.address;
  }

  /** Dialogs held by the zone (both legs' sides in it). */
  get dialogCount(): number {
    let n = 0;
    for (const l of this.#layers.values()) n += l.dialogs.size;
    return n;
  }

  /** Closes the dialog layers (no BYEs: the SBC ends its calls first) and the stack. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const l of this.#layers.values()) l.close();
      await this.stack.close();
    })();
    return this.#closing;
  }

  #makeLayer(transport: TransportProtocol): DialogLayer {
    const stack = this.stack;
    const user = 'sbc';
    const sentBy = (): { host: string; port: number } => {
      const s = stack.sentBy(transport);
      if (!s) throw new TfxError('unavailable', `zone ${this.name}: no ${transport} listener`);
      return s;
    };
    const local: LocalParty = {
      get via() {
        const s = sentBy();
        return { transport: transport.toUpperCase(), host: s.host, port: s.port };
      },
      get contact() {
        const s = sentBy();
        const host = s.host.includes(':') ? `[${s.host}]` : s.host;
        // RFC 7118 §5.2: `transport=ws` names SIP over WebSocket, secure or not.
        const t = transport === 'udp' ? '' : `;transport=${transport === 'wss' ? 'ws' : transport}`;
        return `<sip:${user}@${host}:${s.port}${t}>`;
      },
    };
    return new DialogLayer({
      clock: stack.clock,
      timers: stack.transactions.timers,
      sendRequest: (req, target, listener) => stack.sendRequest(req, target as StackHop, listener),
      sendStateless: (m, target) => this.#sendStateless(m, target as StackHop | ReceiveContext),
      targetOf: (uri) => {
        const hop = this.hopFor(uri);
        if (!hop) throw new TfxError('bad-request', 'no transport target for the URI');
        return hop;
      },
      local,
      supported: supportedOf(this.spec),
      ...(sessionTimerOf(this.spec) && { sessionTimer: sessionTimerOf(this.spec) }),
      onRefer: (refer) => {
        if (this.#o.events.onRefer) this.#o.events.onRefer(this, refer);
        else refer.reject(403);
      },
      onInvite: (invite) => this.#o.events.onInvite(this, invite, invite.ctx as ReceiveContext),
      onRequest: (incoming) => this.#outOfDialog(incoming as StackRequest),
    });
  }

  #onRequest(incoming: StackRequest): void {
    const layer = this.#layers.get(incoming.ctx.transport);
    if (!layer) return;
    if (this.#gated(incoming, layer)) return;
    layer.onRequest(incoming);
    // After the dialog layer answered the CANCEL (200) and its INVITE (487), in that order.
    if (incoming.request.method === 'CANCEL' && incoming.cancels) {
      this.#o.events.onCancel(this, incoming.cancels);
    }
  }

  /** Out-of-dialog requests other than INVITE, BYE, ACK and SUBSCRIBE: OPTIONS here, the rest 405. */
  #outOfDialog(incoming: StackRequest): void {
    this.#served(incoming);
  }

  /**
   * The digest gate of an untrusted zone for out-of-dialog MESSAGE, SUBSCRIBE (407) and REGISTER
   * (401), before the dialog layer sees them (INVITE has its own stage in the SBC's route). True
   * when the gate took the request: a refusal is answered here; an `ok` goes on to the layer.
   */
  #gated(incoming: StackRequest, layer: DialogLayer): boolean {
    const { request, ctx } = incoming;
    // REGISTER is authenticated by whoever serves it: the inner registrar (registrar.ts), or
    // TFX's own registrar through the SBC's same gate (local.ts).
    if (request.method === 'REGISTER' && this.#o.events.onRegister) return false;
    const authorize = this.#o.authorize;
    if (!this.security || !authorize || request.method === 'INVITE') return false;
    if (!AUTHENTICATED_METHODS.has(request.method)) return false;
    if (request.headers.to()?.tag !== undefined) return false; // in a dialog
    authorize(this, request, ctx).then(
      (r) => {
        if (r.ok) layer.onRequest(incoming);
        else
          this.#reply(
            incoming,
            createResponse(request, r.status, undefined, { headers: [...r.headers] }),
          );
      },
      (err: unknown) => {
        this.#log.warn({ err, zone: this.name }, 'sbc: authentication failed to run');
        this.#reply(incoming, createResponse(request, 500));
      },
    );
    return true;
  }

  /** What the zone answers itself (after the gate): OPTIONS 200, the rest 405. */
  #served(incoming: StackRequest): void {
    const { request } = incoming;
    if (request.method === 'REGISTER' && this.#o.events.onRegister) {
      this.#o.events.onRegister(this, incoming);
      return;
    }
    let response;
    if (request.method === 'OPTIONS') {
      this.counters.options++;
      // §11.2: Allow, Accept, Supported describe what we do; no Server header (no version).
      response = createResponse(request, 200, undefined, {
        headers: [
          ['Allow', allowOf(this.spec)],
          ['Accept', 'application/sdp'],
          ['Supported', supportedOf(this.spec).join(', ')],
        ],
      });
    } else {
      this.counters.notAllowed++;
      response = createResponse(request, 405, undefined, {
        headers: [['Allow', allowOf(this.spec)]],
      });
    }
    this.#reply(incoming, response);
  }

  #reply(incoming: StackRequest, response: ReturnType<typeof createResponse>): void {
    const { transaction, ctx } = incoming;
    if (transaction && !transaction.terminated) transaction.respond(response);
    else this.#sendStateless(response, ctx);
  }

  #sendStateless(m: SipMessage, target: StackHop | ReceiveContext): void {
    const p =
      m.kind === 'request'
        ? this.stack.forward(m, target as StackHop)
        : this.stack.respond(m, target as ReceiveContext);
    p.catch((err: unknown) =>
      this.#log.debug({ err, zone: this.name }, 'sbc: stateless send failed'),
    );
  }
}
