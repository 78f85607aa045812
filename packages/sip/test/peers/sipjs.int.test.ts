/**
 * The user-agent core against SIP.js (0.21, a SIP stack no one here wrote) running in Node over
 * SIP-over-WebSocket (RFC 7118): SIP.js calls the UA core, and the UA core calls SIP.js at its
 * `sip:…@xyz.invalid;transport=ws` Contact, which only the WebSocket it connected on reaches
 * (RFC 7118 §5: the transport's `.invalid` flow table). Node has no WebSocket: the `ws` package
 * is SIP.js's socket. Media is out of scope: SIP.js gets a session description handler that
 * hands out a fixed SDP (its documented plug-in point), so no WebRTC stack is needed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Invitation,
  Inviter,
  Registerer,
  SessionState,
  UserAgent,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import { UserAgentCore } from '../../src/ua/index.js';
import type { DialogSession } from '../../src/dialog/index.js';
import { installNodeWebSocket, sdp, until } from './harness.js';

/** A session description handler with a fixed SDP: SIP.js's offer/answer without WebRTC. */
function staticSdh(version: number): SessionDescriptionHandler {
  const remote: string[] = [];
  return {
    close: () => {},
    getDescription: () => Promise.resolve({ body: sdp(version), contentType: 'application/sdp' }),
    hasDescription: (contentType: string) => contentType === 'application/sdp',
    setDescription: (s: string) => {
      remote.push(s);
      return Promise.resolve();
    },
    sendDtmf: () => false,
  };
}

const cleanup: Array<() => Promise<void> | void> = [];
let restoreWebSocket: () => void;
beforeAll(() => {
  restoreWebSocket = installNodeWebSocket();
});
afterAll(() => restoreWebSocket());
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function uaCore(onInvite?: ConstructorParameters<typeof UserAgentCore>[0]['onInvite']) {
  const ua = new UserAgentCore({ user: 'core', via: 'ws', ...(onInvite && { onInvite }) });
  cleanup.push(() => ua.close());
  const [l] = await ua.start([{ transport: 'ws', address: '127.0.0.1', port: 0, path: '/sip' }]);
  return { ua, port: l!.port };
}

async function sipJs(port: number, onInvite?: (i: Invitation) => void): Promise<UserAgent> {
  const ua = new UserAgent({
    uri: UserAgent.makeURI('sip:alice@example.com'),
    transportOptions: { server: `ws://127.0.0.1:${port}/sip`, traceSip: false },
    logBuiltinEnabled: false,
    sessionDescriptionHandlerFactory: () => staticSdh(7),
    ...(onInvite && { delegate: { onInvite } }),
  });
  cleanup.push(() => ua.stop());
  await ua.start();
  return ua;
}

function established(session: Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) resolve();
      if (s === SessionState.Terminated) reject(new Error('SIP.js session terminated'));
    });
  });
}

describe('user-agent core against SIP.js over WebSocket', () => {
  it('is called by SIP.js: answers its INVITE with SDP, takes its ACK, and SIP.js hangs up with BYE', async () => {
    let session: DialogSession | undefined;
    let offer = '';
    let ended: string | undefined;
    const acks: string[] = [];
    const { ua, port } = await uaCore((invite) => {
      offer = invite.request.body ? new TextDecoder().decode(invite.request.body) : '';
      invite.progress(180);
      session = invite.accept({ body: sdp(3), contentType: 'application/sdp' });
      session.events.onAck = (ack) => acks.push(ack.method);
      session.events.onTerminated = (r) => (ended = r);
    });
    const alice = await sipJs(port);
    const inviter = new Inviter(alice, UserAgent.makeURI(`sip:core@127.0.0.1:${port}`)!);
    const up = established(inviter);
    await inviter.invite();
    await up;
    expect(offer).toContain('m=audio');
    await until(() => acks.length === 1, 'the ACK from SIP.js');
    expect(session?.state).toBe('confirmed');
    await inviter.bye();
    await until(() => ended !== undefined, 'the BYE from SIP.js');
    expect(ended).toBe('remote-bye');
    expect(ua.dialogs.dialogs.size).toBe(0);
    expect(inviter.state).toBe(SessionState.Terminated);
  });

  it('calls SIP.js at its .invalid Contact over the WebSocket it came on, gets 200, ACKs, and ends the call with BYE', async () => {
    const { ua, port } = await uaCore();
    const invitations: Invitation[] = [];
    const bob = await sipJs(port, (invitation) => {
      invitations.push(invitation);
      void invitation.accept();
    });
    // SIP.js says hello first (a REGISTER; the UA core is no registrar and answers 405): the
    // transport learns that SIP.js's `.invalid` host is reached over this WebSocket.
    const registerer = new Registerer(bob);
    cleanup.push(() => registerer.dispose());
    await registerer.register().catch(() => undefined);
    await until(() => ua.stack.transport!.counters.delivered >= 1, 'the REGISTER');
    const contact = bob.contact.uri.toString();
    expect(contact).toMatch(/@[a-z0-9]+\.invalid;transport=ws$/);

    const accepted = await new Promise<DialogSession>((resolve, reject) => {
      ua.call(
        { uri: contact, body: sdp(4), contentType: 'application/sdp' },
        {
          onAccepted: (s) => resolve(s),
          onFailed: (r, e) => reject(new Error(`call failed: ${r?.status ?? e?.message}`)),
        },
      );
    });
    expect(invitations).toHaveLength(1);
    const invitation = invitations[0]!;
    await until(() => invitation.state === SessionState.Established, 'SIP.js to see our ACK');
    const flows = ua.stack.transport!.connections();
    expect(flows).toHaveLength(1);
    expect(flows[0]?.direction).toBe('inbound');
    const byeStatus = await new Promise<number>((resolve) =>
      accepted.bye({}, (r) => resolve(r.status)),
    );
    expect(byeStatus).toBe(200);
    await until(() => invitation.state === SessionState.Terminated, 'SIP.js to end the session');
  });
});
