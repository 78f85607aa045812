/**
 * The built-in engine as a WebRTC ↔ RTP gateway, on real UDP on loopback: a WebRTC peer that is not
 * the engine's code (werift's RTCPeerConnection: full ICE, DTLS, SRTP) on one leg, a plain RTP
 * probe (a stand-in phone) on the other. Real Chromium does the same in test/e2e/gateway-media.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinEngine, type BuiltinEngine } from '../../src/builtin/engine.js';
import type { LegProfile } from '../../src/engine/types.js';
import { OpusCodec } from '../../src/codec/opus.js';
import { RtpProbe, goertzel, rtpPacket, sleep, unulaw, waitFor } from '../contract/probe.js';
import { makeSdp, ptOf, readSdp } from '../contract/sdp.js';
import { WebRtcPeer, type PeerCodec } from './peer.js';
import { createSocket } from 'node:dgram';
import { DtlsSrtp, createDtlsCertificate } from '../../src/webrtc/dtls-srtp.js';

const WEB: LegProfile = {
  zone: 'webrtc',
  mediaAddress: '127.0.0.1',
  transport: 'UDP/TLS/RTP/SAVPF',
  ice: 'lite',
  dtls: 'passive',
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

/** SNR in dB of a tone whose Goertzel share of the signal's power is `p` (0..1). */
const snrDb = (p: number): number => 10 * Math.log10(p / Math.max(1e-9, 1 - p));
/** Both directions must carry the tone at least this far above everything else. */
const MIN_SNR_DB = 10;

function tone48(freq: number, from: number, n = 960, amp = 8000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * (from + i)) / 48000));
  return out;
}

/** Mean Goertzel share of `freq` over consecutive windows of `size` samples. */
function windowed(pcm: readonly number[], freq: number, rate: number, size: number): number {
  let sum = 0;
  let k = 0;
  for (let o = 0; o + size <= pcm.length; o += size, k++)
    sum += goertzel(pcm.slice(o, o + size), freq, rate);
  return k ? sum / k : 0;
}

let engine: BuiltinEngine;
const base = 41000 + 2 * Math.floor(Math.random() * 4000);
let n = 0;

beforeAll(async () => {
  engine = await createBuiltinEngine({
    portMin: base,
    portMax: base + 199,
    workers: 1,
    mediaTimeoutMs: 0,
  });
});
afterAll(async () => {
  await engine?.close();
});

interface Call {
  callId: string;
  peer: WebRtcPeer;
  probe: RtpProbe;
  /** The engine's port facing the phone, and its SDP toward the browser. */
  phoneSide: { address: string; port: number };
  toBrowser: string;
  toPhone: string;
}

/** The browser offers (it calls the phone); the phone answers with `phoneCodecs`. */
async function browserCalls(
  codecs: PeerCodec[],
  opts: {
    web?: Partial<LegProfile>;
    mangleOffer?: (sdp: string) => string;
    iceLite?: boolean;
  } = {},
): Promise<Call> {
  const callId = `gw-${n++}-${Date.now()}`;
  const peer = new WebRtcPeer(codecs);
  let offer = await peer.offer();
  if (opts.mangleOffer) offer = opts.mangleOffer(offer);
  const web = { ...WEB, ...opts.web };
  const toPhone = (
    await engine.offer({ callId, fromTag: 'browser', sdp: offer, from: web, to: PHONE })
  ).sdp;
  const probe = await RtpProbe.open('127.0.0.1');
  const m = readSdp(toPhone).mlines[0]!;
  const answer = makeSdp('127.0.0.1', [
    { port: probe.port, codecs: { 0: 'PCMU/8000', 101: 'telephone-event/8000' } },
  ]);
  const toBrowser = (
    await engine.answer({ callId, fromTag: 'browser', toTag: 'phone', sdp: answer })
  ).sdp;
  await peer.accept(toBrowser);
  return {
    callId,
    peer,
    probe,
    phoneSide: { address: m.address, port: m.port },
    toBrowser,
    toPhone,
  };
}

async function hangUp(c: Call): Promise<void> {
  await engine.delete({ callId: c.callId }).catch(() => {});
  await c.peer.close();
  c.probe.close();
}

async function dropped(reason: string): Promise<number> {
  return (await engine.counters()).dropped[reason] ?? 0;
}

describe('WebRTC leg of the built-in engine (werift peer ↔ engine ↔ RTP probe)', () => {
  it('advertises the capability: webrtc, and Opus ↔ PCMU/PCMA transcoding', () => {
    expect(engine.capabilities.webrtc).toBe(true);
    expect([...engine.capabilities.transcode].sort()).toEqual(['PCMA', 'PCMU', 'opus']);
  });

  it('an Opus-only browser and a PCMU phone hear each other through Opus ↔ PCMU transcoding (SNR ≥ 10 dB both ways)', async () => {
    const c = await browserCalls(['opus']);
    try {
      // Toward the phone: plain RTP with PCMU, PCMA and telephone-event/8000, no WebRTC attributes.
      const ph = readSdp(c.toPhone).mlines[0]!;
      expect(ph.transport).toBe('RTP/AVP');
      expect(ptOf(ph, 'PCMU')).toBe(0);
      expect(ptOf(ph, 'PCMA')).toBe(8);
      expect([...ph.rtpmap.values()]).toContain('telephone-event/8000');
      expect(ph.attrs.some((a) => /^(ice-|fingerprint|setup|candidate)/.test(a))).toBe(false);
      // Toward the browser: the WebRTC profile, answered with Opus (RFC 8839, 8122, 8842, 5761).
      const br = readSdp(c.toBrowser);
      const bm = br.mlines[0]!;
      expect(bm.transport).toBe('UDP/TLS/RTP/SAVPF');
      expect(c.toBrowser).toMatch(/\r\na=ice-lite\r\n/);
      expect(bm.attrs).toContain('setup:passive');
      expect(bm.attrs).toContain('rtcp-mux');
      expect(
        bm.attrs.some((a) => /^fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(a)),
      ).toBe(true);
      expect(bm.attrs).toContain(`candidate:1 1 udp 2130706431 127.0.0.1 ${bm.port} typ host`);
      expect(ptOf(bm, 'opus')).toBe(111);
      expect(ptOf(bm, 'PCMU')).toBeUndefined();
      await c.peer.connected();

      // Phone → browser: a 1 kHz PCMU tone arrives as Opus.
      const probeSends = c.probe.send(c.phoneSide, 100, { toneHz: 1000, pt: 0, gapMs: 20 });
      // Browser → phone: a 440 Hz tone in Opus arrives as PCMU.
      const enc = new OpusCodec();
      const browserSends = (async () => {
        for (let i = 0; i < 100; i++) {
          c.peer.send(111, enc.encode(tone48(440, i * 960)), 960);
          await sleep(20);
        }
      })();
      await Promise.all([probeSends, browserSends]);
      enc.close();
      await waitFor(
        () => c.peer.received.length > 60 && c.probe.received.length > 60,
        'media both ways',
        15_000,
      );

      const dec = new OpusCodec();
      const pcm48: number[] = [];
      for (const p of c.peer.received.filter((r) => r.pt === 111).slice(10, 60))
        pcm48.push(...(dec.decode(p.payload) ?? []));
      dec.close();
      // Goertzel share per window of a whole number of periods (20 ms of 1 kHz, 100 ms of 440 Hz).
      const toBrowser = windowed(pcm48, 1000, 48000, 960);
      const pcm8: number[] = [];
      for (const p of c.probe.received.filter((r) => r.pt === 0).slice(10, 60))
        pcm8.push(...[...p.payload].map(unulaw));
      const toPhone = windowed(pcm8, 440, 8000, 800);
      console.info(
        `gateway SNR: phone→browser ${snrDb(toBrowser).toFixed(1)} dB, browser→phone ${snrDb(toPhone).toFixed(1)} dB`,
      );
      expect(snrDb(toBrowser)).toBeGreaterThan(MIN_SNR_DB);
      expect(snrDb(toPhone)).toBeGreaterThan(MIN_SNR_DB);
      // Every packet to the phone comes from the engine's phone-side port, as PCMU.
      expect(c.probe.received.every((r) => r.from.port === c.phoneSide.port && r.pt === 0)).toBe(
        true,
      );

      // RFC 4733 from the phone at 8 kHz reaches the browser leg at 48 kHz, rescaled.
      c.peer.received.length = 0;
      const ev = (dur: number, end: boolean): Buffer =>
        Buffer.from([5, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
      const ts = 777_000;
      const durations = [160, 320, 480, 640, 640, 640];
      for (let i = 0; i < durations.length; i++) {
        c.probe.sendRaw(
          c.phoneSide,
          rtpPacket({
            pt: 101,
            seq: 60000 + i,
            ts,
            ssrc: c.probe.ssrc,
            marker: i === 0,
            payload: ev(durations[i]!, i >= 3),
          }),
        );
        await sleep(20);
      }
      await waitFor(
        () => c.peer.received.filter((r) => r.pt === 110).length >= 6,
        'telephone-events at the browser',
      );
      const events = c.peer.received.filter((r) => r.pt === 110);
      expect(events.map((e) => e.payload.readUInt16BE(2))).toEqual(durations.map((d) => d * 6));
      expect(events.map((e) => e.payload[0])).toEqual([5, 5, 5, 5, 5, 5]);
      expect(new Set(events.map((e) => e.ts)).size).toBe(1); // RFC 4733 §2.5.1.2: one start ts
      expect(events[0]!.marker).toBe(true);
      expect(events.filter((e) => (e.payload[1]! & 0x80) !== 0)).toHaveLength(3);
    } finally {
      await hangUp(c);
    }
  });

  it('a PCMU browser and a PCMU phone share the codec: payloads pass through untouched', async () => {
    const c = await browserCalls(['PCMU']);
    try {
      const bm = readSdp(c.toBrowser).mlines[0]!;
      expect(ptOf(bm, 'PCMU')).toBe(0);
      expect(ptOf(bm, 'opus')).toBeUndefined();
      await c.peer.connected();
      await c.probe.send(c.phoneSide, 30, { fill: 0x55, pt: 0, gapMs: 20 });
      await waitFor(() => c.peer.received.length >= 20, 'PCMU at the browser');
      // The probe tags each payload with its sequence: the bytes are the phone's own.
      expect(
        c.peer.received.every(
          (r) => r.pt === 0 && r.payload.length === 160 && r.payload[2] === 0x55,
        ),
      ).toBe(true);
      for (let i = 0; i < 30; i++) {
        c.peer.send(0, Buffer.alloc(160, 0x33), 160);
        await sleep(20);
      }
      await waitFor(() => c.probe.received.length >= 20, 'PCMU at the phone');
      expect(
        c.probe.received.every((r) => r.pt === 0 && r.payload.equals(Buffer.alloc(160, 0x33))),
      ).toBe(true);
    } finally {
      await hangUp(c);
    }
  });

  it('a phone calls an Opus-only browser: the engine offers actpass with Opus added, the answer makes it the DTLS server, media flows both ways', async () => {
    const callId = `gw-in-${Date.now()}`;
    const peer = new WebRtcPeer(['opus']);
    const probe = await RtpProbe.open('127.0.0.1');
    try {
      const offer = makeSdp('127.0.0.1', [
        {
          port: probe.port,
          codecs: { 0: 'PCMU/8000', 8: 'PCMA/8000', 101: 'telephone-event/8000' },
        },
      ]);
      const toBrowser = (
        await engine.offer({ callId, fromTag: 'phone', sdp: offer, from: PHONE, to: WEB })
      ).sdp;
      const bm = readSdp(toBrowser).mlines[0]!;
      expect(bm.transport).toBe('UDP/TLS/RTP/SAVPF');
      // RFC 8842 §5.2: a first offer is actpass; the phone's codecs first (passthrough when
      // the browser takes them), Opus and telephone-event/48000 added for transcoding.
      expect(bm.attrs).toContain('setup:actpass');
      expect(bm.pts.slice(0, 2)).toEqual([0, 8]);
      expect(ptOf(bm, 'opus')).toBeDefined();
      expect([...bm.rtpmap.values()]).toContain('telephone-event/48000');
      const answer = await peer.answer(toBrowser);
      const toPhone = (
        await engine.answer({ callId, fromTag: 'phone', toTag: 'browser', sdp: answer })
      ).sdp;
      const pm = readSdp(toPhone).mlines[0]!;
      expect(pm.transport).toBe('RTP/AVP');
      expect(pm.pts[0]).toBe(0);
      await peer.connected();
      const phoneSide = { address: pm.address, port: pm.port };
      await probe.send(phoneSide, 40, { toneHz: 1000, pt: 0, gapMs: 20 });
      const enc = new OpusCodec();
      for (let i = 0; i < 40; i++) {
        peer.send(111, enc.encode(tone48(440, i * 960)), 960);
        await sleep(20);
      }
      enc.close();
      await waitFor(
        () => peer.received.filter((r) => r.pt === 111).length >= 20 && probe.received.length >= 20,
        'media both ways on a call from the phone',
        15_000,
      );
      // The re-offer now states the role the answer gave (RFC 8842 §5.5): passive.
      const re = makeSdp('127.0.0.1', [{ port: probe.port, codecs: { 0: 'PCMU/8000' } }], 7777);
      const again = (
        await engine.offer({
          callId,
          fromTag: 'phone',
          toTag: 'browser',
          sdp: re,
          from: PHONE,
          to: WEB,
        })
      ).sdp;
      expect(readSdp(again).mlines[0]!.attrs).toContain('setup:passive');
    } finally {
      await engine.delete({ callId }).catch(() => {});
      await peer.close();
      probe.close();
    }
  });

  it('DTLS role follows a=setup (RFC 5763 §5): answering actpass with setup:active makes the engine the DTLS client', async () => {
    const c = await browserCalls(['PCMU'], { web: { dtls: 'active' } });
    try {
      expect(readSdp(c.toBrowser).mlines[0]!.attrs).toContain('setup:active');
      await c.peer.connected();
      await c.probe.send(c.phoneSide, 20, { pt: 0, gapMs: 20 });
      await waitFor(
        () => c.peer.received.length >= 10,
        'media to the browser with the engine as DTLS client',
      );
    } finally {
      await hangUp(c);
    }
  });

  it('an ICE-lite DTLS-SRTP peer (RFC 8445 §6.1.1: nobody sends checks) gets media at its SDP candidate', async () => {
    // A SIP endpoint that is ICE-lite itself (werift's lite mode waits for checks, so this peer is
    // a UDP socket with a DTLS client of its own certificate).
    const sock = createSocket('udp4');
    await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', ok));
    const cert = await createDtlsCertificate();
    const callId = `gw-lite-${Date.now()}`;
    const probe = await RtpProbe.open('127.0.0.1');
    const fromPeer: Buffer[] = [];
    try {
      const liteOffer = [
        'v=0',
        'o=- 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'a=ice-lite',
        `m=audio ${sock.address().port} UDP/TLS/RTP/SAVPF 0`,
        'a=ice-ufrag:lite',
        'a=ice-pwd:litepasswordlitepassword',
        `a=fingerprint:sha-256 ${cert.fingerprint}`,
        'a=setup:active',
        `a=candidate:1 1 udp 2130706431 127.0.0.1 ${sock.address().port} typ host`,
        'a=rtcp-mux',
        'a=rtpmap:0 PCMU/8000',
        'a=sendrecv',
        '',
      ].join('\r\n');
      const toPhone = (
        await engine.offer({ callId, fromTag: 'lite', sdp: liteOffer, from: WEB, to: PHONE })
      ).sdp;
      const pm = readSdp(toPhone).mlines[0]!;
      const ans = makeSdp('127.0.0.1', [{ port: probe.port, codecs: { 0: 'PCMU/8000' } }]);
      const back = (await engine.answer({ callId, fromTag: 'lite', toTag: 'phone', sdp: ans })).sdp;
      const bm = readSdp(back).mlines[0]!;
      expect(bm.attrs).toContain('setup:passive');
      const engineAt = { port: bm.port, address: '127.0.0.1' };
      const dtls = new DtlsSrtp({
        role: 'client',
        cert,
        remoteFingerprints: [
          { algorithm: 'sha-256', value: /fingerprint:sha-256 (\S+)/.exec(back)![1]! },
        ],
        send: (d) => sock.send(d, engineAt.port, engineAt.address),
        onState: () => {},
      });
      sock.on('message', (m) => {
        if (m[0]! >= 20 && m[0]! <= 63) dtls.receive(m);
        else if (m[0]! >= 128 && m[0]! <= 191 && !(m[1]! >= 192 && m[1]! <= 223)) {
          const p = dtls.unprotectRtp(m);
          if (p) fromPeer.push(p);
        }
      });
      dtls.start();
      await waitFor(() => dtls.ready, 'DTLS with the lite peer', 20_000);
      await probe.send({ address: pm.address, port: pm.port }, 20, { pt: 0, gapMs: 20 });
      await waitFor(() => fromPeer.length >= 10, 'SRTP at the lite peer');
      for (let i = 0; i < 20; i++) {
        sock.send(
          dtls.protectRtp(
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
      dtls.close();
    } finally {
      await engine.delete({ callId }).catch(() => {});
      sock.close();
      probe.close();
    }
  });

  it("a phone-side re-INVITE keeps the browser leg's ICE credentials, fingerprint, port and DTLS role (rtpengine#1249, #2156)", async () => {
    const c = await browserCalls(['opus']);
    try {
      await c.peer.connected();
      const before = readSdp(c.toBrowser).mlines[0]!;
      const pick = (attrs: string[]) =>
        attrs.filter((a) => /^(ice-ufrag|ice-pwd|fingerprint|candidate)/.test(a)).sort();
      for (let i = 0; i < 5; i++) {
        const reoffer = makeSdp(
          '127.0.0.1',
          [{ port: c.probe.port, codecs: { 0: 'PCMU/8000', 101: 'telephone-event/8000' } }],
          9000 + i,
        );
        const out = (
          await engine.offer({
            callId: c.callId,
            fromTag: 'phone',
            toTag: 'browser',
            sdp: reoffer,
            from: PHONE,
            to: WEB,
          })
        ).sdp;
        const m = readSdp(out).mlines[0]!;
        expect(m.port).toBe(before.port);
        expect(pick(m.attrs)).toEqual(pick(before.attrs));
        // RFC 8842 §5.5: the association goes on, so the re-offer states our current role.
        expect(m.attrs).toContain('setup:passive');
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
      }
      c.peer.received.length = 0;
      await c.probe.send(c.phoneSide, 30, { toneHz: 1000, pt: 0, gapMs: 20 });
      await waitFor(() => c.peer.received.length >= 15, 'media after five re-INVITEs');
    } finally {
      await hangUp(c);
    }
  });

  it('hostile input on the WebRTC port is dropped and counted: garbage, a STUN check with a wrong password, SRTP with a bad tag', async () => {
    const c = await browserCalls(['PCMU']);
    try {
      await c.peer.connected();
      const port = readSdp(c.toBrowser).mlines[0]!.port;
      const garbage0 = await dropped('garbage');
      const stun0 = await dropped('stun-username');
      const auth0 = await dropped('srtp-auth');
      const wrong0 = await dropped('wrong-source');
      // Garbage (first byte outside RFC 7983's ranges) and RTP from an unknown source.
      c.probe.sendRaw({ address: '127.0.0.1', port }, Buffer.from('hello, not media at all'));
      c.probe.sendRaw(
        { address: '127.0.0.1', port },
        rtpPacket({ pt: 0, seq: 1, ts: 1, ssrc: 1, payload: Buffer.alloc(170) }),
      );
      // A Binding request naming credentials that are not the leg's.
      const stun = Buffer.alloc(20);
      stun.writeUInt16BE(0x0001, 0);
      stun.writeUInt32BE(0x2112a442, 4);
      c.probe.sendRaw({ address: '127.0.0.1', port }, stun);
      // SRTP with a wrong tag, from the browser's own selected pair.
      const forged = rtpPacket({
        pt: 0,
        seq: 4242,
        ts: 99,
        ssrc: c.peer.ssrc,
        payload: Buffer.alloc(170, 7),
      });
      for (let i = 0; i < 5; i++) await c.peer.ice.send(forged);
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok =
          (await dropped('garbage')) > garbage0 &&
          (await dropped('srtp-auth')) >= auth0 + 5 &&
          (await dropped('wrong-source')) > wrong0 &&
          (await dropped('stun-malformed')) + (await dropped('stun-username')) > stun0;
        if (!ok) await sleep(50);
      }
      expect(ok).toBe(true);
      // The call goes on.
      c.peer.received.length = 0;
      await c.probe.send(c.phoneSide, 20, { pt: 0, gapMs: 20 });
      await waitFor(() => c.peer.received.length >= 10, 'media after the hostile packets');
    } finally {
      await hangUp(c);
    }
  });

  it('DTLS from a certificate that does not match the SDP fingerprint is refused (RFC 8122 §5): no media flows', async () => {
    const f0 = await dropped('dtls-fingerprint');
    const c = await browserCalls(['PCMU'], {
      // The offer names another certificate than the one the peer will present.
      mangleOffer: (sdp) =>
        sdp.replace(
          /a=fingerprint:sha-256 (\S+)/,
          (_m, v: string) =>
            `a=fingerprint:sha-256 ${v.replace(/^../, v.startsWith('AA') ? 'BB' : 'AA')}`,
        ),
    });
    try {
      let refused = false;
      for (let i = 0; i < 200 && !refused; i++) {
        refused = (await dropped('dtls-fingerprint')) > f0;
        if (!refused) await sleep(50);
      }
      expect(refused).toBe(true);
      await c.probe.send(c.phoneSide, 10, { pt: 0, gapMs: 20 });
      await sleep(300);
      expect(c.peer.received).toHaveLength(0);
      const st = await engine.query({ callId: c.callId });
      expect(st.legs.find((l) => l.tag === 'browser')!.packetsOut).toBe(0);
    } finally {
      await hangUp(c);
    }
  });
});
