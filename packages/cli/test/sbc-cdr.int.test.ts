/**
 * CDRs survive kill -9 (issue #19 item 1): `tfx start` with SBC zones bridges a bounded sipp run
 * (50 calls, 10/s, 500 ms each) between a phone in the public zone and a trunk in the core zone;
 * the process is SIGKILLed by its PID mid-run. Every call whose BYE got its 200 at the caller's
 * sipp (its -trace_msg) has its line in `<dataDir>/cdr/cdr-YYYY-MM-DD.jsonl` (the SBC writes it
 * with write(2) before it answers the BYE), and every line parses. Then a second process on the
 * same data dir serves the lines over `GET /api/v1/sbc/cdrs`: filters, CSV, hostile queries (400).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { startTfx, tempDataDir, type TfxProcess } from '../../../test/helpers/tfx-process.js';
import { freePort, header, sipp } from '../../sbc/test/harness.js';

const running: TfxProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

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
  it('keeps the line of every call whose BYE was answered when the process is SIGKILLed; serves them over REST', async () => {
    const dataDir = tempDataDir();
    const file = join(dataDir, 'tfx.yaml');
    const publicPort = await freePort('127.0.0.20');
    const corePort = await freePort('127.0.0.10');
    const trunkPort = await freePort('127.0.0.11');
    const phonePort = await freePort('127.0.0.21');
    const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
    writeFileSync(
      file,
      [
        'media:',
        `  portMin: ${portMin}`,
        `  portMax: ${portMin + 199}`,
        '  workers: 1',
        'sbc:',
        '  zones:',
        '    - name: public',
        `      listen: [udp://127.0.0.20:${publicPort}]`,
        '      media: { address: 127.0.0.20 }',
        '      trusted: true',
        '    - name: core',
        `      listen: [udp://127.0.0.10:${corePort}]`,
        '      media: { address: 127.0.0.10 }',
        '      trusted: true',
        '  trunks:',
        `    - { name: carrier-a, zone: core, uri: "sip:127.0.0.11:${trunkPort}" }`,
        '  routes:',
        '    - { match: { zone: public }, to: [carrier-a] }',
        '',
      ].join('\n'),
    );
    const args = ['--no-sip', '--config', file];
    const first = await startTfx(args, { dataDir, timeoutMs: 60_000 });
    running.push(first);

    const uas = sipp(
      ['-sn', 'uas', '-i', '127.0.0.11', '-p', String(trunkPort), '-m', '50'],
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const uac = sipp(
      [
        `127.0.0.20:${publicPort}`,
        '-sn',
        'uac',
        '-s',
        '1000',
        '-i',
        '127.0.0.21',
        '-p',
        String(phonePort),
        '-m',
        '50',
        '-r',
        '10',
        '-d',
        '500',
      ],
      30_000,
    );
    const cdrDir = join(dataDir, 'cdr');
    const lines = (): string[] => {
      let names: string[] = [];
      try {
        names = readdirSync(cdrDir).filter((n) => /^cdr-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n));
      } catch {
        return [];
      }
      return names
        .flatMap((n) => readFileSync(join(cdrDir, n), 'utf8').split('\n'))
        .filter((l) => l !== '');
    };
    // Mid-run: some calls ended, more under way.
    await until('ten CDR lines', () => lines().length >= 10);
    expect(await first.stop('SIGKILL')).toBe(null);
    running.splice(running.indexOf(first), 1);

    const [uacRun] = await Promise.all([uac.done, uas.done]);
    // The calls whose BYE got its 200 at the caller: their Call-IDs from sipp's own trace.
    const byeAnswered = new Set(
      uacRun.received
        .filter((m) => m.startsWith('SIP/2.0 200') && /\bBYE\b/.test(header(m, 'CSeq') ?? ''))
        .map((m) => header(m, 'Call-ID') ?? header(m, 'i') ?? ''),
    );
    expect(byeAnswered.size).toBeGreaterThanOrEqual(10);
    expect(byeAnswered.size).toBeLessThan(50); // killed mid-run

    const records = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const byCallId = new Map(records.map((r) => [r.callId as string, r]));
    for (const id of byeAnswered) {
      expect(byCallId.get(id), `the CDR of ${id}`).toMatchObject({
        final: 200,
        reason: 'caller-bye',
        trunk: 'carrier-a',
        aZone: 'public',
        bZone: 'core',
      });
    }
    // One line a call (no duplicates).
    expect(byCallId.size).toBe(records.length);

    // A second process on the same data dir serves them.
    const second = await startTfx(args, { dataDir, timeoutMs: 60_000 });
    running.push(second);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const base = `${second.ready.url}/api/v1/sbc/cdrs`;
    const all = await get(base, token);
    expect(all.status, all.text).toBe(200);
    const listed = (JSON.parse(all.text) as { cdrs: Array<{ callId: string }> }).cdrs;
    expect(listed.length).toBe(records.length);

    const f = await get(`${base}?zone=public&trunk=carrier-a&status=200`, token);
    expect((JSON.parse(f.text) as { cdrs: unknown[] }).cdrs.length).toBe(
      records.filter((r) => r.final === 200).length,
    );
    const none = await get(`${base}?status=486`, token);
    expect(JSON.parse(none.text)).toEqual({ cdrs: [] });
    const other = await get(`${base}?trunk=nope`, token);
    expect(JSON.parse(other.text)).toEqual({ cdrs: [] });
    const past = await get(`${base}?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`, token);
    expect(JSON.parse(past.text)).toEqual({ cdrs: [] });

    const csv = await get(`${base}?format=csv`, token);
    expect(csv.status).toBe(200);
    expect(csv.type).toContain('text/csv');
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toMatch(/^id,callId,aZone,bZone,trunk,tries,/);
    expect(rows.length).toBe(records.length + 1);

    for (const q of [
      'from=yesterday',
      'to=2026-13-45T00:00:00Z',
      'from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z', // over 31 days
      'from=2021-01-02T00:00:00Z&to=2021-01-01T00:00:00Z', // from after to
      'status=999',
      'status=abc',
      'format=xml',
      'limit=0',
      `zone=${'z'.repeat(5000)}`,
      'unknown=1',
    ]) {
      const r = await get(`${base}?${q}`, token);
      expect(r.status, `${q}: ${r.text}`).toBe(400);
    }
    const noToken = await get(base, 'wrong');
    expect(noToken.status).toBe(401);

    const metrics = await get(`${second.ready.url}/metrics`, token);
    // The second process wrote no CDR yet: the counter is its own (0 lines → no sample).
    expect(metrics.text).toContain('tfx_sbc_cdrs_total');
  }, 240_000);
});
