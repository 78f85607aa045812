/** Starts a real platform in-process on port 0 (signalling + REST API + ICE) for REST tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type JoinResult,
  type ServerToClientEvents,
} from '@tfx/protocol';
import {
  createLogger,
  loadConfig,
  startPlatform,
  type Platform,
  type PlatformModule,
} from '../../src/index.js';
import { adminFromSignalling, createApiModule } from '../../src/api/index.js';
import { createSignallingModule } from '../../src/signalling/index.js';
import { createIceModule } from '../../src/turn/index.js';
import { httpRequest, type HttpResponse } from './http.js';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestPlatform {
  readonly platform: Platform;
  readonly base: string;
  readonly token: string;
  readonly dataDir: string;
  /** Authenticated by default; pass `token: ''` for none. */
  req(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown },
  ): Promise<HttpResponse>;
  /** A real socket.io client that joins `room`; resolves with the join ack. */
  join(room: string, name: string): Promise<{ client: Client; result: JoinResult }>;
  close(removeDataDir?: boolean): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tfx-api-'));
}

const silent = () =>
  createLogger({
    level: 'warn',
    format: 'json',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });

/** The modules as the composition root wires them. */
export function apiModules(): PlatformModule[] {
  const signalling = createSignallingModule();
  return [
    signalling,
    createIceModule({ service: () => signalling.service }),
    createApiModule({ admin: () => adminFromSignalling(signalling.service) }),
  ];
}

export async function startTestPlatform(options: {
  modules?: PlatformModule[];
  dataDir?: string;
  flags?: Record<string, string | boolean>;
  /** A built web app's folder (index.html, room.html) to serve. */
  webRoot?: string;
}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const config = loadConfig({
    env: {},
    flags: {
      dataDir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'sip.enabled': false,
      'admin.token': 'test-admin-token-0123456789',
      'signalling.resumeGraceMs': '50',
      ...options.flags,
    },
  });
  const platform = await startPlatform(config, {
    logger: silent(),
    modules: options.modules ?? apiModules(),
    version: 'test',
    webRoot: options.webRoot,
  });
  const base = platform.context.publicUrl();
  const token = platform.context.adminToken;
  const clients = new Set<Client>();
  return {
    platform,
    base,
    token,
    dataDir,
    req: (method, path, o = {}) =>
      httpRequest(base, method, path, { token: o.token ?? token, body: o.body }),
    join(room, name) {
      const client: Client = io(base, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        rejectUnauthorized: false,
        auth: { protocol: PROTOCOL_VERSION },
      });
      clients.add(client);
      return new Promise((resolve, reject) => {
        client.once('connect_error', reject);
        client.once('connect', () =>
          client.emit('join', { room, name }, (ack) =>
            ack.ok
              ? resolve({ client, result: ack })
              : reject(new Error(`${ack.error.code}: ${ack.error.message}`)),
          ),
        );
      });
    },
    async close(removeDataDir = true) {
      for (const c of clients) c.close();
      await platform.close();
      if (removeDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
