/**
 * CDRs survive kill -9 (issue #19 item 1): `tfx start` with SBC zones and a real redis-server
 * (`--redis`) bridges a bounded sipp run (200 calls, 20/s, 500 ms each) between a phone in the
 * public zone and a trunk in the core zone; the process is SIGKILLed by its PID mid-run. Every
 * call whose BYE got its 200 at the caller's sipp (its -trace_msg) has its line in
 * `<dataDir>/cdr/cdr-YYYY-MM-DD.jsonl` (the SBC writes it with write(2) before it answers the
 * BYE), and every line parses. The Redis stream holds the same records as the file: every entry
 * is a file line, byte for byte, and a second process's calls are in both. That process serves
 * the lines over `GET /api/v1/sbc/cdrs`: filters, CSV, hostile queries (400), 100 000 records of
 * a past day streamed (every one arrives), and `tfx_sbc_cdrs_written_total`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { request } from 'node:https';
import { join } from 'node:path';
import { startTfx, tempDataDir, type TfxProcess } from '../../../test/helpers/tfx-process.js';
import { startRedis, type RedisServer } from '../../server/test/helpers/redis-server.js';
import { freePort, header, sipp } from '../../sbc/test/harness.js';

const running: TfxProcess[] = [];
const redises: RedisServer[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  for (const r of redises.splice(0)) await r.stop();
});

const TOKEN = 'cdr-test-admin-token-0123456789';
// This test's loopback addresses (the other SBC tests use other ones).
const PUBLIC = '127.0.45.20';
const CORE = '127.0.45.10';
const TRUNK = '127.0.45.11';
const PHONE = '127.0.45.21';

/** The CDR stream's entries (XRANGE), as the JSON lines they carry. */
async function streamLines(url: string, key: string): Promise<string[]> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const entries = await client.xrange(key, '-', '+');
    return entries.map(([, fields]) => fields[fields.indexOf('cdr') + 1] ?? '');
  } finally {
    client.disconnect();
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(url: string, token: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('SBC CDRs in the data dir', () => {
  it('keeps the line of every call whose BYE was answered when the process is SIGKILLed; Redis has the same; serves them over REST', async () => {
    const redis = await startRedis();
    redises.push(redis);
    const dataDir = tempDataDir();
    const file = join(dataDir, 'tfx.yaml');
    const publicPort = await freePort(PUBLIC);
    const corePort = await freePort(CORE);
    const trunkPort = await freePort(TRUNK);
    // The second process's calls go to another trunk: the first trunk's address gets that
    // process's recovery BYEs for the calls cut by the kill (docs/sbc.md, restart recovery).
    const trunkPort2 = await freePort(TRUNK);
    const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
    writeFileSync(
      file,
      [
        'media:',
        `  portMin: ${portMin}`,
        `  portMax: ${portMin + 399}`,
        '  workers: 1',
        'sbc:',
        '  cdr: { redisKey: "cdr-test", redisMaxLen: 10000, syncMs: 100 }',
        '  zones:',
        '    - name: public',
        `      listen: [udp://${PUBLIC}:${publicPort}]`,
        `      media: { address: ${PUBLIC} }`,
        '      trusted: true',
        '    - name: core',
        `      listen: [udp://${CORE}:${corePort}]`,
        `      media: { address: ${CORE} }`,
        '      trusted: true',
        '  trunks:',
        `    - { name: carrier-a, zone: core, uri: "sip:${TRUNK}:${trunkPort}" }`,
        `    - { name: carrier-b, zone: core, uri: "sip:${TRUNK}:${trunkPort2}" }`,
        '  routes:',
        '    - { match: { zone: public, user: "^2000$" }, to: [carrier-b] }',
        '    - { match: { zone: public }, to: [carrier-a] }',
        '',
      ].join('\n'),
    );
    const args = ['--no-sip', '--config', file, '--redis', redis.url];
    const env = { TFX_ADMIN_TOKEN: TOKEN };
    const streamKey = 'tfx:cdr-test';
    const first = await startTfx(args, { dataDir, env, timeoutMs: 60_000 });
    running.push(first);

    const calls = (n: number, rate: number, timeoutMs: number, to: '1000' | '2000') => {
      const port = to === '1000' ? trunkPort : trunkPort2;
      const uas = sipp(['-sn', 'uas', '-i', TRUNK, '-p', String(port), '-m', String(n)], timeoutMs);
      return {
        uas,
        start: async () => {
          const phonePort = await freePort(PHONE);
          return sipp(
            [
              `${PUBLIC}:${publicPort}`,
              '-sn',
              'uac',
              '-s',
              to,
              '-i',
              PHONE,
              '-p',
              String(phonePort),
              '-m',
              String(n),
              '-r',
              String(rate),
              '-d',
              '500',
            ],
            timeoutMs,
          );
        },
      };
    };
    // 200 calls at 20/s, 500 ms each: bounded in count and time.
    const run = calls(200, 20, 40_000, '1000');
    await new Promise((r) => setTimeout(r, 500));
    const uac = await run.start();
    const cdrDir = join(dataDir, 'cdr');
    const lines = (): string[] => {
      let names: string[] = [];
      try {
        names = readdirSync(cdrDir).filter((n) => /^cdr-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n));
      } catch {
        return [];
      }
      return names
        .sort()
        .flatMap((n) => readFileSync(join(cdrDir, n), 'utf8').split('\n'))
        .filter((l) => l !== '');
    };
    // Mid-run: some calls ended, more under way.
    await until('40 CDR lines', () => lines().length >= 40, 120_000);
    expect(await first.stop('SIGKILL')).toBe(null);
    running.splice(running.indexOf(first), 1);

    const [uacRun] = await Promise.all([uac.done, run.uas.done]);
    // The calls whose BYE got its 200 at the caller: their Call-IDs from sipp's own trace.
    const byeAnswered = new Set(
      uacRun.received
        .filter((m) => m.startsWith('SIP/2.0 200') && /\bBYE\b/.test(header(m, 'CSeq') ?? ''))
        .map((m) => header(m, 'Call-ID') ?? header(m, 'i') ?? ''),
    );
    expect(byeAnswered.size).toBeGreaterThanOrEqual(20);
    expect(byeAnswered.size).toBeLessThan(200); // killed mid-run

    // The file is whole: every line parses.
    const killedLines = lines();
    const records = killedLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const byCallId = new Map(records.map((r) => [r.callId as string, r]));
    for (const id of byeAnswered) {
      expect(byCallId.get(id), `the CDR of ${id}`).toMatchObject({
        kind: 'sbc',
        final: 200,
        reason: 'caller-bye',
        trunk: 'carrier-a',
        aZone: 'public',
        bZone: 'core',
        tries: [{ trunk: 'carrier-a', status: 200 }],
        caller: { ruri: '1000' },
        callee: { ruri: '1000' },
      });
    }
    // One line a call (no duplicates).
    expect(byCallId.size).toBe(records.length);
    // Redis: every entry is a file line, byte for byte (the XADD follows the line; those in
    // flight at the kill are only in the file — the durable record).
    const fileSet = new Set(killedLines);
    const streamed = await streamLines(redis.url, streamKey);
    expect(streamed.length).toBeGreaterThan(0);
    for (const l of streamed) expect(fileSet.has(l), l).toBe(true);
    expect(new Set(streamed).size).toBe(streamed.length);

    // 100 000 records of a past day, written directly: streamed over REST below.
    const BIG = 100_000;
    const big: string[] = [];
    const day0 = Date.parse('2026-01-05T00:00:00Z');
    for (let i = 0; i < BIG; i++) {
      const t = new Date(day0 + i * 500).toISOString();
      big.push(
        JSON.stringify({
          kind: 'sbc',
          id: `big-${i}`,
          aZone: 'public',
          bZone: 'core',
          trunk: i % 2 ? 'carrier-a' : 'carrier-b',
          tries: [],
          caller: { from: `u${i % 7}` },
          callee: {},
          start: t,
          end: t,
          duration: 0,
          final: i % 10 ? 200 : 486,
          reason: i % 10 ? 'caller-bye' : 'rejected',
        }),
      );
    }
    mkdirSync(cdrDir, { recursive: true });
    writeFileSync(join(cdrDir, 'cdr-2026-01-05.jsonl'), big.join('\n') + '\n');

    // A second process on the same data dir and Redis: more calls, then the same records in both.
    const second = await startTfx(args, { dataDir, env, timeoutMs: 60_000 });
    running.push(second);
    const more = calls(5, 5, 30_000, '2000');
    await new Promise((r) => setTimeout(r, 500));
    const moreUac = await (await more.start()).done;
    const moreUas = await more.uas.done;
    expect(moreUac.code, moreUac.output + '\n--- uas ---\n' + moreUas.output).toBe(0);
    const moreIds = new Set(
      moreUac.sent.filter((m) => m.startsWith('INVITE ')).map((m) => header(m, 'Call-ID') ?? ''),
    );
    expect(moreIds.size).toBe(5);
    const isMore = (l: string): boolean =>
      moreIds.has((JSON.parse(l) as { callId: string }).callId);
    const moreFile = lines().filter(isMore).sort();
    expect(moreFile).toHaveLength(5);
    let moreStream: string[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000) {
      moreStream = (await streamLines(redis.url, streamKey)).filter(isMore).sort();
      if (moreStream.length >= 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(moreStream).toEqual(moreFile);

    const token = TOKEN;
    const base = `${second.ready.url}/api/v1/sbc/cdrs`;
    const total = lines().length - BIG;
    const all = await get(`${base}?limit=100000`, token);
    expect(all.status, all.text).toBe(200);
    const listed = (JSON.parse(all.text) as { cdrs: Array<{ callId: string }> }).cdrs;
    expect(listed.length).toBe(total);

    const f = await get(`${base}?zone=public&trunk=carrier-a&status=200&kind=sbc`, token);
    expect((JSON.parse(f.text) as { cdrs: unknown[] }).cdrs.length).toBe(
      records.filter((r) => r.final === 200).length,
    );
    const b = await get(`${base}?trunk=carrier-b&callee=2000&caller=sipp&emergency=false`, token);
    expect(
      (JSON.parse(b.text) as { cdrs: Array<{ callId: string }> }).cdrs.map((r) => r.callId).sort(),
    ).toEqual([...moreIds].sort());
    const byCallee = await get(`${base}?callee=1000`, token);
    expect((JSON.parse(byCallee.text) as { cdrs: unknown[] }).cdrs.length).toBe(records.length);
    for (const none of ['status=486', 'trunk=nope', 'emergency=true', 'kind=proxy', 'caller=x'])
      expect(JSON.parse((await get(`${base}?${none}`, token)).text), none).toEqual({ cdrs: [] });
    const past = await get(`${base}?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`, token);
    expect(JSON.parse(past.text)).toEqual({ cdrs: [] });

    const csv = await get(`${base}?format=csv`, token);
    expect(csv.status).toBe(200);
    expect(csv.type).toContain('text/csv');
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toMatch(/^kind,id,callId,aZone,bZone,trunk,tries,/);
    expect(rows.length).toBe(total + 1);

    // The 100 000 records of that day, streamed: every one arrives, in order; JSON and CSV.
    const day = 'from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z&limit=1000000';
    const bigJson = await get(`${base}?${day}`, token);
    expect(bigJson.status).toBe(200);
    const bigIds = (JSON.parse(bigJson.text) as { cdrs: Array<{ id: string }> }).cdrs.map(
      (r) => r.id,
    );
    expect(bigIds.length).toBe(BIG);
    expect(bigIds[0]).toBe('big-0');
    expect(bigIds[BIG - 1]).toBe(`big-${BIG - 1}`);
    const bigCsv = await get(`${base}?${day}&format=csv&status=486&trunk=carrier-b`, token);
    expect(bigCsv.text.trimEnd().split('\r\n').length).toBe(BIG / 10 + 1);

    for (const q of [
      'from=yesterday',
      'to=2026-13-45T00:00:00Z',
      'from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z', // over 31 days
      'from=2021-01-02T00:00:00Z&to=2021-01-01T00:00:00Z', // from after to
      'status=999',
      'status=abc',
      'format=xml',
      'limit=0',
      'limit=99999999999',
      'emergency=1',
      `zone=${'z'.repeat(5000)}`,
      `caller=${encodeURIComponent("=cmd|' /C calc'!A0")}${'x'.repeat(200)}`,
      'unknown=1',
    ]) {
      const r = await get(`${base}?${q}`, token);
      expect(r.status, `${q}: ${r.text}`).toBe(400);
    }
    const noToken = await get(base, 'wrong');
    expect(noToken.status).toBe(401);

    const metrics = await get(`${second.ready.url}/metrics`, token);
    // The second process's own lines: its 5 answered calls.
    expect(metrics.text).toMatch(/tfx_sbc_cdrs_written_total\{kind="sbc",final="2xx"\} 5\b/);
  }, 300_000);
});
