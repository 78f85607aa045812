/**
 * The user-agent core against baresip (Debian's baresip-core 1.0, a SIP phone no one here
 * wrote), over UDP on loopback. The UA core calls baresip, which auto-answers; baresip then puts
 * the call on hold and takes it back by re-INVITE (RFC 3261 §14, RFC 3264 §8.4: `a=sendonly`,
 * then `a=sendrecv`), and transfers the UA core to a third party by REFER (RFC 3515): the UA
 * core accepts it (202), calls the Refer-To target, reports the outcome in NOTIFYs with a
 * `message/sipfrag` body (§2.4.4, §2.4.5), and baresip hangs up once the transfer succeeded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UserAgentCore } from '../../src/ua/index.js';
import type { DialogSession, IncomingRefer, ServerInvite } from '../../src/dialog/index.js';
import { formatUri, type SipRequest } from '../../src/syntax/index.js';
import { Baresip } from './baresip.js';
import { sdp, until } from './harness.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '');

/** Our answer to a re-INVITE offer: RFC 3264 §6.1, sendonly is answered recvonly. */
function answerTo(offer: string, version: number): string {
  const base = sdp(version, 41_000);
  if (/a=sendonly/.test(offer)) return base.replace('a=sendrecv', 'a=recvonly');
  if (/a=inactive/.test(offer)) return base.replace('a=sendrecv', 'a=inactive');
  return base;
}

describe('user-agent core against baresip', () => {
  it('baresip holds and resumes the call by re-INVITE, then transfers the UA core by REFER; the UA core calls the target and NOTIFYs', async () => {
    const bob = await Baresip.start('bob');
    cleanup.push(() => bob.stop());

    // The transfer target: a second UA core (carol) that answers.
    let carolInvite: SipRequest | undefined;
    const carol = new UserAgentCore({
      user: 'carol',
      onInvite: (invite) => {
        carolInvite = invite.request;
        invite.accept({ body: sdp(30), contentType: 'application/sdp' });
      },
    });
    cleanup.push(() => carol.close());
    const [cl] = await carol.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    const carolUri = `sip:carol@127.0.0.1:${cl!.port}`;

    const refers: IncomingRefer[] = [];
    const reinvites: string[] = [];
    let ended: string | undefined;
    let transferred: DialogSession | undefined;
    let version = 10;
    // RFC 3515 §2.4.2: the UA core accepts the REFER (202 and the first NOTIFY, 100 Trying),
    // calls the Refer-To target, and (§2.4.5) NOTIFYs the final status as message/sipfrag.
    const alice = new UserAgentCore({
      user: 'alice',
      onRefer: (refer) => {
        refers.push(refer);
        refer.accept();
        alice.call(
          {
            uri: formatUri(refer.referTo.target.uri),
            body: sdp(++version),
            contentType: 'application/sdp',
          },
          {
            onAccepted: (s) => {
              transferred = s;
              refer.notify(200);
            },
            onFailed: (r) => refer.notify(r?.status ?? 503),
          },
        );
      },
    });
    cleanup.push(() => alice.close());
    await alice.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);

    const call = await new Promise<DialogSession>((resolve, reject) => {
      alice.call(
        { uri: bob.uri, body: sdp(version), contentType: 'application/sdp' },
        {
          onAccepted: (s) => resolve(s),
          onFailed: (r, e) => reject(new Error(`call failed: ${r?.status ?? e?.message}`)),
        },
      );
    });
    call.events.onTerminated = (r) => (ended = r);
    call.events.onReinvite = (invite: ServerInvite) => {
      const offer = text(invite.request.body as Uint8Array | undefined);
      reinvites.push(offer);
      invite.accept({ body: answerTo(offer, ++version), contentType: 'application/sdp' });
    };
    await bob.event('CALL_ESTABLISHED');

    // Hold: baresip re-INVITEs with a=sendonly; we answer recvonly.
    expect((await bob.command('hold')).ok).toBe(true);
    await until(() => reinvites.length === 1, 'the hold re-INVITE');
    expect(reinvites[0]).toMatch(/a=sendonly/);
    // Resume: a=sendrecv again.
    await new Promise((r) => setTimeout(r, 500));
    expect((await bob.command('resume')).ok).toBe(true);
    await until(() => reinvites.length === 2, 'the resume re-INVITE');
    expect(reinvites[1]).toMatch(/a=sendrecv/);
    expect(call.state).toBe('confirmed');

    // Transfer: REFER with Refer-To carol.
    expect((await bob.command('transfer', carolUri)).ok).toBe(true);
    await until(() => refers.length === 1, 'the REFER');
    expect(refers[0]?.request.headers.get('refer-to')).toContain(carolUri);
    await until(() => transferred !== undefined, 'the call to the transfer target');
    expect(carolInvite?.method).toBe('INVITE');
    // baresip got the final NOTIFY (200) of the implicit subscription, which then ended.
    await until(
      () => refers[0]!.subscription.state === 'terminated',
      'the refer subscription to end',
    );
    // Transfer done: baresip hangs up its leg.
    await until(() => ended !== undefined, "baresip's BYE");
    expect(ended).toBe('remote-bye');
    await new Promise<void>((resolve) => transferred!.bye({}, () => resolve()));
  });
});
