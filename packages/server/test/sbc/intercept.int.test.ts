/**
 * Lawful intercept and the recorded call's PCAP in a real platform (issue #19 items 2 and 3),
 * with sipp peers on 127.0.44.x: a PBX (trusted core zone) calls through the SBC to a trunk
 * (public zone) that echoes RTP (-rtp_echo), while the PBX plays a G.711 pcap.
 *
 * - The LI admin REST: a change without (or with a wrong) admin token is refused 401, hostile
 *   bodies (bad CIDR, unknown fields, huge values and lists) 400, and every request — refused
 *   ones too — is in the audit log (REST and the file in the data dir).
 * - An intercepted call (a `number` target): its copy arrives at the test's UDP listener (the
 *   TFXL mirror) with SIP of both legs and RTP of both directions, and a PCAP file per call that
 *   tshark reads; the parties' messages match those of the same call made again without the
 *   target, once the per-call fields are normalized; the calls list, CDRs and metrics show
 *   nothing of it.
 * - A recorded call (POST …/record): `tshark -r` on its PCAP shows both legs' SIP and RTP.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sbcCallListSchema } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { parseLiDatagram } from '../../src/sbc/intercept-delivery.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';
import { SCENARIOS, freePort, sipp, type SippRun } from '../../../sbc/test/harness.js';

const run = promisify(execFile);
const CORE = '127.0.44.10';
const PUBLIC = '127.0.44.20';
const TRUNK = '127.0.44.11';
const PBX = '127.0.44.12';
const LI = '127.0.44.30';
const LI_MEDIA = '127.0.44.31';

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 60_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Copy {
  kind: number;
  leg: string;
  direction: string;
  correlationId: string;
  payload: Buffer;
}

/**
 * The fields that differ between two runs of the same call (per call, never per intercept):
 * Call-ID, tags, branches, CSeq numbers, the SDP o= line and ports, Content-Length, Date.
 */
export function normalize(msg: string): string {
  return msg
    .replace(/\r/g, '')
    .replace(/^(Call-ID|i)\s*:.*$/gim, 'Call-ID: <call-id>')
    .replace(/;tag=[^;>\s,]+/gi, ';tag=<tag>')
    .replace(/;branch=[^;>\s,]+/gi, ';branch=<branch>')
    .replace(/^(CSeq\s*:\s*)\d+/gim, '$1<n>')
    .replace(/^o=.*$/gm, 'o=<origin>')
    .replace(/^(m=\S+ )\d+/gm, '$1<port>')
    .replace(/^a=rtcp:\d+/gm, 'a=rtcp:<port>')
    .replace(/^(Content-Length|l)\s*:.*$/gim, 'Content-Length: <n>')
    .replace(/^Date\s*:.*$/gim, 'Date: <date>')
    .trim();
}

const distinct = (msgs: readonly string[]): string[] => [...new Set(msgs.map(normalize))].sort();

describe('SBC lawful intercept and recorded PCAPs (real sipp peers)', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform;
  let trunkPort: number;
  let dir: string;
  let listener: Socket;
  const copies: Copy[] = [];
  const portMin = 44000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sbc-li-'));
    listener = createSocket('udp4');
    listener.on('message', (b) => {
      const d = parseLiDatagram(b);
      if (d) copies.push(d);
    });
    await new Promise<void>((r) => listener.bind(0, LI, () => r()));
    trunkPort = await freePort(TRUNK);
    t = await startTestPlatform({
      modules: [media, sbc],
      flags: {
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 99),
        'media.workers': '1',
        'sbc.zones': JSON.stringify([
          { name: 'public', listen: [`udp://${PUBLIC}:0`], media: { address: PUBLIC } },
          { name: 'core', listen: [`udp://${CORE}:0`], media: { address: CORE }, trusted: true },
        ]),
        'sbc.trunks': JSON.stringify([
          { name: 'carrier-a', zone: 'public', uri: `sip:${TRUNK}:${trunkPort}` },
        ]),
        'sbc.routes': JSON.stringify([{ match: { zone: 'core' }, to: ['carrier-a'] }]),
        'sbc.intercept.udp': `${LI}:${listener.address().port}`,
        'sbc.intercept.files': true,
        'sbc.intercept.mediaAddress': LI_MEDIA,
      },
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    listener?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** One call PBX → SBC → trunk; `during` runs while it is confirmed. */
  async function call(
    service: string,
    ports: { pbx: number; pbxMedia: number; trunkMedia: number },
    pauseMs: number,
    during?: (id: string) => Promise<void>,
  ): Promise<{ caller: SippRun; callee: SippRun; id: string }> {
    const core = t.platform.listeners.find((l) => l.name === 'sbc-core-udp')!;
    const callee = sipp([
      '-sf',
      join(SCENARIOS, 'uas-echo.xml'),
      '-i',
      TRUNK,
      '-p',
      String(trunkPort),
      '-mi',
      TRUNK,
      '-mp',
      String(ports.trunkMedia),
      '-rtp_echo',
      '-key',
      'rtcp',
      String(ports.trunkMedia + 1),
      '-m',
      '1',
    ]);
    await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
    const caller = sipp([
      `${CORE}:${core.port}`,
      '-sf',
      join(SCENARIOS, 'uac-pcap.xml'),
      '-s',
      service,
      '-key',
      'caller',
      'alice',
      '-i',
      PBX,
      '-p',
      String(ports.pbx),
      '-mi',
      PBX,
      '-mp',
      String(ports.pbxMedia),
      '-key',
      'rtcp',
      String(ports.pbxMedia + 1),
      '-d',
      String(pauseMs),
      '-m',
      '1',
    ]);
    let ended: SippRun | undefined;
    void caller.done.then((r) => (ended = r));
    const live = await until('the call listed', async () => {
      if (ended) throw new Error(`the caller ended first:\n${ended.output}\n${ended.trace}`);
      const res = await t.req('GET', '/api/v1/sbc/calls');
      return sbcCallListSchema.parse(res.json).calls.find((c) => c.state === 'confirmed');
    });
    // The ordinary calls list says nothing of an intercept (its schema is strict).
    const listed = (await t.req('GET', '/api/v1/sbc/calls')).text;
    expect(listed).not.toMatch(/intercept|li-[0-9a-f]{16}|li-t-/i);
    if (during) await during(live.id);
    const [a, b] = await Promise.all([caller.done, callee.done]);
    expect(a.code, `caller:\n${a.output}`).toBe(0);
    expect(b.code, `callee:\n${b.output}`).toBe(0);
    await until('the call ended', async () => (sbc.sbc?.callCount === 0 ? true : undefined));
    return { caller: a, callee: b, id: live.id };
  }

  it('refuses LI changes without the admin token, 400s hostile bodies, and audits every request', async () => {
    const path = '/api/v1/sbc/intercept/targets';
    const good = { kind: 'source', value: '192.0.2.0/24' };
    expect((await t.req('POST', path, { token: '', body: good })).status).toBe(401);
    expect((await t.req('POST', path, { token: 'wrong-token-xyz', body: good })).status).toBe(401);
    expect((await t.req('GET', path, { token: '' })).status).toBe(401);
    expect((await t.req('DELETE', `${path}/li-t-0123456789abcdef`, { token: '' })).status).toBe(
      401,
    );
    expect((await t.req('GET', '/api/v1/sbc/intercept/audit', { token: '' })).status).toBe(401);
    // Nothing was created by the refused requests.
    expect(((await t.req('GET', path)).json as { targets: unknown[] }).targets).toEqual([]);

    const hostile: unknown[] = [
      { kind: 'source', value: '10.0.0.0/33' },
      { kind: 'source', value: '300.1.2.3' },
      { kind: 'source', value: '10.0.0.0/8; rm -rf /' },
      { kind: 'number', value: '12ab' },
      { kind: 'user', value: 'a b' },
      { kind: 'user', value: 'x'.repeat(100_000) },
      { kind: 'host', value: 'alice' },
      { kind: 'user', value: 'alice', warrant: 'unknown field' },
      { kind: 'user', value: 'alice', note: 'n'.repeat(5000) },
      { kind: 'number', value: Array.from({ length: 50_000 }, (_, i) => String(i)) },
      { targets: Array.from({ length: 20_000 }, () => ({ kind: 'user', value: 'bob' })) },
      [good, good],
      'user=alice',
      null,
    ];
    for (const body of hostile) {
      const res = await t.req('POST', path, { body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect((res.json as { error: { code: string } }).error.code).toBe('bad-request');
    }
    expect((await t.req('DELETE', `${path}/..%2F..%2Fetc`)).status).toBe(400);
    expect((await t.req('DELETE', `${path}/li-t-0123456789abcdef`)).status).toBe(404);
    expect((await t.req('GET', '/api/v1/sbc/intercept/audit?limit=0')).status).toBe(400);

    const created = await t.req('POST', path, { body: { ...good, note: 'case 7' } });
    expect(created.status).toBe(201);
    const target = created.json as { id: string; value: string; createdBy: string };
    expect(target.value).toBe('192.0.2.0/24');
    expect(target.createdBy).toMatch(/^token:[0-9a-f]{12} from /);
    expect((await t.req('POST', path, { body: good })).status).toBe(409);
    expect((await t.req('DELETE', `${path}/${target.id}`)).status).toBe(204);

    // Every request above is in the audit log, refused and invalid ones too.
    const audit = (await t.req('GET', '/api/v1/sbc/intercept/audit?limit=10000')).json as {
      entries: Array<{ action: string; outcome: string; status: number; who: string }>;
    };
    const count = (action: string, outcome: string): number =>
      audit.entries.filter((e) => e.action === action && e.outcome === outcome).length;
    expect(count('create', 'refused')).toBe(2);
    expect(count('list', 'refused')).toBe(1);
    expect(count('delete', 'refused')).toBe(1);
    expect(count('audit', 'refused')).toBe(1);
    expect(count('create', 'invalid')).toBe(hostile.length + 1); // + the duplicate
    expect(count('delete', 'invalid')).toBe(1);
    expect(count('delete', 'not-found')).toBe(1);
    expect(count('create', 'ok')).toBe(1);
    expect(count('delete', 'ok')).toBe(1);
    const refused = audit.entries.filter((e) => e.outcome === 'refused');
    expect(refused.every((e) => e.status === 401 && /anonymous|token:/.test(e.who))).toBe(true);
    // The file in the data dir holds the same lines (append-only JSON lines).
    const file = await readFile(join(t.dataDir, 'li', 'audit.jsonl'), 'utf8');
    const lines = file.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(audit.entries.length);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(file).not.toContain('test-admin-token');
  }, 60_000);

  it('copies an intercepted call’s SIP (both legs) and RTP (both ways) to the UDP mirror and a PCAP file; the parties see what they see without intercept', async () => {
    const ports = {
      pbx: await freePort(PBX),
      pbxMedia: await freePort(PBX, true),
      trunkMedia: await freePort(TRUNK, true),
    };
    const created = await t.req('POST', '/api/v1/sbc/intercept/targets', {
      body: { kind: 'number', value: '4440001' },
    });
    expect(created.status).toBe(201);
    const targetId = (created.json as { id: string }).id;

    const intercepted = await call('4440001', ports, 2500);
    const ends = await until('the copy’s end event', async () => {
      const end = copies.find(
        (c) => c.kind === 3 && JSON.parse(c.payload.toString()).event === 'end',
      );
      return end;
    });
    const mine = copies.filter((c) => c.correlationId === ends.correlationId);
    const start = mine.find((c) => c.kind === 3);
    expect(JSON.parse(start!.payload.toString())).toMatchObject({
      event: 'start',
      target: targetId,
    });
    const sip = mine.filter((c) => c.kind === 1).map((c) => ({ ...c, text: c.payload.toString() }));
    const line = (s: string): string => s.split('\r\n')[0] ?? '';
    const on = (leg: string, dir: string): string[] =>
      sip.filter((c) => c.leg === leg && c.direction === dir).map((c) => line(c.text));
    // Leg A: the caller's INVITE, ACK, BYE in; our 100/200, the 200 to its BYE out.
    expect(on('a', 'i')).toEqual(expect.arrayContaining([expect.stringMatching(/^INVITE /)]));
    expect(on('a', 'i')).toEqual(expect.arrayContaining([expect.stringMatching(/^BYE /)]));
    expect(on('a', 'o')).toContain('SIP/2.0 200 OK');
    // Leg B: our INVITE, ACK, BYE out; the trunk's 180/200 in.
    expect(on('b', 'o')).toEqual(expect.arrayContaining([expect.stringMatching(/^INVITE /)]));
    expect(on('b', 'o')).toEqual(expect.arrayContaining([expect.stringMatching(/^BYE /)]));
    expect(on('b', 'i')).toContain('SIP/2.0 200 OK');
    // What each party received is among the copies, byte for byte (start lines and bodies).
    const copiedOut = (leg: string): string[] =>
      sip.filter((c) => c.leg === leg && c.direction === 'o').map((c) => normalize(c.text));
    for (const m of intercepted.caller.received) expect(copiedOut('a')).toContain(normalize(m));
    for (const m of intercepted.callee.received) expect(copiedOut('b')).toContain(normalize(m));
    // Both media directions: the caller's voice to the callee (leg b, out), the echo back (a).
    const rtp = (leg: string): number => mine.filter((c) => c.kind === 2 && c.leg === leg).length;
    expect(rtp('b')).toBeGreaterThan(0);
    expect(rtp('a')).toBeGreaterThan(0);
    for (const c of mine.filter((x) => x.kind === 2)) expect(c.payload[0]! >> 6).toBe(2); // RTP v2

    // The PCAP file of the call (files delivery): tshark reads SIP of both legs and RTP.
    const calls = join(t.dataDir, 'li', 'calls');
    expect(await readdir(calls)).toContain(`${ends.correlationId}.pcap`);
    const pcap = join(calls, `${ends.correlationId}.pcap`);
    const sipRows = await tshark(pcap, 'sip', ['sip.Call-ID']);
    expect(new Set(sipRows.map((r) => r[0])).size).toBe(2);
    // To each party's media address (before the engine learned it: to the LI socket).
    const rtpRows = await tshark(pcap, 'rtp', ['ip.dst']);
    expect([...new Set(rtpRows.map((r) => r[0]))]).toEqual(expect.arrayContaining([PBX, TRUNK]));

    // Nothing of it in the CDR or the metrics.
    const cdrDir = join(t.dataDir, 'cdr');
    const cdrs = (
      await Promise.all((await readdir(cdrDir)).map((f) => readFile(join(cdrDir, f), 'utf8')))
    ).join('');
    expect(cdrs).toContain(intercepted.id);
    expect(cdrs).not.toMatch(/intercept|li-[0-9a-f]{16}|li-t-/i);
    expect(cdrs).not.toContain(ends.correlationId);
    const metrics = await t.req('GET', '/metrics');
    expect(metrics.text).not.toMatch(/intercept|lawful/i);

    // The same call again without the target: the parties receive the same messages.
    expect((await t.req('DELETE', `/api/v1/sbc/intercept/targets/${targetId}`)).status).toBe(204);
    const before = copies.length;
    const plain = await call('4440001', ports, 2500);
    expect(copies.length).toBe(before); // nothing copied
    expect(distinct(intercepted.caller.received)).toEqual(distinct(plain.caller.received));
    expect(distinct(intercepted.callee.received)).toEqual(distinct(plain.callee.received));
    expect(intercepted.caller.received.length).toBeGreaterThan(2);
    expect(intercepted.callee.received.length).toBeGreaterThan(2);

    const status = (await t.req('GET', '/api/v1/sbc/intercept/status')).json as {
      intercepted: number;
      packets: number;
      failed: number;
    };
    expect(status.intercepted).toBe(1);
    expect(status.failed).toBe(0);
    expect(status.packets).toBeGreaterThan(0);
  }, 180_000);

  it('gives a recorded call’s PCAP with both legs’ SIP and its RTP (tshark)', async () => {
    const ports = {
      pbx: await freePort(PBX),
      pbxMedia: await freePort(PBX, true),
      trunkMedia: await freePort(TRUNK, true),
    };
    const noToken = await t.req('POST', '/api/v1/sbc/calls/sbc-0123456789abcdef/record', {
      token: '',
      body: { on: true },
    });
    expect(noToken.status).toBe(401);
    expect(
      (await t.req('POST', '/api/v1/sbc/calls/sbc-0123456789abcdef/record', { body: { on: true } }))
        .status,
    ).toBe(404);
    const c = await call('4440003', ports, 5000, async (id) => {
      const bad = await t.req('POST', `/api/v1/sbc/calls/${id}/record`, { body: { on: 'yes' } });
      expect(bad.status).toBe(400);
      const res = await t.req('POST', `/api/v1/sbc/calls/${id}/record`, { body: { on: true } });
      expect(res.status, res.text).toBe(204);
    });
    const res = await t.req('GET', `/api/v1/sbc/calls/${c.id}/pcap`);
    expect(res.status).toBe(200);
    const file = join(dir, 'recorded.pcap');
    await writeFile(file, res.body);
    const sipRows = await tshark(file, 'sip', ['sip.Call-ID', 'sip.CSeq.method']);
    expect(new Set(sipRows.map((r) => r[0])).size).toBe(2);
    expect(sipRows.filter((r) => r[1] === 'BYE').length).toBeGreaterThanOrEqual(2);
    const rtpRows = await tshark(file, 'rtp', ['ip.src', 'ip.dst']);
    // Both ways: toward the PBX (the echo) and toward the trunk (the PBX's audio).
    expect(new Set(rtpRows.map((r) => r[1]))).toEqual(new Set([PBX, TRUNK]));
  }, 120_000);
});

/** tshark's fields of the packets matching `filter`, every UDP port decoded as RTP when asked. */
async function tshark(file: string, filter: string, fields: string[]): Promise<string[][]> {
  const args = ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=|'];
  if (filter === 'rtp') args.push('-o', 'rtp.heuristic_rtp:TRUE');
  for (const f of fields) args.push('-e', f);
  const { stdout } = await run('tshark', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}
