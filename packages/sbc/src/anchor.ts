/**
 * The anchoring policy (issue #17 item 2): which calls go through the media engine and which pass
 * with their SDP untouched. Pure: it reads SDP text, zone settings and the engine's capabilities.
 *
 *   caller kind ≠ callee kind (WebRTC ↔ plain RTP)   → anchored, with a WebRTC leg in the engine;
 *                                                      488 when the engine has no WebRTC legs
 *   both users of TFX's own registrar, same kind,     → direct: SDP untouched both ways (the
 *   media can meet (browser ↔ browser; phone ↔ phone    B2BUA still hides the signalling)
 *   in one zone), every zone involved `anchorMedia: auto`
 *   anything else                                    → anchored (a WebRTC side needs the engine's
 *                                                      WebRTC legs too, else 488)
 *
 * A WebRTC endpoint is one whose SDP speaks DTLS-SRTP (`UDP/TLS/RTP/SAVPF`, RFC 5764 §8, or a
 * `a=fingerprint` with an SAVPF profile, RFC 8842) or, for a registered contact, one that
 * registered over SIP-over-WebSocket (RFC 7118): browsers. Everything else is plain RTP.
 */
import type { LegProfile, MediaEngine } from '@tfx/media';
import type { TransportProtocol } from '@tfx/sip';
import type { ZoneSpec } from './types.js';

/** What the SBC does with a call's media toward a zone: `auto` (default) or `always` anchored. */
export type AnchorMedia = 'auto' | 'always';

export type EndpointKind = 'webrtc' | 'rtp';

/** The part of a MediaEngine a call uses: the engine itself, or `directMedia` (SDP untouched). */
export interface MediaPath {
  offer: MediaEngine['offer'];
  answer: MediaEngine['answer'];
  delete(key: { readonly callId: string }): Promise<unknown>;
  /** The call's stats now (the engine's `query`); absent when no engine carries the media. */
  query?: MediaEngine['query'];
}

/** A media path that hands every SDP on as it came: the call is proxied, not anchored. */
export const directMedia: MediaPath = {
  offer: (r) => Promise.resolve({ sdp: r.sdp }),
  answer: (r) => Promise.resolve({ sdp: r.sdp }),
  delete: () => Promise.resolve(undefined),
};

/** The kind of endpoint that wrote `sdp`: WebRTC when an m= line is DTLS-SRTP (RFC 5764 §8). */
export function sdpKind(sdp: string | undefined): EndpointKind {
  if (sdp === undefined) return 'rtp';
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('m=')) continue;
    const proto = line.split(' ')[2] ?? '';
    if (/^UDP\/TLS\/RTP\/SAVPF?$/i.test(proto)) return 'webrtc';
    if (/^RTP\/SAVPF$/i.test(proto) && /^a=fingerprint:/im.test(sdp)) return 'webrtc';
  }
  return 'rtp';
}

/** The kind of a registered contact: over SIP-over-WebSocket a browser, else a phone. */
export function transportKind(t: TransportProtocol): EndpointKind {
  return t === 'ws' || t === 'wss' ? 'webrtc' : 'rtp';
}

/**
 * A WebRTC leg toward a zone (what production SBCs give browsers, flags.ts of rtpengine):
 * `UDP/TLS/RTP/SAVPF`, full ICE, DTLS passive (RFC 5763 §5: the answerer's role; the engine
 * follows `a=setup` of the offer), rtcp-mux required (RFC 8834 §4.5), strict latching.
 */
export function webrtcProfile(zone: ZoneSpec): LegProfile {
  return {
    zone: zone.name,
    mediaAddress: zone.media.address,
    ...(zone.media.advertisedAddress !== undefined && {
      advertisedAddress: zone.media.advertisedAddress,
    }),
    transport: 'UDP/TLS/RTP/SAVPF',
    ice: 'force',
    dtls: 'passive',
    sdes: 'off',
    rtcpMux: 'require',
    latching: 'strict',
    dtmf: 'rfc4733',
  };
}

/** One side of a call as the policy sees it. */
export interface Party {
  readonly zone: ZoneSpec;
  readonly kind: EndpointKind;
  /** A user of TFX's own registrar (authenticated caller, or a registered callee). */
  readonly localUser: boolean;
}

export type AnchorPlan =
  | { readonly mode: 'direct' }
  | { readonly mode: 'anchor' }
  | { readonly mode: 'refuse'; readonly status: 488; readonly warning: string };

/** The text of the Warning (RFC 3261 §20.43, code 399: miscellaneous) when WebRTC is refused. */
export const NO_WEBRTC_WARNING = 'WebRTC to RTP bridging is not available in this media engine';

/**
 * The policy above, for a caller `a` and a callee `b`. `webrtcCapable`: the engine terminates
 * ICE and DTLS-SRTP (`MediaEngine.capabilities.webrtc`; rtpengine yes, the built-in engine once
 * its WebRTC legs land).
 */
export function anchorPlan(a: Party, b: Party, webrtcCapable: boolean): AnchorPlan {
  const auto =
    (a.zone.anchorMedia ?? 'auto') === 'auto' && (b.zone.anchorMedia ?? 'auto') === 'auto';
  const meet = a.kind === b.kind && (a.kind === 'webrtc' || a.zone.name === b.zone.name);
  if (auto && meet && a.localUser && b.localUser) return { mode: 'direct' };
  if ((a.kind === 'webrtc' || b.kind === 'webrtc') && !webrtcCapable) {
    return { mode: 'refuse', status: 488, warning: NO_WEBRTC_WARNING };
  }
  return { mode: 'anchor' };
}
