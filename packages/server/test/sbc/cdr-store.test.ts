/**
 * The CDR store and reader (store/cdr.ts, sbc/cdr.ts; docs/sbc.md, "CDRs"): the Redis stream is
 * fed after the file line and its failures (a rejected or a throwing XADD) are counted, never
 * thrown to the call; totals by kind and final class; daily rotation on the injected clock; the
 * caller/callee/emergency/kind filters; CSV cells beginning with = + - @ defused; hostile query
 * parameters refused by the schema; 100 000 records streamed — the first chunk comes out after
 * a small part of the files was read, and every line arrives, in order.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdrRecord } from '@tfx/sbc';
import { sbcCdrQuerySchema, type SbcCdr, type SbcCdrQuery } from '@tfx/protocol';
import { CdrStore, acquireCdrStore, type CdrRedis } from '../../src/store/cdr.js';
import { cdrRange, csvRow, readCdrs, type CdrReadStats } from '../../src/sbc/cdr.js';
import { cdrBody } from '../../src/sbc/cdr-routes.js';

const rec = (id: string, start: string, over: Partial<CdrRecord> = {}): CdrRecord => ({
  kind: 'sbc',
  id,
  callId: `${id}@x`,
  bCallId: undefined,
  aZone: 'public',
  bZone: 'core',
  trunk: 'carrier',
  tries: [{ trunk: 'carrier', status: 200, at: start }],
  caller: { from: 'alice', to: '5551234', ruri: '5551234' },
  callee: { from: 'alice', to: '+15551234', ruri: '+15551234' },
  start,
  end: start,
  duration: 0,
  final: 200,
  reason: 'caller-bye',
  ...over,
});

const q = (o: Partial<SbcCdrQuery> = {}): SbcCdrQuery => ({
  format: 'json',
  limit: 1_000_000,
  from: '2026-03-01T00:00:00Z',
  to: '2026-03-03T00:00:00Z',
  ...o,
});

async function ids(dir: string, query: SbcCdrQuery): Promise<string[]> {
  const range = cdrRange(query, Date.parse('2026-03-03T00:00:00Z'));
  if (typeof range === 'string') throw new Error(range);
  const out: string[] = [];
  for await (const r of readCdrs(dir, query, range)) out.push(r.id);
  return out;
}

const tmp = (): string => join(mkdtempSync(join(tmpdir(), 'cdr-store-')), 'cdr');

describe('CdrStore', () => {
  it('adds each record to the Redis stream after the file; counts failures, never throws', async () => {
    const added: Array<Array<string | number>> = [];
    let mode: 'ok' | 'reject' | 'throw' = 'ok';
    const client: CdrRedis = {
      xadd: (key, ...args) => {
        if (mode === 'throw') throw new Error('connection is closed');
        if (mode === 'reject') return Promise.reject(new Error('Command timed out'));
        added.push([key, ...args]);
        return Promise.resolve('1-0');
      },
      quit: () => Promise.resolve('OK'),
    };
    const errors: string[] = [];
    const dir = tmp();
    const now = Date.parse('2026-03-01T10:00:00Z');
    const store = new CdrStore(dir, {
      now: () => now,
      redis: { client, key: 'tfx:cdr', maxLen: 5000 },
      onError: (what) => errors.push(what),
    });
    store.write(rec('c1', '2026-03-01T09:59:00.000Z'));
    mode = 'reject';
    store.write(rec('c2', '2026-03-01T09:59:01.000Z', { final: 486, reason: 'rejected' }));
    mode = 'throw';
    store.write(rec('c3', '2026-03-01T09:59:02.000Z', { kind: 'proxy' }));
    await store.close();
    await store.close();
    // The file has all three, whatever Redis did.
    const lines = readFileSync(join(dir, 'cdr-2026-03-01.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as SbcCdr).id)).toEqual(['c1', 'c2', 'c3']);
    expect(added).toEqual([['tfx:cdr', 'MAXLEN', '~', 5000, '*', 'cdr', lines[0]]]);
    expect(store.redisAdded).toBe(1);
    expect(store.redisErrors).toBe(2);
    expect(errors).toEqual(['redis', 'redis']);
    expect(Object.fromEntries(store.totals)).toEqual({
      'sbc 2xx': 1,
      'sbc 4xx': 1,
      'proxy 2xx': 1,
    });
  });

  it('rotates at UTC midnight of the injected clock; one shared store per folder', async () => {
    const dir = tmp();
    let now = Date.parse('2026-03-01T23:59:59.900Z');
    const a = acquireCdrStore(dir, () => new CdrStore(dir, { now: () => now, syncMs: 10 }));
    const b = acquireCdrStore(dir, () => {
      throw new Error('a second store for the same folder');
    });
    expect(b.store).toBe(a.store);
    a.store.write(rec('d1', '2026-03-01T23:59:59.000Z'));
    now = Date.parse('2026-03-02T00:00:00.000Z');
    b.store.write(rec('d2', '2026-03-01T23:59:59.500Z'));
    expect(readdirSync(dir).sort()).toEqual(['cdr-2026-03-01.jsonl', 'cdr-2026-03-02.jsonl']);
    await a.release();
    await a.release(); // once per holder
    b.store.write(rec('d3', '2026-03-02T00:00:00.000Z'));
    await b.release();
    expect(() => b.store.write(rec('d4', '2026-03-02T00:00:00.000Z'))).toThrow(/closed/);
    // A call that began before midnight and ended after is read from the next day's file.
    expect(await ids(dir, q({ to: '2026-03-02T00:00:00Z' }))).toEqual(['d1', 'd2']);
  });

  it('flushes on the thread pool between writes and rotations without losing a line or an fd', async () => {
    const dir = tmp();
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const errors: unknown[] = [];
    let now = Date.parse('2026-03-01T00:00:00.000Z');
    const store = new CdrStore(dir, {
      now: () => now,
      syncMs: 1,
      onError: (_w, e) => errors.push(e),
    });
    const written: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `s${i}`;
      store.write(rec(id, new Date(now).toISOString()));
      written.push(id);
      // A new day every 10 lines: a rotation, often while the timer's fdatasync is in flight.
      if (i % 10 === 9) now += 86_400_000;
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await store.close();
    await store.close();
    expect(errors).toEqual([]);
    expect(readdirSync(dir)).toHaveLength(6);
    const lines = readdirSync(dir)
      .sort()
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'))
      .map((l) => (JSON.parse(l) as CdrRecord).id);
    expect(lines).toEqual(written);
    // Every file is closed once its flush is done (none left open, none closed twice).
    expect(fds()).toBe(before);
  });
});

describe('CDR queries', () => {
  it('filters by caller, callee (as received or normalized), emergency and kind', async () => {
    const dir = tmp();
    const store = new CdrStore(dir, { now: () => Date.parse('2026-03-01T12:00:00Z') });
    store.write(rec('a', '2026-03-01T11:00:00.000Z'));
    store.write(
      rec('b', '2026-03-01T11:00:01.000Z', {
        caller: { from: 'bob', to: '112', ruri: '112' },
        callee: { from: '+4930999', to: '112', ruri: '112' },
        emergency: true,
      }),
    );
    store.write(
      rec('c', '2026-03-01T11:00:02.000Z', {
        kind: 'proxy',
        caller: { from: 'carol', to: 'alice', ruri: 'alice' },
        callee: { from: 'carol', to: 'alice', ruri: 'alice' },
      }),
    );
    await store.close();
    expect(await ids(dir, q({ caller: 'bob' }))).toEqual(['b']);
    expect(await ids(dir, q({ caller: '+4930999' }))).toEqual(['b']);
    expect(await ids(dir, q({ callee: '5551234' }))).toEqual(['a']);
    expect(await ids(dir, q({ callee: '+15551234' }))).toEqual(['a']);
    expect(await ids(dir, q({ callee: 'alice' }))).toEqual(['c']);
    expect(await ids(dir, q({ emergency: true }))).toEqual(['b']);
    expect(await ids(dir, q({ emergency: false }))).toEqual(['a', 'c']);
    expect(await ids(dir, q({ kind: 'proxy' }))).toEqual(['c']);
    expect(await ids(dir, q({ kind: 'sbc' }))).toEqual(['a', 'b']);
    expect(await ids(dir, q({ caller: 'nobody' }))).toEqual([]);
  });

  it('skips foreign JSON lines that are not CDRs instead of failing the response', async () => {
    const dir = tmp();
    const store = new CdrStore(dir, { now: () => Date.parse('2026-03-01T12:00:00Z') });
    store.write(rec('ok', '2026-03-01T11:00:00.000Z'));
    await store.close();
    const file = join(dir, 'cdr-2026-03-01.jsonl');
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        '{"start":"2026-03-01T11:00:00.000Z"}\n{"start":"2026-03-01T11:00:00.000Z","final":200,"tries":"x","caller":{},"callee":{}}\n"str"\n',
    );
    const stats: CdrReadStats = { bad: 0, lines: 0 };
    const range = cdrRange(q(), 0);
    if (typeof range === 'string') throw new Error(range);
    let csv = '';
    for await (const chunk of cdrBody(dir, q({ format: 'csv' }), range, stats)) csv += chunk;
    expect(csv.trimEnd().split('\r\n')).toHaveLength(2);
    expect(stats.bad).toBe(3);
  });

  it('defuses CSV cells beginning with = + - @ (spreadsheet formulas); numbers stay', () => {
    const row = csvRow(
      rec('x', '2026-03-01T00:00:00.000Z', {
        caller: { from: '=HYPERLINK("http://evil")', to: '+15551234', ruri: '-2+3' },
        callee: { from: '@SUM(A1)', to: '\tx', ruri: 'a"b' },
        emergency: true,
        media: [
          {
            leg: 'a',
            codec: 'PCMU',
            packetsIn: 10,
            packetsOut: 9,
            packetsLost: 1,
            jitterMs: 2,
            mos: 4.3,
          },
        ],
      }) as SbcCdr,
    );
    expect(row).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(row).toContain(`'+15551234`);
    expect(row).toContain(`'-2+3`);
    expect(row).toContain(`'@SUM(A1)`);
    expect(row).toContain(`'\tx`);
    expect(row).toContain('"a""b"');
    expect(row).toContain(',true,a:PCMU:in=10:out=9:lost=1:jitter=2:mos=4.3\r\n');
    // No cell starts with a formula character once split.
    for (const cell of row.trimEnd().split(','))
      expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@\t]/);
  });

  it('refuses hostile query parameters', () => {
    const bad: Array<Record<string, string>> = [
      { from: 'yesterday' },
      { from: '2026-02-30T00:00:00Z' },
      { to: '2026-13-45T00:00:00Z' },
      { from: "2026-03-01'; DROP TABLE cdr;--" },
      { limit: '0' },
      { limit: '1000001' },
      { limit: '1e400' },
      { limit: '-5' },
      { limit: '2.5' },
      { status: '999' },
      { status: 'abc' },
      { emergency: 'yes' },
      { kind: 'all' },
      { format: 'xml' },
      { caller: 'c'.repeat(129) },
      { callee: 'c'.repeat(129) },
      { zone: 'z'.repeat(65) },
      { unknown: '1' },
    ];
    for (const b of bad)
      expect(sbcCdrQuerySchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
    const ok = sbcCdrQuerySchema.parse({ emergency: 'false', limit: '1000000', caller: '=1+1' });
    expect(ok).toMatchObject({
      emergency: false,
      limit: 1_000_000,
      caller: '=1+1',
      format: 'json',
    });
    const now = Date.parse('2026-03-03T00:00:00Z');
    expect(cdrRange(q({ from: '2026-01-01T00:00:00Z' }), now)).toMatch(/31 days/);
    expect(cdrRange(q({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }), now)).toMatch(
      /after/,
    );
  });

  it('streams 100 000 records: the first chunk after a small part is read, every line arrives', async () => {
    const dir = tmp();
    // Written directly (as days of traffic would leave them): two daily files of 50 000 lines.
    const N = 50_000;
    const files: string[] = [];
    for (const day of ['2026-03-01', '2026-03-02']) {
      const lines: string[] = [];
      const t0 = Date.parse(`${day}T00:00:00Z`);
      for (let i = 0; i < N; i++) {
        const start = new Date(t0 + i * 1000).toISOString();
        lines.push(JSON.stringify(rec(`${day}-${i}`, start)));
      }
      const text = lines.join('\n') + '\n';
      files.push(text);
      const store = new CdrStore(dir); // makes the folder
      await store.close();
      writeFileSync(join(dir, `cdr-${day}.jsonl`), text);
    }
    const total = 2 * N;
    const range = cdrRange(q(), 0);
    if (typeof range === 'string') throw new Error(range);
    const stats: CdrReadStats = { bad: 0, lines: 0 };
    const body = cdrBody(dir, q(), range, stats);
    const first = await body.next();
    const second = await body.next();
    expect(first.value).toBe('{"cdrs":[');
    expect(JSON.parse(second.value as string)).toMatchObject({ id: '2026-03-01-0' });
    // Streaming: one record out, only a read-ahead buffer's worth of lines read from disk.
    expect(stats.lines).toBeLessThan(total / 10);
    let count = 1;
    let next = 1;
    let day = '2026-03-01';
    let ordered = true;
    let tail = '';
    for await (const chunk of body) {
      if (chunk === ']}') {
        tail = chunk;
        continue;
      }
      const r = JSON.parse(chunk.slice(1)) as SbcCdr;
      if (r.id === '2026-03-02-0') {
        day = '2026-03-02';
        next = 0;
      }
      if (r.id !== `${day}-${next}`) ordered = false;
      next++;
      count++;
      // Never more than one read-ahead buffer beyond what has come out.
      if (stats.lines - count > 5000) throw new Error(`read ${stats.lines} for ${count} out`);
    }
    expect(tail).toBe(']}');
    expect(count).toBe(total);
    expect(ordered).toBe(true);
    expect(stats.bad).toBe(0);
    expect(files.join('').split('\n').length - 1).toBe(total);
  }, 120_000);
});
