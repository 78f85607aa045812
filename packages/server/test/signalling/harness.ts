/**
 * Signalling integration harness: the real platform in-process (HTTPS, self-signed, port 0) with
 * the signalling module, and real socket.io-client connections typed by the protocol package.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type Ack,
  type ClientToServerEvents,
  type ConnectErrorData,
  type JoinRequest,
  type JoinResult,
  type ServerToClientEvents,
  type SocketAuth,
} from '@tfx/protocol';
import {
  createLogger,
  createSignallingModule,
  loadConfig,
  startPlatform,
  type Platform,
  type SignallingModule,
} from '../../src/index.js';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SignallingHarness {
  readonly platform: Platform;
  readonly module: SignallingModule;
  readonly url: string;
  readonly dataDir: string;
  /** Every client opened through `connect` is closed by `close()`. */
  connect(options?: ConnectOptions): Client;
  /** Connects and waits for the connection (or throws the connect error's data). */
  open(options?: ConnectOptions): Promise<Client>;
  /** Opens a connection and joins; throws if the join is refused. */
  join(
    room: string,
    name: string,
    extra?: Partial<JoinRequest>,
    options?: ConnectOptions,
  ): Promise<{ client: Client; result: JoinResult }>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(removeDataDir?: boolean): Promise<void>;
}

export interface ConnectOptions {
  readonly auth?: Partial<SocketAuth> | Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly reconnection?: boolean;
  readonly localAddress?: string;
}

const silent = () =>
  createLogger({
    level: 'silent',
    format: 'json',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });

const collecting = (lines: string[]) =>
  createLogger({
    level: 'debug',
    format: 'json',
    destination: new Writable({
      write: (chunk: Buffer, _e, cb) => {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    }),
  });

export async function startSignalling(
  flags: Record<string, string | boolean> = {},
  dataDir?: string,
  /** Collect debug-level log lines here instead of discarding them. */
  logLines?: string[],
): Promise<SignallingHarness> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'tfx-sig-')));
  const config = loadConfig({
    flags: {
      dataDir: dir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'sip.enabled': false,
      'admin.token': 'test-admin-token-0123456789',
      ...flags,
    },
  });
  const module = createSignallingModule();
  const platform = await startPlatform(config, {
    logger: logLines ? collecting(logLines) : silent(),
    modules: [module],
    version: 'test',
  });
  const url = platform.context.publicUrl();
  const clients = new Set<Client>();

  const connect = (options: ConnectOptions = {}): Client => {
    const client: Client = io(url, {
      transports: ['websocket'],
      rejectUnauthorized: false,
      reconnection: options.reconnection ?? false,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      auth: options.auth ?? { protocol: PROTOCOL_VERSION },
      ...(options.headers ? { extraHeaders: options.headers } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      forceNew: true,
    });
    clients.add(client);
    return client;
  };
  const open = (options: ConnectOptions = {}): Promise<Client> => {
    const client = connect(options);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('connect_error', (err) => {
        const data = (err as Error & { data?: ConnectErrorData }).data;
        reject(Object.assign(new Error(data?.code ?? err.message), { data }));
      });
    });
  };
  const harness: SignallingHarness = {
    platform,
    module,
    url,
    dataDir: dir,
    connect,
    open,
    async join(room, name, extra = {}, options = {}) {
      const client = await open(options);
      const ack = await client.timeout(10_000).emitWithAck('join', { room, name, ...extra });
      if (!ack.ok) throw Object.assign(new Error(ack.error.code), { error: ack.error });
      return { client, result: ack };
    },
    async metric(name, labels = {}) {
      const m = await platform.context.metrics.getSingleMetric(name)?.get();
      const value = m?.values.find((v) =>
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      );
      return value?.value ?? 0;
    },
    async close(removeDataDir = true) {
      for (const c of clients) c.disconnect();
      clients.clear();
      await platform.close();
      if (removeDataDir) await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Resolves with the next `event` payload on `client`. */
export function next<E extends keyof ServerToClientEvents>(
  client: Client,
  event: E,
  timeoutMs = 10_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${event} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const handler = (payload: Parameters<ServerToClientEvents[E]>[0]): void => {
      clearTimeout(timer);
      resolve(payload);
    };
    (client.once as (ev: E, fn: typeof handler) => Client)(event, handler);
  });
}

/** Collects every `event` payload on `client` from now on. */
export function collect<E extends keyof ServerToClientEvents>(
  client: Client,
  event: E,
): Array<Parameters<ServerToClientEvents[E]>[0]> {
  const out: Array<Parameters<ServerToClientEvents[E]>[0]> = [];
  (client.on as (ev: E, fn: (p: Parameters<ServerToClientEvents[E]>[0]) => void) => Client)(
    event,
    (p) => out.push(p),
  );
  return out;
}

/** Emits with an ack and returns it. */
export function ask<T extends object>(
  client: Client,
  event: string,
  payload: unknown,
): Promise<Ack<T>> {
  return (
    client.timeout(10_000) as unknown as { emitWithAck(ev: string, p: unknown): Promise<Ack<T>> }
  ).emitWithAck(event, payload);
}

export function disconnected(client: Client, timeoutMs = 10_000): Promise<string> {
  if (client.disconnected && !client.active) return Promise.resolve('already');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('still connected')), timeoutMs);
    client.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** Waits until `check` holds, polling each `everyMs` up to `timeoutMs` (for server-side state). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
