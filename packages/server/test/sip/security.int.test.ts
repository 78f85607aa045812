/**
 * Security and operations with real tools: svwar finds no users (identical answers for known
 * and unknown users), svcrack gets banned (sip-banned), TLS with a Node tls client, SIP over
 * WebSocket registering and being reached from a UDP caller, and an atomic port change.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerChallenge,
  createResponse,
  parseChallenge,
  parseMessage,
  serializeCredentials,
  serializeMessage,
  type SipRequest,
} from '@tfx/sip';
import {
  aliceCalls,
  DOMAIN,
  PASSWORDS,
  register,
  sipp,
  type SipTestServer,
  startSipServer,
} from './harness.js';

let server: SipTestServer;
type BanList = { items: Array<{ kind: string; value: string }> };

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

beforeAll(async () => {
  server = await startSipServer({ 'sip.banAfterFailures': '5', 'sip.rateLimit': '0' });
});
afterAll(async () => {
  await server?.close();
});

/** Runs a tool to its end, its timeout, or until `stopWhen` (polled every 250 ms) holds. */
function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  stopWhen?: () => Promise<boolean>,
): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let exited = false;
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const poll = async (): Promise<void> => {
      while (!exited && stopWhen) {
        await new Promise((r) => setTimeout(r, 250));
        if (!exited && (await stopWhen())) {
          child.kill('SIGTERM');
          return;
        }
      }
    };
    void poll();
    child.on('exit', () => {
      exited = true;
      clearTimeout(t);
      resolve(out);
    });
  });
}

type Traced = { items: Array<{ seq: number; direction: string; summary: string; text: string }> };
async function traceAfter(after: number): Promise<Traced['items']> {
  const res = await server.api('GET', `/api/v1/sip/messages?after=${after}&limit=1000`);
  return (res.json as Traced).items;
}
async function lastSeq(): Promise<number> {
  const all = await traceAfter(-1);
  return all.length > 0 ? all[all.length - 1]!.seq : -1;
}

const OPTIONS = (transport: string, port: number) =>
  `OPTIONS sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:9;branch=z9hG4bK${Math.random().toString(36).slice(2)};rport\r\nMax-Forwards: 70\r\nFrom: <sip:probe@example.org>;tag=1\r\nTo: <sip:${DOMAIN}>\r\nCall-ID: ${Math.random()}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n` +
  (port ? '' : '');

function udpOptions(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.send(OPTIONS('UDP', port), port, '127.0.0.1');
  });
}

describe('SIP security and operations', () => {
  it('answers OPTIONS over TLS with a Node tls client (RFC 3261 §26.2)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false },
        () => socket.write(OPTIONS('TLS', server.tlsPort)),
      );
      socket.on('data', (d: Buffer) => {
        resolve(d.toString());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^SIP\/2\.0 200 OK/);
    expect(answer).not.toMatch(/^(Server|User-Agent):/im);
  });

  it('gives svwar nothing: known and unknown users get the same answer (401 from the registrar)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svwar-'));
    const dictionary = join(dir, 'names.txt');
    await writeFile(dictionary, 'dave\nalice\nbob\ncarol\nerin\n100\n101\n');
    const before = await lastSeq();
    for (const force of [[], ['--force']]) {
      const out = await run(
        'svwar',
        [
          '-b',
          '127.0.0.1',
          '-p',
          String(server.port),
          '-d',
          dictionary,
          '-m',
          'REGISTER',
          ...force,
          '127.0.0.1',
        ],
        60_000,
      );
      expect(out).not.toMatch(/Traceback/);
      expect(out).toMatch(/found nothing/);
      expect(out).not.toMatch(/\|\s*(reqauth|noauth)/);
    }
    // The scan reached the digest path (not a refusal of its Request-URI): every answer to it
    // was the same 401.
    const scan = await traceAfter(before);
    const answers = new Set(scan.filter((m) => m.direction === 'out').map((m) => m.summary));
    expect([...answers]).toEqual(['401 Unauthorized']);
    expect(scan.filter((m) => m.direction === 'in').length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('bans svcrack after repeated failed authentications (sip-banned), not a user who mistypes once', async () => {
    // A legitimate user mistyping once, then getting it right: refused once, never banned.
    const typo = await register(server, 'alice', 5997, { password: 'alice-typo', expect: 403 });
    expect(typo.code, typo.output).toBe(0);
    const fixed = await register(server, 'alice', 5997);
    expect(fixed.code, fixed.output).toBe(0);
    expect(fixed.successful).toBe(1);
    expect(((await server.api('GET', '/api/v1/sip/bans')).json as BanList).items).toEqual([]);

    // svcrack: REGISTER sip:127.0.0.1 (no port), 401, then one digest guess per REGISTER
    // (qop=auth, MD5), 403 each; bounded by its range, --maximumtime and our timeout.
    const out = await run(
      'svcrack',
      [
        '-u',
        'alice',
        '-r',
        '100000-100040',
        '-p',
        String(server.port),
        '--maximumtime=20',
        '-b',
        '127.0.0.1',
        '127.0.0.1',
      ],
      60_000,
      async () => ((await server.api('GET', '/api/v1/sip/bans')).json as BanList).items.length >= 2,
    );
    expect(out).not.toMatch(/\|\s*alice\s*\|\s*\d+/); // no cracked password line
    const bans = ((await server.api('GET', '/api/v1/sip/bans')).json as BanList).items;
    expect(bans.map((b) => `${b.kind}:${b.value}`).sort()).toEqual(['ip:127.0.0.1', 'user:alice']);
    // Banned: every request from the source gets 403 before any transaction, counted.
    expect(await udpOptions(server.port)).toMatch(/^SIP\/2\.0 403/);
    const metrics = String((await server.api('GET', '/metrics')).json);
    expect(metrics).toMatch(/tfx_sip_bans_total\{kind="ip"\} 1\b/);
    expect(metrics).toMatch(/tfx_sip_bans_total\{kind="user"\} 1\b/);
    expect(metric(metrics, 'tfx_sip_dropped_total{reason="banned"}')).toBeGreaterThan(0);
    expect(
      metric(metrics, 'tfx_sip_auth_failures_total{reason="wrong-response"}'),
    ).toBeGreaterThanOrEqual(5);

    // Lifted from the API: the source is answered again.
    expect((await server.api('DELETE', '/api/v1/sip/bans/ip/127.0.0.1')).status).toBe(204);
    expect((await server.api('DELETE', '/api/v1/sip/bans/user/alice')).status).toBe(204);
    expect(await udpOptions(server.port)).toMatch(/^SIP\/2\.0 200/);
  }, 90_000);

  it('many users behind one address keep registering while one keeps failing: that user alone is banned there', async () => {
    for (let i = 0; i < 7; i++) {
      const r = await register(server, 'bob', 5996, { password: 'bob-wrong', expect: 403 });
      expect(r.code, r.output).toBe(0);
    }
    for (const user of ['alice', 'carol', 'alice']) {
      const ok = await register(server, user, 5995);
      expect(ok.code, ok.output).toBe(0);
      expect(ok.successful).toBe(1);
    }
    const bans = ((await server.api('GET', '/api/v1/sip/bans')).json as BanList).items;
    expect(bans.map((b) => `${b.kind}:${b.value}`)).toEqual(['user:bob']);
    // The console shows why: how many failures, for whom, from where.
    expect((bans[0] as { reason?: string }).reason).toMatch(
      /^\d+ failed authentications for bob from 127\.0\.0\.1 within 60 s$/,
    );
    // Banned: even bob's right password is refused from this address, until the ban is lifted.
    const refused = await register(server, 'bob', 5996, { expect: 403 });
    expect(refused.code, refused.output).toBe(0);
    expect((await server.api('DELETE', '/api/v1/sip/bans/user/bob')).status).toBe(204);
    const bob = await register(server, 'bob', 5996);
    expect(bob.code, bob.output).toBe(0);
  }, 90_000);

  it('a digest uri naming another resource gets 400 and is counted, never a ban (RFC 2617 §3.2.2.5)', async () => {
    const metricsBefore = String((await server.api('GET', '/metrics')).json);
    const before = metric(metricsBefore, 'tfx_sip_auth_failures_total{reason="uri-mismatch"}');
    for (let i = 0; i < 7; i++) {
      const r = await register(server, 'carol', 5994, {
        expect: 400,
        authUri: 'sip:elsewhere.example',
      });
      expect(r.code, r.output).toBe(0);
    }
    expect(((await server.api('GET', '/api/v1/sip/bans')).json as BanList).items).toEqual([]);
    const metrics = String((await server.api('GET', '/metrics')).json);
    expect(metric(metrics, 'tfx_sip_auth_failures_total{reason="uri-mismatch"}') - before).toBe(7);
    // sipp's default digest uri (the address:port it sent to) is accepted, and counted as such.
    expect(metric(metrics, 'tfx_sip_digest_uri_sent_to_total')).toBeGreaterThan(0);
  }, 90_000);

  it('registers a WebSocket client (RFC 7118) and reaches it from a UDP caller through the proxy', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.httpsPort}/sip`, 'sip', {
      rejectUnauthorized: false,
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const inbox: SipRequest[] = [];
    const waiters: Array<(m: string) => void> = [];
    ws.on('message', (data: Buffer) => {
      const parsed = parseMessage(new Uint8Array(data));
      if (!parsed.ok) return;
      const m = parsed.message;
      if (m.kind === 'request') {
        inbox.push(m);
        // The browser-like UA: 180 + 200 to INVITE, 200 to BYE; ACK needs no answer.
        if (m.method === 'INVITE') {
          const ringing = createResponse(m, 180, undefined, { toTag: 'wsuatag' });
          ws.send(serializeMessage(ringing));
          const ok = createResponse(m, 200, undefined, {
            toTag: 'wsuatag',
            headers: [['Contact', '<sip:carol@ws.invalid;transport=ws>']],
            body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n',
            contentType: 'application/sdp',
          });
          ws.send(serializeMessage(ok));
        } else if (m.method === 'BYE') ws.send(serializeMessage(createResponse(m, 200)));
      } else waiters.shift()?.(Buffer.from(data).toString());
    });
    const ask = (text: string) =>
      new Promise<string>((resolve) => {
        waiters.push(resolve);
        ws.send(text);
      });
    const reg = (cseq: number, auth = '') =>
      `REGISTER sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/WSS ws.invalid;branch=z9hG4bKws${cseq}\r\nMax-Forwards: 70\r\nFrom: <sip:carol@${DOMAIN}>;tag=ws1\r\nTo: <sip:carol@${DOMAIN}>\r\nCall-ID: ws-reg-1\r\nCSeq: ${cseq} REGISTER\r\nContact: <sip:carol@ws.invalid;transport=ws>\r\nExpires: 300\r\n${auth}Content-Length: 0\r\n\r\n`;
    const first = await ask(reg(1));
    expect(first).toMatch(/^SIP\/2\.0 401/);
    const header = /WWW-Authenticate: (.*)\r\n/i.exec(first)![1]!;
    const challenge = parseChallenge(header);
    if (!challenge.ok) throw new Error('bad challenge');
    const creds = answerChallenge({
      challenge: challenge.value,
      username: 'carol',
      password: PASSWORDS.carol!,
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      nc: 1,
      cnonce: 'abcdef',
      hash: (await import('@tfx/sip')).nodeDigestHash,
    });
    if (!creds.ok) throw new Error('no credentials');
    const second = await ask(reg(2, `Authorization: ${serializeCredentials(creds.value)}\r\n`));
    expect(second).toMatch(/^SIP\/2\.0 200/);

    const caller = await sipp(
      aliceCalls(server, { callee: 'carol', calls: 2, extra: ['-d', '100'] }),
    );
    expect(caller.code, caller.output).toBe(0);
    expect(caller.successful).toBe(2);
    expect(inbox.filter((m) => m.method === 'INVITE').length).toBeGreaterThanOrEqual(2);
    expect(inbox.filter((m) => m.method === 'BYE').length).toBeGreaterThanOrEqual(2);
    // Double Record-Route on the change of transport (UDP in, WSS out).
    const invite = inbox.find((m) => m.method === 'INVITE')!;
    const rr = invite.headers.getAll('record-route');
    expect(rr.length).toBe(2);
    expect(rr[0]).toMatch(/transport=wss/);
    expect(rr[1]).toMatch(/transport=udp/);
    ws.close();
  }, 60_000);

  it('refuses a port change to a port in use (409) and keeps the old listeners answering', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', r));
    const taken = blocker.address().port;
    const res = await server.api('PUT', '/api/v1/sip/settings', { port: taken });
    expect(res.status).toBe(409);
    expect(await udpOptions(server.port)).toMatch(/^SIP\/2\.0 200/);
    blocker.close();

    const ok = await server.api('PUT', '/api/v1/sip/settings', { port: 0 });
    expect(ok.status).toBe(200);
    const body = ok.json as {
      listeners: Array<{ transport: string; port: number }>;
      overridesFile: string;
    };
    const udp = body.listeners.find((l) => l.transport === 'udp')!.port;
    expect(await udpOptions(udp)).toMatch(/^SIP\/2\.0 200/);
    expect(await readFile(body.overridesFile, 'utf8')).toMatch(/sip:\n\s+port: 0/);
  }, 30_000);
});
