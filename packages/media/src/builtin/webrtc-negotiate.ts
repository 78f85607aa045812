/**
 * The WebRTC side of a stream in the engine's offer/answer (main thread): our ICE-lite
 * credentials, the DTLS role from the browser's `a=setup`, and the lines written toward it.
 * docs/media.md, "WebRTC legs and the gateway".
 */
import { randomBytes } from 'node:crypto';
import { TfxError } from '@tfx/protocol';
import type { LegProfile, MediaAddress } from '../engine/types.js';
import {
  direction as sdpDirection,
  type Direction,
  type SessionDescription,
} from '../sdp/model.js';
import type { SdpLine } from '../sdp/model.js';
import {
  answerRole,
  iceToken,
  offererRole,
  remoteWebRtc,
  webrtcLines,
  type RemoteWebRtc,
} from '../webrtc/sdp.js';

export interface StreamWebRtc {
  localUfrag: string;
  localPwd: string;
  role: 'client' | 'server' | undefined;
  remote: RemoteWebRtc | undefined;
  mid: string | undefined;
  /** The peer's best candidate when it is ICE-lite too. */
  liteRemote?: MediaAddress | undefined;
}

/** The parts of the engine's stream this module reads and writes. */
export interface WebRtcStream {
  webrtc?: StreamWebRtc;
  remote: MediaAddress | null;
  rtcpRemote: MediaAddress | null;
  rtcpMux: boolean;
  direction: Direction;
  readonly port: number;
  readonly ssrcOut: number;
}

/** RFC 8839 §5.4: ufrag ≥ 24 bits and pwd ≥ 128 bits of randomness (we use 48 and 144). */
function newIce(): { localUfrag: string; localPwd: string } {
  return { localUfrag: iceToken(randomBytes(6)), localPwd: iceToken(randomBytes(18)) };
}

function ensure(s: WebRtcStream): StreamWebRtc {
  return (s.webrtc ??= { ...newIce(), role: undefined, remote: undefined, mid: undefined });
}

/**
 * A WebRTC party's SDP for stream `i` (its offer or its answer): its ICE credentials, its
 * fingerprints, and our DTLS role from its `a=setup` (RFC 8842 §5.3), kept across re-offers
 * while the association lives (rtpengine#2156). A new ufrag is an ICE restart (RFC 8839
 * §4.4.1.1.1): our credentials change too, the DTLS association stays (rtpengine#1019).
 */
function take(
  s: WebRtcStream,
  sdp: SessionDescription,
  i: number,
  role: (r: RemoteWebRtc) => 'client' | 'server' | undefined,
): void {
  const m = sdp.media[i]!;
  const r = remoteWebRtc(sdp, m);
  if (!r.ok) throw new TfxError('media-not-acceptable', `m-line ${i + 1}: ${r.reason}`);
  const w = ensure(s);
  if (w.remote && w.remote.ufrag !== r.value.ufrag) Object.assign(w, newIce());
  const sameCert =
    w.remote &&
    w.remote.fingerprints.some((f) => r.value.fingerprints.some((g) => g.value === f.value));
  if (!w.role || !sameCert) w.role = role(r.value);
  if (!w.role)
    throw new TfxError(
      'media-not-acceptable',
      `m-line ${i + 1}: a=setup:${r.value.setup} leaves no DTLS role`,
    );
  w.remote = r.value;
  if (r.value.mid !== undefined) w.mid = r.value.mid;
  // ICE finds the browser's address (candidates may trickle): c=0.0.0.0 is not a hold here.
  // RFC 8445 §6.1.1: with a lite peer nobody checks; its best candidate is the pair.
  w.liteRemote = r.value.iceLite ? r.value.candidates[0] : undefined;
  s.remote = null;
  s.rtcpRemote = null;
  s.rtcpMux = true;
  s.direction = sdpDirection(sdp, m);
}

/** The browser offered: we answer it, in the role the profile prefers for `actpass`. */
export function webrtcOffered(
  s: WebRtcStream,
  sdp: SessionDescription,
  i: number,
  profile: LegProfile,
): void {
  take(s, sdp, i, (r) => answerRole(r.setup, profile.dtls));
}

/** The browser answered our offer: its `a=setup` decides our role. */
export function webrtcAnswered(s: WebRtcStream, sdp: SessionDescription, i: number): void {
  take(s, sdp, i, (r) => offererRole(r.setup));
}

/** Our WebRTC lines toward a browser's stream: actpass in a first offer, then our role. */
export function webrtcLinesToward(
  s: WebRtcStream,
  i: number,
  profile: LegProfile,
  fingerprint: string,
): SdpLine[] {
  const w = ensure(s);
  w.mid ??= String(i);
  const setup = w.role ? (w.role === 'server' ? 'passive' : 'active') : 'actpass';
  return webrtcLines({
    ufrag: w.localUfrag,
    pwd: w.localPwd,
    fingerprint,
    setup,
    address: profile.advertisedAddress ?? profile.mediaAddress,
    port: s.port,
    mid: w.mid,
    ssrc: s.ssrcOut,
    cname: 'tfx',
  });
}
