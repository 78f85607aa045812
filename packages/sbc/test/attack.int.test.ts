/**
 * Attacks on an untrusted zone with real tools: sipvicious `svmap` (it announces itself as
 * friendly-scanner) finds nothing on the public zone, while the same scan of a trusted zone —
 * which runs no security stages — finds the SBC (the control); a flood from one address is banned
 * and dropped silently while a phone at another address keeps calling. A password cracker that
 * hides its name (svcrack, in a zone whose scanner stage is told to let sipvicious through) gets
 * only identical 403s, then is banned after its failed authentications — the ban lands on the
 * blacklist (origin `auth`) — while a phone with credentials at another address keeps calling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore, computeHa1, nodeDigestHash, type DialogSession } from '@tfx/sip';
import { Sbc } from '../src/index.js';
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
      // The ban is on the SBC's blacklist with its origin, reason and expiry.
      expect(rig.sbc.blacklist.match(ATTACKER, 'public')).toMatchObject({
        origin: 'flood',
        zone: 'public',
        reason: expect.stringMatching(/requests within 10 s/),
      });
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

describe('svcrack against the public zone with digest (auth-failure ban)', () => {
  let engine: MediaEngine;
  let sbc: Sbc;
  let trunk: UserAgentCore;
  let phone: UserAgentCore;
  let port: number;

  beforeAll(async () => {
    engine = await builtinEngine();
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) => inv.accept({ body: SDP(TRUNK), contentType: 'application/sdp' }),
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
    phone = new UserAgentCore({
      user: 'alice',
      credentials: { username: 'alice', password: 'alice-secret-1' },
    });
    await phone.start([{ transport: 'udp', address: PHONE, port: 0 }]);
    sbc = new Sbc({
      zones: [
        {
          ...zone('public', PUBLIC),
          // The scanner stage is told to let sipvicious through (a cracker that hides its
          // User-Agent), so the auth-failure ban is what stops it. 3 failures of one user from
          // one source ban that pair; 15 from the source ban the source.
          security: { scanners: /(?!)/, authBanAfter: 3 },
        },
        zone('core', CORE),
      ],
      trunks: [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` }],
      routes: [{ match: { zone: 'public' }, to: ['far'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
      auth: {
        realm: 'tfx.test',
        lookupHa1: (user, realm, algorithm) =>
          user === 'alice'
            ? computeHa1(nodeDigestHash, algorithm, user, realm, 'alice-secret-1')
            : undefined,
      },
    });
    const ls = await sbc.start();
    port = ls.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
  });

  afterAll(async () => {
    await sbc?.close();
    await phone?.close();
    await trunk?.close();
    await engine?.close();
  });

  const call = (): Promise<number> =>
    new Promise((resolve) => {
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

  it("bans svcrack's address after its failed authentications (onto the blacklist) while a phone elsewhere keeps calling", async () => {
    const sec = sbc.zones.get('public')!.security!;
    // svcrack 0.3.3 does not hand its -b to the socket (it binds the wildcard), so it sends from
    // the address the kernel picks toward 127.0.0.20: 127.0.0.1 — still not the phone's.
    const cracker = '127.0.0.1';
    const crack = run(
      'svcrack',
      [
        '-b',
        ATTACKER,
        '-p',
        String(port),
        '-u',
        '1000',
        '-r',
        '1-400',
        '--maximumtime',
        '5',
        PUBLIC,
      ],
      90_000,
    );
    // A phone with credentials keeps calling from another address while the cracker works.
    expect(await call()).toBe(200);
    const out = await crack;
    expect(out.out, out.out).not.toMatch(/\|\s*1000\s*\|\s*\d+\s*\|/);
    expect(sec.counters.auth.failed).toBeGreaterThanOrEqual(15);
    expect(sec.counters.auth.banned).toBeGreaterThanOrEqual(2); // the pair, then the source
    const entry = sbc.blacklist.match(cracker, 'public');
    expect(entry).toMatchObject({ cidr: `${cracker}/32`, origin: 'auth', zone: 'public' });
    expect(entry!.reason).toMatch(/failed authentications/);
    expect(entry!.until).toBeGreaterThan(entry!.since);
    expect(sbc.userBans()).toEqual([
      expect.objectContaining({ zone: 'public', user: '1000', source: cracker }),
    ]);
    // Banned: its requests are dropped silently at the blacklist stage.
    expect(sbc.zones.get('public')!.access.counters.blacklist.dropped).toBeGreaterThan(0);
    expect(out.out).toMatch(/no server response|found nothing|timed out|not found/i);
    expect(await call()).toBe(200);
    // Lifting the entry lets the address back (its next request is challenged again).
    expect(sbc.liftFromBlacklist(cracker)).toBe(1);
    expect(sbc.blacklist.match(cracker, 'public')).toBeUndefined();
    expect(sec.authGate.banned('ip', cracker, sbc.zones.get('public')!.stack.clock.now())).toBe(
      undefined,
    );
  }, 150_000);
});
