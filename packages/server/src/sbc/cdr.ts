/**
 * The SBC's CDR files (docs/sbc.md, "CDRs"): `<dataDir>/cdr/cdr-YYYY-MM-DD.jsonl`, one JSON line
 * a call attempt, append-only, a file per UTC day. `write` is synchronous (write(2) on an fd
 * opened O_APPEND): the SBC calls it before it answers the BYE or sends the final response, so a
 * line is in the kernel before the peer sees its call end (a SIGKILL loses none of them). fsync is
 * batched: fdatasync every `syncMs` on a timer (a power loss may lose that much), and at close.
 * The reader streams the files of a range line by line (`GET /api/v1/sbc/cdrs`).
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CdrRecord, CdrSink } from '@tfx/sbc';
import type { SbcCdr, SbcCdrQuery } from '@tfx/protocol';

const DAY_MS = 86_400_000;
const FILE = /^cdr-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function cdrFileName(ms: number): string {
  return `cdr-${new Date(ms).toISOString().slice(0, 10)}.jsonl`;
}

export class FileCdrSink implements CdrSink {
  readonly dir: string;
  #fd: number | undefined;
  #day = '';
  #dirty = false;
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;
  /** Lines written, and write errors (the call goes on; the error is logged by the SBC). */
  written = 0;

  constructor(dir: string, opts: { syncMs?: number; now?: () => number } = {}) {
    this.dir = dir;
    this.#now = opts.now ?? Date.now;
    mkdirSync(dir, { recursive: true });
    this.#timer = setInterval(() => this.sync(), opts.syncMs ?? 200);
    this.#timer.unref();
  }

  write(record: CdrRecord): void {
    if (this.#closed) throw new Error('the CDR sink is closed');
    const name = cdrFileName(this.#now());
    if (name !== this.#day || this.#fd === undefined) {
      this.#rotate();
      this.#fd = openSync(join(this.dir, name), 'a', 0o640);
      this.#day = name;
    }
    const line = Buffer.from(JSON.stringify(record) + '\n');
    let off = 0;
    while (off < line.length) off += writeSync(this.#fd, line, off, line.length - off);
    this.#dirty = true;
    this.written++;
  }

  /** fdatasync of the current file if lines were written since the last one. */
  sync(): void {
    if (!this.#dirty || this.#fd === undefined) return;
    this.#dirty = false;
    fdatasyncSync(this.#fd);
  }

  #rotate(): void {
    if (this.#fd === undefined) return;
    this.sync();
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Syncs and closes the current file; stops the timer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#rotate();
  }
}

/** The longest range a query may ask for (a file a day: 31 files at most). */
export const MAX_RANGE_MS = 31 * DAY_MS;

export interface CdrRange {
  readonly from: number;
  readonly to: number;
}

/** The query's range, or a reason it is refused (400). */
export function cdrRange(q: SbcCdrQuery, now: number): CdrRange | string {
  const to = q.to !== undefined ? Date.parse(q.to) : now;
  const from = q.from !== undefined ? Date.parse(q.from) : to - DAY_MS;
  if (!Number.isFinite(from) || !Number.isFinite(to)) return 'from/to: not a time';
  if (from > to) return 'from is after to';
  if (to - from > MAX_RANGE_MS) return 'the range is longer than 31 days';
  return { from, to };
}

function matches(r: SbcCdr, q: SbcCdrQuery, range: CdrRange): boolean {
  const start = Date.parse(r.start);
  if (!(start >= range.from && start < range.to)) return false;
  if (q.zone !== undefined && r.aZone !== q.zone && r.bZone !== q.zone) return false;
  if (q.trunk !== undefined && r.trunk !== q.trunk && !r.tries.some((t) => t.trunk === q.trunk))
    return false;
  if (q.status !== undefined && r.final !== q.status) return false;
  return true;
}

/**
 * The records of the range that pass the filters, read file by file, line by line (a call that
 * started before midnight and ended after is in the next day's file: one more day is read). A
 * line that does not parse is skipped and counted in `bad`.
 */
export async function* readCdrs(
  dir: string,
  q: SbcCdrQuery,
  range: CdrRange,
  stats: { bad: number } = { bad: 0 },
): AsyncGenerator<SbcCdr> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const first = new Date(range.from).toISOString().slice(0, 10);
  const last = new Date(range.to + DAY_MS).toISOString().slice(0, 10);
  const files = names
    .map((n) => FILE.exec(n)?.[1])
    .filter((d): d is string => d !== undefined && d >= first && d <= last)
    .sort();
  let n = 0;
  for (const day of files) {
    const lines = createInterface({
      input: createReadStream(join(dir, `cdr-${day}.jsonl`)),
      crlfDelay: Infinity,
    });
    for await (const line of lines) {
      if (line.length === 0) continue;
      let r: SbcCdr;
      try {
        r = JSON.parse(line) as SbcCdr;
      } catch {
        stats.bad++;
        continue;
      }
      if (typeof r !== 'object' || r === null || typeof r.start !== 'string') {
        stats.bad++;
        continue;
      }
      if (!matches(r, q, range)) continue;
      yield r;
      if (++n >= q.limit) {
        lines.close();
        return;
      }
    }
  }
}

export const CSV_COLUMNS = [
  'id',
  'callId',
  'aZone',
  'bZone',
  'trunk',
  'tries',
  'callerFrom',
  'callerTo',
  'callerRuri',
  'calleeFrom',
  'calleeTo',
  'calleeRuri',
  'start',
  'ring',
  'answer',
  'end',
  'duration',
  'final',
  'reason',
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused. */
function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(r: SbcCdr): string {
  return (
    [
      r.id,
      r.callId,
      r.aZone,
      r.bZone,
      r.trunk,
      r.tries.map((t) => `${t.trunk}:${t.status}`).join(' '),
      r.caller.from,
      r.caller.to,
      r.caller.ruri,
      r.callee.from,
      r.callee.to,
      r.callee.ruri,
      r.start,
      r.ring,
      r.answer,
      r.end,
      r.duration,
      r.final,
      r.reason,
    ]
      .map(csvField)
      .join(',') + '\r\n'
  );
}
