/**
 * The SIP service: owns the transport layer (listeners), the transaction layer, the proxy core
 * and the routing pipeline, the registrar and its stores, and the security guard.
 *
 * Ownership (closing runs downward, idempotent): SipService → TransportLayer → listeners and
 * connections; → TransactionLayer → transactions; → ProxyCore → calls → branches.
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
  NonceManager,
  TransactionLayer,
  TransportLayer,
  canonicalHost,
  defaultPort,
  Gate,
  type Hop,
  locate,
  nodeDigestHash,
  nodeDns,
  nodeNonceCrypto,
  type DigestAlgorithm,
  type InboundMessage,
  type ListenerInfo as SipListenerInfo,
  type SipUri,
  type TransportProtocol,
} from '@tfx/sip';
import { TfxError } from '@tfx/protocol';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { TlsIdentity } from '../tls.js';
import { DialogTable } from './dialogs.js';
import { MemoryLocationStore, type LocationStore } from './location.js';
import { SipMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { ProxyCore, type RequestContext } from './proxy.js';
import { Registrar } from './registrar.js';
import { MessageTrace } from './trace.js';
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
  readonly metrics: SipMetrics;
  readonly core: ProxyCore;
  readonly layer: TransactionLayer;
  readonly domain: string;
  readonly requestCounts: Record<string, number> = {};
  startedAt = Date.now();
  #transport: TransportLayer | undefined;
  #ports: Ports;
  #hosts = new Set<string>();
  #listenerPorts = new Set<number>();
  #registrations = 0;
  #sweeper: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  readonly #flowSecret = randomBytes(32);
  readonly #log: Logger;
  readonly #pipeline: Pipeline;
  #restarting = false;
  /** DNS for RFC 3263 (sip.dnsServers, else the system's), with its answer cache. */
  readonly #dns: ReturnType<typeof nodeDns>;

  constructor(private readonly o: SipServiceOptions) {
    const sip = o.config.sip;
    this.#log = o.logger;
    this.domain = o.domain;
    this.#ports = { port: sip.port, tlsPort: sip.tlsPort };
    this.users = new SipUsers(o.domain, sip.users, o.dataDir);
    this.location = o.location ?? new MemoryLocationStore();
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
    this.#dns = nodeDns({ servers: sip.dnsServers });
    this.metrics = new SipMetrics(o.metrics, {
      registrations: () => this.#registrations,
      dialogs: () => this.dialogs.size,
      transactions: () => this.layer.size,
      bans: () => this.guard.list(Date.now()).length,
    });
    const nonces = new NonceManager({
      secret: randomBytes(32).toString('hex'),
      crypto: nodeNonceCrypto,
    });
    const algorithms = sip.digestAlgorithms as readonly DigestAlgorithm[];
    const digest = { realm: o.domain, hash: nodeDigestHash, nonces, algorithms };
    this.core = new ProxyCore({
      logger: o.logger,
      trace: this.trace,
      metrics: this.metrics,
      dialogs: this.dialogs,
      serverHeader: sip.serverHeader,
      now: Date.now,
      hooks: {
        onFailure: (call, best) => this.#pipeline.onFailure(call, best),
        onReply: () => {},
      },
    });
    this.layer = new TransactionLayer({
      send: this.core.send,
      logger: o.logger,
      tu: {
        onRequest: ({ request, ctx, transaction, cancels }) => {
          const rc: RequestContext = {
            request,
            ctx: ctx as RequestContext['ctx'],
            tx: transaction,
            cancels,
            now: Date.now(),
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
      },
    });
    this.core.layer = this.layer;
    this.#pipeline = new Pipeline({
      core: this.core,
      registrar: new Registrar({
        store: this.location,
        minExpires: sip.minExpires,
        maxExpires: sip.maxExpires,
        defaultExpires: sip.defaultExpires,
      }),
      location: this.location,
      users: this.users,
      guard: this.guard,
      metrics: this.metrics,
      registrarAuth: new DigestServer({ ...digest, proxy: false }),
      proxyAuth: new DigestServer({ ...digest, proxy: true }),
      domain: o.domain,
      recurse3xx: sip.recurse3xx,
      isUs: (uri, checkPort) => this.isUs(uri, checkPort),
      locate: (uri) => this.#locate(uri),
    });
  }

  get ports(): Ports {
    return this.#ports;
  }

  get running(): boolean {
    return this.#transport !== undefined && !this.#transport.closed;
  }

  get transport(): TransportLayer | undefined {
    return this.#transport;
  }

  listeners(): SipListenerInfo[] {
    return this.#transport?.listeners() ?? [];
  }

  async start(): Promise<SipListenerInfo[]> {
    const loaded = await this.users.load();
    if (loaded.ignored) this.#log.warn({}, `sip: ${loaded.ignored}; ignored`);
    const t = this.#newTransport();
    try {
      await this.#listenAll(t, this.#ports, ['udp-tcp', 'tls']);
      this.#attachWs(t);
    } catch (err) {
      await t.close();
      throw err;
    }
    this.#install(t);
    this.#sweeper = setInterval(() => void this.#sweep(), 15_000);
    this.#sweeper.unref();
    return t.listeners();
  }

  /** Changes ports atomically; throws `conflict` (old listeners untouched) when one is taken. */
  async restart(next: Ports): Promise<SipListenerInfo[]> {
    if (this.#closing) throw new TfxError('shutting-down', 'the SIP service is closing');
    if (this.#restarting) throw new TfxError('conflict', 'a SIP restart is already running');
    this.#restarting = true;
    try {
      const old = this.#transport;
      const oldPorts = this.#ports;
      const listening = old?.listeners() ?? [];
      const boundPort = (tr: TransportProtocol) => listening.find((l) => l.transport === tr)?.port;
      // A group whose port stays the same cannot be bound twice: it moves after the old closes.
      const sameUdp = next.port !== 0 && next.port === boundPort('udp');
      const sameTls = next.tlsPort !== 0 && next.tlsPort === boundPort('tls');
      const t = this.#newTransport();
      try {
        await this.#listenAll(t, next, [
          ...(sameUdp ? [] : (['udp-tcp'] as const)),
          ...(sameTls ? [] : (['tls'] as const)),
        ]);
      } catch (err) {
        await t.close();
        throw new TfxError(
          'conflict',
          `SIP ports not changed: ${(err as Error).message}; the old listeners keep running`,
          { port: next.port, tlsPort: next.tlsPort },
        );
      }
      if (old) await old.close();
      try {
        await this.#listenAll(t, next, [
          ...(sameUdp ? (['udp-tcp'] as const) : []),
          ...(sameTls ? (['tls'] as const) : []),
        ]);
        this.#attachWs(t);
      } catch (err) {
        this.#log.error({ err }, 'sip: could not rebind an unchanged port after restart');
        await t.close();
        const back = this.#newTransport();
        await this.#listenAll(back, oldPorts, ['udp-tcp', 'tls']).catch(() => undefined);
        this.#attachWs(back);
        this.#install(back);
        throw new TfxError('conflict', `SIP restart failed: ${(err as Error).message}`);
      }
      this.#ports = next;
      this.#install(t);
      this.startedAt = Date.now();
      this.#log.info({ listeners: t.listeners() }, 'sip: restarted on new ports');
      return t.listeners();
    } finally {
      this.#restarting = false;
    }
  }

  /** Whether a URI names this server: host ours and, if asked, port one of our listeners'. */
  isUs(uri: SipUri, checkPort: boolean): boolean {
    const host = canonicalHost(uri.host);
    if (!this.#hosts.has(host)) return false;
    if (!checkPort) return true;
    if (host === canonicalHost(this.domain) && uri.port === undefined) return true;
    const t = uri.params.get('transport');
    const tr = (typeof t === 'string' ? t.toLowerCase() : 'udp') as TransportProtocol;
    const port =
      uri.port ?? (uri.scheme === 'sips' ? 5061 : defaultPort(tr === 'tls' ? 'tls' : 'udp'));
    return this.#listenerPorts.has(port);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#sweeper) clearInterval(this.#sweeper);
      this.core.close();
      this.layer.close();
      await this.#transport?.close();
      await this.location.close();
    })();
    return this.#closing;
  }

  /** RFC 3263 for a next hop named by host name: the servers to try, in order. */
  async #locate(uri: SipUri): Promise<Hop[]> {
    const transport = uri.params.get('transport');
    const targets = await locate(
      {
        secure: uri.scheme === 'sips',
        host: canonicalHost(uri.host),
        port: uri.port,
        transport: typeof transport === 'string' ? transport.toLowerCase() : undefined,
      },
      this.#dns,
      // Outbound WebSocket is not something this server opens.
      { transports: ['udp', 'tcp', 'tls'], maxTargets: 8 },
    );
    return targets.map((t) => ({
      transport: t.transport as TransportProtocol,
      remote: { address: t.address, port: t.port },
    }));
  }

  #failed(rc: RequestContext, err: unknown): void {
    this.#log.error(
      { err, callId: rc.request.headers.callId(), remote: rc.ctx.remote },
      'sip: request processing failed',
    );
    this.core.reply(rc, 500);
  }

  #newTransport(): TransportLayer {
    const host = this.o.config.server.host;
    const wildcard = host === '0.0.0.0' || host === '::';
    return new TransportLayer({
      logger: this.#log,
      flowTokenSecret: this.#flowSecret,
      ...(wildcard ? {} : { advertisedHost: host }),
      aliases: [this.domain],
    });
  }

  async #listenAll(
    t: TransportLayer,
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

  #attachWs(t: TransportLayer): void {
    const server = this.o.httpServer;
    if (server?.listening) {
      t.attachWebSocket(server, { path: '/sip', secure: !this.o.config.server.insecureHttp });
    }
  }

  #install(t: TransportLayer): void {
    this.#transport = t;
    this.core.transport = t;
    t.onMessage((inbound) => this.#inbound(inbound));
    const hosts = new Set<string>([canonicalHost(this.domain), 'localhost']);
    const ports = new Set<number>();
    for (const l of t.listeners()) {
      hosts.add(l.address);
      ports.add(l.port);
    }
    for (const tr of ['udp', 'tcp', 'tls', 'ws', 'wss'] as const) {
      const sb = t.sentBy(tr);
      if (sb) hosts.add(canonicalHost(sb.host));
    }
    if (hosts.has('127.0.0.1') || hosts.has('0.0.0.0')) hosts.add('127.0.0.1');
    this.#hosts = hosts;
    this.#listenerPorts = ports;
  }

  /** Before the transaction layer: rate limit, bans, trace. */
  #inbound(inbound: InboundMessage): void {
    const { message, ctx } = inbound;
    if (message.kind === 'request') {
      const now = Date.now();
      const ip = ctx.remote.address;
      if (!this.guard.admit(ip, now)) {
        this.metrics.dropped.labels('rate-limited').inc();
        return;
      }
      if (this.guard.banned('ip', ip, now)) {
        this.metrics.dropped.labels('banned').inc();
        if (message.method !== 'ACK') {
          this.core.sendStateless(this.core.response(message, 403, 'Forbidden'), ctx);
        }
        return;
      }
    }
    this.core.traceIn(message, ctx);
    this.layer.handleIncoming(message, ctx);
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    try {
      await this.location.expire(now);
      this.#registrations = await this.location.count(now);
      this.dialogs.sweep(now);
    } catch (err) {
      this.#log.warn({ err }, 'sip: sweep failed');
    }
  }

  async registrationCount(): Promise<number> {
    this.#registrations = await this.location.count(Date.now());
    return this.#registrations;
  }
}
