/**
 * The pure pieces of the WebRTC leg and the gateway: ICE-lite check answering (RFC 8445 §7.3),
 * RFC 7983 demultiplexing, the browser's SDP attributes and the DTLS role from a=setup (RFC 8842,
 * RFC 5763 §5), codec lists toward browsers and phones, and the transcoding decision.
 */
import { describe, expect, it } from 'vitest';
import {
  StunAttr,
  StunMethod,
  checkIntegrity,
  decodeStun,
  decodeXorAddress,
  encodeStun,
  getAttribute,
} from '../../src/stun/codec.js';
import { answerCheck, demuxKind } from '../../src/webrtc/ice-lite.js';
import { answerRole, offererRole, remoteWebRtc, webrtcLines } from '../../src/webrtc/sdp.js';
import { parseSdp } from '../../src/sdp/parse.js';
import {
  towardBrowser,
  towardPhone,
  transcodeAnswer,
  transcodeFor,
} from '../../src/builtin/gateway.js';
import { TranscodePath } from '../../src/builtin/transcode-path.js';
import type { CodecPlan } from '../../src/sdp/rewrite.js';
import { bridgesOpusToG711, bridgesWebRtc, transcodes } from '../../src/engine/capabilities.js';
import { CAPABILITIES } from '../../src/builtin/options.js';

const CRED = { localUfrag: 'srvU', localPwd: 'serverpassword12345678', remoteUfrag: 'brwU' };
const FROM = { address: '127.0.0.7', port: 50123, family: 'IPv4' as const };

function check(opts: {
  user?: string;
  pwd?: string;
  useCandidate?: boolean;
  controlled?: boolean;
  cls?: 'request' | 'indication';
}): Buffer {
  const attributes = [
    { type: StunAttr.username, value: Buffer.from(opts.user ?? 'srvU:brwU') },
    { type: StunAttr.priority, value: Buffer.from([0x6e, 0, 0x1e, 0xff]) },
    opts.controlled
      ? { type: StunAttr.iceControlled, value: Buffer.alloc(8, 1) }
      : { type: StunAttr.iceControlling, value: Buffer.alloc(8, 1) },
    ...(opts.useCandidate ? [{ type: StunAttr.useCandidate, value: Buffer.alloc(0) }] : []),
  ];
  return encodeStun(
    {
      method: StunMethod.binding,
      class: opts.cls ?? 'request',
      transactionId: Buffer.from('0123456789ab'),
      attributes,
    },
    { integrityKey: Buffer.from(opts.pwd ?? CRED.localPwd), fingerprint: true },
  );
}

describe('ICE-lite checks (RFC 8445 §7.3)', () => {
  it('answers a valid check with a Binding success: XOR-MAPPED-ADDRESS of the source, integrity with our password, FINGERPRINT', () => {
    const r = answerCheck(check({ useCandidate: true }), FROM, CRED);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.nominated).toBe(true);
    const d = decodeStun(r.response);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.message.class).toBe('success');
    expect(d.message.transactionId.toString()).toBe('0123456789ab');
    expect(checkIntegrity(d.message, Buffer.from(CRED.localPwd))).toBe(true);
    const xa = decodeXorAddress(
      getAttribute(d.message, StunAttr.xorMappedAddress)!,
      d.message.transactionId,
    );
    expect(xa).toMatchObject({ address: FROM.address, port: FROM.port });
  });

  it('a check without USE-CANDIDATE is answered but does not nominate', () => {
    const r = answerCheck(check({}), FROM, CRED);
    expect(r.ok && r.nominated).toBe(false);
  });

  it.each([
    [
      'wrong password (RFC 8445 §7.3: integrity)',
      { pwd: 'notthepasswordatall1234' },
      'stun-integrity',
    ],
    ['another leg’s ufrag', { user: 'othr:brwU' }, 'stun-username'],
    ['a stale browser ufrag after an ICE restart', { user: 'srvU:old1' }, 'stun-username'],
    [
      'ICE-CONTROLLED from the peer (a lite agent is always controlled)',
      { controlled: true },
      'stun-role',
    ],
    ['an indication, not a request', { cls: 'indication' as const }, 'stun-not-request'],
  ])('refuses %s', (_name, opts, reason) => {
    const r = answerCheck(check(opts), FROM, CRED);
    expect(r).toEqual({ ok: false, reason });
  });

  it('refuses garbage and truncated STUN as malformed, never throws', () => {
    expect(answerCheck(Buffer.from([0, 1, 0, 0]), FROM, CRED)).toEqual({
      ok: false,
      reason: 'stun-malformed',
    });
    const good = check({});
    for (let n = 0; n < good.length; n += 7)
      expect(answerCheck(good.subarray(0, n), FROM, CRED).ok).toBe(false);
    const flipped = Buffer.from(good);
    flipped[30] = flipped[30]! ^ 0xff;
    expect(answerCheck(flipped, FROM, CRED).ok).toBe(false);
  });

  it('RFC 7983 §7: the first byte tells STUN, DTLS and RTP apart', () => {
    expect([0, 3, 20, 63, 128, 191, 64, 19, 200].map(demuxKind)).toEqual([
      'stun',
      'stun',
      'dtls',
      'dtls',
      'rtp',
      'rtp',
      'other',
      'other',
      'other',
    ]);
  });
});

const BROWSER_SDP = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:AbCd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, (_, i) => (i + 16).toString(16)).join(':'),
  'a=setup:actpass',
  'a=mid:0',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=sendrecv',
  '',
].join('\r\n');

describe('WebRTC SDP attributes and DTLS roles', () => {
  it('reads the ICE credentials, fingerprint, setup and mid of a trickle offer with no candidates', () => {
    const p = parseSdp(BROWSER_SDP);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const r = remoteWebRtc(p.sdp, p.sdp.media[0]!);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      ufrag: 'AbCd',
      pwd: 'abcdefghijklmnopqrstuvwx',
      setup: 'actpass',
      mid: '0',
      iceLite: false,
    });
    expect(r.value.fingerprints[0]!.algorithm).toBe('sha-256');
  });

  it.each([
    ['no fingerprint', /a=fingerprint.*\r\n/, ''],
    ['a short ice-pwd', /a=ice-pwd:\S+/, 'a=ice-pwd:short'],
    ['no ice-ufrag', /a=ice-ufrag:\S+\r\n/, ''],
    ['a=setup:bogus', /a=setup:actpass/, 'a=setup:bogus'],
  ])('refuses an m-line with %s', (_n, re, to) => {
    const p = parseSdp(BROWSER_SDP.replace(re, to));
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(remoteWebRtc(p.sdp, p.sdp.media[0]!).ok).toBe(false);
  });

  it('the DTLS role follows a=setup (RFC 5763 §5, RFC 8842 §5.3), never the ICE role', () => {
    expect(answerRole('actpass', 'passive')).toBe('server');
    expect(answerRole('actpass', 'active')).toBe('client');
    expect(answerRole('active', 'active')).toBe('server');
    expect(answerRole('passive', 'passive')).toBe('client');
    expect(answerRole('holdconn', 'passive')).toBeUndefined();
    expect(offererRole('active')).toBe('server');
    expect(offererRole('passive')).toBe('client');
    expect(offererRole('actpass')).toBeUndefined();
  });

  it('writes ICE credentials, the fingerprint, setup, one host candidate and the SSRC', () => {
    const lines = webrtcLines({
      ufrag: 'u1u1',
      pwd: 'p'.repeat(24),
      fingerprint: 'AA:BB',
      setup: 'passive',
      address: '127.0.0.20',
      port: 30000,
      mid: '0',
      ssrc: 42,
    }).map((l) => l.value);
    expect(lines).toEqual([
      'mid:0',
      'ice-ufrag:u1u1',
      `ice-pwd:${'p'.repeat(24)}`,
      'fingerprint:sha-256 AA:BB',
      'setup:passive',
      'candidate:1 1 udp 2130706431 127.0.0.20 30000 typ host',
      'end-of-candidates',
      'ssrc:42 cname:tfx',
    ]);
  });
});

const c = (pt: number, encoding: string, clockRate: number, channels?: number): CodecPlan => ({
  pt,
  encoding,
  clockRate,
  ...(channels ? { channels } : {}),
});
const OPUS = c(111, 'opus', 48000, 2);
const TE48 = c(110, 'telephone-event', 48000);
const TE8 = c(126, 'telephone-event', 8000);
const PCMU = c(0, 'PCMU', 8000);
const PCMA = c(8, 'PCMA', 8000);

describe('gateway codecs', () => {
  it('toward a phone from an Opus-only browser: PCMU, PCMA and telephone-event/8000 (transcoded)', () => {
    expect(
      towardPhone([OPUS, TE48], true).map((x) => `${x.pt} ${x.encoding}/${x.clockRate}`),
    ).toEqual(['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000']);
  });

  it('toward a phone from a browser that has PCMU: its PCMU and te/8000 keep their PTs', () => {
    const out = towardPhone([OPUS, PCMU, TE48, TE8], true);
    expect(out.map((x) => x.pt)).toEqual([0, 126, 8]);
  });

  it('toward a browser: the phone’s codecs first, then Opus and telephone-event/48000', () => {
    const out = towardBrowser([PCMU, PCMA, c(101, 'telephone-event', 8000)], true);
    expect(out.map((x) => `${x.encoding}/${x.clockRate}`)).toEqual([
      'PCMU/8000',
      'PCMA/8000',
      'telephone-event/8000',
      'opus/48000',
      'telephone-event/48000',
    ]);
  });

  it('answers the offerer with its own Opus and te/48000 when the answerer chose only G.711', () => {
    expect(transcodeAnswer([OPUS, TE48, TE8])).toEqual([OPUS, TE48]);
    expect(transcodeAnswer([c(9, 'G722', 8000)])).toEqual([]);
  });

  it('transcodes Opus → PCMU with events 48 → 8 kHz, and passes a shared codec through', () => {
    expect(transcodeFor([OPUS, TE48], [PCMU, TE8])).toEqual({
      from: { pt: 111, encoding: 'opus', clockRate: 48000 },
      to: { pt: 0, encoding: 'PCMU', clockRate: 8000 },
      teFrom: { pt: 110, encoding: 'telephone-event', clockRate: 48000 },
      teTo: { pt: 126, encoding: 'telephone-event', clockRate: 8000 },
    });
    expect(transcodeFor([PCMU, TE8], [PCMU, c(101, 'telephone-event', 8000)])).toBeUndefined();
    expect(transcodeFor([c(18, 'G729', 8000)], [OPUS])).toBeUndefined();
  });
});

describe('telephone-event on the transcoding path (RFC 4733 §2.3.5, §2.5.1.2)', () => {
  it('rescales durations 8 → 48 kHz, keeps event, E bit and volume, and marks the first packet of each event', () => {
    const path = new TranscodePath({
      from: { pt: 0, encoding: 'PCMU', clockRate: 8000 },
      to: { pt: 111, encoding: 'opus', clockRate: 48000 },
      teFrom: { pt: 101, encoding: 'telephone-event', clockRate: 8000 },
      teTo: { pt: 110, encoding: 'telephone-event', clockRate: 48000 },
    });
    expect(path.isEvent(101)).toBe(true);
    expect(path.isAudio(0)).toBe(true);
    const ev = (e: number, end: boolean, dur: number) =>
      Buffer.from([e, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
    const a = path.event(1000, ev(1, false, 160))!;
    const b = path.event(1000, ev(1, true, 800))!;
    const d = path.event(5000, ev(11, false, 160))!;
    expect([a.newEvent, b.newEvent, d.newEvent]).toEqual([true, false, true]);
    expect(a.payload.readUInt16BE(2)).toBe(960);
    expect(b.payload.readUInt16BE(2)).toBe(4800);
    expect(b.payload[1]).toBe(0x80 | 10);
    expect(d.payload[0]).toBe(11);
    expect(path.event(6000, Buffer.from([1, 2, 3]))).toBeUndefined();
    path.close();
    path.close();
  });
});

describe('capability flags for the SBC', () => {
  it('the built-in engine bridges WebRTC ↔ RTP and transcodes Opus ↔ PCMU/PCMA', () => {
    expect(bridgesWebRtc(CAPABILITIES)).toBe(true);
    expect(bridgesOpusToG711(CAPABILITIES)).toBe(true);
    expect(transcodes(CAPABILITIES, 'OPUS', 'pcma')).toBe(true);
    expect(transcodes(CAPABILITIES, 'opus', 'G729')).toBe(false);
    const passthroughOnly = { ...CAPABILITIES, transcode: [] };
    expect(bridgesWebRtc(passthroughOnly)).toBe(true);
    expect(bridgesOpusToG711(passthroughOnly)).toBe(false);
    expect(transcodes(passthroughOnly, 'PCMU', 'pcmu')).toBe(true);
    expect(bridgesWebRtc({ ...CAPABILITIES, webrtc: false })).toBe(false);
  });
});
