/**
 * `SipStack`: the transport layer, the transaction layer and the glue between them, as one
 * object an element (a proxy, a registrar, a B2BUA, a user agent) stands on.
 *
 *   sockets ─▶ TransportLayer ─▶ gate ─▶ tap ─▶ TransactionLayer ─▶ SipStackUser.onRequest
 *   element ─▶ sendRequest / respond / forward ─▶ tap ─▶ TransportLayer ─▶ sockets
 *
 * Ownership (docs/closures.md): the stack creates and owns its transaction layer and its
 * transport layer (a new one per `restart`, swapped in only when every listener is bound);
 * `close()` closes both, once. Nothing else assigns into the stack or its children: the
 * element passes its callbacks (`tu`) and hooks (`gate`, `tap`) when it creates the stack.
 */
import { TfxError } from '@tfx/protocol';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { silentLogger, type Logger } from '../logger.js';
import {
  canonicalHost,
  createResponse,
  defaultPort,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type SipUri,
  type TransportProtocol,
} from '../syntax/index.js';
import {
  TransactionLayer,
  type AnyClientTransaction,
  type ClientTransactionListener,
  type IncomingRequest,
  type InviteClientTransaction,
  type NonInviteClientTransaction,
  type TimerConfig,
  type TransactionContext,
} from '../transaction/index.js';
import {
  TransportLayer,
  type ConnectionRef,
  type Endpoint,
  type Flow,
  type ListenSpec,
  type ListenerInfo,
  type ReceiveContext,
  type SendResult,
  type SendTarget,
  type TransportLayerOptions,
} from '../transport/index.js';
import { locate, type DnsLookup, type LocateTransport } from '../locate/index.js';
import type { Gate } from '../gate/index.js';
import { realClock, type Clock } from '../time/index.js';

/** Where a request goes: a transport and address, or a flow (a client's own connection). */
export interface StackHop {
  readonly transport: TransportProtocol;
  readonly remote: Endpoint;
  /** A flow token (`flowTokenFor`): the UA's own connection while it is open. */
  readonly flowToken?: string | undefined;
}

/** A request from the network, as the element receives it: one context type from the socket up. */
export type StackRequest = IncomingRequest<ReceiveContext>;

/** The element on top of the stack (its transaction user). */
export interface SipStackUser {
  /** A new request (with its server transaction; none for an ACK of a 2xx). */
  onRequest(incoming: StackRequest): void;
  /** A response matching no client transaction (§17.1.3); a proxy forwards it statelessly. */
  onStrayResponse?(response: SipResponse, ctx: ReceiveContext): void;
  /** Whether a new request is answered without a server transaction (see TransactionUser). */
  statelessly?(request: SipRequest, ctx: ReceiveContext): boolean;
}

/** A message tap: traces, later PCAP. Called for every message in and out while `enabled`. */
export interface MessageTap {
  readonly enabled: boolean;
  record(
    direction: 'in' | 'out',
    transport: TransportProtocol,
    local: Endpoint,
    remote: Endpoint,
    message: SipMessage,
    at: number,
  ): void;
}

/** Why the gate dropped a request. */
export type GateDrop = 'rate-limited' | 'banned';

export interface SipStackOptions {
  /** The element: new requests and stray responses. */
  readonly tu: SipStackUser;
  readonly logger?: Logger;
  /** Every timer and timestamp of the stack. Default: the real clock. */
  readonly clock?: Clock;
  /** Options of every transport layer the stack creates (logger aside). */
  readonly transport?: Omit<TransportLayerOptions, 'logger'>;
  /** T1, T2, T4, D, Trying. Default: RFC 3261's. */
  readonly timers?: Partial<TimerConfig>;
  /** Most concurrent transactions (beyond: 503). Default: the transaction layer's. */
  readonly maxTransactions?: number;
  /**
   * The domain this stack serves: a URI naming it without a port is us (`isUs`), as are the
   * listeners' addresses and advertised hosts, `localhost`, and `transport.aliases`.
   */
  readonly domain?: string;
  /** Inbound gate: per-source rate limit and bans, before any transaction (Kamailio's pike). */
  readonly gate?: Gate;
  /** Counts what the gate dropped (metrics). */
  readonly onGateDrop?: (reason: GateDrop) => void;
  /**
   * The element's own screening of each request before any transaction exists (the SBC's
   * security stages): `false` drops it here. The screen answers statelessly (`respond`) if it
   * answers at all. Runs before the gate.
   */
  readonly screen?: (request: SipRequest, ctx: ReceiveContext) => boolean;
  readonly tap?: MessageTap;
  /** Server header on responses the stack builds (`response`); none when undefined. */
  readonly serverHeader?: string | undefined;
  /** DNS for RFC 3263 (`locate`); without it only IP addresses and flows are reachable. */
  readonly dns?: DnsLookup;
  /** Transports `locate` may pick. Default udp, tcp, tls, ws, wss (all are opened on demand). */
  readonly locateTransports?: readonly LocateTransport[];
}

/** What a listen plan sees: bind a listener, carry SIP over WebSocket on an HTTP(S) server. */
export interface Binder {
  listen(spec: ListenSpec): Promise<ListenerInfo>;
  attachWebSocket(
    server: HttpServer | HttpsServer,
    options?: { readonly path?: string; readonly secure?: boolean },
  ): ListenerInfo;
}

/** Binds listeners: a list of specs, or a function for plans with rules (shared UDP/TCP port). */
export type ListenPlan = readonly ListenSpec[] | ((binder: Binder) => Promise<void>);

/** A restart: what to bind before the old listeners close, and what only after (same ports). */
export interface RestartPlan {
  readonly before: ListenPlan;
  readonly after?: ListenPlan;
  /** Binds the old listeners again when `after` fails (the stack then keeps running). */
  readonly rollback?: ListenPlan;
}

function isReceiveContext(ctx: TransactionContext): ctx is ReceiveContext {
  return ctx.local !== undefined;
}

function flowTokenOf(target: TransactionContext): string | undefined {
  const t = (target as { flowToken?: unknown }).flowToken;
  return typeof t === 'string' ? t : undefined;
}

export class SipStack {
  /** The transaction layer (RFC 3261 §17), created with the stack, closed with it. */
  readonly transactions: TransactionLayer<ReceiveContext>;
  readonly clock: Clock;
  readonly domain: string | undefined;
  readonly #o: SipStackOptions;
  readonly #log: Logger;
  #transport: TransportLayer | undefined;
  #hosts = new Set<string>();
  #ports = new Set<number>();
  #restarting = false;
  #closing: Promise<void> | undefined;

  constructor(options: SipStackOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    this.domain = options.domain !== undefined ? canonicalHost(options.domain) : undefined;
    this.transactions = new TransactionLayer<ReceiveContext>({
      send: this.#send,
      logger: this.#log,
      clock: this.clock,
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.maxTransactions !== undefined
        ? { maxTransactions: options.maxTransactions }
        : {}),
      tu: options.tu,
    });
  }

  /** The transport layer in use (a new one after each `restart`); undefined before `start`. */
  get transport(): TransportLayer | undefined {
    return this.#transport;
  }

  get running(): boolean {
    return this.#transport !== undefined && !this.#transport.closed && !this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  listeners(): ListenerInfo[] {
    return this.#transport?.listeners() ?? [];
  }

  /** Binds the listeners of `plan` and starts receiving. Once. */
  async start(plan: ListenPlan): Promise<ListenerInfo[]> {
    this.#ensureOpen();
    if (this.#transport) throw new TfxError('conflict', 'the SIP stack is already started');
    const t = this.#newTransport();
    try {
      await bind(t, plan);
    } catch (err) {
      await t.close();
      throw err;
    }
    this.#install(t);
    return t.listeners();
  }

  /**
   * Moves to new listeners atomically: `before` binds on a new transport layer while the old one
   * keeps answering; if any bind fails the new one is closed and `conflict` thrown, the old
   * listeners untouched. Then the old layer closes and `after` binds (ports the old layer held).
   */
  async restart(plan: RestartPlan): Promise<ListenerInfo[]> {
    this.#ensureOpen();
    if (this.#restarting) throw new TfxError('conflict', 'a SIP restart is already running');
    this.#restarting = true;
    try {
      const old = this.#transport;
      const t = this.#newTransport();
      try {
        await bind(t, plan.before);
      } catch (err) {
        await t.close();
        throw new TfxError(
          'conflict',
          `SIP listeners not changed: ${(err as Error).message}; the old listeners keep running`,
        );
      }
      if (old) await old.close();
      try {
        if (plan.after) await bind(t, plan.after);
      } catch (err) {
        this.#log.error({ err }, 'sip: could not rebind an unchanged port after restart');
        await t.close();
        const back = this.#newTransport();
        if (plan.rollback) await bind(back, plan.rollback).catch(() => undefined);
        this.#install(back);
        throw new TfxError('conflict', `SIP restart failed: ${(err as Error).message}`);
      }
      this.#install(t);
      return t.listeners();
    } finally {
      this.#restarting = false;
    }
  }

  /** Closes the transactions (silently) and the transport layer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.transactions.close();
      await this.#transport?.close();
    })();
    return this.#closing;
  }

  // --- sending ---------------------------------------------------------------------------------

  /** A request in a new client transaction toward `hop` (§17.1). */
  sendRequest(
    request: SipRequest,
    hop: StackHop,
    listener: ClientTransactionListener,
  ): AnyClientTransaction {
    return this.transactions.sendRequest(request, hop, listener);
  }

  /** §9.1: CANCEL for a pending INVITE client transaction (undefined: not yet, or too late). */
  cancel(invite: InviteClientTransaction): NonInviteClientTransaction | undefined {
    return this.transactions.cancel(invite);
  }

  /** A request sent without a transaction (§16.11: the ACK of a 2xx, stateless forwarding). */
  async forward(request: SipRequest, hop: StackHop): Promise<SendResult> {
    const r = await this.#transportOrThrow().send(request, sendTargetOf(hop));
    this.#tapOut(request, r);
    return r;
  }

  /** A response sent without a transaction, per its Via (§18.2.2) or back on `ctx`'s flow. */
  async respond(response: SipResponse, ctx?: ReceiveContext): Promise<SendResult> {
    const r = await this.#transportOrThrow().sendResponse(response, ctx);
    this.#tapOut(response, r);
    return r;
  }

  /** A response to `request` (with the stack's Server header, if any). */
  response(
    request: SipRequest,
    status: number,
    reason?: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
    toTag?: string,
  ): SipResponse {
    const extra: Array<readonly [string, string]> = [...headers];
    if (this.#o.serverHeader !== undefined) extra.push(['Server', this.#o.serverHeader]);
    return createResponse(request, status, reason, {
      headers: extra,
      ...(toTag !== undefined && { toTag }),
    });
  }

  // --- addresses and flows ---------------------------------------------------------------------

  /** The host and port we are reached at on a transport (for Via and Record-Route). */
  sentBy(transport: TransportProtocol): { host: string; port: number } | undefined {
    return this.#transport?.sentBy(transport);
  }

  /** A flow token naming the flow a request came on (RFC 5626-style; to reach the UA back). */
  flowTokenFor(ctx: ReceiveContext): string | undefined {
    return this.#transport?.flowTokenFor(ctx);
  }

  /** The flow a token names (undefined: forged or unknown). */
  resolveFlowToken(token: string): Flow | undefined {
    return this.#transport?.resolveFlowToken(token);
  }

  /** Whether a flow is still open: UDP flows always, connections while connected. */
  flowOpen(flow: Flow): boolean {
    return flow.transport === 'udp' || this.#transport?.connection(flow.connectionId) !== undefined;
  }

  connection(id: string): ConnectionRef | undefined {
    return this.#transport?.connection(id);
  }

  /**
   * Whether a URI names this stack: its host is ours (the domain, a listener's address or
   * advertised host, localhost, an alias) and, if asked, its port one of our listeners'. The
   * domain without a port is always us.
   */
  isUs(uri: SipUri, checkPort: boolean): boolean {
    const host = canonicalHost(uri.host);
    if (!this.#hosts.has(host)) return false;
    if (!checkPort) return true;
    if (host === this.domain && uri.port === undefined) return true;
    const t = uri.params.get('transport');
    const tr = (typeof t === 'string' ? t.toLowerCase() : 'udp') as TransportProtocol;
    const port =
      uri.port ?? (uri.scheme === 'sips' ? 5061 : defaultPort(tr === 'tls' ? 'tls' : 'udp'));
    return this.#ports.has(port);
  }

  /** RFC 3263: the servers to try, in order, for a URI naming a host ([] when none). */
  async locate(uri: SipUri): Promise<StackHop[]> {
    const dns = this.#o.dns;
    const host = canonicalHost(uri.host);
    const transport = uri.params.get('transport');
    if (!dns) return [];
    const targets = await locate(
      {
        secure: uri.scheme === 'sips',
        host,
        port: uri.port,
        transport: typeof transport === 'string' ? transport.toLowerCase() : undefined,
      },
      dns,
      {
        transports: this.#o.locateTransports ?? ['udp', 'tcp', 'tls', 'ws', 'wss'],
        maxTargets: 8,
      },
    );
    return targets.map((t) => ({
      transport: t.transport,
      remote: { address: t.address, port: t.port },
    }));
  }

  // --- internals -------------------------------------------------------------------------------

  /** The transaction layer's send: requests to their hop, responses per Via (§18.2.2). */
  readonly #send = async (message: SipMessage, target: TransactionContext): Promise<void> => {
    const transport = this.#transportOrThrow();
    if (message.kind === 'response') {
      if (!isReceiveContext(target)) throw new Error('response without a receive context');
      this.#tapOut(message, await transport.sendResponse(message, target));
      return;
    }
    const token = flowTokenOf(target);
    const r = await transport.send(
      message,
      token !== undefined
        ? { flowToken: token }
        : {
            transport: target.transport as TransportProtocol,
            address: target.remote.address,
            port: target.remote.port,
          },
    );
    this.#tapOut(message, r);
  };

  /** Before the transaction layer: the gate (rate, bans), then the tap. */
  readonly #inbound = ({ message, ctx }: { message: SipMessage; ctx: ReceiveContext }): void => {
    if (message.kind === 'request' && this.#o.screen && !this.#o.screen(message, ctx)) return;
    const gate = this.#o.gate;
    if (gate && message.kind === 'request') {
      const now = this.clock.now();
      const ip = ctx.remote.address;
      if (!gate.admit(ip, now)) {
        this.#o.onGateDrop?.('rate-limited');
        return;
      }
      if (gate.banned('ip', ip, now)) {
        this.#o.onGateDrop?.('banned');
        if (message.method !== 'ACK') {
          this.respond(this.response(message, 403, 'Forbidden'), ctx).catch(() => undefined);
        }
        return;
      }
    }
    const tap = this.#o.tap;
    if (tap?.enabled) {
      tap.record('in', ctx.transport, ctx.local, ctx.remote, message, this.clock.now());
    }
    this.transactions.handleIncoming(message, ctx);
  };

  #tapOut(message: SipMessage, r: SendResult): void {
    const tap = this.#o.tap;
    if (tap?.enabled) tap.record('out', r.transport, r.local, r.remote, message, this.clock.now());
  }

  #transportOrThrow(): TransportLayer {
    const t = this.#transport;
    if (!t) throw new TfxError('unavailable', 'the SIP stack has no listeners');
    return t;
  }

  #ensureOpen(): void {
    if (this.#closing) throw new TfxError('shutting-down', 'the SIP stack is closed');
  }

  #newTransport(): TransportLayer {
    return new TransportLayer({ ...this.#o.transport, logger: this.#log });
  }

  #install(t: TransportLayer): void {
    this.#transport = t;
    t.onMessage(this.#inbound);
    const hosts = new Set<string>(['localhost']);
    if (this.domain !== undefined) hosts.add(this.domain);
    for (const a of this.#o.transport?.aliases ?? []) hosts.add(canonicalHost(a));
    const ports = new Set<number>();
    for (const l of t.listeners()) {
      hosts.add(canonicalHost(l.address));
      ports.add(l.port);
    }
    for (const tr of ['udp', 'tcp', 'tls', 'ws', 'wss'] as const) {
      const sb = t.sentBy(tr);
      if (sb) hosts.add(canonicalHost(sb.host));
    }
    if (hosts.has('127.0.0.1') || hosts.has('0.0.0.0')) hosts.add('127.0.0.1');
    this.#hosts = hosts;
    this.#ports = ports;
  }
}

function sendTargetOf(hop: StackHop): SendTarget {
  return hop.flowToken !== undefined
    ? { flowToken: hop.flowToken }
    : { transport: hop.transport, address: hop.remote.address, port: hop.remote.port };
}

async function bind(t: TransportLayer, plan: ListenPlan): Promise<void> {
  if (typeof plan === 'function') {
    await plan(t);
    return;
  }
  for (const spec of plan) await t.listen(spec);
}
