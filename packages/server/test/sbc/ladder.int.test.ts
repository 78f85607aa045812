/**
 * GET /api/v1/sbc/calls/{id}/ladder and GET /api/v1/sbc/stats in a real platform: a call from a
 * PBX (sipp, trusted core zone) through the SBC to a trunk (sipp, public zone) that hangs up. The
 * ladder has both legs' messages, each tagged with its leg and with the addresses it had on the
 * wire, in the one order the SBC saw them (leg A's INVITE before leg B's, leg B's 200 before leg
 * A's), live and after the call ended; every answer matches its schema. Unknown ids 404,
 * malformed ids 400, no admin token 401; both routes are in the OpenAPI document.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sbcCallListSchema, sbcLadderSchema, sbcStatsSchema } from '@tfx/protocol';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';
import { SCENARIOS, freePort, sipp } from '../../../sbc/test/harness.js';

// This file's own loopback addresses (127.0.46.x).
const CORE = '127.0.46.40';
const PUBLIC = '127.0.46.41';
const TRUNK = '127.0.46.42';
const PBX = '127.0.46.43';

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 30_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /api/v1/sbc/calls/{id}/ladder and /api/v1/sbc/stats', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform;
  let trunkPort: number;
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
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
  });

  it('gives both legs’ messages tagged by leg, in the order the SBC saw them, live and ended', async () => {
    const core = t.platform.listeners.find((l) => l.name === 'sbc-core-udp')!;
    const pub = t.platform.listeners.find((l) => l.name === 'sbc-public-udp')!;
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
      String(await freePort(TRUNK, true)),
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
      String(await freePort(PBX, true)),
      '-m',
      '1',
    ]);
    const live = await until(async () => {
      const res = await t.req('GET', '/api/v1/sbc/calls');
      return sbcCallListSchema.parse(res.json).calls.find((c) => c.state === 'confirmed');
    }, 'the call listed');
    const during = sbcLadderSchema.parse(
      (await t.req('GET', `/api/v1/sbc/calls/${live.id}/ladder`)).json,
    );
    expect(during).toMatchObject({
      id: live.id,
      live: true,
      a: { callId: live.a.callId, zone: 'core' },
      b: { callId: live.b.callId, zone: 'public', trunk: 'carrier-a' },
    });
    const [a, b] = await Promise.all([caller.done, callee.done]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    await until(async () => (sbc.sbc?.callCount === 0 ? true : undefined), 'the call ended');

    const ended = sbcLadderSchema.parse(
      (await t.req('GET', `/api/v1/sbc/calls/${live.id}/ladder`)).json,
    );
    expect(ended.live).toBe(false);
    expect(ended.a.zone).toBeUndefined();
    const seqs = ended.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const line = (m: (typeof ended.messages)[number]): string =>
      `${m.leg} ${m.direction} ${m.local}${m.direction === 'in' ? '<' : '>'}${m.remote} ${m.summary}`;
    const lines = ended.messages.map(line);
    const A = `${PBX}:${pbxPort}`;
    const SA = `${CORE}:${core.port}`;
    const SB = `${PUBLIC}:${pub.port}`;
    const T = `${TRUNK}:${trunkPort}`;
    for (const want of [
      `a in ${SA}<${A} INVITE`,
      `b out ${SB}>${T} INVITE`,
      `b in ${SB}<${T} 180 Ringing`,
      `b in ${SB}<${T} 200 OK`,
      `a out ${SA}>${A} 200 OK`,
      `a in ${SA}<${A} ACK`,
      `b out ${SB}>${T} ACK`,
      `b in ${SB}<${T} BYE`,
      `a out ${SA}>${A} BYE`,
    ])
      expect(lines).toContain(want);
    const first = (s: string): number => lines.indexOf(s);
    expect(first(`a in ${SA}<${A} INVITE`)).toBe(0);
    expect(first(`a in ${SA}<${A} INVITE`)).toBeLessThan(first(`b out ${SB}>${T} INVITE`));
    expect(first(`b in ${SB}<${T} 200 OK`)).toBeLessThan(first(`a out ${SA}>${A} 200 OK`));
    expect(first(`b in ${SB}<${T} BYE`)).toBeLessThan(first(`a out ${SA}>${A} BYE`));
    // Every message is tagged with its own leg's Call-ID, and carries its text.
    for (const m of ended.messages) {
      expect(m.callId).toBe(m.leg === 'a' ? live.a.callId : live.b.callId);
      expect(m.text).toMatch(/^(SIP\/2\.0 \d{3} |[A-Z]+ sip:)/);
      expect(m.text).toContain(`Call-ID: ${m.callId}`);
    }
  }, 90_000);

  it('serves the statistics samples (the first after one interval) by their schema', async () => {
    const stats = await until(async () => {
      const s = sbcStatsSchema.parse((await t.req('GET', '/api/v1/sbc/stats')).json);
      return s.samples.length > 0 ? s : undefined;
    }, 'a first sample');
    expect(stats.intervalMs).toBe(5000);
    const last = stats.samples.at(-1)!;
    expect(last.rssBytes).toBeGreaterThan(0);
    expect(last.media?.engine).toBe('builtin');
  }, 60_000);

  it('answers 404 for an unknown call, 400 for a malformed id, 401 without the admin token', async () => {
    const unknown = await t.req('GET', '/api/v1/sbc/calls/sbc-0123456789abcdef/ladder');
    expect(unknown.status).toBe(404);
    expect((unknown.json as { error: { code: string } }).error.code).toBe('not-found');
    for (const bad of ['nope', 'sbc-XYZ', 'sbc-0123456789ABCDEF', '..%2F..%2Fetc', '%00'])
      expect((await t.req('GET', `/api/v1/sbc/calls/${bad}/ladder`)).status).toBe(400);
    for (const path of ['/api/v1/sbc/calls/sbc-0123456789abcdef/ladder', '/api/v1/sbc/stats'])
      expect((await t.req('GET', path, { token: '' })).status).toBe(401);
    const doc = (await t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(doc.paths['/api/v1/sbc/calls/{id}/ladder']?.get?.operationId).toBe('getSbcCallLadder');
    expect(doc.paths['/api/v1/sbc/stats']?.get?.operationId).toBe('getSbcStats');
  });
});
