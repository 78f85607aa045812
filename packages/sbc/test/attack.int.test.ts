/**
 * Attacks on an untrusted zone with real tools: sipvicious `svmap` (it announces itself as
 * friendly-scanner) finds nothing on the public zone, while the same scan of a trusted zone —
 * which runs no security stages — finds the SBC (the control); a flood from one address is banned
 * and dropped silently while a phone at another address keeps calling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore, type DialogSession } from '@tfx/sip';
import { CORE, PHONE, PUBLIC, TRUNK, builtinEngine, startSbc, zone, type Rig } from './harness.js';

const ATTACKER = '127.0.0.23';

function run(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

describe('attacks on the public zone (sipvicious, flood)', () => {
  let engine: MediaEngine;
  let rig: Rig;
  let trunk: UserAgentCore;
  let phone: UserAgentCore;

  beforeAll(async () => {
    engine = await builtinEngine();
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) => inv.accept({ body: SDP(TRUNK), contentType: 'application/sdp' }),
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
    phone = new UserAgentCore({ user: 'alice' });
    await phone.start([{ transport: 'udp', address: PHONE, port: 0 }]);
    rig = await startSbc(
      engine,
      [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` }],
      [{ match: { zone: 'public' }, to: ['far'] }],
      [
        {
          ...zone('public', PUBLIC),
          security: { floodRequests: 40, floodWindowMs: 10_000, banMs: 600_000 },
        },
        zone('core', CORE),
      ],
    );
  });

  afterAll(async () => {
    await rig?.close();
    await phone?.close();
    await trunk?.close();
    await engine?.close();
  });

  async function call(): Promise<number> {
    const port = rig.port('public', 'udp');
    return new Promise((resolve) => {
      phone.call(
        { uri: `sip:4420001@${PUBLIC}:${port}`, body: SDP(PHONE), contentType: 'application/sdp' },
        {
          onAccepted: (s: DialogSession) => {
            s.bye();
            resolve(200);
          },
          onFailed: (r) => resolve(r?.status ?? 0),
        },
      );
    });
  }

  it('svmap finds no SIP device on the public zone (scanner dropped), but finds the trusted core zone (control)', async () => {
    const pub = await run('svmap', [
      '-b',
      ATTACKER,
      '-p',
      String(rig.port('public', 'udp')),
      PUBLIC,
    ]);
    const core = await run('svmap', ['-b', ATTACKER, '-p', String(rig.port('core', 'udp')), CORE]);
    expect(core.out, core.out).toContain(`${CORE}:${rig.port('core', 'udp')}`);
    expect(pub.out, pub.out).not.toContain(`${PUBLIC}:${rig.port('public', 'udp')}`);
    expect(rig.sbc.zones.get('public')!.security!.counters.scanner.dropped).toBeGreaterThan(0);
    // No product or version in what the SBC answers: svmap's User Agent column stays "unknown".
    expect(core.out).toMatch(
      new RegExp(`${CORE}:${rig.port('core', 'udp')}\\s*\\|\\s*unknown\\s*\\|`),
    );
  });

  it('svwar finds no extension and svcrack no password on the public zone; calls from another address keep completing', async () => {
    const port = String(rig.port('public', 'udp'));
    const sec = rig.sbc.zones.get('public')!.security!;
    const before = sec.counters.scanner.dropped;
    const war = await run('svwar', [
      '-b',
      ATTACKER,
      '-p',
      port,
      '-e',
      '1000-1020',
      '-m',
      'INVITE',
      PUBLIC,
    ]);
    const crack = await run('svcrack', [
      '-b',
      ATTACKER,
      '-p',
      port,
      '-u',
      '1000',
      '-r',
      '1-200',
      PUBLIC,
    ]);
    // svwar prints a table of the extensions it found; svcrack the password it found.
    expect(war.out, war.out).not.toMatch(/\|\s*10[0-2]\d\s*\|/);
    expect(crack.out, crack.out).not.toMatch(/\|\s*1000\s*\|\s*\d+\s*\|/);
    expect(rig.sbc.callCount).toBe(0);
    expect(sec.counters.scanner.dropped).toBeGreaterThan(before);
    // Both tools give up on silence: the scanner stage answered none of their probes.
    expect(war.out).toMatch(/found nothing/);
    expect(crack.out).toMatch(/no server response|found nothing/);
    expect(await call()).toBe(200);
  });

  it('bans a flooding address (dropped silently) while a phone at another address keeps calling', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, ATTACKER, () => r()));
    let answers = 0;
    sock.on('message', () => answers++);
    const port = rig.port('public', 'udp');
    const options = (i: number): string =>
      [
        `OPTIONS sip:${PUBLIC}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${ATTACKER}:${sock.address().port};branch=z9hG4bK-flood-${i}`,
        'Max-Forwards: 70',
        `From: <sip:x@${ATTACKER}>;tag=f${i}`,
        `To: <sip:${PUBLIC}>`,
        `Call-ID: flood-${i}@${ATTACKER}`,
        `CSeq: ${i} OPTIONS`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    try {
      for (let i = 1; i <= 100; i++) sock.send(options(i), port, PUBLIC);
      await new Promise((r) => setTimeout(r, 1500));
      const sec = rig.sbc.zones.get('public')!.security!;
      expect(sec.counters.flood.banned).toBe(1);
      expect(sec.bans().map((b) => b.source)).toEqual([ATTACKER]);
      expect(answers).toBeLessThanOrEqual(40);
      // Another address still calls through; the banned one stays silent.
      expect(await call()).toBe(200);
      const before = answers;
      sock.send(options(1000), port, PUBLIC);
      await new Promise((r) => setTimeout(r, 500));
      expect(answers).toBe(before);
    } finally {
      sock.close();
    }
  });
});
