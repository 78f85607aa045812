/**
 * The audit log of admin actions: who (the admin token, by fingerprint), when, what, from where.
 * Kept append-only in `<dataDir>/audit/audit.jsonl` (one JSON object a line), and with Redis also
 * in the list `<prefix>audit` (newest first, the last AUDIT_REDIS_MAX kept) so that every process
 * of a deployment shows and exports the same log. Reads come from Redis when configured, else
 * from the file.
 *
 * Entries are made by `auditHook` (routes.ts) from the answered request: nothing in a route has to
 * remember to write it. Passwords and request bodies are never logged, only the target named in
 * the route (the user, the session, the ban).
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditEntry, AuditPage } from '@tfx/protocol';

export const AUDIT_REDIS_MAX = 100_000;

export interface AuditQuery {
  readonly limit: number;
  readonly before?: string | undefined;
  readonly action?: string | undefined;
}

/** Sortable ids: the time in base 36 (fixed width) then random bits. */
export function auditId(at: number): string {
  return `${at.toString(36).padStart(10, '0')}-${randomBytes(4).toString('hex')}`;
}

/** Parses a JSON-lines text; a broken line (a crash mid-write) is skipped, not fatal. Pure. */
export function parseAuditLines(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as AuditEntry;
      if (v && typeof v.id === 'string' && typeof v.action === 'string') out.push(v);
    } catch {
      // a torn last line
    }
  }
  return out;
}

/** Newest first, filtered and paged. Pure. */
export function pageOf(newestFirst: readonly AuditEntry[], q: AuditQuery): AuditPage {
  let items = newestFirst;
  if (q.action) items = items.filter((e) => e.action === q.action);
  if (q.before) items = items.filter((e) => e.id < q.before!);
  const page = items.slice(0, q.limit);
  return {
    items: page,
    ...(items.length > q.limit && page.length > 0 ? { nextBefore: page.at(-1)!.id } : {}),
  };
}

export class AuditLog {
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    readonly file: string,
    private readonly redis?: { readonly client: Redis; readonly key: string } | undefined,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Appends one entry (to the file, and to Redis when configured). Resolves once written. */
  append(entry: AuditEntry): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const line = `${JSON.stringify(entry)}\n`;
    this.#writing = this.#writing.then(async () => {
      try {
        await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
        await appendFile(this.file, line, { mode: 0o600 });
      } catch (err) {
        this.onError(err);
      }
      if (this.redis) {
        try {
          await this.redis.client
            .multi()
            .lpush(this.redis.key, JSON.stringify(entry))
            .ltrim(this.redis.key, 0, AUDIT_REDIS_MAX - 1)
            .exec();
        } catch (err) {
          this.onError(err);
        }
      }
    });
    return this.#writing;
  }

  /** Every entry, newest first. */
  async all(): Promise<AuditEntry[]> {
    await this.#writing;
    if (this.redis) {
      try {
        const raw = await this.redis.client.lrange(this.redis.key, 0, -1);
        return parseAuditLines(raw.join('\n'));
      } catch (err) {
        this.onError(err);
        // Redis away: this process's own file is the best answer there is.
      }
    }
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return [];
    }
    return parseAuditLines(text).reverse();
  }

  async list(q: AuditQuery): Promise<AuditPage> {
    return pageOf(await this.all(), q);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#writing;
  }
}
