/**
 * The user-agent core against JsSIP (3.10, a SIP stack no one here wrote) running in Node over
 * SIP-over-WebSocket (RFC 7118): JsSIP calls the UA core, and the UA core calls JsSIP at its
 * `sip:…@xyz.invalid;transport=ws` Contact, reached only over the WebSocket JsSIP opened (RFC
 * 7118 §5). Node has no WebSocket: the `ws` package is JsSIP's socket (through its own
 * `WebSocketInterface`). JsSIP's offer/answer runs on a fixed-SDP stand-in for
 * RTCPeerConnection (webrtc-shim.ts): the signalling is real, no media flows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import JsSIP from 'jssip';
import type { EndEvent, RTCSession } from 'jssip/lib/RTCSession.js';
import type { RTCSessionEvent } from 'jssip/lib/UA.js';
import { UserAgentCore } from '../../src/ua/index.js';
import type { DialogSession } from '../../src/dialog/index.js';
import { installNodeWebSocket, sdp, until } from './harness.js';
import { installStaticWebRtc, StaticPeerConnection } from './webrtc-shim.js';

type JsSipUA = InstanceType<typeof JsSIP.UA>;
type JsSipSession = RTCSession;

const cleanup: Array<() => Promise<void> | void> = [];
const restores: Array<() => void> = [];
beforeAll(() => {
  JsSIP.debug.disable();
  restores.push(installNodeWebSocket(), installStaticWebRtc());
});
afterAll(() => {
  for (const r of restores.splice(0)) r();
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function uaCore(onInvite?: ConstructorParameters<typeof UserAgentCore>[0]['onInvite']) {
  const ua = new UserAgentCore({ user: 'core', via: 'ws', ...(onInvite && { onInvite }) });
  cleanup.push(() => ua.close());
  const [l] = await ua.start([{ transport: 'ws', address: '127.0.0.1', port: 0, path: '/' }]);
  return { ua, port: l!.port };
}

async function jsSip(port: number): Promise<JsSipUA> {
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(`ws://127.0.0.1:${port}/`)],
    uri: 'sip:carol@example.com',
    register: false,
    session_timers: false,
  });
  cleanup.push(() => ua.stop());
  const connected = new Promise<void>((resolve) => ua.on('connected', () => resolve()));
  ua.start();
  await connected;
  return ua;
}

const noMedia = { mediaConstraints: { audio: false, video: false } };

describe('user-agent core against JsSIP over WebSocket', () => {
  it('is called by JsSIP: answers its INVITE with SDP, takes its ACK, and JsSIP hangs up with BYE', async () => {
    let session: DialogSession | undefined;
    let ended: string | undefined;
    const acks: string[] = [];
    const { ua, port } = await uaCore((invite) => {
      invite.progress(180);
      session = invite.accept({ body: sdp(5), contentType: 'application/sdp' });
      session.events.onAck = (ack) => acks.push(ack.method);
      session.events.onTerminated = (r) => (ended = r);
    });
    const carol = await jsSip(port);
    const events: string[] = [];
    const call: JsSipSession = carol.call(`sip:core@127.0.0.1:${port}`, {
      ...noMedia,
      eventHandlers: {
        progress: () => events.push('progress'),
        confirmed: () => events.push('confirmed'),
        failed: (e: { cause: string }) => events.push(`failed:${e.cause}`),
        ended: () => events.push('ended'),
      },
    });
    await until(
      () => events.includes('confirmed') || events.some((e) => e.startsWith('failed')),
      'JsSIP to confirm',
    );
    expect(events).toContain('confirmed');
    await until(() => acks.length === 1, 'the ACK from JsSIP');
    // JsSIP took our answer.
    expect(StaticPeerConnection.remoteDescriptions.at(-1)).toBe(sdp(5));
    call.terminate();
    await until(() => ended !== undefined, 'the BYE from JsSIP');
    expect(ended).toBe('remote-bye');
    expect(ua.dialogs.dialogs.size).toBe(0);
  });

  it('calls JsSIP at its .invalid Contact over the WebSocket it came on, gets 200, ACKs, and ends the call with BYE', async () => {
    const { ua, port } = await uaCore();
    const carol = await jsSip(port);
    const sessions: JsSipSession[] = [];
    const events: string[] = [];
    carol.on('newRTCSession', (e: RTCSessionEvent) => {
      if (e.originator !== 'remote') return;
      sessions.push(e.session);
      e.session.on('confirmed', () => events.push('confirmed'));
      e.session.on('ended', (x: EndEvent) => events.push(`ended:${x.originator}`));
      e.session.answer(noMedia);
    });
    // JsSIP says hello first (a MESSAGE; the UA core has no MESSAGE handler and answers 405):
    // the transport learns that JsSIP's `.invalid` host is reached over this socket.
    carol.sendMessage(`sip:core@127.0.0.1:${port}`, 'hello');
    await until(() => ua.stack.transport!.counters.delivered >= 1, 'the MESSAGE');
    const contact = String(carol.contact.uri);
    expect(contact).toMatch(/@[a-z0-9]+\.invalid;transport=ws$/);

    const accepted = await new Promise<DialogSession>((resolve, reject) => {
      ua.call(
        { uri: contact, body: sdp(6), contentType: 'application/sdp' },
        {
          onAccepted: (s) => resolve(s),
          onFailed: (r, e) => reject(new Error(`call failed: ${r?.status ?? e?.message}`)),
        },
      );
    });
    expect(sessions).toHaveLength(1);
    await until(() => events.includes('confirmed'), 'JsSIP to see our ACK');
    expect(StaticPeerConnection.remoteDescriptions).toContain(sdp(6));
    const byeStatus = await new Promise<number>((resolve) =>
      accepted.bye({}, (r) => resolve(r.status)),
    );
    expect(byeStatus).toBe(200);
    await until(() => events.includes('ended:remote'), 'JsSIP to end the session');
    expect(ua.stack.transport!.connections()).toHaveLength(1);
  });
});
