/**
 * A real SIP.js 0.21 `UserAgent` (the library browsers use) over WSS at `/sip`, in Node over the
 * `ws` package: it registers with digest, is reached from a UDP sipp caller through the proxy,
 * and calls a UDP sipp UAS registered as another user. Signalling only: the session description
 * handler is a static SDP (media interworking belongs to the SBC).
 */
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Invitation,
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import {
  aliceCalls,
  DOMAIN,
  freePort,
  PASSWORDS,
  register,
  SCENARIOS,
  sipp,
  sippBackground,
  type SipTestServer,
  startSipServer,
} from './harness.js';

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 9 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

/** What a browser's WebRTC handler does, minus the media: offer or answer a fixed SDP. */
class StaticSdp implements SessionDescriptionHandler {
  readonly remote: string[] = [];
  close(): void {}
  getDescription(): Promise<{ body: string; contentType: string }> {
    return Promise.resolve({ body: SDP, contentType: 'application/sdp' });
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  setDescription(sdp: string): Promise<void> {
    this.remote.push(sdp);
    return Promise.resolve();
  }
  sendDtmf(): boolean {
    return false;
  }
}

let server: SipTestServer;
const globals = globalThis as { WebSocket?: unknown };
const savedWebSocket = globals.WebSocket;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  // SIP.js 0.21 keeps only the last WWW-Authenticate / Proxy-Authenticate of a response and
  // does MD5 only and keeps the last challenge: pinned to MD5 here even if the default changes.
  // A deployment serving SIP.js (or JsSIP) browsers offers MD5 alone, as here (docs/sip.md).
  server = await startSipServer({ 'sip.rateLimit': '0', 'sip.digestAlgorithms': 'MD5' });
  // Node 20 has no global WebSocket: SIP.js gets the `ws` package's, trusting the test server's
  // self-signed certificate.
  globals.WebSocket = class TestWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { rejectUnauthorized: false });
    }
  };
});
afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  globals.WebSocket = savedWebSocket;
  await server?.close();
});

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function track(session: Session): SessionState[] {
  const states: SessionState[] = [];
  session.stateChange.addListener((s) => states.push(s));
  return states;
}

/** carol as a browser would be: SIP.js over WSS at /sip, digest credentials, registered. */
async function sipJsCarol() {
  const invitations: Invitation[] = [];
  const sdhs: StaticSdp[] = [];
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:carol@${DOMAIN}`),
    authorizationUsername: 'carol',
    authorizationPassword: PASSWORDS.carol!,
    transportOptions: { server: `wss://127.0.0.1:${server.httpsPort}/sip`, traceSip: false },
    logBuiltinEnabled: !!process.env.SIPJS_LOG,
    logLevel: 'debug',
    sessionDescriptionHandlerFactory: () => {
      const sdh = new StaticSdp();
      sdhs.push(sdh);
      return sdh;
    },
    delegate: { onInvite: (invitation) => invitations.push(invitation) },
  });
  stops.push(() => ua.stop());
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  await registerer.register();
  await waitFor(
    () => registerer.state === RegistererState.Registered,
    10_000,
    'SIP.js to register',
  );
  return { ua, invitations, sdhs };
}

describe('SIP.js over WebSocket through the proxy', () => {
  let carol: Awaited<ReturnType<typeof sipJsCarol>>;

  it('registers a SIP.js UserAgent over WSS with digest (RFC 7118, RFC 3261 §22.4)', async () => {
    carol = await sipJsCarol();
    const regs = (await server.api('GET', '/api/v1/sip/registrations')).json as {
      items: Array<{ username: string; contacts: Array<{ transport: string }> }>;
    };
    const entry = regs.items.find((r) => r.username === 'carol');
    expect(entry?.contacts.map((c) => c.transport)).toEqual(['wss']);
  });

  it('is reached by a UDP sipp caller: INVITE, 407, INVITE, 200 (SIP.js answers), ACK, BYE, 200', async () => {
    const answered: SessionState[][] = [];
    const answering = (async () => {
      await waitFor(() => carol.invitations.length > 0, 20_000, 'the INVITE at SIP.js');
      const invitation = carol.invitations[0]!;
      answered.push(track(invitation));
      await invitation.accept();
    })();
    const caller = await sipp(
      aliceCalls(server, { callee: 'carol', calls: 1, extra: ['-d', '200'] }),
    );
    await answering;
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(1);
    expect(caller.failed).toBe(0);
    // The BYE from sipp ended the SIP.js session after it was established.
    await waitFor(
      () => answered[0]!.includes(SessionState.Terminated),
      5_000,
      'SIP.js to see the BYE',
    );
    expect(answered[0]).toEqual([
      SessionState.Establishing,
      SessionState.Established,
      SessionState.Terminated,
    ]);
    expect(carol.sdhs[0]!.remote[0]).toMatch(/^v=0/); // sipp's offer reached SIP.js
  });

  it('calls a UDP sipp UAS registered as bob: 407 answered by SIP.js, 180, 200, ACK, BYE from SIP.js', async () => {
    const port = await freePort();
    const callee = sippBackground([
      '-sf',
      join(SCENARIOS, 'uas.xml'),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      'u1',
      '-m',
      '1',
    ]);
    const reg = await register(server, 'bob', port);
    expect(reg.code, reg.output).toBe(0);

    const target = UserAgent.makeURI(`sip:bob@${DOMAIN}`)!;
    const inviter = new Inviter(carol.ua, target);
    const states = track(inviter);
    const responses: number[] = [];
    await inviter.invite({
      requestDelegate: {
        onProgress: (r) => responses.push(r.message.statusCode ?? 0),
        onAccept: (r) => responses.push(r.message.statusCode ?? 0),
      },
    });
    await waitFor(() => states.includes(SessionState.Established), 10_000, 'the 200 at SIP.js');
    expect(responses).toContain(180);
    expect(responses).toContain(200);
    await inviter.bye();
    await waitFor(() => states.includes(SessionState.Terminated), 10_000, 'the BYE to end');

    // Ladder of that call at the proxy: SIP.js answered the 407 with credentials.
    const callId = inviter.request.callId;
    const trace = (
      await server.api('GET', `/api/v1/sip/messages?callId=${encodeURIComponent(callId)}`)
    ).json as { items: Array<{ direction: string; summary: string; transport: string }> };
    const fromSipJs = trace.items.filter((m) => m.direction === 'in' && m.transport === 'wss');
    expect(fromSipJs.map((m) => m.summary)).toEqual(['INVITE', 'ACK', 'INVITE', 'ACK', 'BYE']);
    expect(trace.items.some((m) => m.summary.startsWith('407'))).toBe(true);

    const c = await callee.done;
    expect(c.code, c.output).toBe(0);
    expect(c.successful).toBe(1);
    expect(c.failed).toBe(0);
  });
});
