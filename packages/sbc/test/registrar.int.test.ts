/**
 * The inner registrar (`zones[].registrar`, docs/sbc.md): a real Kamailio on the core side
 * (127.0.0.11) is the registrar of the public zone's phones. A sipp phone registers through the
 * SBC (Kamailio's 401 relayed, answered, 200), Kamailio's location holds the SBC's contact and
 * nothing of the phone (byte scan of every request it received and of `ul.dump`), a refresh within
 * half the inner expiry is answered by the SBC (Kamailio sees no REGISTER for it) and the one after
 * is forwarded, and a call from the core (sipp UAC → Kamailio → lookup → SBC) reaches the phone on
 * its flow. Hostile: a flood of refreshes is throttled and counted; keep-alive OPTIONS reach the
 * phone; a registrar that never answers gives the phone 408 and leaves no state.
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEngine } from '@tfx/media';
import {
  REGISTRATION_DEFAULTS,
  Sbc,
  type InnerRegistrarSpec,
  type ZoneSpec,
} from '../src/index.js';
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
  scan,
  sipp,
  startSbc,
  tagOf,
  zone,
  type Rig,
} from './harness.js';
import { startInnerRegistrar, type InnerRegistrar } from './kamailio.js';

const USER = 'alice';
const PASSWORD = 'secret-alice';
const DOMAIN = 'kamailio.test';

let kamailio: InnerRegistrar;
let engine: MediaEngine;
const rigs: Rig[] = [];

beforeAll(async () => {
  const port = await freePort(TRUNK);
  kamailio = await startInnerRegistrar({ address: TRUNK, port, user: USER, password: PASSWORD });
  engine = await builtinEngine();
}, 60_000);

afterAll(async () => {
  await kamailio?.stop();
  await engine?.close();
});

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

function registrarZone(spec: Partial<InnerRegistrarSpec>): ZoneSpec {
  return {
    ...zone('public', PUBLIC),
    registrar: {
      target: 'pbx',
      ...REGISTRATION_DEFAULTS,
      expires: 20,
      minExpires: 5,
      ...spec,
    },
  };
}

async function rig(spec: Partial<InnerRegistrarSpec>, trunkUri?: string): Promise<Rig> {
  const r = await startSbc(
    engine,
    [{ name: 'pbx', zone: 'core', uri: trunkUri ?? `sip:${TRUNK}:${kamailio.port}` }],
    [{ match: { zone: 'public' }, to: ['pbx'] }],
    [registrarZone(spec), zone('core', CORE)],
  );
  rigs.push(r);
  return r;
}

const registers = (): string[] => kamailio.requests().filter((r) => r.startsWith('REGISTER '));

describe('an inner registrar behind the SBC (Kamailio)', () => {
  it('relays the challenge, stores the SBC’s contact, throttles the refresh within half the inner expiry, and a call from the core reaches the phone', async () => {
    const r = await rig({ keepAlive: { method: 'options', intervalMs: 0 } });
    const relay = r.sbc.relays.get('public')!;
    const sbcPort = r.port('public', 'udp');
    const phonePort = await freePort(PHONE);
    const before = registers().length;

    // 1. The phone registers: 401 from Kamailio through the SBC, digest, 200; a refresh at +2 s
    //    (answered by the SBC), one at +11 s (past half of the 20 s inner expiry: forwarded).
    const reg = sipp([
      `${PUBLIC}:${sbcPort}`,
      '-sf',
      `${SCENARIOS}phone-register.xml`,
      '-i',
      PHONE,
      '-p',
      String(phonePort),
      '-m',
      '1',
      '-key',
      'user',
      USER,
      '-key',
      'domain',
      DOMAIN,
      '-au',
      USER,
      '-ap',
      PASSWORD,
      // As phones do: the digest `uri` is the Request-URI (the registrar's domain). sipp's
      // default is the address it sends to: the SBC's public address would then reach the inner
      // side inside the credentials, which the SBC cannot change without breaking the digest.
      '-auth_uri',
      `sip:${DOMAIN}`,
    ]);
    const run = await reg.done;
    expect(run.code, run.output).toBe(0);

    // The inner registrar's challenge reached the phone (its realm, through the SBC).
    const challenge = run.received.find((m) => m.startsWith('SIP/2.0 401'));
    expect(header(challenge ?? '', 'WWW-Authenticate')).toContain(`realm="${kamailio.realm}"`);
    // Kamailio saw 3 REGISTERs (unauthenticated, authenticated, the refresh past half the
    // expiry) and not the one at +2 s, which the SBC answered itself.
    const seen = registers().slice(before);
    expect(seen.length, seen.join('\n----\n')).toBe(3);
    expect(relay.counters.throttled).toBe(1);
    expect(relay.counters.challenged).toBe(1);
    expect(relay.counters.registered).toBe(2);

    // 2. Topology hiding by byte scan: nothing of the phone or the public zone reached Kamailio.
    const phoneSent = run.sent.join('\n');
    const phoneCallId = header(run.sent[0] ?? '', 'Call-ID') ?? '';
    const phoneTag = tagOf(header(run.sent[0] ?? '', 'From')) ?? '';
    expect(phoneCallId).not.toBe('');
    expect(phoneSent).toContain(PHONE); // control: the scan looks for something that exists
    const forbidden = {
      'phone address': PHONE,
      'public zone address': PUBLIC,
      'phone port': String(phonePort),
      'public port': String(sbcPort),
      'phone Call-ID': phoneCallId,
      'phone tag': phoneTag,
      'phone User-Agent': 'test-phone',
    };
    expect(scan(seen, forbidden)).toEqual([]);
    const dump = await kamailio.dump();
    expect(dump).toContain(`@${CORE}:${r.port('core', 'udp')}`); // the SBC's contact
    expect(scan([dump], forbidden)).toEqual([]);
    // Control: the scan finds the core address in what Kamailio received.
    expect(scan(seen, { core: CORE }).length).toBeGreaterThan(0);

    // 3. A call from the core: sipp UAC → Kamailio (lookup location) → SBC → the phone's flow
    //    (a sipp UAS on the port the phone registered from).
    const uas = sipp(['-sn', 'uas', '-i', PHONE, '-p', String(phonePort), '-m', '1']);
    await new Promise((res) => setTimeout(res, 1000));
    const uacPort = await freePort(PBX);
    const uac = sipp([
      `${TRUNK}:${kamailio.port}`,
      '-sf',
      `${SCENARIOS}uac-routed.xml`,
      '-s',
      USER,
      '-i',
      PBX,
      '-p',
      String(uacPort),
      '-m',
      '1',
    ]);
    const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
    expect(uacRun.code, `${uacRun.trace}\n${kamailio.peer.output().slice(-3000)}`).toBe(0);
    expect(uasRun.code, uasRun.output).toBe(0);
    const invite = uasRun.received.find((m) => m.startsWith('INVITE '));
    expect(invite).toBeDefined();
    // The phone is called at its own contact; nothing of the core side reaches it.
    expect(invite).toMatch(
      new RegExp(`^INVITE sip:${USER}@${PHONE.replace(/\./g, '\\.')}:${phonePort}`),
    );
    const uacCallId = header(uacRun.sent[0] ?? '', 'Call-ID') ?? '';
    expect(
      scan(uasRun.received, {
        core: CORE,
        kamailio: TRUNK,
        'core caller': PBX,
        'core Call-ID': uacCallId,
        'kamailio port': String(kamailio.port),
      }),
    ).toEqual([]);
    expect(r.sbc.counters.callsAnswered).toBe(1);
  }, 180_000);

  it('answers a flood of refreshes itself (counted; Kamailio sees none of them), sends a forged refresh from elsewhere to Kamailio without moving the binding, and sends keep-alive OPTIONS to the phone', async () => {
    const r = await rig({ expires: 600, keepAlive: { method: 'options', intervalMs: 1000 } });
    const relay = r.sbc.relays.get('public')!;
    const phone = await RawPhone.open('127.0.0.22', PUBLIC, r.port('public', 'udp'));
    try {
      const before = registers().length;
      expect((await phone.register(1, 60)).status).toBe(401);
      const ok = await phone.register(2, 60);
      expect(ok.status, ok.text).toBe(200);
      expect(header(ok.text, 'Contact')).toContain(`${phone.address}:${phone.port}`);
      const afterRegister = registers().length;
      expect(afterRegister - before).toBe(2);

      // The flood: 300 refreshes on the same Call-ID, in bursts; each answered 200 by the SBC.
      let cseq = 3;
      for (let burst = 0; burst < 6; burst++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => phone.register(cseq++, 60)),
        );
        expect(answers.every((a) => a.status === 200)).toBe(true);
      }
      expect(relay.counters.throttled).toBe(300);
      expect(registers().length).toBe(afterRegister);

      // The same registration (Call-ID, contact) refreshed from another address is never answered
      // by the SBC: it goes to Kamailio, which challenges it (a hijacker learns nothing).
      const other = await RawPhone.open(
        '127.0.0.28',
        PUBLIC,
        r.port('public', 'udp'),
        phone.callId,
      );
      try {
        const hijack = await other.raw(cseq++, [
          `Contact: <sip:${USER}@127.0.0.22:${phone.port}>`,
          'Expires: 60',
        ]);
        expect(hijack.status).toBe(401);
        expect(relay.counters.throttled).toBe(300);
        expect(registers().length).toBe(afterRegister + 1);
      } finally {
        other.close();
      }

      // Keep-alives: OPTIONS from the public zone to the phone's contact, nothing of the core.
      const ping = await phone.nextRequest('OPTIONS', 10_000);
      expect(ping).toMatch(new RegExp(`^OPTIONS sip:${USER}@127\\.0\\.0\\.22:${phone.port}`));
      expect(header(ping, 'Via')).toContain(PUBLIC);
      expect(scan([ping], { core: CORE, kamailio: TRUNK })).toEqual([]);
      expect(relay.counters.keepAlives).toBeGreaterThan(0);

      // Unregister: forwarded, binding gone on both sides.
      const bye = await phone.register(cseq++, 0);
      expect(bye.status).toBe(200);
      expect(relay.bindingCount).toBe(0);
      expect(await kamailio.dump()).not.toContain(`@${CORE}:${r.port('core', 'udp')}`);
    } finally {
      phone.close();
    }
  }, 120_000);

  it('removes the inner binding (REGISTER expires=0) when the phone stops refreshing', async () => {
    const r = await rig({ expires: 600, keepAlive: { method: 'crlf', intervalMs: 1000 } });
    const relay = r.sbc.relays.get('public')!;
    const phone = await RawPhone.open('127.0.0.24', PUBLIC, r.port('public', 'udp'));
    const contact = `@${CORE}:${r.port('core', 'udp')}`;
    try {
      expect((await phone.register(1, 6)).status).toBe(401);
      const ok = await phone.register(2, 6);
      expect(ok.status, ok.text).toBe(200);
      // The phone is granted what it asked (6 s); the inner registrar holds 600 s.
      expect(header(ok.text, 'Contact')).toMatch(/expires=6\b/);
      expect(await kamailio.dump()).toContain(contact);
      const start = Date.now();
      while (relay.counters.expired === 0 && Date.now() - start < 30_000)
        await new Promise((res) => setTimeout(res, 200));
      expect(relay.counters.expired).toBe(1);
      expect(relay.bindingCount).toBe(0);
      let dump = await kamailio.dump();
      for (let i = 0; i < 50 && dump.includes(contact); i++) {
        await new Promise((res) => setTimeout(res, 200));
        dump = await kamailio.dump();
      }
      expect(dump).not.toContain(contact);
    } finally {
      phone.close();
    }
  }, 60_000);

  it('lets a registered phone call through the zone’s routes without the zone’s own digest; an unregistered address gets 407', async () => {
    const calleePort = await freePort(PBX);
    const sbc = new Sbc({
      zones: [
        registrarZone({ keepAlive: { method: 'options', intervalMs: 0 } }),
        zone('core', CORE),
      ],
      trunks: [
        { name: 'pbx', zone: 'core', uri: `sip:${TRUNK}:${kamailio.port}` },
        { name: 'callee', zone: 'core', uri: `sip:${PBX}:${calleePort}` },
      ],
      routes: [{ match: { zone: 'public' }, to: ['callee'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
      // The zone's own users: nobody (phones authenticate at the inner registrar).
      auth: { realm: 'sbc.test', lookupHa1: () => undefined },
    });
    const listeners = await sbc.start();
    rigs.push({ sbc, port: () => 0, close: () => sbc.close() });
    const sbcPort = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
    const phone = await RawPhone.open('127.0.0.25', PUBLIC, sbcPort);
    const phonePort = phone.port;
    expect((await phone.register(1, 60)).status).toBe(401);
    expect((await phone.register(2, 60)).status).toBe(200);
    phone.close();

    // The registered phone (same address and port: its flow) calls: no 407, the call completes.
    const uas = sipp(['-sn', 'uas', '-i', PBX, '-p', String(calleePort), '-m', '1']);
    await new Promise((res) => setTimeout(res, 500));
    const uac = sipp([
      `${PUBLIC}:${sbcPort}`,
      '-sn',
      'uac',
      '-s',
      '1000',
      '-i',
      '127.0.0.25',
      '-p',
      String(phonePort),
      '-m',
      '1',
      '-d',
      '200',
    ]);
    const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
    expect(uacRun.code, uacRun.output).toBe(0);
    expect(uasRun.code, uasRun.output).toBe(0);
    expect(uacRun.received.some((m) => m.startsWith('SIP/2.0 407'))).toBe(false);

    // Control: another address of the zone is challenged by the zone's digest.
    const security = sbc.zones.get('public')!.security!;
    const challenged = security.counters.auth.challenged;
    const stranger = sipp(
      [`${PUBLIC}:${sbcPort}`, '-sn', 'uac', '-s', '1000', '-i', '127.0.0.26', '-m', '1'],
      15_000,
    );
    const strangerRun = await stranger.done;
    expect(strangerRun.received.some((m) => m.startsWith('SIP/2.0 407'))).toBe(true);
    expect(security.counters.auth.challenged).toBe(challenged + 1);
  }, 120_000);

  it('refuses malformed REGISTERs itself (400, 423) and counts them; nothing reaches the registrar', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, TRUNK, () => res()));
    let swallowed = 0;
    silent.on('message', () => swallowed++);
    const r = await rig(
      { keepAlive: { method: 'options', intervalMs: 0 } },
      `sip:${TRUNK}:${silent.address().port}`,
    );
    const relay = r.sbc.relays.get('public')!;
    const phone = await RawPhone.open('127.0.0.27', PUBLIC, r.port('public', 'udp'));
    try {
      // §10.3 step 6: "*" only with Expires: 0 (the stack's sanity stage answers this one).
      expect((await phone.raw(1, ['Contact: *', 'Expires: 60'])).status).toBe(400);
      // §10.3 step 7: below minExpires (5) → 423 with Min-Expires.
      const brief = await phone.raw(2, [
        `Contact: <sip:${USER}@127.0.0.27:${phone.port}>`,
        'Expires: 2',
      ]);
      expect(brief.status).toBe(423);
      expect(header(brief.text, 'Min-Expires')).toBe('5');
      // A contact that is not a SIP URI.
      expect((await phone.raw(3, ['Contact: <tel:+441234>', 'Expires: 60'])).status).toBe(400);
      expect(relay.counters.rejected).toBe(2);
      expect(relay.counters.forwarded).toBe(0);
      expect(swallowed).toBe(0);
    } finally {
      phone.close();
      silent.close();
    }
  }, 60_000);

  it('answers 408 when the inner registrar never answers, and keeps no state', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, TRUNK, () => res()));
    let swallowed = 0;
    silent.on('message', () => swallowed++);
    const r = await rig(
      { timeoutMs: 1500, keepAlive: { method: 'options', intervalMs: 0 } },
      `sip:${TRUNK}:${silent.address().port}`,
    );
    const relay = r.sbc.relays.get('public')!;
    const phone = await RawPhone.open('127.0.0.23', PUBLIC, r.port('public', 'udp'));
    try {
      for (const cseq of [1, 2]) {
        const answer = await phone.register(cseq, 60, 20_000);
        expect(answer.status).toBe(408);
        expect(relay.bindings()).toEqual([]);
      }
      expect(relay.counters.timeouts).toBe(2);
      expect(swallowed).toBeGreaterThan(0);
    } finally {
      phone.close();
      silent.close();
    }
  }, 60_000);
});

/** A phone of our own on a UDP socket: REGISTERs with digest, and what it receives. */
class RawPhone {
  readonly callId: string;
  readonly #sock: Socket;
  readonly #waiting = new Map<number, (text: string) => void>();
  readonly #requests: string[] = [];
  #challenge: { realm: string; nonce: string } | undefined;

  private constructor(
    sock: Socket,
    readonly address: string,
    readonly port: number,
    readonly to: { address: string; port: number },
    callId?: string,
  ) {
    this.callId = callId ?? `raw-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    this.#sock = sock;
    sock.on('message', (m) => {
      const text = m.toString('latin1');
      if (text.startsWith('SIP/2.0 ')) {
        const seq = Number(/^CSeq:\s*(\d+)/im.exec(text)?.[1]);
        const status = Number(text.slice(8, 11));
        if (status < 200) return;
        const auth = header(text, 'WWW-Authenticate');
        if (auth) {
          this.#challenge = {
            realm: /realm="([^"]*)"/.exec(auth)?.[1] ?? '',
            nonce: /nonce="([^"]*)"/.exec(auth)?.[1] ?? '',
          };
        }
        this.#waiting.get(seq)?.(text);
        this.#waiting.delete(seq);
      } else if (text.trim() !== '') this.#requests.push(text);
    });
  }

  static async open(
    address: string,
    host: string,
    port: number,
    callId?: string,
  ): Promise<RawPhone> {
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, address, () => res()));
    return new RawPhone(sock, address, sock.address().port, { address: host, port }, callId);
  }

  register(
    cseq: number,
    expires: number,
    timeoutMs = 10_000,
  ): Promise<{ status: number; text: string }> {
    const uri = `sip:${DOMAIN}`;
    const lines = [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK-raw-${cseq}-${Date.now()}`,
      'Max-Forwards: 70',
      `From: <sip:${USER}@${DOMAIN}>;tag=rawtag`,
      `To: <sip:${USER}@${DOMAIN}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${USER}@${this.address}:${this.port}>`,
      `Expires: ${expires}`,
    ];
    const ch = this.#challenge;
    if (ch) {
      const md5 = (s: string) => createHash('md5').update(s).digest('hex');
      const ha1 = md5(`${USER}:${ch.realm}:${PASSWORD}`);
      const response = md5(`${ha1}:${ch.nonce}:${md5(`REGISTER:${uri}`)}`);
      lines.push(
        `Authorization: Digest username="${USER}", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", response="${response}", algorithm=MD5`,
      );
    }
    lines.push('Content-Length: 0', '', '');
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to REGISTER ${cseq}`)), timeoutMs);
      this.#waiting.set(cseq, (text) => {
        clearTimeout(t);
        resolve({ status: Number(text.slice(8, 11)), text });
      });
      this.#sock.send(lines.join('\r\n'), this.to.port, this.to.address);
    });
  }

  /** A REGISTER with these extra header lines (no Contact/Expires of its own), and its answer. */
  raw(cseq: number, extra: readonly string[]): Promise<{ status: number; text: string }> {
    const lines = [
      `REGISTER sip:${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK-raw-${cseq}-${Date.now()}`,
      'Max-Forwards: 70',
      `From: <sip:${USER}@${DOMAIN}>;tag=rawtag`,
      `To: <sip:${USER}@${DOMAIN}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} REGISTER`,
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ];
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to REGISTER ${cseq}`)), 10_000);
      this.#waiting.set(cseq, (text) => {
        clearTimeout(t);
        resolve({ status: Number(text.slice(8, 11)), text });
      });
      this.#sock.send(lines.join('\r\n'), this.to.port, this.to.address);
    });
  }

  async nextRequest(method: string, timeoutMs: number): Promise<string> {
    const start = Date.now();
    for (;;) {
      const hit = this.#requests.find((r) => r.startsWith(`${method} `));
      if (hit) return hit;
      if (Date.now() - start > timeoutMs) throw new Error(`no ${method} within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  close(): void {
    this.#sock.close();
  }
}
