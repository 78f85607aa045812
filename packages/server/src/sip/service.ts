/**
 * The SIP service: the registrar and proxy of the SIP server, as policy on a `SipStack`
 * (@tfx/sip). It creates the stack (transports, transactions, gate, trace tap), the proxy core
 * on it, and the routing pipeline (pipeline.ts) with the registrar, users and location store.
 *
 * Ownership (closing runs downward, idempotent): SipService → ProxyCore → response contexts;
 * → SipStack → transport layer (listeners, connections) and transaction layer; → location
 * store. See docs/closures.md.
 *
 * Ports change atomically (`restart`): the new listeners are opened first, and only when all
 * of them are bound are the old ones closed; a port in use refuses the change and the old
 * listeners keep answering.
 */
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import {
  DigestServer,
  Gate,
  NonceManager,
  ProxyCore,
  SipStack,
  nodeDigestHash,
  nodeDns,
  nodeNonceCrypto,
  realClock,
  type Binder,
  type Clock,
  type TimerHandle,
  type DigestAlgorithm,
  type ListenerInfo as SipListenerInfo,
  type TransactionLayer,
  type TransportLayer,
  type ReceiveContext,
  type TransportProtocol,
} from '@tfx/sip';
import { TfxError } from '@tfx/protocol';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { TlsIdentity } from '../tls.js';
import type { CdrSink } from '@tfx/sbc';
import { ProxyCdrs } from './cdr.js';
import { DialogTable } from './dialogs.js';
import { MemoryLocationStore, type LocationStore } from './location.js';
import { SipMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import type { RequestContext } from './pipeline.js';
import { Registrar } from './registrar.js';
import { MessageTrace, endpointText } from './trace.js';
import { SipUsers } from './users.js';

export interface SipServiceOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly tls: TlsIdentity;
  readonly metrics: Registry;
  readonly domain: string;
  /** The HTTPS server to carry SIP over WebSocket at `/sip` (when listening). */
  readonly httpServer?: HttpServer | HttpsServer | undefined;
  readonly location?: LocationStore;
  /** Where proxied calls' CDRs go (the CDR store shared with the SBC: docs/sbc.md, "CDRs"). */
  readonly cdr?: () => CdrSink | undefined;
  /** Every timer and timestamp of the SIP server. Default: the real clock. */
  readonly clock?: Clock;
}

export interface Ports {
  readonly port: number;
  readonly tlsPort: number;
}

export class SipService {
  readonly users: SipUsers;
  readonly location: LocationStore;
  readonly guard: Gate;
  readonly trace: MessageTrace;
  readonly dialogs = new DialogTable();
  readonly cdrs: ProxyCdrs;
  readonly metrics: SipMetrics;
  readonly stack: SipStack;
  readonly core: ProxyCore;
  readonly domain: string;
  readonly clock: Clock;
  /** The registrar policy (RFC 3261 §10.3) on `location`; the SBC's zones serve REGISTERs with it. */
  readonly registrar: Registrar;
  readonly requestCounts: Record<string, number> = {};
  startedAt: number;
  #ports: Ports;
  #registrations = 0;
  #sweeper: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  readonly #log: Logger;
  readonly #pipeline: Pipeline;

  constructor(private readonly o: SipServiceOptions) {
    const sip = o.config.sip;
    this.#log = o.logger;
    this.domain = o.domain;
    this.clock = o.clock ?? realClock;
    this.startedAt = this.clock.now();
    this.cdrs = new ProxyCdrs({
      sink: o.cdr ?? (() => undefined),
      onError: (err) => this.#log.warn({ err }, 'sip: CDR not written'),
    });
    this.#ports = { port: sip.port, tlsPort: sip.tlsPort };
    this.users = new SipUsers(o.domain, sip.users, o.dataDir);
    this.location = o.location ?? new MemoryLocationStore();
    this.registrar = new Registrar({
      store: this.location,
      minExpires: sip.minExpires,
      maxExpires: sip.maxExpires,
      defaultExpires: sip.defaultExpires,
    });
    this.guard = new Gate({
      ratePerSecond: sip.rateLimit,
      banAfter: sip.banAfterFailures,
      banMs: sip.banSeconds * 1000,
      onBan: (ban) => {
        this.metrics.bans.labels(ban.kind).inc();
        this.#log.warn({ kind: ban.kind, value: ban.value, until: ban.until }, 'sip: banned');
      },
    });
    this.trace = new MessageTrace(sip.traceMessages);
    this.metrics = new SipMetrics(o.metrics, {
      registrations: () => this.#registrations,
      dialogs: () => this.dialogs.size,
      transactions: () => this.stack.transactions.size,
      bans: () => this.guard.list(this.clock.now()).length,
    });
    const host = o.config.server.host;
    const wildcard = host === '0.0.0.0' || host === '::';
    const trace = this.trace;
    this.stack = new SipStack({
      logger: o.logger,
      clock: this.clock,
      domain: o.domain,
      serverHeader: sip.serverHeader,
      transport: {
        flowTokenSecret: randomBytes(32),
        ...(wildcard ? {} : { advertisedHost: host }),
        aliases: [o.domain],
        // RFC 3261 §16.3 item 5: a proxy enforces Proxy-Require, never Require (that is the
        // UAS's, §8.2.2.3): a call with `Require: 100rel` must reach the callee, not get 420.
        sanity: { role: 'proxy' },
      },
      gate: this.guard,
      onGateDrop: (reason) => this.metrics.dropped.labels(reason).inc(),
      tap: {
        get enabled() {
          return trace.enabled;
        },
        record: (direction, transport, local, remote, message, at) =>
          trace.record(
            direction,
            transport,
            endpointText(local),
            endpointText(remote),
            message,
            at,
          ),
      },
      // RFC 3263: sip.dnsServers, else the system's, with its answer cache.
      dns: nodeDns({ servers: sip.dnsServers }),
      tu: {
        onRequest: ({ request, ctx, transaction, cancels }) => {
          const rc: RequestContext = {
            request,
            ctx,
            tx: transaction,
            cancels,
            now: this.clock.now(),
            flowTokens: [],
            authUser: undefined,
            recordRoute: false,
          };
          this.requestCounts[request.method] = (this.requestCounts[request.method] ?? 0) + 1;
          try {
            const pending = this.#pipeline.run(rc);
            if (pending) pending.catch((err: unknown) => this.#failed(rc, err));
          } catch (err) {
            this.#failed(rc, err);
          }
        },
        onStrayResponse: (response) => this.core.forwardStray(response),
        statelessly: (request) => this.#pipeline.statelessly(request),
      },
    });
    const nonces = new NonceManager({
      secret: randomBytes(32).toString('hex'),
      crypto: nodeNonceCrypto,
    });
    const algorithms = sip.digestAlgorithms as readonly DigestAlgorithm[];
    const digest = { realm: o.domain, hash: nodeDigestHash, nonces, algorithms };
    this.core = new ProxyCore({
      stack: this.stack,
      logger: o.logger,
      hooks: {
        onBranch: (rctx, branch, out) => {
          this.metrics.forwarded.labels('branch').inc();
          this.cdrs.branch(rctx.request, out, this.clock.now(), branch);
        },
        onReply: (rctx, branch, response) => this.#pipeline.onReply(rctx, branch, response),
        onFailure: (rctx, best) => this.#pipeline.onFailure(rctx, best),
        onForward: (rctx, status, response) => {
          this.dialogs.track(rctx.request, status, response, this.clock.now());
          // Before the response goes upstream: a CDR ending here is in the file first.
          this.cdrs.forward(rctx.request, status, response, this.clock.now());
        },
      },
    });
    this.#pipeline = new Pipeline({
      core: this.core,
      stack: this.stack,
      registrar: this.registrar,
      location: this.location,
      users: this.users,
      guard: this.guard,
      metrics: this.metrics,
      registrarAuth: new DigestServer({ ...digest, proxy: false }),
      proxyAuth: new DigestServer({ ...digest, proxy: true }),
      domain: o.domain,
      recurse3xx: sip.recurse3xx,
    });
  }

  get ports(): Ports {
    return this.#ports;
  }

  get running(): boolean {
    return this.stack.running;
  }

  /** The transport layer in use (the stack's; a new one after each restart). */
  get transport(): TransportLayer | undefined {
    return this.stack.transport;
  }

  /** The transaction layer (the stack's). */
  get layer(): TransactionLayer<ReceiveContext> {
    return this.stack.transactions;
  }

  listeners(): SipListenerInfo[] {
    return this.stack.listeners();
  }

  async start(): Promise<SipListenerInfo[]> {
    const loaded = await this.users.load();
    if (loaded.ignored) this.#log.warn({}, `sip: ${loaded.ignored}; ignored`);
    const listeners = await this.stack.start(async (b) => {
      await this.#listenAll(b, this.#ports, ['udp-tcp', 'tls']);
      this.#attachWs(b);
    });
    this.#scheduleSweep();
    return listeners;
  }

  /** Changes ports atomically; throws `conflict` (old listeners untouched) when one is taken. */
  async restart(next: Ports): Promise<SipListenerInfo[]> {
    if (this.#closing) throw new TfxError('shutting-down', 'the SIP service is closing');
    const oldPorts = this.#ports;
    const listening = this.stack.listeners();
    const boundPort = (tr: TransportProtocol) => listening.find((l) => l.transport === tr)?.port;
    // A group whose port stays the same cannot be bound twice: it moves after the old closes.
    const sameUdp = next.port !== 0 && next.port === boundPort('udp');
    const sameTls = next.tlsPort !== 0 && next.tlsPort === boundPort('tls');
    let listeners: SipListenerInfo[];
    try {
      listeners = await this.stack.restart({
        before: (b) =>
          this.#listenAll(b, next, [
            ...(sameUdp ? [] : (['udp-tcp'] as const)),
            ...(sameTls ? [] : (['tls'] as const)),
          ]),
        after: async (b) => {
          await this.#listenAll(b, next, [
            ...(sameUdp ? (['udp-tcp'] as const) : []),
            ...(sameTls ? (['tls'] as const) : []),
          ]);
          this.#attachWs(b);
        },
        rollback: async (b) => {
          await this.#listenAll(b, oldPorts, ['udp-tcp', 'tls']).catch(() => undefined);
          this.#attachWs(b);
        },
      });
    } catch (err) {
      if (err instanceof TfxError && err.code === 'conflict' && /not changed/.test(err.message)) {
        throw new TfxError(
          'conflict',
          `SIP ports not changed: ${err.message.replace(/^SIP listeners not changed: /, '')}`,
          { port: next.port, tlsPort: next.tlsPort },
        );
      }
      throw err;
    }
    this.#ports = next;
    this.startedAt = this.clock.now();
    this.#log.info({ listeners }, 'sip: restarted on new ports');
    return listeners;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#sweeper) this.clock.clearTimer(this.#sweeper);
      this.#sweeper = undefined;
      this.core.close();
      await this.stack.close();
      await this.location.close();
    })();
    return this.#closing;
  }

  #failed(rc: RequestContext, err: unknown): void {
    this.#log.error(
      { err, callId: rc.request.headers.callId(), remote: rc.ctx.remote },
      'sip: request processing failed',
    );
    this.core.reply(rc, 500);
  }

  async #listenAll(
    t: Binder,
    ports: Ports,
    groups: ReadonlyArray<'udp-tcp' | 'tls'>,
  ): Promise<void> {
    const address = this.o.config.server.host;
    if (groups.includes('udp-tcp')) {
      // UDP and TCP share one number; with port 0, UDP picks it and TCP follows (retried if TCP
      // finds it taken).
      for (let attempt = 0; ; attempt++) {
        const udp = await t.listen({ transport: 'udp', address, port: ports.port });
        try {
          await t.listen({ transport: 'tcp', address, port: udp.port });
          break;
        } catch (err) {
          if (ports.port !== 0 || attempt >= 4) throw err;
          // leave the stray UDP socket: the whole layer is closed if we give up
        }
      }
    }
    if (groups.includes('tls')) {
      await t.listen({
        transport: 'tls',
        address,
        port: ports.tlsPort,
        cert: this.o.tls.cert,
        key: this.o.tls.key,
      });
    }
  }

  #attachWs(t: Binder): void {
    const server = this.o.httpServer;
    // With an SBC zone marked `webrtc`, `/sip` is that zone's (its security stages and digest;
    // docs/sbc.md): the SIP server keeps its UDP/TCP/TLS ports only.
    const sbcOwnsWs = this.o.config.sbc.zones.some((z) => z.webrtc);
    if (server?.listening && !sbcOwnsWs) {
      t.attachWebSocket(server, { path: '/sip', secure: !this.o.config.server.insecureHttp });
    }
  }

  /** Every 15 s on the injected clock (the real one never keeps the process alive). */
  #scheduleSweep(): void {
    this.#sweeper = this.clock.setTimer(15_000, () => {
      if (this.#closing) return;
      void this.#sweep();
      this.#scheduleSweep();
    });
  }

  async #sweep(): Promise<void> {
    const now = this.clock.now();
    try {
      await this.location.expire(now);
      this.#registrations = await this.location.count(now);
      this.dialogs.sweep(now);
      this.cdrs.sweep(now);
    } catch (err) {
      this.#log.warn({ err }, 'sip: sweep failed');
    }
  }

  async registrationCount(): Promise<number> {
    this.#registrations = await this.location.count(this.clock.now());
    return this.#registrations;
  }
}
