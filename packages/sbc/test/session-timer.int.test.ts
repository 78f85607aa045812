/**
 * RFC 4028 session timers per leg, with real sipp peers on their own loopback addresses (a phone
 * at 127.0.0.21 in the public zone, a trunk at 127.0.0.11 in the core): each leg negotiates its
 * own Session-Expires with its own peer from its zone's policy, nothing of one leg's timer
 * crosses to the other, a leg's refreshes stay on that leg (answered by the SBC), the SBC
 * refreshes the leg where it is the refresher, and a leg whose session expires ends both.
 * Expiry at the RFC's real intervals is proven with an injected clock (session-timer.test.ts);
 * here the far side answers with a short interval of its own (a UAC takes what the 2xx says).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import {
  CORE,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  builtinEngine,
  freePort,
  header,
  sipp,
  startSbc,
  zone,
  type Rig,
  type SippRun,
} from './harness.js';

describe('RFC 4028 session timers per leg through the SBC (real sipp)', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function run(o: {
    phone: { scenario: string; keys: Record<string, string>; hold?: number };
    trunkSe: string;
  }): Promise<{ phone: SippRun; trunk: SippRun; rig: Rig }> {
    const trunkPort = await freePort(TRUNK);
    const rig = await startSbc(
      engine,
      [{ name: 'trunk', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` }],
      [{ match: { zone: 'public' }, to: ['trunk'] }],
      [zone('public', PUBLIC), { ...zone('core', CORE), sessionTimer: { expires: 300 } }],
    );
    try {
      const trunk = sipp(
        [
          '-sf',
          join(SCENARIOS, 'uas-timer.xml'),
          '-i',
          TRUNK,
          '-p',
          String(trunkPort),
          '-mi',
          TRUNK,
          '-mp',
          String(await freePort(TRUNK, true)),
          '-key',
          'se_hdr',
          o.trunkSe,
          '-m',
          '1',
        ],
        30_000,
      );
      await new Promise((r) => setTimeout(r, 300));
      const keys = Object.entries(o.phone.keys).flatMap(([k, v]) => ['-key', k, v]);
      const phone = sipp(
        [
          `${PUBLIC}:${rig.port('public', 'udp')}`,
          '-sf',
          join(SCENARIOS, o.phone.scenario),
          '-i',
          PHONE,
          '-p',
          String(await freePort(PHONE)),
          '-mi',
          PHONE,
          '-mp',
          String(await freePort(PHONE, true)),
          '-s',
          '4420001',
          ...keys,
          ...(o.phone.hold !== undefined ? ['-d', String(o.phone.hold)] : []),
          '-m',
          '1',
        ],
        30_000,
      );
      const [p, t] = await Promise.all([phone.done, trunk.done]);
      return { phone: p, trunk: t, rig };
    } finally {
      await rig.close();
    }
  }

  const requests = (r: SippRun, method: string): string[] =>
    r.received.filter((m) => m.startsWith(`${method} `));
  const responses = (r: SippRun, cseq: RegExp): string[] =>
    r.received.filter((m) => /^SIP\/2\.0 2/.test(m) && cseq.test(header(m, 'CSeq') ?? ''));

  it("gives each leg its own Session-Expires (RFC 4028 §9, §7.1): the phone's 120 on its leg, the core's 300 on the trunk's; the phone's refreshes are answered on its leg and never reach the trunk", async () => {
    const { phone, trunk, rig } = await run({
      phone: {
        scenario: 'uac-timer.xml',
        keys: { se_hdr: 'Session-Expires: 120;refresher=uac' },
        hold: 500,
      },
      trunkSe: 'X-No-Timer: 1',
    });
    expect(phone.code, phone.output).toBe(0);
    expect(trunk.code, trunk.output).toBe(0);
    // The phone's leg: its own interval, itself the refresher (§9: Require: timer with uac).
    const ok = responses(phone, /INVITE/)[0] ?? '';
    expect(header(ok, 'Session-Expires')).toBe('120;refresher=uac');
    expect(header(ok, 'Require')).toMatch(/timer/);
    // Its UPDATE refresh and its re-INVITE repeating the SDP: 200 with its own interval.
    const upd = responses(phone, /UPDATE/)[0] ?? '';
    expect(header(upd, 'Session-Expires')).toBe('120;refresher=uac');
    const reinvite = responses(phone, /^3 INVITE/)[0] ?? '';
    expect(reinvite).toContain(`c=IN IP4 ${PUBLIC}`);
    expect(header(reinvite, 'Session-Expires')).toBe('120;refresher=uac');
    // The trunk's leg: the core zone's 300 and Min-SE, never the phone's 120.
    const invites = requests(trunk, 'INVITE');
    expect(invites).toHaveLength(1);
    expect(header(invites[0]!, 'Session-Expires')).toBe('300');
    expect(header(invites[0]!, 'Min-SE')).toBe('90');
    expect(header(invites[0]!, 'Supported')).toMatch(/timer/);
    expect(trunk.received.join('\n')).not.toMatch(/\b120\b/);
    // No refresh crossed: the trunk got no UPDATE and no second INVITE.
    expect(requests(trunk, 'UPDATE')).toEqual([]);
    expect(rig.sbc.counters.ended['caller-bye']).toBe(1);
  }, 90_000);

  it("refreshes the trunk's leg itself at half the interval the trunk answered (RFC 4028 §10), with UPDATEs the phone never sees", async () => {
    const { phone, trunk } = await run({
      phone: {
        scenario: 'uac-timer.xml',
        keys: { se_hdr: 'Session-Expires: 120;refresher=uac' },
        hold: 5000,
      },
      trunkSe: 'Session-Expires: 4;refresher=uac',
    });
    expect(phone.code, phone.output).toBe(0);
    expect(trunk.code, trunk.output).toBe(0);
    const updates = requests(trunk, 'UPDATE');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    for (const u of updates) {
      // The SBC names itself the refresher of this leg, at its own floor (Min-SE 90).
      expect(header(u, 'Session-Expires')).toBe('90;refresher=uac');
      expect(u).not.toMatch(/\b120\b/);
    }
    // The phone's leg saw no refresh of the SBC's (it is the refresher there) and no 4.
    expect(requests(phone, 'UPDATE')).toEqual([]);
    expect(phone.received.join('\n')).not.toMatch(/Session-Expires:\s*4\b/);
  }, 90_000);

  it('ends both legs with BYE when the session of one leg expires without refresh (RFC 4028 §10)', async () => {
    const { phone, trunk, rig } = await run({
      phone: { scenario: 'uac-wait-bye.xml', keys: {} },
      // The trunk names itself the refresher and never refreshes: the SBC ends the session at
      // 3 s − min(32 s, 1 s).
      trunkSe: 'Session-Expires: 3;refresher=uas',
    });
    expect(phone.code, phone.output).toBe(0);
    expect(trunk.code, trunk.output).toBe(0);
    expect(requests(trunk, 'BYE')).toHaveLength(1);
    expect(requests(phone, 'BYE')).toHaveLength(1);
    expect(rig.sbc.counters.ended['session-expired']).toBe(1);
  }, 90_000);
});
