/**
 * Lawful intercept's state in the data dir (docs/sbc.md, "Lawful intercept"), mode 0700/0600:
 *
 * - `<dataDir>/li/targets.json`: the targets, rewritten whole on each change (a temporary file,
 *   fsync, rename: a crash leaves the old list or the new one, never half of one);
 * - `<dataDir>/li/audit.jsonl`: the audit log, append-only (`O_APPEND`, one JSON line per
 *   request, fdatasync before the request is answered). Never rewritten or truncated by TFX.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  MAX_INTERCEPT_TARGETS,
  sbcInterceptTargetSchema,
  type SbcInterceptAuditEntry,
  type SbcInterceptTarget,
} from '@tfx/protocol';
import type { InterceptTarget } from '@tfx/sbc';
import { z } from 'zod';

/** Most audit entries the REST reads back (from the end of the file); the file keeps all. */
const AUDIT_READ_BYTES = 16 * 1024 * 1024;

export class InterceptStore {
  readonly dir: string;
  #targets: SbcInterceptTarget[] = [];
  /** The SBC's view (kind, value, id), rebuilt on each change. */
  #view: readonly InterceptTarget[] = [];
  #auditFd: number | undefined;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'li');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.#targets = this.#load();
    this.#view = this.#targets.map((t) => ({ id: t.id, kind: t.kind, value: t.value }));
  }

  /** The targets in force (what the SBC matches calls against). */
  readonly view = (): readonly InterceptTarget[] => this.#view;

  list(): readonly SbcInterceptTarget[] {
    return this.#targets;
  }

  get full(): boolean {
    return this.#targets.length >= MAX_INTERCEPT_TARGETS;
  }

  add(t: Omit<SbcInterceptTarget, 'id' | 'createdAt'>, now: number): SbcInterceptTarget {
    const target: SbcInterceptTarget = {
      id: `li-t-${randomBytes(8).toString('hex')}`,
      ...t,
      createdAt: new Date(now).toISOString(),
    };
    this.#save([...this.#targets, target]);
    return target;
  }

  /** Removes a target; undefined when there is none with that id. */
  remove(id: string): SbcInterceptTarget | undefined {
    const t = this.#targets.find((x) => x.id === id);
    if (t) this.#save(this.#targets.filter((x) => x !== t));
    return t;
  }

  /** Appends one audit entry and syncs it to disk before returning. */
  audit(entry: SbcInterceptAuditEntry): void {
    this.#auditFd ??= openSync(join(this.dir, 'audit.jsonl'), 'a', 0o600);
    writeSync(this.#auditFd, `${JSON.stringify(entry)}\n`);
    fdatasyncSync(this.#auditFd);
  }

  /** The last `limit` audit entries, oldest first (lines that do not parse are skipped). */
  readAudit(limit: number): SbcInterceptAuditEntry[] {
    let text: string;
    try {
      const buf = readFileSync(join(this.dir, 'audit.jsonl'));
      text = buf.subarray(Math.max(0, buf.length - AUDIT_READ_BYTES)).toString('utf8');
    } catch {
      return [];
    }
    const out: SbcInterceptAuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as SbcInterceptAuditEntry);
      } catch {
        // a partial first line (the read window) or damage: skipped
      }
    }
    return out.slice(-limit);
  }

  close(): void {
    if (this.#auditFd !== undefined) closeSync(this.#auditFd);
    this.#auditFd = undefined;
  }

  #load(): SbcInterceptTarget[] {
    let raw: string;
    try {
      raw = readFileSync(join(this.dir, 'targets.json'), 'utf8');
    } catch {
      return [];
    }
    // A damaged file stops the start rather than silently intercepting nothing.
    return z.strictObject({ targets: z.array(sbcInterceptTargetSchema) }).parse(JSON.parse(raw))
      .targets;
  }

  #save(next: SbcInterceptTarget[]): void {
    const file = join(this.dir, 'targets.json');
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ targets: next }, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    this.#targets = next;
    this.#view = next.map((t) => ({ id: t.id, kind: t.kind, value: t.value }));
  }
}
