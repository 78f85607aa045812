/**
 * The anchoring policy (anchor.ts) and the fork's choice of a final response (fork.ts), as pure
 * functions: which calls pass with their SDP untouched, which go through the engine, which are
 * refused 488 for want of WebRTC legs.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipResponse } from '@tfx/sip';
import {
  NO_WEBRTC_WARNING,
  anchorPlan,
  bestFinal,
  directMedia,
  sdpKind,
  transportKind,
  webrtcProfile,
  type Party,
  type ZoneSpec,
} from '../src/index.js';
import { zone } from './harness.js';

const pub = zone('public', '127.0.0.20');
const core = zone('core', '127.0.0.10');
const always: ZoneSpec = { ...pub, anchorMedia: 'always' };
const party = (z: ZoneSpec, kind: 'webrtc' | 'rtp', localUser = true): Party => ({
  zone: z,
  kind,
  localUser,
});

describe('sdpKind: WebRTC endpoints speak DTLS-SRTP (RFC 5764 §8)', () => {
  it('names UDP/TLS/RTP/SAVPF WebRTC, RTP/SAVPF with a fingerprint WebRTC, anything else plain RTP', () => {
    expect(sdpKind('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n')).toBe('webrtc');
    expect(sdpKind('v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=fingerprint:sha-256 AA\r\n')).toBe('webrtc');
    expect(sdpKind('v=0\r\nm=audio 9 RTP/SAVPF 0\r\n')).toBe('rtp');
    expect(sdpKind('v=0\r\nm=audio 4000 RTP/AVP 0 8\r\n')).toBe('rtp');
    expect(sdpKind(undefined)).toBe('rtp');
    expect(sdpKind('garbage\nm=\nm=audio')).toBe('rtp');
  });

  it('names contacts registered over WebSocket (RFC 7118) WebRTC', () => {
    expect(transportKind('ws')).toBe('webrtc');
    expect(transportKind('wss')).toBe('webrtc');
    expect(transportKind('udp')).toBe('rtp');
    expect(transportKind('tcp')).toBe('rtp');
  });
});

describe('anchorPlan', () => {
  it('passes phone ↔ phone in one zone and browser ↔ browser anywhere untouched with anchorMedia auto', () => {
    expect(anchorPlan(party(pub, 'rtp'), party(pub, 'rtp'), false)).toEqual({ mode: 'direct' });
    expect(anchorPlan(party(pub, 'webrtc'), party(core, 'webrtc'), false)).toEqual({
      mode: 'direct',
    });
  });

  it('anchors phones of two zones, a caller who is no user of ours, and any zone set to always', () => {
    expect(anchorPlan(party(pub, 'rtp'), party(core, 'rtp'), false).mode).toBe('anchor');
    expect(anchorPlan(party(pub, 'rtp', false), party(pub, 'rtp'), false).mode).toBe('anchor');
    expect(anchorPlan(party(always, 'rtp'), party(always, 'rtp'), false).mode).toBe('anchor');
    expect(anchorPlan(party(pub, 'rtp'), party(always, 'rtp'), false).mode).toBe('anchor');
  });

  it('always bridges WebRTC ↔ plain RTP through the engine, and refuses it 488 when the engine has no WebRTC legs', () => {
    expect(anchorPlan(party(pub, 'webrtc'), party(pub, 'rtp'), true).mode).toBe('anchor');
    expect(anchorPlan(party(core, 'rtp', false), party(pub, 'webrtc'), true).mode).toBe('anchor');
    expect(anchorPlan(party(pub, 'webrtc'), party(pub, 'rtp'), false)).toEqual({
      mode: 'refuse',
      status: 488,
      warning: NO_WEBRTC_WARNING,
    });
    // anchorMedia: always between browsers needs WebRTC legs in the engine too.
    expect(anchorPlan(party(always, 'webrtc'), party(always, 'webrtc'), false).mode).toBe('refuse');
  });

  it('describes a WebRTC leg as browsers need it: SAVPF over DTLS, ICE, rtcp-mux, on the zone address', () => {
    expect(webrtcProfile(pub)).toMatchObject({
      zone: 'public',
      mediaAddress: '127.0.0.20',
      transport: 'UDP/TLS/RTP/SAVPF',
      ice: 'force',
      rtcpMux: 'require',
    });
  });

  it('hands SDP on untouched on the direct path', async () => {
    const sdp = 'v=0\r\nc=IN IP4 10.1.2.3\r\nm=audio 4000 RTP/AVP 0\r\n';
    const from = webrtcProfile(pub);
    expect((await directMedia.offer({ callId: 'c', fromTag: 'a', sdp, from, to: from })).sdp).toBe(
      sdp,
    );
    expect((await directMedia.answer({ callId: 'c', fromTag: 'a', toTag: 'b', sdp })).sdp).toBe(
      sdp,
    );
  });
});

describe('bestFinal (RFC 3261 §16.7 step 6)', () => {
  const resp = (status: number): SipResponse => {
    const r = parseMessage(
      new TextEncoder().encode(
        `SIP/2.0 ${status} X\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
      ),
    );
    if (!r.ok || r.message.kind !== 'response') throw new Error('bad test response');
    return r.message;
  };

  it('prefers a 6xx, else the lowest class, the first of it', () => {
    expect(bestFinal([resp(486), resp(603), resp(503)])?.status).toBe(603);
    expect(bestFinal([resp(503), resp(486), resp(480)])?.status).toBe(486);
    expect(bestFinal([])).toBeUndefined();
  });
});
