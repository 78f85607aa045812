/**
 * The user-agent core against a peer no one here wrote: it calls sipp's built-in UAS (`-sn uas`:
 * INVITE → 180 → 200 → ACK, then our BYE → 200) on a random loopback port over UDP. sipp exits 0
 * only when the call completed as its scenario expects.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UserAgentCore } from '../../src/ua/index.js';
import type { DialogSession } from '../../src/dialog/index.js';

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

describe('user-agent core against sipp (UDP)', () => {
  it('calls `sipp -sn uas`, gets 180 and 200, ACKs, hangs up with BYE, and sipp exits 0', async () => {
    const port = await freeUdpPort();
    const sipp = runSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port)]);
    const ua = new UserAgentCore({ user: 'alice' });
    cleanup.push(() => ua.close());
    await ua.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    // sipp needs a moment to bind; INVITE retransmissions (Timer A) cover a lost first one.
    await new Promise((r) => setTimeout(r, 300));
    const statuses: number[] = [];
    const accepted = await new Promise<DialogSession>((resolve, reject) => {
      ua.call(
        {
          uri: `sip:service@127.0.0.1:${port}`,
          body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n',
          contentType: 'application/sdp',
        },
        {
          onProgress: (r) => statuses.push(r.status),
          onAccepted: (s, r) => {
            statuses.push(r.status);
            resolve(s);
          },
          onFailed: (r, e) => reject(new Error(`call failed: ${r?.status ?? e?.message}`)),
        },
      );
    });
    expect(statuses).toContain(180);
    expect(statuses.at(-1)).toBe(200);
    expect(accepted.state).toBe('confirmed');
    const byeStatus = await new Promise<number>((resolve) =>
      accepted.bye({}, (r) => resolve(r.status)),
    );
    expect(byeStatus).toBe(200);
    const code = await sipp.exit;
    expect(code, sipp.output()).toBe(0);
  });

  it('is called by `sipp -sn uac`: answers 180 and 200 with SDP, takes the ACK, answers its BYE, and sipp exits 0', async () => {
    const acks: string[] = [];
    let ended: string | undefined;
    const ua = new UserAgentCore({
      user: 'bob',
      onInvite: (invite) => {
        invite.progress(180);
        const session = invite.accept({
          body: 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n',
          contentType: 'application/sdp',
        });
        session.events.onAck = (ack) => acks.push(ack.method);
        session.events.onTerminated = (r) => (ended = r);
      },
    });
    cleanup.push(() => ua.close());
    const [l] = await ua.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    const sippPort = await freeUdpPort();
    const sipp = runSipp([
      '-sn',
      'uac',
      `127.0.0.1:${l!.port}`,
      '-s',
      'bob',
      '-i',
      '127.0.0.1',
      '-p',
      String(sippPort),
    ]);
    const code = await sipp.exit;
    expect(code, sipp.output()).toBe(0);
    expect(acks).toEqual(['ACK']);
    expect(ended).toBe('remote-bye');
    expect(ua.dialogs.dialogs.size).toBe(0);
  });
});
