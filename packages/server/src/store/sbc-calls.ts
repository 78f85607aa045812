/**
 * Where the SBC keeps its live calls so that a restarted process ends them (the `CallStore` of
 * @tfx/sbc, docs/sbc.md "Restart recovery"). Two of the Store family:
 *
 * - `FileCallStore` (the embedded default): a journal in the data dir,
 *   `<dataDir>/sbc/calls.jsonl`, one line per change (`{"put":record}` or `{"remove":id}`),
 *   written with a plain `write(2)` as each call is confirmed or ends, so a SIGKILL loses
 *   nothing the kernel was handed. Read back (folded) at start; compacted when it grows to
 *   many more lines than live calls (a temporary file, then rename). A torn last line is skipped.
 * - `RedisCallStore` (with `redis.url`): one hash per process identity
 *   (`<prefix>sbc:calls:<owner>`); every process of a deployment keeps its own.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { CallRecord, CallStore } from '@tfx/sbc';

function isRecord(v: unknown): v is CallRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { id?: unknown; legs?: unknown };
  return typeof r.id === 'string' && Array.isArray(r.legs);
}

export class FileCallStore implements CallStore {
  readonly path: string;
  readonly #live = new Map<string, CallRecord>();
  #fd: number | undefined;
  #lines = 0;
  #closed = false;

  constructor(path: string) {
    this.path = path;
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as { put?: unknown; remove?: unknown };
        if (isRecord(entry.put)) this.#live.set(entry.put.id, entry.put);
        else if (typeof entry.remove === 'string') this.#live.delete(entry.remove);
      } catch {
        // a torn line (the process died while writing it): skip it
      }
    }
    this.#rewrite();
  }

  async put(record: CallRecord): Promise<void> {
    this.#live.set(record.id, record);
    this.#append({ put: record });
  }

  async remove(id: string): Promise<void> {
    if (!this.#live.delete(id)) return;
    this.#append({ remove: id });
  }

  async list(): Promise<CallRecord[]> {
    return [...this.#live.values()];
  }

  /** Calls kept now. */
  get size(): number {
    return this.#live.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #append(entry: object): void {
    if (this.#closed) return;
    this.#fd ??= this.#open();
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
    this.#lines++;
    if (this.#lines > 1000 && this.#lines > 4 * this.#live.size) this.#rewrite();
  }

  #open(): number {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    return openSync(this.path, 'a', 0o600);
  }

  /** The journal as only the live calls (temporary file, then rename). */
  #rewrite(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    for (const r of this.#live.values()) writeSync(fd, `${JSON.stringify({ put: r })}\n`);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.#lines = this.#live.size;
  }
}

export class RedisCallStore implements CallStore {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #owned: boolean;
  #closed = false;

  /** `owner`: this process's stable identity; `owned`: `close()` also closes the client. */
  constructor(redis: Redis, o: { prefix?: string; owner: string }, owned = false) {
    this.#redis = redis;
    this.#key = `${o.prefix ?? 'tfx:'}sbc:calls:${o.owner}`;
    this.#owned = owned;
  }

  async put(record: CallRecord): Promise<void> {
    await this.#redis.hset(this.#key, record.id, JSON.stringify(record));
  }

  async remove(id: string): Promise<void> {
    await this.#redis.hdel(this.#key, id);
  }

  async list(): Promise<CallRecord[]> {
    const raw = await this.#redis.hgetall(this.#key);
    const out: CallRecord[] = [];
    for (const json of Object.values(raw)) {
      try {
        const v: unknown = JSON.parse(json);
        if (isRecord(v)) out.push(v);
      } catch {
        // not ours: skip
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#redis.quit().catch(() => undefined);
  }
}
