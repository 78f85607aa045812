/**
 * `SipPhone` (SIP.js under our wrapper) against a fake registrar of ours over a real WebSocket
 * (`ws`, subprotocol `sip`, RFC 7118) on loopback: the REGISTER it builds is parsed by TFX's own
 * parser, its digest answer is checked by TFX's own digest code (RFC 3261 §22.2, RFC 2617
 * §3.2.2), and hostile responses — garbage frames, a 100 KB header field, a challenge without a
 * realm or with an unknown algorithm, a huge reason phrase, a response to another transaction —
 * end in a clear refusal, never a crash (an unhandled error fails the run).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { computeResponse, nodeDigestHash, parseCredentials, parseMessage } from '@tfx/sip';
import { PhoneCall, SipPhone, SipPhoneError } from '../src/sip/index.js';

const DOMAIN = 'tfx.test';
const HOST = '127.0.47.1';

interface Req {
  readonly method: string;
  readonly uri: string;
  get(name: string): string | undefined;
  all(name: string): string[];
}

type Handler = (req: Req, reply: (text: string) => void, n: number) => void;

let server: WebSocketServer | undefined;
let phone: SipPhone | undefined;

beforeAll(() => {
  // Node 20 has no global WebSocket; SIP.js's web transport uses the global one.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
});

afterEach(async () => {
  await phone?.close();
  phone = undefined;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A registrar that parses every request with TFX's parser and answers through `handler`. */
async function registrar(handler: Handler): Promise<{ url: string; seen: Req[] }> {
  const seen: Req[] = [];
  server = new WebSocketServer({ host: HOST, port: 0, handleProtocols: () => 'sip' });
  server.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.trim() === '') return; // keep-alive
      const r = parseMessage(new TextEncoder().encode(text));
      if (!r.ok || r.message.kind !== 'request') throw new Error(`unparseable: ${text}`);
      const m = r.message;
      const req: Req = {
        method: m.method,
        uri: m.uriText,
        get: (n) => m.headers.get(n),
        all: (n) => m.headers.getAll(n),
      };
      seen.push(req);
      handler(req, (t) => ws.send(t), seen.length);
    });
  });
  await new Promise<void>((r) => server!.on('listening', () => r()));
  const addr = server.address() as { port: number };
  return { url: `ws://${HOST}:${addr.port}`, seen };
}

/** A response to `req` with its Via, From, To (tagged), Call-ID and CSeq. */
function response(req: Req, status: string, extra: string[] = [], reason = ' OK'): string {
  const to = req.get('to') ?? '';
  return [
    `SIP/2.0 ${status}${reason}`,
    ...req.all('via').map((v) => `Via: ${v}`),
    `From: ${req.get('from')}`,
    `To: ${/;tag=/.test(to) ? to : `${to};tag=reg1`}`,
    `Call-ID: ${req.get('call-id')}`,
    `CSeq: ${req.get('cseq')}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const CHALLENGE = `WWW-Authenticate: Digest realm="${DOMAIN}", nonce="n0nce-1", qop="auth", algorithm=MD5`;

function newPhone(url: string, password = 'carol-secret-3'): SipPhone {
  phone = new SipPhone({ server: url, user: 'carol', password, domain: DOMAIN, expires: 300 });
  return phone;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(SipPhoneError);
    return (err as Error).message;
  }
}

describe('SipPhone REGISTER over WebSocket (RFC 7118) with digest', () => {
  it('builds a REGISTER TFX parses, and answers the 401 with a digest that TFX verifies (RFC 3261 §22.2)', async () => {
    let verified = false;
    const { url, seen } = await registrar((req, reply, n) => {
      if (n === 1) return reply(response(req, '401', [CHALLENGE], ' Unauthorized'));
      const c = parseCredentials(req.get('authorization') ?? '');
      if (!c.ok) return reply(response(req, '400', [], ' Bad Credentials'));
      const expected = computeResponse({
        hash: nodeDigestHash,
        algorithm: 'MD5',
        method: 'REGISTER',
        uri: c.value.uri,
        nonce: 'n0nce-1',
        username: 'carol',
        realm: DOMAIN,
        password: 'carol-secret-3',
        qop: 'auth',
        nc: c.value.nc,
        cnonce: c.value.cnonce,
      });
      verified = c.value.response === expected && c.value.username === 'carol';
      reply(
        response(req, verified ? '200' : '403', verified ? [`Contact: ${req.get('contact')}`] : []),
      );
    });
    const p = newPhone(url);
    const states: string[] = [];
    p.on('registration', (r) => states.push(r.state));
    await p.connect();
    expect(verified).toBe(true);
    expect(p.registration).toBe('registered');
    expect(p.ready).toBe(true);
    expect(states).toEqual(['registering', 'registered']);
    const first = seen[0]!;
    expect(first.method).toBe('REGISTER');
    expect(first.uri).toBe(`sip:${DOMAIN}`);
    expect(first.get('from')).toMatch(/^<sip:carol@tfx\.test>;tag=/);
    expect(first.get('via')).toMatch(/^SIP\/2\.0\/WSS? /);
    expect(first.get('contact')).toMatch(/transport=ws/);
    // The retried REGISTER is the same registration, one CSeq later (RFC 3261 §10.2.4, §8.1.3.5).
    expect(seen[1]!.get('call-id')).toBe(first.get('call-id'));
    expect(Number.parseInt(seen[1]!.get('cseq')!, 10)).toBe(
      Number.parseInt(first.get('cseq')!, 10) + 1,
    );
  });

  it('a 403 after the challenge (wrong password) rejects connect() with a sentence', async () => {
    const { url } = await registrar((req, reply, n) =>
      reply(
        n === 1
          ? response(req, '401', [CHALLENGE], ' Unauthorized')
          : response(req, '403', [], ' Forbidden'),
      ),
    );
    expect(await refusal(newPhone(url, 'wrong').connect())).toBe(
      'Sign-in failed: wrong user name or password',
    );
    expect(phone!.registration).toBe('failed');
    expect(phone!.ready).toBe(false);
  });

  it('drops garbage frames, a response to another transaction and a 100 KB header field, then honours the real answer', async () => {
    const { url } = await registrar((req, reply, n) => {
      if (n > 1) return reply(response(req, '403', [], ' Forbidden'));
      reply('garbage\r\n\r\n');
      reply('SIP/2.0 abc Nope\r\nVia: ???\r\n\r\n');
      reply('\u0000\u0001\u0002\u00ff');
      reply(response(req, '200').replace(/branch=[^;\r\n]+/, 'branch=z9hG4bK-someone-else'));
      reply(response(req, '401', [CHALLENGE, `X-Junk: ${'A'.repeat(100_000)}`], ' Unauthorized'));
    });
    expect(await refusal(newPhone(url).connect())).toBe(
      'Sign-in failed: wrong user name or password',
    );
  });

  it.each([
    ['a challenge without a realm', 'WWW-Authenticate: Digest nonce="x", qop="auth"'],
    [
      'a challenge with an unknown algorithm',
      `WWW-Authenticate: Digest realm="${DOMAIN}", nonce="x", algorithm=ROT13`,
    ],
    ['a challenge without a nonce', `WWW-Authenticate: Digest realm="${DOMAIN}"`],
    ['a challenge of another scheme', 'WWW-Authenticate: Basic realm="x"'],
    ['no challenge at all', 'X-Nothing: 1'],
  ])('%s: the 401 is final, connect() is refused, nothing is sent again', async (_what, header) => {
    const { url, seen } = await registrar((req, reply) =>
      reply(response(req, '401', [header], ' Unauthorized')),
    );
    expect(await refusal(newPhone(url).connect())).toBe(
      'Sign-in failed: wrong user name or password',
    );
    expect(seen.length).toBe(1);
  });

  it('a huge reason phrase reaches the person cut short and cleaned', async () => {
    const { url } = await registrar((req, reply) =>
      reply(response(req, '503', ['Retry-After: 5'], ` Busy ${'B'.repeat(5000)}`)),
    );
    const msg = await refusal(newPhone(url).connect());
    expect(msg).toMatch(/^Sign-in failed: The service is busy: try again shortly \(503 Busy/);
    expect(msg.length).toBeLessThan(160);
  });

  it('an unreachable server rejects connect() with a sentence; close() is idempotent and a closed phone refuses work', async () => {
    const p = newPhone(`ws://${HOST}:1`);
    expect(await refusal(p.connect())).toMatch(/^Cannot reach the SIP server/);
    await p.close();
    await p.close();
    expect(() => p.call('123')).toThrow(SipPhoneError);
  });

  it('refuses options it cannot use, before any I/O', () => {
    const base = { password: 'x', domain: DOMAIN, server: 'wss://h/sip' };
    expect(() => new SipPhone({ ...base, user: 'ca rol' })).toThrow('user name');
    expect(() => new SipPhone({ ...base, user: 'carol', domain: 'bad domain' })).toThrow('domain');
    expect(() => new SipPhone({ ...base, user: 'carol', server: 'http://h/sip' })).toThrow('ws://');
    expect(() => new SipPhone({ ...base, user: 'carol', authorizationUser: 'x\r\ny' })).toThrow(
      'authorization',
    );
  });
});

describe('PhoneCall.earlyMedia', () => {
  /** A SIP.js session stand-in: the call only listens to its state changes here. */
  const session = {
    stateChange: { addListener: () => undefined },
  } as unknown as ConstructorParameters<typeof PhoneCall>[0];

  it('is set by a 180/183 with SDP (RFC 3960), not by a bare 180 or the hop-by-hop 100', () => {
    const call = new PhoneCall(session, 'outgoing', '4420001');
    call.progress(100, true);
    expect([call.state, call.earlyMedia]).toEqual(['dialling', false]);
    call.progress(180, false);
    expect([call.state, call.earlyMedia]).toEqual(['ringing', false]);
    call.progress(183, true);
    expect([call.state, call.earlyMedia]).toEqual(['ringing', true]);
    call.progress(180, false); // a later bare 180 does not take the early media away
    expect(call.earlyMedia).toBe(true);
  });

  it('a final or an out-of-range status never counts as early media', () => {
    const call = new PhoneCall(session, 'outgoing', '4420001');
    call.progress(200, true);
    call.progress(Number.NaN, true);
    call.progress(-1, true);
    expect(call.earlyMedia).toBe(false);
  });
});
