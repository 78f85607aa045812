/**
 * The user-agent core on real UDP sockets (loopback, port 0): two cores call each other and use
 * hold/resume, INFO, REFER, OPTIONS, MESSAGE and SUBSCRIBE/NOTIFY; and the SDP helpers. Real
 * peers (sipp) are in sipp.int.test.ts and sipp-flows.int.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DialogSession, IncomingRefer, ServerSubscription } from '../../src/dialog/index.js';
import {
  DigestServer,
  NonceManager,
  computeHa1,
  nodeDigestHash,
  nodeNonceCrypto,
} from '../../src/auth/index.js';
import type { SipRequest, SipResponse } from '../../src/syntax/index.js';
import {
  directionOf,
  holdSdp,
  resumeSdp,
  UserAgentCore,
  type UserAgentCoreOptions,
} from '../../src/ua/index.js';

const SDP =
  'v=0\r\no=- 10 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendrecv\r\n';

describe('SDP helpers (RFC 3264 §8.4)', () => {
  it('hold sets a=sendonly in every media section and bumps the o= version; resume sets sendrecv', () => {
    const two = SDP + 'm=video 40002 RTP/AVP 96\r\n';
    const held = holdSdp(two);
    expect(held.match(/a=sendonly/g)).toHaveLength(2);
    expect(held).not.toMatch(/a=sendrecv/);
    expect(held).toMatch(/^o=- 10 2 IN IP4/m);
    expect(directionOf(held)).toBe('sendonly');
    expect(directionOf(holdSdp(two, 'inactive'))).toBe('inactive');
    const resumed = resumeSdp(held);
    expect(directionOf(resumed)).toBe('sendrecv');
    expect(resumed).toMatch(/^o=- 10 3 IN IP4/m);
    expect(directionOf('v=0\r\na=recvonly\r\nm=audio 1 RTP/AVP 0\r\n')).toBe('recvonly');
  });
});

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function ua(
  o: Partial<UserAgentCoreOptions> & { user: string },
): Promise<{ ua: UserAgentCore; uri: string }> {
  const u = new UserAgentCore(o);
  cleanup.push(() => u.close());
  const [l] = await u.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  return { ua: u, uri: `sip:${o.user}@127.0.0.1:${l!.port}` };
}

const until = async (pred: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
};

async function connectedPair(extra: Partial<UserAgentCoreOptions> = {}) {
  let bob: DialogSession | undefined;
  const reinvites: SipRequest[] = [];
  const b = await ua({
    user: 'bob',
    ...extra,
    onInvite: (inv) => {
      bob = inv.accept({ body: SDP, contentType: 'application/sdp' });
      bob.events.onReinvite = (re) => {
        reinvites.push(re.request);
        re.accept({ body: SDP, contentType: 'application/sdp' });
      };
    },
  });
  const a = await ua({ user: 'alice' });
  let alice: DialogSession | undefined;
  a.ua.call(
    { uri: b.uri, body: SDP, contentType: 'application/sdp' },
    { onAccepted: (s) => (alice = s) },
  );
  await until(() => alice !== undefined && bob?.pendingAck === undefined, 'the call');
  return { a, b, alice: alice!, bob: bob!, reinvites };
}

describe('user-agent core over UDP', () => {
  it('holds (a=sendonly) and resumes (a=sendrecv) a call by re-INVITE, then ends it', async () => {
    const p = await connectedPair();
    const results: number[] = [];
    p.a.ua.hold(p.alice, SDP, (r) => results.push(r.status));
    await until(() => results.length === 1, 'hold');
    p.a.ua.resume(p.alice, SDP, (r) => results.push(r.status));
    await until(() => results.length === 2, 'resume');
    expect(results).toEqual([200, 200]);
    const bodies = p.reinvites.map((r) => directionOf(new TextDecoder().decode(r.body)));
    expect(bodies).toEqual(['sendonly', 'sendrecv']);
    let bye = 0;
    p.a.ua.end(p.alice, (r) => (bye = r.status));
    await until(() => bye === 200, 'BYE');
    expect(p.bob.state).toBe('terminated');
  });

  it('INFO and REFER with NOTIFYs in a call', async () => {
    let refer: IncomingRefer | undefined;
    const p = await connectedPair({ onRefer: (r) => (refer = r) });
    let info = 0;
    p.a.ua.info(
      p.alice,
      { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' },
      (r) => (info = r.status),
    );
    const progress: Array<number | undefined> = [];
    p.a.ua.refer(p.alice, '<sip:carol@127.0.0.1>', { onProgress: (s) => progress.push(s) });
    await until(() => refer !== undefined && info > 0, 'REFER and INFO');
    refer!.accept();
    refer!.notify(200);
    await until(() => progress.length === 2, 'NOTIFYs');
    expect(info).toBe(200);
    expect(progress).toEqual([100, 200]);
    expect(p.alice.state).toBe('confirmed');
  });

  it('OPTIONS gets 200 with Allow and Supported; MESSAGE reaches onMessage; an unknown method gets 405', async () => {
    const messages: string[] = [];
    const b = await ua({
      user: 'bob',
      onMessage: (req, respond) => {
        messages.push(new TextDecoder().decode(req.body));
        respond(200);
      },
    });
    const a = await ua({ user: 'alice' });
    const got: Array<SipResponse | undefined> = [];
    a.ua.options(b.uri, (r) => got.push(r));
    a.ua.message(b.uri, 'hello', (r) => got.push(r));
    a.ua.dialogs.request(
      { method: 'PUBLISH', uri: b.uri, from: a.ua.from, to: `<${b.uri}>` },
      (r) => got.push(r),
    );
    await until(() => got.length === 3, 'responses');
    const byMethod = new Map(got.map((r) => [r!.headers.cseq()!.method, r!]));
    expect(byMethod.get('OPTIONS')!.status).toBe(200);
    expect(byMethod.get('OPTIONS')!.headers.getAll('allow')).toContain('REFER');
    expect(byMethod.get('OPTIONS')!.headers.getAll('supported')).toEqual([
      '100rel',
      'replaces',
      'timer',
    ]);
    expect(byMethod.get('MESSAGE')!.status).toBe(200);
    expect(byMethod.get('PUBLISH')!.status).toBe(405);
    expect(messages).toEqual(['hello']);
  });

  it('SUBSCRIBE/NOTIFY: subscribed, notified, unsubscribed', async () => {
    let served: ServerSubscription | undefined;
    const b = await ua({
      user: 'bob',
      events: ['presence'],
      onSubscribe: (s) => {
        served = s;
        s.accept({ notify: { body: 'open', contentType: 'text/plain' } });
      },
    });
    const a = await ua({ user: 'alice' });
    const notes: string[] = [];
    let ended: string | undefined;
    const sub = a.ua.subscribe(
      { uri: b.uri, event: 'presence', expires: 300 },
      {
        onNotify: (n) => notes.push(new TextDecoder().decode(n.body)),
        onTerminated: (r) => (ended = r),
      },
    );
    await until(() => notes.length === 1, 'first NOTIFY');
    served!.notify({ body: 'closed', contentType: 'text/plain' });
    await until(() => notes.length === 2, 'second NOTIFY');
    sub.unsubscribe();
    await until(() => ended !== undefined, 'the end');
    expect(notes.slice(0, 2)).toEqual(['open', 'closed']);
    expect(a.ua.dialogs.dialogs.size + b.ua.dialogs.dialogs.size).toBe(0);
  });

  it('reject (486) and cancel (§9.1: after the 180, the INVITE ends 487) reach the caller', async () => {
    let mode: 'reject' | 'ring' = 'reject';
    const b = await ua({
      user: 'bob',
      onInvite: (inv) => {
        if (mode === 'reject') b.ua.reject(inv, 486);
        else inv.progress(180);
      },
    });
    const a = await ua({ user: 'alice' });
    const failed: number[] = [];
    a.ua.call({ uri: b.uri }, { onFailed: (r) => failed.push(r?.status ?? 0) });
    await until(() => failed.length === 1, 'the 486');
    mode = 'ring';
    let ringing = false;
    const inv = a.ua.call(
      { uri: b.uri },
      {
        onProgress: (r) => (ringing ||= r.status === 180),
        onFailed: (r) => failed.push(r?.status ?? 0),
      },
    );
    await until(() => ringing, 'the 180');
    a.ua.cancel(inv);
    await until(() => failed.length === 2, 'the 487');
    expect(failed).toEqual([486, 487]);
    expect(a.ua.dialogs.dialogs.size + b.ua.dialogs.dialogs.size).toBe(0);
  });

  it('§22.2: a 401 to the INVITE is answered with digest (CSeq + 1) and the call is set up; wrong credentials fail it after one retry', async () => {
    const nonces = new NonceManager({
      secret: 'a-test-secret-of-32-characters!!',
      crypto: nodeNonceCrypto,
    });
    const digest = new DigestServer({ realm: 'tfx.test', hash: nodeDigestHash, nonces });
    const seen: string[] = [];
    const b = await ua({
      user: 'bob',
      onInvite: (inv) => {
        seen.push(
          `${inv.request.headers.cseq()!.seq} ${inv.request.headers.get('authorization') ? 'auth' : 'none'}`,
        );
        void digest
          .verify({
            header: inv.request.headers.getAll('authorization'),
            method: 'INVITE',
            requestUri: inv.request.uriText,
            lookupHa1: (u, realm, alg) =>
              u === 'alice' ? computeHa1(nodeDigestHash, alg, u, realm, 'pw') : undefined,
          })
          .then((v) => {
            if (v.ok) inv.accept({ body: SDP, contentType: 'application/sdp' });
            else if (v.action === 'reject') inv.reject(403);
            else {
              const ch = digest.challenge();
              inv.reject(401, { headers: ch.values.map((x) => [ch.headerName, x] as const) });
            }
          });
      },
    });
    const good = await ua({ user: 'alice', credentials: { username: 'alice', password: 'pw' } });
    let accepted: DialogSession | undefined;
    good.ua.call(
      { uri: b.uri, body: SDP, contentType: 'application/sdp' },
      { onAccepted: (s) => (accepted = s) },
    );
    await until(() => accepted !== undefined, 'the authenticated call');
    const [first, retry] = seen.map((x) => x.split(' '));
    expect(first![1]).toBe('none');
    expect(retry![1]).toBe('auth');
    expect(Number(retry![0])).toBe(Number(first![0]) + 1);
    const bad = await ua({ user: 'alice', credentials: { username: 'alice', password: 'nope' } });
    const failed: number[] = [];
    bad.ua.call({ uri: b.uri }, { onFailed: (r) => failed.push(r?.status ?? 0) });
    await until(() => failed.length === 1, 'the refused call');
    expect(failed).toEqual([403]);
  });

  it('close() is idempotent and calls after it throw shutting-down', async () => {
    const a = await ua({ user: 'alice' });
    await a.ua.close();
    await a.ua.close();
    expect(() => a.ua.options('sip:x@127.0.0.1', () => {})).toThrow(/closed/);
  });
});
