/**
 * Normalization and reload with real sipp peers on their own loopback addresses (issue #17 item 5,
 * "Proof": "a normalization rule (00 → +) shows in the trunk's Request-URI and To"; "A bad rule
 * file is refused and calls keep flowing through the old rules"): a phone (127.0.0.21) calls
 * through the public zone (127.0.0.20) to a trunk (127.0.0.11) behind the core zone
 * (127.0.0.10); the trunk's sipp keeps every message it received (`-trace_msg`), and the test
 * reads the INVITE there: Request-URI, To and From users rewritten, header fields added, removed,
 * set and rewritten, the allow-list holding back what is not on it, option tags stripped. Then
 * `Sbc.reload` swaps the rules between two calls; a bad rule set is refused naming the rule and
 * the next call still goes through the rules in force. With our own user agents: a call whose
 * first trunk fails after a reload fails over under the rules it started with.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore, type ServerInvite } from '@tfx/sip';
import type { NormalizeRule, SbcConfig, TrunkSpec, ZoneSpec } from '../src/index.js';
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
  trunkSipp,
} from './harness.js';

const ZONE_RULES: NormalizeRule[] = [
  { user: 'ruri', match: '^00', replace: '+' },
  { user: 'from', match: '^0([1-9])', replace: '+44$1' },
  { header: 'X-Zone', action: 'add', value: 'public' },
];

const TRUNK_RULES: NormalizeRule[] = [
  { header: 'X-Secret', action: 'remove' },
  { header: 'X-Account', action: 'replace', match: '^(\\d+)$', replace: 'acct-$1' },
  { header: 'Subject', action: 'set', value: 'via TFX' },
  { header: 'Require', action: 'add', value: 'timer, foo-ext' },
];

function zones(publicRules: NormalizeRule[]): ZoneSpec[] {
  return [
    {
      ...zone('public', PUBLIC),
      normalize: publicRules,
      allowHeaders: ['Subject', 'X-*', 'Supported', 'Proxy-Require'],
    },
    zone('core', CORE),
  ];
}

function trunks(trunkPort: number, rules: NormalizeRule[] = TRUNK_RULES): TrunkSpec[] {
  return [
    {
      name: 'carrier',
      zone: 'core',
      uri: `sip:${TRUNK}:${trunkPort}`,
      normalize: rules,
      optionTags: ['timer', 'replaces'],
    },
  ];
}

const ROUTES = [{ match: { zone: 'public' }, to: ['carrier'] }];

/** One call from the phone (uac-headers.xml) to `service`, caller user `caller`. */
async function phoneCall(rig: Rig, service: string, caller: string): Promise<SippRun> {
  const port = await freePort(PHONE);
  const media = await freePort(PHONE, true);
  return sipp(
    [
      `${PUBLIC}:${rig.port('public', 'udp')}`,
      '-sf',
      join(SCENARIOS, 'uac-headers.xml'),
      '-key',
      'caller',
      caller,
      '-i',
      PHONE,
      '-p',
      String(port),
      '-mi',
      PHONE,
      '-mp',
      String(media),
      '-s',
      service,
      '-d',
      '300',
      '-m',
      '1',
    ],
    60_000,
  ).done;
}

const invites = (run: SippRun): string[] => run.received.filter((m) => m.startsWith('INVITE '));

/** Every value of a header field in one message (each line; compact forms aside). */
function values(message: string, name: string): string[] {
  const re = new RegExp(`^${name}\\s*:[ \\t]*(.*)$`, 'gim');
  return [...message.matchAll(re)].map((m) => (m[1] ?? '').trim());
}

describe('SBC normalization with real sipp peers', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('shows 00 → + in the trunk’s Request-URI and To, the From user made international, header rules and the allow-list on the far side, unsupported option tags stripped', async () => {
    const trunk = await trunkSipp(TRUNK, 'uas-echo.xml', 1);
    const rig = await startSbc(engine, trunks(trunk.port), ROUTES, zones(ZONE_RULES));
    let a: SippRun;
    let b: SippRun;
    try {
      a = await phoneCall(rig, '00442079460000', '07700900123');
      b = await trunk.run;
    } finally {
      await rig.close();
    }
    expect(a.code, `phone sipp:\n${a.output}`).toBe(0);
    expect(b.code, `trunk sipp:\n${b.output}`).toBe(0);
    // What the phone sent (the control: every field below was there).
    const sent = a.sent.find((m) => m.startsWith('INVITE ')) ?? '';
    expect(sent).toMatch(/^INVITE sip:00442079460000@/);
    expect(values(sent, 'X-Secret')).toHaveLength(1);
    expect(values(sent, 'Priority')).toEqual(['urgent']);

    const [inv] = invites(b);
    expect(inv, 'the trunk got the INVITE').toBeDefined();
    const invite = inv as string;
    // Users: zone rule 00 → + (Request-URI and To), zone rule 0… → +44… on From.
    expect(invite).toMatch(
      new RegExp(`^INVITE sip:\\+442079460000@${TRUNK.replace(/\./g, '\\.')}:`),
    );
    expect(header(invite, 'To')).toMatch(/^<sip:\+442079460000@/);
    expect(header(invite, 'From')).toMatch(new RegExp(`^<sip:\\+447700900123@${CORE}>`));
    // Headers: added by the zone, rewritten, set and removed by the trunk's rules.
    expect(values(invite, 'X-Zone')).toEqual(['public']);
    expect(values(invite, 'X-Account')).toEqual(['acct-1234']);
    expect(values(invite, 'Subject')).toEqual(['via TFX']);
    expect(values(invite, 'X-Secret')).toEqual([]);
    expect(invite).not.toMatch(/s3cr3t/);
    // The allow-list: Priority, P-Asserted-Identity, User-Agent are not on it.
    expect(values(invite, 'Priority')).toEqual([]);
    expect(values(invite, 'P-Asserted-Identity')).toEqual([]);
    expect(values(invite, 'User-Agent')).toEqual([]);
    // Option tags: the trunk supports timer and replaces only.
    expect(values(invite, 'Supported')).toEqual(['timer, replaces']);
    expect(values(invite, 'Require')).toEqual(['timer']);
    expect(values(invite, 'Proxy-Require')).toEqual([]);
    expect(invite).not.toMatch(/100rel|path|sec-agree|foo-ext/);
  }, 180_000);

  it('reload: the next call takes the new rules; a bad rule set is refused naming the rule and calls keep flowing through the rules in force', async () => {
    const trunk = await trunkSipp(TRUNK, 'uas-echo.xml', 3);
    const rig = await startSbc(engine, trunks(trunk.port), ROUTES, zones(ZONE_RULES));
    const runs: SippRun[] = [];
    let b: SippRun;
    try {
      runs.push(await phoneCall(rig, '00442079460000', '07700900123'));
      const next: SbcConfig = {
        zones: zones([
          { user: 'ruri', match: '^00', replace: '011' },
          { header: 'X-Zone', action: 'add', value: 'public-v2' },
        ]),
        trunks: trunks(trunk.port, [{ header: 'X-Account', action: 'remove' }]),
        routes: ROUTES,
      };
      expect(rig.sbc.reload(next)).toEqual({ generation: 2, restartNeeded: [] });
      runs.push(await phoneCall(rig, '00442079460000', '07700900123'));
      const bad: SbcConfig = {
        ...next,
        zones: zones([
          { user: 'ruri', match: '^00', replace: '+' },
          { user: 'ruri', match: '^(0', replace: '+' },
        ]),
      };
      expect(() => rig.sbc.reload(bad)).toThrow(
        /^sbc\.zones\[0\]\.normalize\[1\]\.match: invalid regular expression/,
      );
      expect(rig.sbc.rulesGeneration).toBe(2);
      runs.push(await phoneCall(rig, '00442079460000', '07700900123'));
      b = await trunk.run;
    } finally {
      await rig.close();
    }
    for (const r of runs) expect(r.code, `phone sipp:\n${r.output}`).toBe(0);
    expect(b.code, `trunk sipp:\n${b.output}`).toBe(0);
    const [first, second, third] = invites(b);
    expect(first).toMatch(/^INVITE sip:\+442079460000@/);
    expect(values(first ?? '', 'X-Zone')).toEqual(['public']);
    expect(values(first ?? '', 'X-Account')).toEqual(['acct-1234']);
    for (const inv of [second, third]) {
      expect(inv).toMatch(/^INVITE sip:011442079460000@/);
      expect(header(inv ?? '', 'To')).toMatch(/^<sip:011442079460000@/);
      expect(values(inv ?? '', 'X-Zone')).toEqual(['public-v2']);
      expect(values(inv ?? '', 'X-Account')).toEqual([]);
    }
  }, 240_000);
});

describe('a call in progress keeps the rules it started with', () => {
  let engine: MediaEngine;
  const open: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close();
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function ua(address: string, onInvite: (inv: ServerInvite) => void): Promise<number> {
    const core = new UserAgentCore({ user: 'ua', timers: { T1: 200, T2: 1600 }, onInvite });
    open.push(core);
    const [l] = await core.start([{ transport: 'udp', address, port: 0 }]);
    return l!.port;
  }

  it('fails over to the second trunk under the old rules after a reload; the next call takes the new ones', async () => {
    const SDP = (a: string): string =>
      `v=0\r\no=x 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n`;
    const held: ServerInvite[] = [];
    const seen: string[] = [];
    const first = await ua(TRUNK, (inv) => held.push(inv));
    const second = await ua('127.0.0.13', (inv) => {
      seen.push(inv.request.uriText);
      inv.accept({ body: SDP('127.0.0.13'), contentType: 'application/sdp' });
    });
    const phone = new UserAgentCore({ user: 'phone', timers: { T1: 200, T2: 1600 } });
    open.push(phone);
    await phone.start([{ transport: 'udp', address: PHONE, port: 0 }]);
    const cfg = (replace: string): SbcConfig => ({
      zones: zones([{ user: 'ruri', match: '^00', replace }]),
      trunks: [
        { name: 'one', zone: 'core', uri: `sip:${TRUNK}:${first}` },
        { name: 'two', zone: 'core', uri: `sip:127.0.0.13:${second}` },
      ],
      routes: [{ match: { zone: 'public' }, to: ['one', 'two'] }],
    });
    const r = await startSbc(engine, cfg('+').trunks, cfg('+').routes, cfg('+').zones);
    open.push(r);
    const dial = (): Promise<string> =>
      new Promise((resolve) => {
        phone.call(
          {
            uri: `sip:00441234@${PUBLIC}:${r.port('public', 'udp')}`,
            body: SDP(PHONE),
            contentType: 'application/sdp',
          },
          {
            onAccepted: (s) => {
              s.bye();
              resolve('accepted');
            },
            onFailed: (resp) => resolve(`failed ${resp?.status ?? 'error'}`),
          },
        );
      });
    const call1 = dial();
    await waitFor(() => held.length === 1);
    // The first trunk holds the INVITE; meanwhile the rules change.
    expect(r.sbc.reload(cfg('011')).generation).toBe(2);
    held[0]!.reject(503);
    expect(await call1).toBe('accepted');
    expect(seen[0]).toMatch(/^sip:\+441234@/);
    // The next call: the new rules, on both trunks.
    const call2 = dial();
    await waitFor(() => held.length === 2);
    expect(held[1]!.request.uriText).toMatch(/^sip:011441234@/);
    held[1]!.reject(503);
    expect(await call2).toBe('accepted');
    expect(seen[1]).toMatch(/^sip:011441234@/);
  }, 120_000);
});

function waitFor(fn: () => boolean, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (fn()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error('timed out'));
      setTimeout(tick, 20);
    };
    tick();
  });
}
