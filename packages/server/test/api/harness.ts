/** Starts a real platform in-process on port 0 with the API module, for REST tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createLogger,
  loadConfig,
  startPlatform,
  type Platform,
  type PlatformModule,
} from '../../src/index.js';
import { httpRequest, type HttpResponse } from './http.js';

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

export async function startTestPlatform(options: {
  modules: PlatformModule[];
  dataDir?: string;
  flags?: Record<string, string | boolean>;
}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const config = loadConfig({
    flags: {
      dataDir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'sip.enabled': false,
      'admin.token': 'test-admin-token-0123456789',
      ...options.flags,
    },
  });
  const platform = await startPlatform(config, {
    logger: silent(),
    modules: options.modules,
    version: 'test',
  });
  const base = platform.context.publicUrl();
  const token = platform.context.adminToken;
  return {
    platform,
    base,
    token,
    dataDir,
    req: (method, path, o = {}) =>
      httpRequest(base, method, path, { token: o.token ?? token, body: o.body }),
    async close(removeDataDir = true) {
      await platform.close();
      if (removeDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
