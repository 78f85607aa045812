import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LegProfile } from '../../src/engine/types.js';
import {
  answerKeys,
  keepSetup,
  setupOf,
  offerKeys,
  rejectNonRtp,
  rejectUnwantedSavp,
} from '../../src/rtpengine/flags.js';
import { activityOf, callStatsOf } from '../../src/rtpengine/stats.js';
import type { BDict, BValue } from '../../src/rtpengine/bencode.js';

const sip: LegProfile = {
  zone: 'public',
  mediaAddress: '127.0.0.20',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const webrtc: LegProfile = {
  zone: 'webrtc',
  mediaAddress: '127.0.0.30',
  transport: 'UDP/TLS/RTP/SAVPF',
  ice: 'force',
  dtls: 'passive',
  rtcpMux: 'require',
  latching: 'strict',
  dtmf: 'rfc4733',
};

describe('leg profiles → ng keys', () => {
  it('toward a SIP phone: RTP/AVP, ICE=remove, DTLS=off, SDES-off, rtcp-mux demux, strict source', () => {
    const k = offerKeys(webrtc, sip);
    expect(k).toMatchObject({
      'transport-protocol': 'RTP/AVP',
      ICE: 'remove',
      DTLS: 'off',
      SDES: ['off'],
      'rtcp-mux': ['demux'],
      'address family': 'IP4',
      replace: ['origin', 'session-connection'],
    });
    expect(k.flags).toEqual(
      expect.arrayContaining(['trust-address', 'strict-source', 'endpoint-learning-immediate']),
    );
    expect(k.flags).not.toContain('generate-mid');
  });

  it('toward a browser: UDP/TLS/RTP/SAVPF, ICE=force, DTLS=passive, rtcp-mux require, generate mid', () => {
    const k = offerKeys(sip, webrtc);
    expect(k).toMatchObject({
      'transport-protocol': 'UDP/TLS/RTP/SAVPF',
      ICE: 'force',
      DTLS: 'passive',
      SDES: ['off'],
      'rtcp-mux': ['require'],
    });
    expect(k.flags).toContain('generate-mid');
    expect(k.flags).toContain('no-rtcp-attribute');
    expect(offerKeys(webrtc, sip).flags).not.toContain('no-rtcp-attribute');
    expect(answerKeys(sip, webrtc)['rtcp-mux']).toEqual(['require']);
    // Answering a browser, the DTLS role follows its a=setup (never forced passive: rtpengine#2145).
    expect(answerKeys(sip, webrtc).DTLS).toBeUndefined();
    expect(answerKeys(sip, { ...webrtc, dtls: 'active' }).DTLS).toBe('active');
    expect(answerKeys(sip, webrtc)['transport-protocol']).toBeUndefined();
  });

  it('maps ICE lite, ptime, codecs (offer = only these, in order; strip; transcode), IPv6, SDES offer and no latching', () => {
    const to: LegProfile = {
      ...sip,
      mediaAddress: '::1',
      ice: 'lite',
      ptime: 30,
      sdes: 'offer',
      latching: 'off',
      codecs: { offer: ['PCMA', 'PCMU'], strip: ['G729'], transcode: ['opus'] },
    };
    const k = offerKeys({ ...sip, latching: 'off' }, to);
    expect(k).toMatchObject({
      ICE: 'force',
      'ICE-lite': 'forward',
      ptime: 30,
      'address family': 'IP6',
      codec: { strip: ['all', 'G729'], offer: ['PCMA', 'PCMU'], transcode: ['opus'] },
    });
    expect(k.SDES).toBeUndefined();
    expect(k.flags).toContain('endpoint-learning-off');
    expect(offerKeys(sip, { ...sip, family: 'IP6' })['address family']).toBe('IP6');
  });

  it('keeps a settled DTLS role in a re-offer (RFC 8842 §5.5): actpass becomes the role, nothing else changes', () => {
    const sdp = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=setup:actpass\r\na=setup:actpassive\r\n';
    expect(setupOf(sdp)).toBe('actpass');
    expect(setupOf('v=0\nm=audio 9 RTP/AVP 0\n')).toBeUndefined();
    const kept = keepSetup(sdp, 'passive');
    expect(kept).toBe(sdp.replace('a=setup:actpass\r\n', 'a=setup:passive\r\n'));
    expect(setupOf(kept)).toBe('passive');
    expect(keepSetup('a=setup:active\n', 'passive')).toBe('a=setup:active\n');
  });

  it('sends the media DSCP as the ng TOS key (EF = 184) only when configured', () => {
    expect(offerKeys(sip, sip, { tos: 184 }).TOS).toBe(184);
    expect(offerKeys(sip, sip).TOS).toBeUndefined();
  });

  it('names the rtpengine interfaces of both zones in direction, and only when both are known', () => {
    const interfaces = { public: 'pub', webrtc: 'web' };
    expect(offerKeys(sip, webrtc, { interfaces }).direction).toEqual(['pub', 'web']);
    expect(offerKeys(sip, { ...webrtc, zone: 'other' }, { interfaces }).direction).toBeUndefined();
    expect(offerKeys(sip, webrtc).direction).toBeUndefined();
    expect(offerKeys(sip, sip, { injectDtmf: true }).flags).toContain('inject-DTMF');
  });

  const dual = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 4000 RTP/SAVP 0',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
    'm=audio 4000 RTP/AVP 0',
    '',
  ].join('\r\n');

  it('RFC 3264 §6: rejects (port 0) the SAVP line of a dual SAVP+AVP offer when the side does not terminate SDES', () => {
    const r = rejectUnwantedSavp(dual, sip);
    expect(r.rejected).toBe(1);
    expect(r.sdp).toContain('\r\nm=audio 0 RTP/SAVP 0\r\n');
    expect(r.sdp).toContain('\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect(rejectUnwantedSavp(dual, { ...sip, sdes: 'terminate' }).rejected).toBe(0);
    const savpOnly = dual.replace('m=audio 4000 RTP/AVP 0\r\n', '');
    expect(rejectUnwantedSavp(savpOnly, sip)).toEqual({ sdp: savpOnly, rejected: 0 });
  });

  it('RFC 3264 §6: rejects (port 0) streams rtpengine cannot relay (MSRP, UDPTL, unknown), keeps RTP lines and the line order', () => {
    const mixed = dual
      .replace('m=audio 4000 RTP/SAVP 0', 'm=message 5000 TCP/MSRP *')
      .replace('m=audio 4000 RTP/AVP 0', 'm=image 6000/2 udptl t38\r\nm=audio 4000 RTP/AVP 0');
    const r = rejectNonRtp(mixed);
    expect(r.rejected).toBe(2);
    expect(r.sdp).toContain('\r\nm=message 0 TCP/MSRP *\r\n');
    expect(r.sdp).toContain('\r\nm=image 0 udptl t38\r\n');
    expect(r.sdp).toContain('\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect(rejectNonRtp(dual)).toEqual({ sdp: dual, rejected: 0 });
  });
});

/** A query reply as rtpengine 10.5.3.5 sent it (trimmed), with RTCP-derived MOS under B's SSRC. */
const reply: BDict = {
  created: 1796562508,
  created_us: 844681,
  SSRC: {
    '2222': {
      'cumulative loss': 12,
      'average MOS': {
        MOS: 41,
        'round-trip time': 20_000,
        jitter: 3,
        'packet loss': 5,
        samples: 4,
      },
    },
  },
  tags: {
    A: {
      tag: 'A',
      subscribers: [{ tag: 'B', type: 'offer/answer' }],
      medias: [
        {
          codec: 'PCMU/8000',
          flags: ['initialized', 'send', 'recv'],
          streams: [
            {
              'local port': 13286,
              'local address': '127.0.0.1',
              endpoint: { family: 'IPv4', address: '127.0.0.1', port: 41733 },
              flags: ['RTP', 'filled', 'confirmed', 'strict source address'],
              SSRC: 1111,
              stats: { packets: 40, bytes: 6880, errors: 2 },
            },
            { 'local port': 13287, flags: ['RTCP'], stats: { packets: 3, bytes: 300, errors: 0 } },
          ],
        },
      ],
    },
    B: {
      tag: 'B',
      subscribers: [{ tag: 'A', type: 'offer/answer' }],
      medias: [
        {
          flags: ['initialized', 'recv'],
          streams: [
            {
              'local port': 13274,
              'local address': '127.0.0.1',
              flags: ['RTP', 'filled'],
              SSRC: 2222,
              stats: { packets: 10, bytes: 1720, errors: 0 },
            },
          ],
        },
      ],
    },
  },
  result: 'ok',
};

describe('query reply → CallStats', () => {
  it('maps each party: its socket, latched endpoint, direction, counters, and the MOS of its stream from its receiver’s RTCP', () => {
    const s = callStatsOf('c1', reply, new Map([['A', sip]]));
    expect(s.callId).toBe('c1');
    expect(s.createdAt).toBe(1796562508844);
    const a = s.legs.find((l) => l.tag === 'A')!;
    const b = s.legs.find((l) => l.tag === 'B')!;
    expect(a).toMatchObject({
      zone: 'public',
      local: { address: '127.0.0.1', port: 13286 },
      remote: { address: '127.0.0.1', port: 41733 },
      latched: true,
      direction: 'sendrecv',
      codec: 'PCMU/8000',
      packetsIn: 40,
      bytesIn: 6880,
      packetsOut: 10,
      bytesOut: 1720,
      dropped: 2,
      packetsLost: 12,
      jitterMs: 3,
      rttMs: 20,
      mos: 4.1,
      ssrcIn: 1111,
    });
    // rtpengine's media flags are the engine's view: B's `recv` = the engine receives from B = B
    // sends (measured on 10.5.3.5 with a sendonly offer: features.int.test.ts media-timeout case).
    expect(b).toMatchObject({
      latched: false,
      direction: 'sendonly',
      packetsIn: 10,
      packetsOut: 40,
    });
    expect(b.mos).toBeUndefined();
    expect(b.remote).toBeUndefined();
  });

  it('never throws on a hostile or empty reply (property)', () => {
    const v: fc.Arbitrary<BValue> = fc.letrec<{ v: BValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 8 }),
        fc.integer(),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom(
            'tags',
            'SSRC',
            'medias',
            'streams',
            'stats',
            'flags',
            'A',
            'B',
            'SSRC',
            'average MOS',
            'subscribers',
            'tag',
            'MOS',
          ),
          tie('v'),
          { maxKeys: 5 },
        ),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('tags', 'SSRC', 'created'), v), (d) => {
        const s = callStatsOf('x', d);
        expect(Array.isArray(s.legs)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(callStatsOf('x', {}).legs).toEqual([]);
  });
});

describe('activityOf (media timeout input)', () => {
  it("takes each party's newest last packet and whether it may send (the engine's recv flag)", () => {
    const reply: BDict = {
      created: 1000,
      tags: {
        A: {
          medias: [
            { flags: ['recv'], streams: [{ 'last packet': 1005 }, { 'last packet': 1007 }] },
          ],
        },
        B: { medias: [{ flags: ['send'], streams: [{ 'last packet': 0 }] }] },
        '': { medias: [] },
        C: 'garbage' as unknown as BValue,
      },
    };
    expect(activityOf(reply)).toEqual([
      { tag: 'A', lastPacketMs: 1_007_000, sends: true },
      // Never sent: counted from the call's creation.
      { tag: 'B', lastPacketMs: 1_000_000, sends: false },
      { tag: 'C', lastPacketMs: 1_000_000, sends: false },
    ]);
    expect(activityOf({})).toEqual([]);
  });
});
