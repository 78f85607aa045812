/**
 * The MediaEngine contract suite, WebRTC legs (issue #20 item 1): engine-agnostic, run on both
 * engines with real UDP on loopback. A WebRTC peer that is neither engine's code (werift's
 * RTCPeerConnection: full ICE, DTLS, SRTP) ↔ engine ↔ an RTP probe (a stand-in phone):
 *
 *   - full ICE + DTLS-SRTP with the engine's DTLS role following `a=setup` (RFC 5763 §5,
 *     RFC 8842 §5.2): actpass → active or passive (the engine's choice), active → passive,
 *     passive → active; and a phone calling
 *     the browser (the engine offers actpass, the browser's `active` answer makes it the server);
 *   - a browser ICE restart mid-call (RFC 8839 §4.4.1.1.1: new ufrag/pwd) keeps the call: media both
 *     ways afterwards, the engine's fingerprint, port and DTLS role unchanged;
 *   - an ICE-lite DTLS-SRTP peer (RFC 8445 §2.5: it only answers checks) gets media both ways;
 *   - a SIP-side re-INVITE never changes the WebRTC leg's fingerprint, ICE ufrag/pwd, port or DTLS
 *     role (rtpengine#1249, #2156);
 *   - SRTP with a bad authentication tag (RFC 3711 §3.3) never reaches the phone, and is counted
 *     in the leg's `dropped` where the engine counts it (`opts.countsSrtpAuthDrops`).
 *
 * A werift peer per call, on 127.0.0.1 only, no STUN server of anyone's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import type { LegProfile, MediaEngine } from '../../src/engine/types.js';
import { answerCheck, demuxKind } from '../../src/webrtc/ice-lite.js';
import { DtlsSrtp, createDtlsCertificate } from '../../src/webrtc/dtls-srtp.js';
import {
  StunAttr,
  StunMethod,
  decodeStun,
  encodeErrorCode,
  encodeStun,
} from '../../src/stun/codec.js';
import { RtpProbe, rtpPacket, sleep, waitFor } from './probe.js';
import { makeSdp, readSdp, type ReadMLine } from './sdp.js';
import { WebRtcPeer } from '../webrtc/peer.js';

/** What production SBCs give browsers (packages/sbc/src/anchor.ts `webrtcProfile`). */
export const WEB: LegProfile = {
  zone: 'webrtc',
  mediaAddress: '127.0.0.1',
  transport: 'UDP/TLS/RTP/SAVPF',
  ice: 'force',
  dtls: 'passive',
  sdes: 'off',
  rtcpMux: 'require',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const PHONE: LegProfile = {
  zone: 'core',
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const PCMU = { 0: 'PCMU/8000', 101: 'telephone-event/8000' };

const attr = (sdp: string, name: string): string | undefined =>
  new RegExp(`^a=${name}:(.+?)\\r?$`, 'm').exec(sdp)?.[1];
/** What must never change on the WebRTC leg across re-offers (rtpengine#1249, #2156). */
const identity = (sdp: string): Record<string, string | number | undefined> => ({
  fingerprint: attr(sdp, 'fingerprint'),
  ufrag: attr(sdp, 'ice-ufrag'),
  pwd: attr(sdp, 'ice-pwd'),
  setup: attr(sdp, 'setup'),
  port: readSdp(sdp).mlines[0]!.port,
});

export interface WebRtcContractOptions {
  /** The engine counts SRTP packets with a bad auth tag in the leg's `dropped` (query). */
  readonly countsSrtpAuthDrops: boolean;
}

export function runWebRtcContract(
  name: string,
  makeEngine: () => Promise<MediaEngine>,
  opts: WebRtcContractOptions,
): void {
  describe(`MediaEngine contract, WebRTC legs: ${name}`, () => {
    let engine: MediaEngine;
    let n = 0;
    beforeAll(async () => {
      engine = await makeEngine();
    });
    afterAll(async () => {
      await engine?.close();
    });

    interface Call {
      callId: string;
      peer: WebRtcPeer;
      probe: RtpProbe;
      phoneSide: { address: string; port: number };
      /** The engine's last SDP toward the browser. */
      toBrowser: string;
    }
    const open: Call[] = [];
    const newId = (what: string): string => `webrtc-${name}-${process.pid}-${what}-${++n}`;

    /** The browser calls the phone (it offers); the probe answers PCMU. */
    async function browserCalls(mangleOffer?: (sdp: string) => string): Promise<Call> {
      const callId = newId('out');
      const peer = new WebRtcPeer(['PCMU']);
      const probe = await RtpProbe.open('127.0.0.1');
      const c: Call = { callId, peer, probe, phoneSide: { address: '', port: 0 }, toBrowser: '' };
      open.push(c);
      let offer = await peer.offer();
      if (mangleOffer) offer = mangleOffer(offer);
      const toPhone = (
        await engine.offer({ callId, fromTag: 'browser', sdp: offer, from: WEB, to: PHONE })
      ).sdp;
      const m = readSdp(toPhone).mlines[0]!;
      expect(m.transport).toBe('RTP/AVP');
      c.phoneSide = { address: m.address, port: m.port };
      c.toBrowser = (
        await engine.answer({
          callId,
          fromTag: 'browser',
          toTag: 'phone',
          sdp: makeSdp('127.0.0.1', [{ port: probe.port, codecs: PCMU }]),
        })
      ).sdp;
      await peer.accept(c.toBrowser);
      return c;
    }

    async function hangUp(c: Call): Promise<void> {
      await engine.delete({ callId: c.callId }).catch(() => {});
      await c.peer.close();
      c.probe.close();
    }
    afterAll(async () => {
      for (const c of open) await hangUp(c);
    });

    /** 20 ms PCMU frames both ways; each side must get at least `min` of the other's. */
    async function bothWays(c: Call, what: string, min = 10): Promise<void> {
      c.peer.received.length = 0;
      c.probe.clear();
      const fromPhone = c.probe.send(c.phoneSide, 30, { fill: 0x55, pt: 0, gapMs: 20 });
      for (let i = 0; i < 30; i++) {
        c.peer.send(0, Buffer.alloc(160, 0x33), 160);
        await sleep(20);
      }
      await fromPhone;
      await waitFor(
        () => c.peer.received.length >= min && c.probe.received.length >= min,
        `media both ways ${what} (browser got ${c.peer.received.length}, phone ${c.probe.received.length})`,
        20_000,
      );
      // The bytes are each side's own (passthrough).
      expect(c.peer.received.every((r) => r.pt === 0 && r.payload[2] === 0x55)).toBe(true);
      expect(c.probe.received.every((r) => r.payload.equals(Buffer.alloc(160, 0x33)))).toBe(true);
      expect(c.probe.received.every((r) => r.from.port === c.phoneSide.port)).toBe(true);
    }

    it('full ICE + DTLS-SRTP: an actpass offer is answered active or passive (RFC 5763 §5), rtcp-mux, one fingerprint; media both ways', async () => {
      const c = await browserCalls();
      const m = readSdp(c.toBrowser).mlines[0]!;
      expect(m.transport).toBe('UDP/TLS/RTP/SAVPF');
      // The profile prefers passive; rtpengine answers active (RFC 5763 §5's recommendation:
      // see answerKeys in src/rtpengine/flags.ts for why it is never forced to passive).
      expect(['active', 'passive']).toContain(attr(c.toBrowser, 'setup'));
      expect(m.attrs).toContain('rtcp-mux');
      expect(m.attrs.some((a) => /^candidate:\S+ 1 (udp|UDP) \d+ 127\.0\.0\.1 /.test(a))).toBe(
        true,
      );
      expect(
        m.attrs.filter((a) => /^fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/i.test(a)),
      ).toHaveLength(1);
      await c.peer.connected();
      await bothWays(c, `with the engine as DTLS ${attr(c.toBrowser, 'setup')}`);
      await hangUp(c);
    });

    it('the DTLS role follows the offer: setup:active → the engine answers passive (server)', async () => {
      const c = await browserCalls((s) => s.replace(/a=setup:actpass/g, 'a=setup:active'));
      expect(readSdp(c.toBrowser).mlines[0]!.attrs).toContain('setup:passive');
      await c.peer.connected();
      await bothWays(c, 'with the engine as DTLS server');
      await hangUp(c);
    });

    it('the DTLS role follows the offer: setup:passive → the engine answers active (client), never by the ICE role (freeswitch#2545)', async () => {
      const c = await browserCalls((s) => s.replace(/a=setup:actpass/g, 'a=setup:passive'));
      expect(readSdp(c.toBrowser).mlines[0]!.attrs).toContain('setup:active');
      await c.peer.connected();
      await bothWays(c, 'with the engine as DTLS client');
      await hangUp(c);
    });

    it('a phone calls the browser: the engine offers actpass (RFC 8842 §5.2), the browser answers active, the engine is the server; its re-offer states passive (§5.5)', async () => {
      const callId = newId('in');
      const peer = new WebRtcPeer(['PCMU']);
      const probe = await RtpProbe.open('127.0.0.1');
      const c: Call = { callId, peer, probe, phoneSide: { address: '', port: 0 }, toBrowser: '' };
      open.push(c);
      c.toBrowser = (
        await engine.offer({
          callId,
          fromTag: 'phone',
          sdp: makeSdp('127.0.0.1', [{ port: probe.port, codecs: PCMU }]),
          from: PHONE,
          to: WEB,
        })
      ).sdp;
      const bm = readSdp(c.toBrowser).mlines[0]!;
      expect(bm.transport).toBe('UDP/TLS/RTP/SAVPF');
      expect(bm.attrs).toContain('setup:actpass');
      const answer = await peer.answer(c.toBrowser);
      expect(answer).toMatch(/a=setup:active/);
      const toPhone = (
        await engine.answer({ callId, fromTag: 'phone', toTag: 'browser', sdp: answer })
      ).sdp;
      const pm = readSdp(toPhone).mlines[0]!;
      expect(pm.transport).toBe('RTP/AVP');
      c.phoneSide = { address: pm.address, port: pm.port };
      await peer.connected();
      await bothWays(c, 'on a call from the phone');
      const again = (
        await engine.offer({
          callId,
          fromTag: 'phone',
          toTag: 'browser',
          sdp: makeSdp('127.0.0.1', [{ port: probe.port, codecs: PCMU }], 7777),
          from: PHONE,
          to: WEB,
        })
      ).sdp;
      expect(attr(again, 'setup')).toBe('passive');
      expect(attr(again, 'fingerprint')).toBe(attr(c.toBrowser, 'fingerprint'));
      await hangUp(c);
    });

    it('a browser ICE restart mid-call keeps the call: new credentials both ways, the same fingerprint, port and DTLS role, media both ways after', async () => {
      const c = await browserCalls();
      await c.peer.connected();
      await bothWays(c, 'before the restart');
      const before = identity(c.toBrowser);
      const offeredBefore = attr(c.peer.pc.localDescription!.sdp, 'ice-ufrag');
      const reoffer = await c.peer.restartIce();
      expect(attr(reoffer, 'ice-ufrag')).not.toBe(offeredBefore);
      const toPhone = (
        await engine.offer({
          callId: c.callId,
          fromTag: 'browser',
          toTag: 'phone',
          sdp: reoffer,
          from: WEB,
          to: PHONE,
        })
      ).sdp;
      expect(readSdp(toPhone).mlines[0]!.port).toBe(c.phoneSide.port);
      const back = (
        await engine.answer({
          callId: c.callId,
          fromTag: 'browser',
          toTag: 'phone',
          sdp: makeSdp('127.0.0.1', [{ port: c.probe.port, codecs: PCMU }], 5151),
        })
      ).sdp;
      const after = identity(back);
      expect({ ...after, ufrag: 0, pwd: 0 }).toEqual({ ...before, ufrag: 0, pwd: 0 });
      // RFC 8839 §4.4.1.1.1: the answerer to an ICE restart changes its credentials too.
      expect(after.ufrag).not.toBe(before.ufrag);
      expect(after.pwd).not.toBe(before.pwd);
      await c.peer.accept(back);
      await bothWays(c, 'after the ICE restart');
      await hangUp(c);
    });

    it("a phone-side re-INVITE never changes the WebRTC leg's fingerprint, ICE ufrag/pwd, port or DTLS role (rtpengine#1249, #2156)", async () => {
      const c = await browserCalls();
      await c.peer.connected();
      const before = identity(c.toBrowser);
      expect(['active', 'passive']).toContain(before.setup);
      for (let i = 0; i < 3; i++) {
        // The phone re-INVITEs (a new o= version, and once a new port: a phone that moved).
        if (i === 2) {
          c.probe.close();
          c.probe = await RtpProbe.open('127.0.0.1');
        }
        const out = (
          await engine.offer({
            callId: c.callId,
            fromTag: 'phone',
            toTag: 'browser',
            sdp: makeSdp('127.0.0.1', [{ port: c.probe.port, codecs: PCMU }], 9000 + i),
            from: PHONE,
            to: WEB,
          })
        ).sdp;
        // RFC 8842 §5.5: the association goes on, so the re-offer states the current role.
        expect(identity(out)).toEqual(before);
        const browserAnswer = await c.peer.answer(out);
        const back = (
          await engine.answer({
            callId: c.callId,
            fromTag: 'phone',
            toTag: 'browser',
            sdp: browserAnswer,
          })
        ).sdp;
        expect(readSdp(back).mlines[0]!.transport).toBe('RTP/AVP');
        c.phoneSide = {
          address: readSdp(back).mlines[0]!.address,
          port: readSdp(back).mlines[0]!.port,
        };
      }
      await bothWays(c, 'after three re-INVITEs');
      await hangUp(c);
    });

    it('an ICE-lite DTLS-SRTP peer (RFC 8445 §2.5: it answers checks, never sends them) gets media both ways', async () => {
      // A SIP endpoint that is ICE-lite itself: a UDP socket answering Binding requests with our
      // pure `answerCheck`, and a DTLS client (setup:active) of its own certificate.
      const sock = createSocket('udp4');
      await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', ok));
      const port = sock.address().port;
      const cert = await createDtlsCertificate();
      const callId = newId('lite');
      const probe = await RtpProbe.open('127.0.0.1');
      const fromEngine: Buffer[] = [];
      let checksAnswered = 0;
      const checksRefused: string[] = [];
      let roleConflicts = 0;
      let dtls: DtlsSrtp | undefined;
      try {
        const liteOffer = [
          'v=0',
          'o=- 1 1 IN IP4 127.0.0.1',
          's=-',
          'c=IN IP4 127.0.0.1',
          't=0 0',
          'a=ice-lite',
          `m=audio ${port} UDP/TLS/RTP/SAVPF 0`,
          'a=ice-ufrag:lite',
          'a=ice-pwd:litepasswordlitepassword',
          `a=fingerprint:sha-256 ${cert.fingerprint}`,
          'a=setup:active',
          `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`,
          'a=rtcp-mux',
          'a=rtpmap:0 PCMU/8000',
          'a=sendrecv',
          '',
        ].join('\r\n');
        const toPhone = (
          await engine.offer({ callId, fromTag: 'lite', sdp: liteOffer, from: WEB, to: PHONE })
        ).sdp;
        const pm: ReadMLine = readSdp(toPhone).mlines[0]!;
        const back = (
          await engine.answer({
            callId,
            fromTag: 'lite',
            toTag: 'phone',
            sdp: makeSdp('127.0.0.1', [{ port: probe.port, codecs: { 0: 'PCMU/8000' } }]),
          })
        ).sdp;
        const bm = readSdp(back).mlines[0]!;
        expect(bm.attrs).toContain('setup:passive');
        const engineAt = { port: bm.port, address: '127.0.0.1' };
        const engineUfrag = attr(back, 'ice-ufrag');
        let flight: Buffer[] = [];
        const d = new DtlsSrtp({
          role: 'client',
          cert,
          remoteFingerprints: [
            { algorithm: 'sha-256', value: /fingerprint:sha-256 (\S+)/.exec(back)![1]! },
          ],
          // One datagram per flight, as browsers send (see WebRtcPeer's #serialize).
          send: (b) => {
            flight.push(b);
            if (flight.length === 1)
              setImmediate(() => {
                sock.send(Buffer.concat(flight), engineAt.port, engineAt.address);
                flight = [];
              });
          },
          onState: () => {},
        });
        dtls = d;
        let started = false;
        const startDtls = (): void => {
          if (!started) d.start();
          started = true;
        };
        sock.on('message', (m, rinfo) => {
          const kind = demuxKind(m[0]!);
          if (kind === 'stun') {
            const r = answerCheck(
              m,
              { address: rinfo.address, port: rinfo.port, family: 'IPv4' },
              {
                localUfrag: 'lite',
                localPwd: 'litepasswordlitepassword',
                ...(engineUfrag !== undefined && { remoteUfrag: engineUfrag }),
              },
            );
            if (r.ok) {
              checksAnswered++;
              sock.send(r.response, rinfo.port, rinfo.address);
              if (r.nominated) startDtls();
            } else if (r.reason === 'stun-role') {
              // RFC 8445 §7.3.1.1: a lite agent is always controlled, so two controlled agents
              // are resolved by a 487 (Role Conflict); the full agent switches to controlling
              // (§7.2.5.1) and checks again.
              roleConflicts++;
              const req = decodeStun(m);
              if (req.ok)
                sock.send(
                  encodeStun(
                    {
                      method: StunMethod.binding,
                      class: 'error',
                      transactionId: req.message.transactionId,
                      attributes: [
                        { type: StunAttr.errorCode, value: encodeErrorCode(487, 'Role Conflict') },
                      ],
                    },
                    { integrityKey: Buffer.from('litepasswordlitepassword'), fingerprint: true },
                  ),
                  rinfo.port,
                  rinfo.address,
                );
            } else checksRefused.push(r.reason);
          } else if (kind === 'dtls') d.receive(m);
          else if (kind === 'rtp' && !(m[1]! >= 192 && m[1]! <= 223)) {
            const p = d.unprotectRtp(m);
            if (p) fromEngine.push(p);
          }
        });
        // The DTLS client starts once ICE is done: at once toward a lite engine (two lite agents
        // run no checks, RFC 8445 §6.1.1), else when the full agent nominates a pair (§8.1.1).
        if (/^a=ice-lite\r?$/m.test(back)) startDtls();
        await waitFor(() => d.ready, 'DTLS with the lite peer', 20_000);
        await probe.send({ address: pm.address, port: pm.port }, 30, { pt: 0, gapMs: 20 });
        await waitFor(() => fromEngine.length >= 10, 'SRTP at the lite peer', 20_000);
        for (let i = 0; i < 30; i++) {
          sock.send(
            d.protectRtp(
              rtpPacket({
                pt: 0,
                seq: i + 1,
                ts: i * 160,
                ssrc: 77,
                payload: Buffer.alloc(160, 0x44),
              }),
            )!,
            engineAt.port,
            engineAt.address,
          );
          await sleep(20);
        }
        await waitFor(() => probe.received.length >= 10, 'RTP from the lite peer at the phone');
        expect(probe.received.every((r) => r.payload.equals(Buffer.alloc(160, 0x44)))).toBe(true);
        console.info(
          `ICE-lite peer (${name}): ${checksAnswered} checks answered, ${roleConflicts} role conflicts, refused: ${checksRefused.join(' ') || 'none'}`,
        );
      } finally {
        dtls?.close();
        await engine.delete({ callId }).catch(() => {});
        sock.close();
        probe.close();
      }
    });

    it(`SRTP with a bad authentication tag (RFC 3711 §3.3) is dropped${opts.countsSrtpAuthDrops ? ' and counted' : ' (not counted: the engine exposes no such counter)'}; the call goes on`, async () => {
      const c = await browserCalls();
      await c.peer.connected();
      await bothWays(c, 'before the forged packets');
      const leg = async () =>
        (await engine.query({ callId: c.callId })).legs.find((l) => l.tag === 'browser')!;
      const dropped0 = (await leg()).dropped;
      let leaked = 0;
      c.probe.socket.on('message', (m) => {
        if (m.length > 12 && m[12] === 0x77) leaked++;
      });
      // RTP with a 10-byte tag of zeros, sent from the browser's own selected pair (the source
      // the engine latched): only the tag is wrong.
      const forged = rtpPacket({
        pt: 0,
        seq: 4242,
        ts: 99,
        ssrc: c.peer.ssrc,
        payload: Buffer.concat([Buffer.alloc(160, 0x77), Buffer.alloc(10)]),
      });
      for (let i = 0; i < 5; i++) await c.peer.ice.send(forged);
      if (opts.countsSrtpAuthDrops) {
        let dropped = dropped0;
        for (let i = 0; i < 200 && dropped < dropped0 + 5; i++) {
          await sleep(50);
          dropped = (await leg()).dropped;
        }
        expect(dropped).toBeGreaterThanOrEqual(dropped0 + 5);
      }
      // Then real media: it arrives, and not one forged payload did before it (same source and
      // path, sent first).
      await bothWays(c, 'after the forged packets');
      expect(leaked).toBe(0);
      await hangUp(c);
    });
  });
}
