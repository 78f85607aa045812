/**
 * sipp scenarios of ours (scenarios/*.xml) against the user-agent core over UDP: the RFC 3262
 * (PRACK) and RFC 3311 (UPDATE) call flows and RFC 4028 session timers (422 + Min-SE, a
 * refresh by UPDATE). sipp checks every header it expects (`check_it`) and exits 0 only when
 * the whole flow happened as written.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { DialogSession, SessionTimerState, TerminateReason } from '../../src/dialog/index.js';
import { UserAgentCore, withDirection, type UserAgentCoreOptions } from '../../src/ua/index.js';

const SDP =
  'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n';
const scenario = (name: string) => fileURLToPath(new URL(`./scenarios/${name}`, import.meta.url));

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function runSipp(args: readonly string[]): { exit: Promise<number | null>; output: () => string } {
  let out = '';
  const child = spawn('sipp', [...args, '-m', '1', '-nostdin', '-timeout', '40s'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (out = (out + c.toString('latin1')).slice(-8000)));
  child.stderr.on('data', (c: Buffer) => (out = (out + c.toString('latin1')).slice(-8000)));
  const exit = new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
  });
  return { exit, output: () => out };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function against(xml: string, o: Partial<UserAgentCoreOptions>) {
  const ua = new UserAgentCore({ user: 'tfx', ...o });
  cleanup.push(() => ua.close());
  const [l] = await ua.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
  const sipp = runSipp([
    '-sf',
    scenario(xml),
    `127.0.0.1:${l!.port}`,
    '-s',
    'tfx',
    '-i',
    '127.0.0.1',
    '-p',
    String(await freeUdpPort()),
  ]);
  const code = await sipp.exit;
  return { ua, code, output: sipp.output() };
}

describe('sipp flows against the user-agent core (UDP)', () => {
  it('RFC 3262: a reliable 183 (Require: 100rel, RSeq), PRACK → 200, then 200 to the INVITE; sipp exits 0', async () => {
    const pracks: string[] = [];
    let ended: TerminateReason | undefined;
    const r = await against('prack-uac.xml', {
      onInvite: (invite) => {
        invite.onPrack = (prack) => {
          pracks.push(prack.headers.get('rack') ?? '');
          const s = invite.accept({ body: SDP, contentType: 'application/sdp' });
          s.events.onTerminated = (why) => (ended = why);
        };
        invite.progress(183, { body: SDP, contentType: 'application/sdp' });
      },
    });
    expect(r.code, r.output).toBe(0);
    expect(pracks).toHaveLength(1);
    expect(pracks[0]).toMatch(/^\d+ 1 INVITE$/);
    expect(ended).toBe('remote-bye');
  });

  it('RFC 3311: an UPDATE offer (a=sendonly) in the call is answered 200 with a=recvonly; sipp exits 0', async () => {
    const updates: string[] = [];
    const r = await against('update-uac.xml', {
      onInvite: (invite) => {
        invite.progress(180);
        const s = invite.accept({ body: SDP, contentType: 'application/sdp' });
        s.events.onRequest = (req, respond) => {
          updates.push(new TextDecoder().decode(req.body));
          respond(200, { body: withDirection(SDP, 'recvonly'), contentType: 'application/sdp' });
        };
      },
    });
    expect(r.code, r.output).toBe(0);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatch(/a=sendonly/);
  });

  it('RFC 4028: 30 s is below Min-SE → 422 (Min-SE: 90); the retry gets Session-Expires 90;refresher=uac with Require: timer; sipp refreshes by UPDATE; sipp exits 0', async () => {
    let session: DialogSession | undefined;
    let afterRefresh: SessionTimerState | undefined;
    const r = await against('timer-uac.xml', {
      sessionTimer: { minSE: 90 },
      onInvite: (invite) => {
        session = invite.accept({ body: SDP, contentType: 'application/sdp' });
        session.events.onRequest = (_req, respond) => {
          respond(200);
          afterRefresh = session?.timer;
        };
      },
    });
    expect(r.code, r.output).toBe(0);
    expect(r.ua.dialogs.counters.tooBrief).toBe(1);
    expect(afterRefresh).toMatchObject({ interval: 90, localRefresher: false });
    expect(session?.state).toBe('terminated');
  });

  it('RFC 4028 §10: the UA core, told to refresh (refresher=uac), refreshes by UPDATE at half the interval toward a sipp UAS; sipp exits 0', async () => {
    const port = await freeUdpPort();
    const sipp = runSipp(['-sf', scenario('timer-uas.xml'), '-i', '127.0.0.1', '-p', String(port)]);
    const ua = new UserAgentCore({ user: 'tfx', sessionTimer: { expires: 4, minSE: 4 } });
    cleanup.push(() => ua.close());
    await ua.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    await new Promise((r) => setTimeout(r, 300)); // sipp binds; Timer A covers a lost INVITE
    const session = await new Promise<DialogSession>((resolve, reject) =>
      ua.call(
        { uri: `sip:service@127.0.0.1:${port}`, body: SDP, contentType: 'application/sdp' },
        {
          onAccepted: (s) => resolve(s),
          onFailed: (r, e) => reject(new Error(`${r?.status ?? e?.message}`)),
        },
      ),
    );
    expect(session.timer).toMatchObject({ interval: 4, localRefresher: true });
    for (let i = 0; i < 200 && session.updateResults.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(session.updateResults).toEqual([200]);
    expect(ua.dialogs.counters.sessionRefreshes).toBe(1);
    ua.end(session);
    const code = await sipp.exit;
    expect(code, sipp.output()).toBe(0);
  });
});
