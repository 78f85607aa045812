/**
 * The user-agent core against sipp over TCP (the UDP runs are in test/ua/sipp.int.test.ts):
 * sipp's built-in UAS answers our call, and sipp's built-in UAC calls us, each on one TCP
 * connection (`-t t1`). sipp exits 0 only when its scenario completed as it expects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UserAgentCore } from '../../src/ua/index.js';
import type { DialogSession } from '../../src/dialog/index.js';
import { freePort, runSipp, sdp, type Peer } from './harness.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function sipp(args: readonly string[]): Peer {
  const p = runSipp(args);
  cleanup.push(() => p.stop());
  return p;
}

describe('user-agent core against sipp over TCP', () => {
  it('calls `sipp -sn uas -t t1`: 180, 200, ACK and our BYE all ride the TCP connection, and sipp exits 0', async () => {
    const port = await freePort('tcp');
    const peer = sipp(['-sn', 'uas', '-t', 't1', '-i', '127.0.0.1', '-p', String(port)]);
    const ua = new UserAgentCore({ user: 'alice', via: 'tcp' });
    cleanup.push(() => ua.close());
    await ua.start([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
    // sipp needs a moment to listen; a refused connect is retried below.
    let session: DialogSession | undefined;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 20 && !session; attempt++) {
      await new Promise((r) => setTimeout(r, 300));
      session = await new Promise<DialogSession | undefined>((resolve) => {
        ua.call(
          {
            uri: `sip:service@127.0.0.1:${port};transport=tcp`,
            body: sdp(1),
            contentType: 'application/sdp',
          },
          {
            onProgress: (r) => statuses.push(r.status),
            onAccepted: (s, r) => {
              statuses.push(r.status);
              resolve(s);
            },
            onFailed: () => resolve(undefined),
          },
        );
      });
    }
    expect(session, peer.output()).toBeDefined();
    expect(statuses).toContain(180);
    expect(statuses.at(-1)).toBe(200);
    const tcp = ua.stack.transport!.connections();
    expect(tcp).toHaveLength(1);
    expect(tcp[0]?.transport).toBe('tcp');
    const byeStatus = await new Promise<number>((resolve) =>
      session!.bye({}, (r) => resolve(r.status)),
    );
    expect(byeStatus).toBe(200);
    expect(await peer.exit, peer.output()).toBe(0);
  });

  it('is called by `sipp -sn uac -t t1`: answers 180 and 200 with SDP on its connection, takes its ACK and BYE, and sipp exits 0', async () => {
    const acks: string[] = [];
    let ended: string | undefined;
    const ua = new UserAgentCore({
      user: 'bob',
      via: 'tcp',
      onInvite: (invite) => {
        invite.progress(180);
        const session = invite.accept({ body: sdp(2), contentType: 'application/sdp' });
        session.events.onAck = (ack) => acks.push(ack.method);
        session.events.onTerminated = (r) => (ended = r);
      },
    });
    cleanup.push(() => ua.close());
    const [l] = await ua.start([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
    const port = await freePort('tcp');
    const peer = sipp([
      '-sn',
      'uac',
      '-t',
      't1',
      `127.0.0.1:${l!.port}`,
      '-s',
      'bob',
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
    ]);
    expect(await peer.exit, peer.output()).toBe(0);
    expect(acks).toEqual(['ACK']);
    expect(ended).toBe('remote-bye');
    expect(ua.dialogs.dialogs.size).toBe(0);
    // Every message of the call came on sipp's one connection.
    expect(ua.stack.transport!.counters.delivered).toBeGreaterThanOrEqual(3);
  });
});
