/**
 * The server's CDR files (packages/server/src/sbc/cdr.ts): a file per UTC day, lines appended
 * and readable at once (before any fsync), a torn or foreign line skipped, the range and filters,
 * CSV quoting, the query's range refusals, an idempotent close.
 */
import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdrRecord } from '@tfx/sbc';
import type { SbcCdr, SbcCdrQuery } from '@tfx/protocol';
import { FileCdrSink, cdrRange, csvRow, readCdrs } from '../../src/sbc/cdr.js';

const rec = (id: string, start: string, over: Partial<CdrRecord> = {}): CdrRecord => ({
  id,
  callId: `${id}@x`,
  bCallId: undefined,
  aZone: 'public',
  bZone: 'core',
  trunk: 'carrier',
  tries: [{ trunk: 'carrier', status: 200 }],
  caller: { from: 'a', to: 'b', ruri: 'b' },
  callee: { from: 'a', to: '+1b', ruri: '+1b' },
  start,
  end: start,
  duration: 0,
  final: 200,
  reason: 'caller-bye',
  ...over,
});

const q = (o: Partial<SbcCdrQuery> = {}): SbcCdrQuery => ({
  format: 'json',
  limit: 10000,
  from: '2026-03-01T00:00:00Z',
  to: '2026-03-03T00:00:00Z',
  ...o,
});

async function all(dir: string, query: SbcCdrQuery, now: number): Promise<SbcCdr[]> {
  const range = cdrRange(query, now);
  if (typeof range === 'string') throw new Error(range);
  const out: SbcCdr[] = [];
  for await (const r of readCdrs(dir, query, range)) out.push(r);
  return out;
}

describe('FileCdrSink and the CDR reader', () => {
  it('writes a file per UTC day, readable at once; filters; skips torn lines', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cdr-')), 'cdr');
    let now = Date.parse('2026-03-01T23:59:59.500Z');
    const sink = new FileCdrSink(dir, { now: () => now, syncMs: 10 });
    sink.write(rec('c1', '2026-03-01T23:59:58.000Z'));
    now = Date.parse('2026-03-02T00:00:00.100Z');
    sink.write(
      rec('c2', '2026-03-01T23:59:59.000Z', {
        final: 486,
        reason: 'rejected',
        tries: [{ trunk: 'other', status: 486 }],
        trunk: 'other',
      }),
    );
    sink.write(rec('c3', '2026-03-02T00:00:00.000Z', { aZone: 'x', bZone: 'y' }));
    expect(readdirSync(dir).sort()).toEqual(['cdr-2026-03-01.jsonl', 'cdr-2026-03-02.jsonl']);
    // Read before any sync: write(2) put it in the kernel.
    expect(readFileSync(join(dir, 'cdr-2026-03-02.jsonl'), 'utf8').split('\n')).toHaveLength(3);
    appendFileSync(join(dir, 'cdr-2026-03-02.jsonl'), '{"torn": \n[1,2]\nnull\n');
    const end = Date.parse('2026-03-03T00:00:00Z');
    expect((await all(dir, q(), end)).map((r) => r.id)).toEqual(['c1', 'c2', 'c3']);
    expect((await all(dir, q({ status: 486 }), end)).map((r) => r.id)).toEqual(['c2']);
    expect((await all(dir, q({ trunk: 'other' }), end)).map((r) => r.id)).toEqual(['c2']);
    expect((await all(dir, q({ zone: 'y' }), end)).map((r) => r.id)).toEqual(['c3']);
    expect(
      (await all(dir, q({ from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z' }), end)).map(
        (r) => r.id,
      ),
    ).toEqual(['c3']);
    expect((await all(dir, q({ limit: 2 }), end)).map((r) => r.id)).toEqual(['c1', 'c2']);
    sink.close();
    sink.close();
    expect(() => sink.write(rec('c4', '2026-03-02T00:00:00.000Z'))).toThrow(/closed/);
    expect(await all(join(dir, 'none'), q(), end)).toEqual([]);
  });

  it('refuses bad ranges; quotes CSV and defuses formulas', () => {
    const now = Date.parse('2026-03-03T00:00:00Z');
    expect(cdrRange(q({ from: '2026-01-01T00:00:00Z' }), now)).toMatch(/31 days/);
    expect(cdrRange({ format: 'json', limit: 1 }, now)).toEqual({
      from: now - 86_400_000,
      to: now,
    });
    expect(cdrRange(q({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }), now)).toMatch(
      /after/,
    );
    const row = csvRow(
      rec('c"1', '2026-03-01T00:00:00.000Z', {
        caller: { from: '=cmd()', to: 'a,b', ruri: 'x\ny' },
      }) as SbcCdr,
    );
    expect(row).toContain('"c""1"');
    expect(row).toContain("'=cmd()");
    expect(row).toContain('"a,b"');
    expect(row).toContain('"x\ny"');
    expect(row.endsWith('\r\n')).toBe(true);
  });
});
