/**
 * GET /api/v1/sbc/calls/{id}/pcap in a real platform: a call from a PBX (sipp, trusted core zone)
 * through the SBC to a trunk (sipp, public zone) that hangs up; the call's PCAP, opened by tshark,
 * shows both legs' INVITE/200/ACK/BYE with the real addresses of each datagram. Unknown ids 404,
 * malformed ids 400, no admin token 401; the route is in the OpenAPI document.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sbcCallListSchema } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';
import { SCENARIOS, freePort, sipp } from '../../../sbc/test/harness.js';

const run = promisify(execFile);
const CORE = '127.0.0.10';
const PUBLIC = '127.0.0.20';
const TRUNK = '127.0.0.11';
const PBX = '127.0.0.12';

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 30_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /api/v1/sbc/calls/{id}/pcap', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform;
  let trunkPort: number;
  let dir: string;
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sbc-pcap-'));
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
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives both legs’ signalling of a call as a PCAP that tshark reads as SIP', async () => {
    const core = t.platform.listeners.find((l) => l.name === 'sbc-core-udp')!;
    const pub = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!;
    const trunkMedia = await freePort(TRUNK, true);
    const pbxMedia = await freePort(PBX, true);
    const pbxPort = await freePort(PBX);
    const callee = sipp([
      '-sf',
      join(SCENARIOS, 'uas-bye-pause.xml'),
      '-i',
      TRUNK,
      '-p',
      String(trunkPort),
      '-mi',
      TRUNK,
      '-mp',
      String(trunkMedia),
      '-d',
      '1500',
      '-m',
      '1',
    ]);
    await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
    const caller = sipp([
      `${CORE}:${core.port}`,
      '-sf',
      join(SCENARIOS, 'uac-wait-bye.xml'),
      '-s',
      '4420001',
      '-i',
      PBX,
      '-p',
      String(pbxPort),
      '-mi',
      PBX,
      '-mp',
      String(pbxMedia),
      '-m',
      '1',
    ]);
    // While the call is up (the trunk waits 1.5 s before its BYE): its id and legs.
    const live = await until(async () => {
      const res = await t.req('GET', '/api/v1/sbc/calls');
      return sbcCallListSchema.parse(res.json).calls.find((c) => c.state === 'confirmed');
    }, 'the call listed');
    const livePcap = await t.req('GET', `/api/v1/sbc/calls/${live.id}/pcap`);
    expect(livePcap.status).toBe(200);
    expect(livePcap.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    const [a, b] = await Promise.all([caller.done, callee.done]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    await until(
      async () => (sbc.sbc?.callCount === 0 ? true : undefined),
      'the call ended after the trunk’s BYE',
    );

    // Ended: still kept (the last ended calls), now with the BYE on both legs.
    const res = await t.req('GET', `/api/v1/sbc/calls/${live.id}/pcap`);
    expect(res.status).toBe(200);
    expect(res.body.readUInt32LE(0)).toBe(0xa1b2c3d4);
    const file = join(dir, 'call.pcap');
    await writeFile(file, res.body);
    const { stdout } = await run('tshark', [
      '-r',
      file,
      '-Y',
      'sip',
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'ip.src',
      '-e',
      'udp.srcport',
      '-e',
      'ip.dst',
      '-e',
      'udp.dstport',
      '-e',
      'sip.Method',
      '-e',
      'sip.Status-Code',
      '-e',
      'sip.Call-ID',
    ]);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const what = (r: string[]): string => `${r[0]}:${r[1]}>${r[2]}:${r[3]} ${r[4] || r[5]}`;
    const leg = (callId: string | undefined): string[] =>
      rows.filter((r) => r[6] === callId).map(what);
    const A = `${PBX}:${pbxPort}`;
    const SA = `${CORE}:${core.port}`;
    const SB = `${PUBLIC}:${pub.port}`;
    const T = `${TRUNK}:${trunkPort}`;
    // Leg A (PBX ↔ core zone): the caller's INVITE, our 200, its ACK, our BYE, its 200.
    const legA = leg(live.a.callId);
    expect(legA).toEqual(
      expect.arrayContaining([
        `${A}>${SA} INVITE`,
        `${SA}>${A} 200`,
        `${A}>${SA} ACK`,
        `${SA}>${A} BYE`,
        `${A}>${SA} 200`,
      ]),
    );
    // Leg B (public zone ↔ trunk): our INVITE, the trunk's 180/200, our ACK, its BYE, our 200.
    const legB = leg(live.b.callId);
    expect(legB).toEqual(
      expect.arrayContaining([
        `${SB}>${T} INVITE`,
        `${T}>${SB} 180`,
        `${T}>${SB} 200`,
        `${SB}>${T} ACK`,
        `${T}>${SB} BYE`,
        `${SB}>${T} 200`,
      ]),
    );
    expect(legA.indexOf(`${A}>${SA} INVITE`)).toBe(0);
    expect(legB.length + legA.length).toBe(rows.length);
  }, 90_000);

  it('answers 404 for an unknown call, 400 for a malformed id, 401 without the admin token', async () => {
    const unknown = await t.req('GET', '/api/v1/sbc/calls/sbc-0123456789abcdef/pcap');
    expect(unknown.status).toBe(404);
    expect((unknown.json as { error: { code: string } }).error.code).toBe('not-found');
    for (const bad of ['nope', 'sbc-XYZ', 'sbc-0123456789ABCDEF', '..%2F..%2Fetc', '%00'])
      expect((await t.req('GET', `/api/v1/sbc/calls/${bad}/pcap`)).status).toBe(400);
    // Past the router's parameter limit: 414 (URI too long), before any handler.
    expect((await t.req('GET', `/api/v1/sbc/calls/sbc-${'a'.repeat(300)}/pcap`)).status).toBe(414);
    const noToken = await t.req('GET', '/api/v1/sbc/calls/sbc-0123456789abcdef/pcap', {
      token: '',
    });
    expect(noToken.status).toBe(401);
    const doc = (await t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(doc.paths['/api/v1/sbc/calls/{id}/pcap']?.get?.operationId).toBe('getSbcCallPcap');
  });
});
