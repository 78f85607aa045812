/**
 * Reading the CDR files (docs/sbc.md, "CDRs"; written by store/cdr.ts): the files of a range,
 * in day order, line by line (`GET /api/v1/sbc/cdrs` streams what passes the filters, as JSON or
 * CSV — never the whole file in memory).
 */
import { readdirSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SbcCdr, SbcCdrQuery } from '@tfx/protocol';

export {
  CdrStore,
  FileCdrSink,
  cdrFileName,
  openCdrStore,
  registerCdrMetrics,
  sharedCdrStore,
} from '../store/cdr.js';

const DAY_MS = 86_400_000;
const FILE = /^cdr-(\d{4}-\d{2}-\d{2})\.jsonl$/;

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

/** The shape the filters and CSV rows rely on (a foreign JSON line is skipped, counted). */
function isRecord(r: unknown): r is SbcCdr {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  const obj = (v: unknown): boolean => typeof v === 'object' && v !== null;
  return (
    typeof o.start === 'string' &&
    typeof o.final === 'number' &&
    Array.isArray(o.tries) &&
    obj(o.caller) &&
    obj(o.callee)
  );
}

function matches(r: SbcCdr, q: SbcCdrQuery, range: CdrRange): boolean {
  const start = Date.parse(r.start);
  if (!(start >= range.from && start < range.to)) return false;
  if (q.zone !== undefined && r.aZone !== q.zone && r.bZone !== q.zone) return false;
  if (q.trunk !== undefined && r.trunk !== q.trunk && !r.tries.some((t) => t.trunk === q.trunk))
    return false;
  if (q.status !== undefined && r.final !== q.status) return false;
  if (q.kind !== undefined && (r.kind ?? 'sbc') !== q.kind) return false;
  if (q.emergency !== undefined && (r.emergency === true) !== q.emergency) return false;
  if (q.caller !== undefined && r.caller.from !== q.caller && r.callee.from !== q.caller)
    return false;
  if (
    q.callee !== undefined &&
    ![r.caller.to, r.caller.ruri, r.callee.to, r.callee.ruri].includes(q.callee)
  )
    return false;
  return true;
}

/** What a read went through: lines read from the files so far, and lines skipped as not CDRs. */
export interface CdrReadStats {
  bad: number;
  lines: number;
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
  stats: CdrReadStats = { bad: 0, lines: 0 },
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
      stats.lines++;
      if (line.length === 0) continue;
      let r: SbcCdr;
      try {
        r = JSON.parse(line) as SbcCdr;
      } catch {
        stats.bad++;
        continue;
      }
      if (!isRecord(r)) {
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
  'kind',
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
  'emergency',
  'media',
] as const;

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. A text cell beginning with
 * = + - @ (or a tab or CR) gets a leading ' so a spreadsheet shows it instead of running it
 * (OWASP "CSV injection"); numbers stay numbers.
 */
export function csvField(v: string | number | boolean | undefined): string {
  if (v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(r: SbcCdr): string {
  return (
    [
      r.kind ?? 'sbc',
      r.id,
      r.callId,
      r.aZone,
      r.bZone,
      r.trunk,
      r.tries.map((t) => `${t.trunk}:${t.status}${t.at ? `@${t.at}` : ''}`).join(' '),
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
      r.emergency === true ? 'true' : undefined,
      (r.media ?? [])
        .map(
          (m) =>
            `${m.leg}:${m.codec ?? '-'}:in=${m.packetsIn}:out=${m.packetsOut}:lost=${m.packetsLost}:jitter=${m.jitterMs}${m.mos !== undefined ? `:mos=${m.mos}` : ''}`,
        )
        .join(' '),
    ]
      .map(csvField)
      .join(',') + '\r\n'
  );
}
