/**
 * The CDR store (docs/sbc.md, "CDRs"): the SBC's B2BUA calls and the SIP server's proxied calls
 * write their records here, one place for a user's call log.
 *
 * - The file is the durable record: `<dataDir>/cdr/cdr-YYYY-MM-DD.jsonl`, one JSON line a call
 *   attempt, append-only, a file per UTC day (of the write's time, on the injected clock).
 *   `write` is synchronous (write(2) on an fd opened O_APPEND): the SBC and the proxy call it
 *   before the call's last message goes out, so a line is in the kernel before the peer sees its
 *   call end (a SIGKILL loses none of them). fsync is batched: fdatasync every `syncMs` on a
 *   timer (a power loss may lose that much), at rotation and at close. The timer's fdatasync
 *   runs on libuv's thread pool (`fs.fdatasync`), not on the event loop: a disk flush that takes
 *   tens of milliseconds stalled every call's messages for that long (2.8 % of the samples of a
 *   1000 calls/s profile, issue #23). At most one is in flight; a file is closed only after it
 *   (rotation and close still flush synchronously first).
 * - A Redis stream when `redis.url` is set (`XADD <prefix><key> MAXLEN ~ <maxLen> * cdr <json>`),
 *   after the file line: fire and forget. A Redis failure is counted (`redisErrors`) and logged,
 *   never blocks or fails a call; the file keeps the record either way.
 *
 * One store per CDR folder in the process (`acquireCdrStore`): the SBC and SIP modules share it;
 * the last `release` closes it.
 */
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { CdrRecord, CdrSink } from '@tfx/sbc';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { openRedisClient } from './redis/client.js';

export function cdrFileName(ms: number): string {
  return `cdr-${new Date(ms).toISOString().slice(0, 10)}.jsonl`;
}

/** The part of an ioredis client the stream needs (a fake in unit tests, ioredis in production). */
export interface CdrRedis {
  xadd(key: string, ...args: Array<string | number>): Promise<unknown>;
  quit(): Promise<unknown>;
}

export interface CdrStreamOptions {
  readonly client: CdrRedis;
  /** The stream's full key (with the deployment's prefix). */
  readonly key: string;
  /** Approximate cap on the stream's length (`MAXLEN ~`). */
  readonly maxLen: number;
}

export interface CdrStoreOptions {
  readonly syncMs?: number;
  readonly now?: () => number;
  readonly redis?: CdrStreamOptions;
  readonly onError?: (what: 'file' | 'redis', err: unknown) => void;
}

/** The final status class of a record (`2xx`, `4xx`…; `0xx` for none). */
export function finalClass(final: number): string {
  return `${Math.floor(final / 100)}xx`;
}

export class CdrStore implements CdrSink {
  readonly dir: string;
  #fd: number | undefined;
  #day = '';
  #dirty = false;
  #closed = false;
  /** The timer's fdatasync in flight (on the thread pool), and the fd it flushes. */
  #syncing: Promise<void> | undefined;
  #syncingFd: number | undefined;
  /** Files rotated out while their flush was in flight: closed when it completes. */
  readonly #closeAfterSync = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;
  readonly #redis: CdrStreamOptions | undefined;
  readonly #onError: (what: 'file' | 'redis', err: unknown) => void;
  /** Lines written to the file. */
  written = 0;
  /** Records written, by kind (`sbc`, `proxy`) and final status class: tfx_sbc_cdrs_written_total. */
  readonly totals = new Map<string, number>();
  /** Records given to Redis, and XADDs that failed (the record is in the file all the same). */
  redisAdded = 0;
  redisErrors = 0;
  /** XADDs not yet answered (close waits for them). */
  readonly #pending = new Set<Promise<unknown>>();

  constructor(dir: string, opts: CdrStoreOptions = {}) {
    this.dir = dir;
    this.#now = opts.now ?? Date.now;
    this.#redis = opts.redis;
    this.#onError = opts.onError ?? (() => undefined);
    mkdirSync(dir, { recursive: true });
    this.#timer = setInterval(() => this.#syncInBackground(), opts.syncMs ?? 200);
    this.#timer.unref();
  }

  /** Appends the record's line (synchronously), then hands it to the Redis stream. */
  write(record: CdrRecord): void {
    if (this.#closed) throw new Error('the CDR store is closed');
    const name = cdrFileName(this.#now());
    if (name !== this.#day || this.#fd === undefined) {
      this.#rotate();
      this.#fd = openSync(join(this.dir, name), 'a', 0o600);
      this.#day = name;
    }
    const json = JSON.stringify(record);
    const text = json + '\n';
    // The string as it is (no Buffer of our own); a short write (never seen on a regular file)
    // goes on from the bytes left.
    const n = writeSync(this.#fd, text);
    if (n < Buffer.byteLength(text)) {
      const line = Buffer.from(text);
      let off = n;
      while (off < line.length) off += writeSync(this.#fd, line, off, line.length - off);
    }
    this.#dirty = true;
    this.written++;
    const key = `${record.kind ?? 'sbc'} ${finalClass(record.final)}`;
    this.totals.set(key, (this.totals.get(key) ?? 0) + 1);
    this.#toRedis(json);
  }

  #toRedis(json: string): void {
    const r = this.#redis;
    if (!r) return;
    let p: Promise<unknown>;
    try {
      p = r.client.xadd(r.key, 'MAXLEN', '~', r.maxLen, '*', 'cdr', json);
    } catch (err) {
      this.#redisFailed(err);
      return;
    }
    const tracked = p.then(
      () => {
        this.redisAdded++;
      },
      (err: unknown) => this.#redisFailed(err),
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #redisFailed(err: unknown): void {
    this.redisErrors++;
    this.#onError('redis', err);
  }

  /** fdatasync of the current file if lines were written since the last one (synchronous). */
  sync(): void {
    if (!this.#dirty || this.#fd === undefined) return;
    this.#dirty = false;
    fdatasyncSync(this.#fd);
  }

  /**
   * The timer's flush: fdatasync on the thread pool, at most one in flight (lines written
   * meanwhile stay dirty for the next tick). Lines written before it started are on disk when
   * it completes, as with the synchronous one.
   */
  #syncInBackground(): void {
    if (this.#syncing || !this.#dirty || this.#fd === undefined) return;
    this.#dirty = false;
    const fd = this.#fd;
    this.#syncingFd = fd;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(fd, (err) => {
        this.#syncing = undefined;
        this.#syncingFd = undefined;
        if (err) {
          if (this.#fd === fd) this.#dirty = true; // try again next tick
          this.#onError('file', err);
        }
        if (this.#closeAfterSync.delete(fd)) this.#closeFd(fd);
        resolve();
      });
    });
  }

  #closeFd(fd: number): void {
    try {
      closeSync(fd);
    } catch (err) {
      this.#onError('file', err);
    }
  }

  #rotate(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.sync();
    this.#fd = undefined;
    this.#dirty = false;
    // The thread pool may still be flushing this fd: close it when that is done, so the number
    // is not reused under it.
    if (this.#syncingFd === fd) this.#closeAfterSync.add(fd);
    else closeSync(fd);
  }

  /** Syncs and closes the current file, lets pending XADDs settle, quits Redis. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#rotate();
    await this.#syncing;
    await Promise.all([...this.#pending]);
    await this.#redis?.client.quit().catch(() => undefined);
  }
}

/** @deprecated name kept for the SBC's tests: the store without Redis. */
export { CdrStore as FileCdrSink };

interface Shared {
  readonly store: CdrStore;
  refs: number;
}

const shared = new Map<string, Shared>();

/**
 * The process's store of this folder: created by the first caller (with its options), shared by
 * the next ones. Each caller calls `release` once; the last one closes the store.
 */
export function acquireCdrStore(
  dir: string,
  create: () => CdrStore,
): { store: CdrStore; release: () => Promise<void> } {
  let s = shared.get(dir);
  if (!s) {
    s = { store: create(), refs: 0 };
    shared.set(dir, s);
  }
  s.refs++;
  const entry = s;
  let released = false;
  return {
    store: entry.store,
    release: async () => {
      if (released) return;
      released = true;
      entry.refs--;
      if (entry.refs > 0) return;
      if (shared.get(dir) === entry) shared.delete(dir);
      await entry.store.close();
    },
  };
}

/**
 * The process's CDR store of `<dataDir>/cdr` under this config (`sbc.cdr`, `redis.url`): shared
 * by the SBC and SIP modules; each caller releases it once at close.
 */
export function openCdrStore(
  config: Config,
  dataDir: string,
  log: Logger,
): { store: CdrStore; release: () => Promise<void> } {
  const dir = join(dataDir, 'cdr');
  return acquireCdrStore(dir, () => {
    const c = config.sbc.cdr;
    const url = config.redis.url;
    const client =
      url === undefined
        ? undefined
        : openRedisClient({
            url,
            kind: 'command',
            commandTimeoutMs: config.redis.commandTimeoutMs,
            name: 'tfx-cdr',
            onError: (err) => log.debug({ err: err.message }, 'cdr: redis error'),
          });
    // Connected in the background: a Redis down at start only counts failed XADDs.
    client?.connect().catch(() => undefined);
    let lastLog = 0;
    return new CdrStore(dir, {
      syncMs: c.syncMs,
      ...(client && {
        redis: { client, key: `${config.redis.keyPrefix}${c.redisKey}`, maxLen: c.redisMaxLen },
      }),
      onError: (what, err) => {
        // At most a warning a second (a Redis outage fails every XADD; all are counted).
        const now = Date.now();
        if (what === 'redis' && now - lastLog < 1000) return;
        lastLog = now;
        log.warn({ err, what }, 'cdr: record not written to ' + what);
      },
    });
  });
}

/** The shared store of this folder, if one is open. */
export function sharedCdrStore(dir: string): CdrStore | undefined {
  return shared.get(dir)?.store;
}

/**
 * `tfx_sbc_cdrs_written_total{kind,final}` (records in the file, by kind and final status class)
 * and `tfx_sbc_cdr_redis_errors_total`, read from the shared store when scraped. Registered once
 * per registry (the SBC and SIP modules both ask).
 */
export function registerCdrMetrics(registry: Registry, store: () => CdrStore | undefined): void {
  if (registry.getSingleMetric('tfx_sbc_cdrs_written_total')) return;
  new Counter({
    name: 'tfx_sbc_cdrs_written_total',
    help: 'CDR lines written to the file, by kind (sbc, proxy) and final status class (2xx, 4xx…).',
    labelNames: ['kind', 'final'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of store()?.totals ?? []) {
        const [kind = 'sbc', final = ''] = key.split(' ');
        this.inc({ kind, final }, n);
      }
    },
  });
  new Counter({
    name: 'tfx_sbc_cdr_redis_errors_total',
    help: 'CDRs not added to the Redis stream (Redis down or slow); the file has them.',
    registers: [registry],
    collect() {
      this.reset();
      const n = store()?.redisErrors ?? 0;
      if (n > 0) this.inc(n);
    },
  });
}
