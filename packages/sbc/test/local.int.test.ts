/**
 * TFX's own registrar in the SBC's zones and the anchoring policy (issue #17 items 1, 2, 4), with
 * real peers on their own loopback addresses and the SIP server's own registrar policy and
 * location store (packages/server):
 *
 * - a sipp phone registers to the public zone (401, then 200 with credentials) and a sipp caller
 *   in the core zone reaches it at its registered contact, before the routes (the trunk a route
 *   names never sees the INVITE); the call is anchored (the caller is no user of ours);
 * - two registered phones call each other: with `anchorMedia: auto` the callee's INVITE carries
 *   the caller's c=/m= lines byte for byte (and the caller gets the callee's), with `always` the
 *   zone's media address;
 * - SIP over WebSocket into the `webrtc` zone (SIP.js in Node, RFC 7118): it registers with digest
 *   and receives a call from the core zone — refused 488 with a Warning and counted when the
 *   engine has no WebRTC legs, bridged (WebRTC profile toward SIP.js, plain RTP toward the core)
 *   on rtpengine.
 */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent } from 'sip.js';
import type { SessionDescriptionHandler } from 'sip.js';
import { WebSocket } from 'ws';
import { RtpengineEngine, type MediaEngine } from '@tfx/media';
import {
  UserAgentCore,
  computeHa1,
  nodeDigestHash,
  type ServerInvite,
  type SipResponse,
} from '@tfx/sip';
import { Registrar } from '../../server/src/sip/registrar.js';
import { MemoryLocationStore } from '../../server/src/store/location.js';
import { startRtpengine, type RtpengineProcess } from '../../media/test/rtpengine/harness.js';
import { Sbc, NO_WEBRTC_WARNING, type ZoneSpec } from '../src/index.js';
import {
  CORE,
  PBX,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  builtinEngine,
  freePort,
  header,
  sipp,
  zone,
} from './harness.js';

const REALM = 'tfx.test';
const PHONE2 = '127.0.0.22';
const BROWSER = '127.0.0.25';
const USERS: Record<string, string> = {
  alice: 'alice-secret-1',
  bob: 'bob-secret-22',
  carol: 'carol-secret-3',
  dave: 'dave-secret-44',
};
const PLAIN_SDP = (a: string, port: number): string =>
  `v=0\r\no=pbx 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

/** What a browser answers (RFC 8829 shape): DTLS-SRTP, ICE, rtcp-mux, BUNDLE. */
const WEBRTC_ANSWER = [
  'v=0',
  `o=- 4611731400430051336 2 IN IP4 ${BROWSER}`,
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=msid-semantic: WMS',
  'm=audio 40400 UDP/TLS/RTP/SAVPF 0',
  `c=IN IP4 ${BROWSER}`,
  'a=rtcp:9 IN IP4 0.0.0.0',
  `a=candidate:1 1 udp 2122260223 ${BROWSER} 40400 typ host generation 0`,
  'a=ice-ufrag:Wq7x',
  'a=ice-pwd:4Jm1ZbYq9yXc3TqLh8KpNm2V',
  'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:active',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

/** The c= and m= lines of an SDP, in order. */
const cm = (msg: string | undefined): string[] =>
  (msg ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^[cm]=/.test(l));

async function until(pred: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An engine as it is, but reporting no WebRTC legs (the built-in engine before the gateway). */
function withoutWebrtc(engine: MediaEngine): MediaEngine {
  const capabilities = { ...engine.capabilities, webrtc: false };
  return new Proxy(engine, {
    get: (t, k) => {
      if (k === 'capabilities') return capabilities;
      const v: unknown = Reflect.get(t, k, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

interface LocalRig {
  readonly sbc: Sbc;
  readonly location: MemoryLocationStore;
  readonly trunkInvites: () => number;
  port(zone: 'public' | 'core', transport: 'udp' | 'tcp'): number;
  /** The WebSocket URL of the webrtc zone (when started with one). */
  readonly wsUrl: string | undefined;
  close(): Promise<void>;
}

async function startRig(
  engine: MediaEngine,
  o: { anchorMedia?: 'auto' | 'always'; webrtc?: boolean } = {},
): Promise<LocalRig> {
  let invites = 0;
  const trunk = new UserAgentCore({
    user: 'trunk',
    onInvite: (inv) => {
      invites++;
      inv.reject(480);
    },
  });
  const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
  let http: Server | undefined;
  if (o.webrtc) {
    http = createServer((_q, r) => r.end());
    await new Promise<void>((r) => http!.listen(0, PUBLIC, r));
  }
  const location = new MemoryLocationStore();
  const registrar = new Registrar({
    store: location,
    minExpires: 60,
    maxExpires: 3600,
    defaultExpires: 600,
  });
  const pub: ZoneSpec = {
    ...zone('public', PUBLIC),
    webrtc: o.webrtc ?? false,
    ...(o.anchorMedia && { anchorMedia: o.anchorMedia }),
  };
  const sbc = new Sbc({
    zones: [pub, zone('core', CORE)],
    trunks: [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${tl!.port}` }],
    routes: [
      { match: { zone: 'public' }, to: ['far'] },
      { match: { zone: 'core' }, to: ['far'] },
    ],
    engine,
    timers: { T1: 200, T2: 1600 },
    auth: {
      realm: REALM,
      lookupHa1: (user, realm, algorithm) => {
        const pw = USERS[user];
        return pw === undefined
          ? undefined
          : computeHa1(nodeDigestHash, algorithm, user, realm, pw);
      },
    },
    local: {
      domain: REALM,
      registrar: {
        register: (i) => registrar.register(i),
        lookup: (aor, now) => location.lookup(aor, now),
      },
    },
    ...(http && { webSocket: { server: http, path: '/sip', secure: false } }),
  });
  const listeners = await sbc.start();
  const ws = listeners.find((l) => l.transport === 'ws');
  return {
    sbc,
    location,
    trunkInvites: () => invites,
    port(z, transport) {
      const address = z === 'public' ? PUBLIC : CORE;
      return listeners.find((x) => x.address === address && x.transport === transport)!.port;
    },
    wsUrl: ws && `ws://${PUBLIC}:${ws.port}/sip`,
    async close() {
      await sbc.close();
      await trunk.close();
      if (http) await new Promise<void>((r) => http!.close(() => r()));
      await location.close();
    },
  };
}

/** A sipp phone registers `user` from `address:port` (401, then 200 with its credentials). */
async function register(rig: LocalRig, user: string, address: string, port: number) {
  const r = await sipp(
    [
      `${PUBLIC}:${rig.port('public', 'udp')}`,
      '-sf',
      join(SCENARIOS, 'phone-register-local.xml'),
      '-i',
      address,
      '-p',
      String(port),
      '-key',
      'user',
      user,
      '-au',
      user,
      '-ap',
      USERS[user]!,
      '-m',
      '1',
    ],
    30_000,
  ).done;
  expect(r.code, `${r.output}\n${r.trace}`).toBe(0);
  return r;
}

/** A sipp phone answering calls at its registered contact (sipp's built-in uas). */
function answer(address: string, port: number) {
  return sipp(['-sn', 'uas', '-i', address, '-p', String(port), '-m', '1'], 60_000);
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/** Two registered sipp phones call each other (auto: SDP untouched; always: anchored). */
function phoneToPhone(label: string, engine: () => MediaEngine): void {
  for (const mode of ['auto', 'always'] as const) {
    it(`${label}: a call between two registered phones in one zone is ${mode === 'auto' ? 'not anchored (SDP untouched, byte for byte)' : 'anchored in the engine'} with anchorMedia: ${mode}`, async () => {
      const rig = await startRig(engine(), { anchorMedia: mode });
      stops.push(() => rig.close());
      const alicePort = await freePort(PHONE);
      const bobPort = await freePort(PHONE2);
      await register(rig, 'alice', PHONE, alicePort);
      await register(rig, 'bob', PHONE2, bobPort);
      const bob = answer(PHONE2, bobPort);
      await new Promise((r) => setTimeout(r, 300));
      const alice = await sipp(
        [
          `${PUBLIC}:${rig.port('public', 'udp')}`,
          '-sf',
          join(SCENARIOS, 'uac-auth.xml'),
          '-i',
          PHONE,
          '-p',
          String(alicePort),
          '-mi',
          PHONE,
          '-s',
          'bob',
          '-key',
          'caller',
          'alice',
          '-au',
          'alice',
          '-ap',
          USERS.alice!,
          '-m',
          '1',
        ],
        60_000,
      ).done;
      const callee = await bob.done;
      expect(alice.code, `${alice.output}\n${alice.trace}`).toBe(0);
      expect(callee.code, `${callee.output}\n${callee.trace}`).toBe(0);
      const sentOffer = alice.sent.filter((m) => m.startsWith('INVITE ')).at(-1);
      const gotOffer = callee.received.find((m) => m.startsWith('INVITE '));
      const sentAnswer = callee.sent.find((m) => m.startsWith('SIP/2.0 200') && /m=audio/.test(m));
      const gotAnswer = alice.received.find((m) => m.startsWith('SIP/2.0 200'));
      expect(cm(sentOffer)).toHaveLength(2);
      expect(cm(sentAnswer)).toHaveLength(2);
      expect(rig.sbc.local!.counters).toMatchObject({
        calls: 1,
        direct: mode === 'auto' ? 1 : 0,
      });
      if (mode === 'auto') {
        expect(cm(gotOffer)).toEqual(cm(sentOffer));
        expect(cm(gotAnswer)).toEqual(cm(sentAnswer));
      } else {
        expect(cm(gotOffer)).toContain(`c=IN IP4 ${PUBLIC}`);
        expect(cm(gotOffer)).not.toEqual(cm(sentOffer));
        expect(cm(gotAnswer)).toContain(`c=IN IP4 ${PUBLIC}`);
        expect(cm(gotAnswer)).not.toEqual(cm(sentAnswer));
      }
      // Still a B2BUA: the callee sees the SBC's own Call-ID, not the caller's.
      expect(header(gotOffer!, 'Call-ID')).not.toBe(header(sentOffer!, 'Call-ID'));
      expect(rig.trunkInvites()).toBe(0);
    }, 180_000);
  }
}

describe('TFX’s own registrar in the public zone (sipp phones, built-in engine)', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('registers a phone after a 401 challenge (RFC 3261 §10.3, §22.4), and a call from the core zone reaches it at its contact before the routes', async () => {
    const rig = await startRig(engine);
    stops.push(() => rig.close());
    const phonePort = await freePort(PHONE);
    const reg = await register(rig, 'alice', PHONE, phonePort);
    const challenge = reg.received.find((m) => m.startsWith('SIP/2.0 401'));
    expect(header(challenge!, 'WWW-Authenticate')).toMatch(/^Digest realm="tfx\.test"/);
    const ok = reg.received.find((m) => m.startsWith('SIP/2.0 200'));
    expect(header(ok!, 'Contact')).toContain(`sip:alice@${PHONE}:${phonePort}`);
    const [binding] = await rig.location.lookup('sip:alice@tfx.test', Date.now());
    expect(binding?.zone).toBe('public');
    expect(rig.sbc.local!.counters).toMatchObject({ registered: 1, challenged: 1 });

    const phone = answer(PHONE, phonePort);
    await new Promise((r) => setTimeout(r, 300)); // sipp binds its socket
    const caller = await sipp(
      [
        `${CORE}:${rig.port('core', 'udp')}`,
        '-sn',
        'uac',
        '-s',
        'alice',
        '-i',
        PBX,
        '-p',
        String(await freePort(PBX)),
        '-m',
        '1',
      ],
      60_000,
    ).done;
    const callee = await phone.done;
    expect(caller.code, `${caller.output}\n${caller.trace}`).toBe(0);
    expect(callee.code, `${callee.output}\n${callee.trace}`).toBe(0);
    const invite = callee.received.find((m) => m.startsWith('INVITE '))!;
    // §16.6 step 6 as a proxy would: the Request-URI is the registered contact.
    expect(invite.split('\n')[0]).toMatch(
      new RegExp(`^INVITE sip:alice@${PHONE.replace(/\./g, '\\.')}:${phonePort}`),
    );
    expect(rig.trunkInvites()).toBe(0); // the route core → far was never consulted
    // The core's caller is no user of ours: anchored, the phone sees the public media address.
    expect(cm(invite)).toContain(`c=IN IP4 ${PUBLIC}`);
    expect(invite).not.toContain(PBX);
    expect(rig.sbc.local!.counters.calls).toBe(1);
  }, 180_000);

  it('an unknown user and a wrong password get the same 403 to REGISTER, and nothing is bound', async () => {
    const rig = await startRig(engine);
    stops.push(() => rig.close());
    const run = async (user: string, password: string) =>
      sipp(
        [
          `${PUBLIC}:${rig.port('public', 'udp')}`,
          '-sf',
          join(SCENARIOS, 'phone-register-local.xml'),
          '-i',
          PHONE,
          '-p',
          String(await freePort(PHONE)),
          '-key',
          'user',
          user,
          '-au',
          user,
          '-ap',
          password,
          '-m',
          '1',
        ],
        20_000,
      ).done;
    const wrong = await run('alice', 'not-her-password');
    const unknown = await run('mallory', 'whatever-1234');
    const last = (r: { received: string[] }) => r.received.at(-1)?.split('\n')[0]?.trim();
    expect(last(wrong)).toBe('SIP/2.0 403 Forbidden');
    expect(last(unknown)).toBe(last(wrong));
    expect(await rig.location.list(Date.now())).toEqual([]);
  }, 120_000);

  it('refuses hostile REGISTERs at the zone: a foreign domain 403, no To user 400, another user’s address 403 (§10.3 steps 1 and 4); nothing is bound', async () => {
    const rig = await startRig(engine);
    stops.push(() => rig.close());
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, PHONE, r));
    stops.push(() => new Promise<void>((r) => sock.close(() => r())));
    const lp = sock.address().port;
    const statusOf = (ruri: string, to: string, n: number) =>
      new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no answer')), 10_000);
        sock.once('message', (m) => {
          clearTimeout(t);
          resolve(m.toString('latin1').split('\r\n')[0]!);
        });
        sock.send(
          [
            `REGISTER ${ruri} SIP/2.0`,
            `Via: SIP/2.0/UDP ${PHONE}:${lp};branch=z9hG4bKhostile${n}`,
            `From: ${to};tag=h${n}`,
            `To: ${to}`,
            `Call-ID: hostile-${n}@${PHONE}`,
            `CSeq: ${n} REGISTER`,
            `Contact: <sip:x@${PHONE}:${lp}>`,
            'Max-Forwards: 70',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
          rig.port('public', 'udp'),
          PUBLIC,
        );
      });
    expect(await statusOf('sip:evil.example', '<sip:alice@evil.example>', 1)).toBe(
      'SIP/2.0 403 Not Our Domain',
    );
    expect(await statusOf(`sip:${REALM}`, `<sip:${REALM}>`, 2)).toBe('SIP/2.0 400 Bad To');
    // alice's credentials for bob's address of record.
    const ua = new UserAgentCore({ user: 'alice' });
    await ua.start([{ transport: 'udp', address: PHONE, port: 0 }]);
    stops.push(() => ua.close());
    let status: number | undefined;
    ua.register({
      registrar: `sip:${PUBLIC}:${rig.port('public', 'udp')}`,
      aor: `sip:bob@${REALM}`,
      username: 'alice',
      password: USERS.alice!,
      onStateChange: (st, info) => {
        if (st === 'failed') status = info.status;
      },
    }).register();
    await until(() => status !== undefined, 'the refusal');
    expect(status).toBe(403);
    expect(await rig.location.list(Date.now())).toEqual([]);
    expect(rig.sbc.local!.counters.registered).toBe(0);
  }, 60_000);

  it('never calls a contact that names one of the SBC’s own listeners (no loop): the routes decide instead', async () => {
    const rig = await startRig(engine);
    stops.push(() => rig.close());
    // A binding pointing at the core zone's own listener, as a hostile REGISTER would leave it.
    await rig.location.put({
      id: 'loop1',
      aor: `sip:loop@${REALM}`,
      uri: `sip:loop@${CORE}:${rig.port('core', 'udp')}`,
      q: 1,
      expiresAt: Date.now() + 300_000,
      registeredAt: Date.now(),
      callId: 'loop',
      cseq: 1,
      transport: 'udp',
      source: { address: PHONE, port: 5060 },
      zone: 'public',
    });
    const r = await pbxCall(rig, 'loop');
    expect(r.status).toBe(480); // the route's trunk answered
    expect(rig.trunkInvites()).toBe(1);
    expect(rig.sbc.local!.counters.calls).toBe(0);
    expect(rig.sbc.counters.callsStarted).toBe(1);
  }, 60_000);

  phoneToPhone('built-in engine', () => engine);
});

describe('a user registered from two phones over TCP (our own UAs)', () => {
  it('forks a call to both contacts in parallel over the connections they registered on (RFC 5626 §5.3); the first 200 wins and the other branch is cancelled', async () => {
    const engine = await builtinEngine();
    stops.push(() => engine.close());
    const rig = await startRig(engine);
    stops.push(() => rig.close());
    const ringing: Array<{ phone: string; invite: ServerInvite }> = [];
    const phone = async (address: string, answers: boolean) => {
      const ua = new UserAgentCore({
        user: 'bob',
        via: 'tcp',
        onInvite: (inv) => {
          ringing.push({ phone: address, invite: inv });
          inv.progress(180);
          if (answers)
            setTimeout(
              () =>
                inv.accept({ body: PLAIN_SDP(address, 32_000), contentType: 'application/sdp' }),
              300,
            );
        },
      });
      await ua.start([{ transport: 'tcp', address, port: 0 }]);
      stops.push(() => ua.close());
      let state = '';
      ua.register({
        registrar: `sip:${PUBLIC}:${rig.port('public', 'tcp')};transport=tcp`,
        aor: `sip:bob@${REALM}`,
        username: 'bob',
        password: USERS.bob!,
        expires: 300,
        onStateChange: (s) => (state = s),
      }).register();
      await until(() => state === 'registered', `bob registered from ${address}`);
      return ua;
    };
    const desk = await phone(PHONE, false);
    const mobile = await phone(PHONE2, true);
    expect(await rig.location.lookup('sip:bob@tfx.test', Date.now())).toHaveLength(2);

    const r = await pbxCall(rig, 'bob');
    expect(r.status).toBe(200);
    expect(ringing.map((x) => x.phone).sort()).toEqual([PHONE, PHONE2]);
    // The branch that did not answer is cancelled (§16.7 step 10): 487 to its INVITE.
    await until(() => ringing.find((x) => x.phone === PHONE)!.invite.answered, 'the CANCEL');
    // Each INVITE came over the phone's own outbound connection: no connection was opened to
    // the phones' listening ports.
    for (const ua of [desk, mobile]) {
      const conns = ua.stack.transport!.connections();
      expect(conns.map((c) => c.direction)).toEqual(['outbound']);
    }
    r.bye?.();
    await until(() => rig.sbc.callCount === 0, 'the call to end');
    expect(rig.trunkInvites()).toBe(0);
  }, 120_000);
});

describe('registered phones on rtpengine', () => {
  let rtpe: RtpengineProcess;
  let engine: RtpengineEngine;
  beforeAll(async () => {
    rtpe = await startRtpengine({ ports: 100, interfaces: { public: PUBLIC, core: CORE } });
    engine = new RtpengineEngine({
      instances: [rtpe.url],
      interfaces: { public: 'public', core: 'core' },
    });
  });
  afterAll(async () => {
    await engine?.close();
    await rtpe?.stop();
  });
  phoneToPhone('rtpengine', () => engine);
});

// --- SIP over WebSocket into the webrtc zone -------------------------------------------------------

/** SIP.js's offer/answer without WebRTC: it answers with a browser's SDP (its plug-in point). */
function browserSdh(offers: string[]): SessionDescriptionHandler {
  return {
    close: () => {},
    getDescription: () => Promise.resolve({ body: WEBRTC_ANSWER, contentType: 'application/sdp' }),
    hasDescription: (ct: string) => ct === 'application/sdp',
    setDescription: (s: string) => {
      offers.push(s);
      return Promise.resolve();
    },
    sendDtmf: () => false,
  };
}

/** SIP.js in Node registers `user` (default carol) over the zone's WebSocket and auto-answers. */
async function browser(url: string, offers: string[], invitations: Invitation[], user = 'carol') {
  const g = globalThis as { WebSocket?: unknown };
  const saved = g.WebSocket;
  g.WebSocket = WebSocket;
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${REALM}`),
    authorizationUsername: user,
    authorizationPassword: USERS[user]!,
    transportOptions: { server: url, traceSip: false },
    logBuiltinEnabled: false,
    sessionDescriptionHandlerFactory: () => browserSdh(offers),
    delegate: {
      onInvite: (i) => {
        invitations.push(i);
        void i.accept();
      },
    },
  });
  await ua.start();
  const registerer = new Registerer(ua);
  await registerer.register();
  await until(() => registerer.state === RegistererState.Registered, 'SIP.js registered');
  return {
    ua,
    async stop() {
      await registerer.dispose().catch(() => undefined);
      await ua.stop();
      g.WebSocket = saved;
    },
  };
}

/** A PBX in the core zone calls `user`; resolves with the final response (and the dialog). */
async function pbxCall(rig: LocalRig, user: string) {
  const pbx = new UserAgentCore({ user: 'pbx' });
  await pbx.start([{ transport: 'udp', address: PBX, port: 0 }]);
  stops.push(() => pbx.close());
  return new Promise<{ status: number; response: SipResponse | undefined; bye?: () => void }>(
    (resolve) =>
      pbx.call(
        {
          uri: `sip:${user}@${CORE}:${rig.port('core', 'udp')}`,
          body: PLAIN_SDP(PBX, 31_000),
          contentType: 'application/sdp',
        },
        {
          onAccepted: (s, r) => resolve({ status: r.status, response: r, bye: () => s.bye() }),
          onFailed: (r) => resolve({ status: r?.status ?? 0, response: r }),
        },
      ),
  );
}

describe('SIP over WebSocket in the webrtc zone (SIP.js in Node, RFC 7118)', () => {
  it('registers over /sip with digest; a call from the core zone is refused 488 with a Warning, counted, when the engine has no WebRTC legs', async () => {
    const engine = withoutWebrtc(await builtinEngine());
    stops.push(() => engine.close());
    const rig = await startRig(engine, { webrtc: true });
    stops.push(() => rig.close());
    const offers: string[] = [];
    const invitations: Invitation[] = [];
    const b = await browser(rig.wsUrl!, offers, invitations);
    stops.push(() => b.stop());
    const [binding] = await rig.location.lookup('sip:carol@tfx.test', Date.now());
    expect(binding).toMatchObject({ zone: 'public', transport: 'ws' });
    expect(binding?.uri).toMatch(/\.invalid;transport=ws/);
    expect(rig.sbc.zones.get('public')!.security!.counters.auth.challenged).toBeGreaterThan(0);

    const r = await pbxCall(rig, 'carol');
    expect(r.status).toBe(488);
    expect(r.response?.headers.get('warning')).toContain(NO_WEBRTC_WARNING);
    expect(rig.sbc.counters.webrtcRefused).toBe(1);
    expect(invitations).toHaveLength(0);
    expect(rig.trunkInvites()).toBe(0);
  }, 120_000);

  it('passes a call between two browsers registered over /sip with its SDP untouched (anchorMedia auto), after the caller’s 407', async () => {
    const engine = withoutWebrtc(await builtinEngine());
    stops.push(() => engine.close());
    const rig = await startRig(engine, { webrtc: true });
    stops.push(() => rig.close());
    const carolOffers: string[] = [];
    const carolCalls: Invitation[] = [];
    const carol = await browser(rig.wsUrl!, carolOffers, carolCalls, 'carol');
    stops.push(() => carol.stop());
    const daveAnswers: string[] = [];
    const dave = await browser(rig.wsUrl!, daveAnswers, [], 'dave');
    stops.push(() => dave.stop());
    const inviter = new Inviter(dave.ua, UserAgent.makeURI(`sip:carol@${REALM}`)!);
    const up = new Promise<void>((resolve, reject) =>
      inviter.stateChange.addListener((st) => {
        if (st === SessionState.Established) resolve();
        if (st === SessionState.Terminated) reject(new Error('the call failed'));
      }),
    );
    await inviter.invite();
    await up;
    // dave's SDH offers WEBRTC_ANSWER's text; carol's answers it: both arrive byte for byte.
    expect(carolOffers).toEqual([WEBRTC_ANSWER]);
    expect(daveAnswers).toEqual([WEBRTC_ANSWER]);
    expect(rig.sbc.counters.webrtcRefused).toBe(0);
    expect(rig.sbc.zones.get('public')!.security!.counters.auth.passed).toBeGreaterThan(0);
    await inviter.bye();
    await until(() => rig.sbc.callCount === 0, 'the call to end');
  }, 120_000);

  describe('on rtpengine', () => {
    let rtpe: RtpengineProcess;
    let engine: RtpengineEngine;
    beforeAll(async () => {
      rtpe = await startRtpengine({ ports: 100, interfaces: { public: PUBLIC, core: CORE } });
      engine = new RtpengineEngine({
        instances: [rtpe.url],
        interfaces: { public: 'public', core: 'core' },
      });
    });
    afterAll(async () => {
      await engine?.close();
      await rtpe?.stop();
    });

    it('bridges a call from the core zone to the browser: a WebRTC offer (DTLS-SRTP, ICE) toward it over its own WebSocket, plain RTP toward the core', async () => {
      expect(engine.capabilities.webrtc).toBe(true);
      const rig = await startRig(engine, { webrtc: true });
      stops.push(() => rig.close());
      const offers: string[] = [];
      const invitations: Invitation[] = [];
      const b = await browser(rig.wsUrl!, offers, invitations);
      stops.push(() => b.stop());

      const r = await pbxCall(rig, 'carol');
      expect(r.status).toBe(200);
      expect(invitations).toHaveLength(1);
      const offer = offers[0]!;
      expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
      expect(offer).toMatch(/^a=fingerprint:/m);
      expect(offer).toMatch(/^a=ice-ufrag:/m);
      expect(offer).toContain(`c=IN IP4 ${PUBLIC}`);
      expect(offer).not.toContain(PBX);
      const answer = new TextDecoder().decode(r.response!.body);
      expect(answer).toMatch(/^m=audio \d+ RTP\/AVP /m);
      expect(answer).toContain(`c=IN IP4 ${CORE}`);
      expect(answer).not.toMatch(/fingerprint|ice-ufrag|candidate/);
      expect(answer).not.toContain(BROWSER);
      await until(() => invitations[0]!.state === SessionState.Established, 'SIP.js established');
      r.bye?.();
      await until(() => invitations[0]!.state === SessionState.Terminated, 'the BYE at SIP.js');
      await until(() => rig.sbc.callCount === 0, 'the call to end');
    }, 120_000);
  });
});
