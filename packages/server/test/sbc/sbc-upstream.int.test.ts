/**
 * Upstream registration through the platform (docs/sbc.md, "Upstream registration and per-trunk
 * codecs"): a trunk with `register` (password from `passwordEnv`) registers to a small UDP
 * registrar on 127.0.43.30; `GET /api/v1/sbc/trunks` shows `registration` (registered, expiresAt,
 * lastStatus) and the gauge `tfx_sbc_trunk_registered{trunk}` is 1; a trunk whose registrar
 * refuses shows `failed` with the status and 0; closing the platform unregisters (Expires: 0).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';

const REGISTRAR = '127.0.43.30';
const ZONE = '127.0.43.31';

/** Answers each REGISTER: 200 with the Contact and `expires=60` (or `status` for user `nobody`). */
function registrar(): Promise<{ socket: Socket; port: number; seen: string[] }> {
  const seen: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (m, rinfo) => {
    const text = m.toString('latin1');
    if (!text.startsWith('REGISTER ')) return;
    seen.push(text);
    const lines = text.split('\r\n');
    const pick = (n: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(`${n}:`));
    const refused = /^To:.*sip:nobody@/im.test(text);
    const expires = /^Expires: 0/im.test(text) ? 0 : 60;
    const contact = pick('contact')[0]?.replace(/^contact:\s*/i, '');
    const reply = [
      refused ? 'SIP/2.0 403 Forbidden' : 'SIP/2.0 200 OK',
      ...pick('via'),
      ...pick('from'),
      `${pick('to')[0] ?? 'To: <sip:x@y>'};tag=reg1`,
      ...pick('call-id'),
      ...pick('cseq'),
      ...(!refused && contact && expires > 0 ? [`Contact: ${contact};expires=${expires}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) =>
    socket.bind(0, REGISTRAR, () => resolve({ socket, port: socket.address().port, seen })),
  );
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 30_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Registration {
  state: string;
  aor: string;
  expiresAt?: string;
  lastStatus?: number;
  reason?: string;
}

describe('sbc upstream registration through the platform', () => {
  const media = createMediaModule();
  const sbc = createSbcModule({ engine: () => media.engine });
  let t: TestPlatform | undefined;
  let reg: Awaited<ReturnType<typeof registrar>>;
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

  beforeAll(async () => {
    reg = await registrar();
    process.env.TFX_TEST_CARRIER_PW_43 = 'carrier-secret';
    t = await startTestPlatform({
      modules: [media, sbc],
      flags: {
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 99),
        'media.workers': '1',
        'sbc.zones': JSON.stringify([
          {
            name: 'carrier',
            listen: [`udp://${ZONE}:0`],
            media: { address: ZONE },
            trusted: true,
          },
        ]),
        'sbc.trunks': JSON.stringify([
          {
            name: 'carrier',
            zone: 'carrier',
            uri: `sip:${REGISTRAR}:${reg.port}`,
            register: { user: 'tfx', passwordEnv: 'TFX_TEST_CARRIER_PW_43', realm: 'carrier.test' },
            codecs: { allow: ['PCMA', 'telephone-event'] },
          },
          {
            name: 'refusing',
            zone: 'carrier',
            uri: `sip:${REGISTRAR}:${reg.port}`,
            register: { user: 'nobody', password: 'whatever', contactUser: 'nobody-in' },
          },
          { name: 'plain', zone: 'carrier', uri: `sip:${REGISTRAR}:${reg.port}` },
        ]),
        'sbc.routes': JSON.stringify([{ match: { zone: 'carrier' }, to: ['plain'] }]),
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    reg?.socket.close();
    delete process.env.TFX_TEST_CARRIER_PW_43;
  });

  it('shows each trunk’s registration at GET /api/v1/sbc/trunks and in tfx_sbc_trunk_registered, and unregisters at close', async () => {
    const p = t!;
    const byName = async (): Promise<Map<string, { registration?: Registration }>> => {
      const r = await p.req('GET', '/api/v1/sbc/trunks');
      const list = (r.json as { trunks: { name: string; registration?: Registration }[] }).trunks;
      return new Map(list.map((x) => [x.name, x]));
    };
    const ok = await until(async () => {
      const r = (await byName()).get('carrier')?.registration;
      return r?.state === 'registered' ? r : undefined;
    }, 'registered');
    expect(ok).toMatchObject({ aor: 'sip:tfx@carrier.test', lastStatus: 200 });
    expect(Date.parse(ok.expiresAt ?? '')).toBeGreaterThan(Date.now());
    const refused = await until(async () => {
      const r = (await byName()).get('refusing')?.registration;
      return r?.state === 'failed' ? r : undefined;
    }, 'failed');
    expect(refused).toMatchObject({ lastStatus: 403, reason: 'status' });
    expect((await byName()).get('plain')?.registration).toBeUndefined();
    // The password reached the wire only as a digest (never in clear; here no challenge at all).
    expect(reg.seen.join('\n')).not.toContain('carrier-secret');

    const metrics = (await p.req('GET', '/metrics')).text;
    expect(metrics).toMatch(/^tfx_sbc_trunk_registered\{trunk="carrier"\} 1$/m);
    expect(metrics).toMatch(/^tfx_sbc_trunk_registered\{trunk="refusing"\} 0$/m);
    expect(metrics).not.toMatch(/tfx_sbc_trunk_registered\{trunk="plain"\}/);

    await p.close();
    t = undefined;
    const last = reg.seen.filter((m) => m.includes('<sip:tfx@')).at(-1) ?? '';
    expect(last).toMatch(/^Expires: 0/im);
  }, 90_000);
});
