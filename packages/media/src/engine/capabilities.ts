/**
 * Reading a MediaEngine's capabilities for the gateway decision (pure). The SBC routes a call
 * between a WebRTC leg (`UDP/TLS/RTP/SAVPF`) and a plain-RTP leg through the engine only when the
 * engine terminates ICE + DTLS-SRTP (`webrtc`) and, for a browser that offers no G.711, can
 * transcode Opus to the phone's codec.
 */
import type { MediaCapabilities } from './types.js';

/** Whether the engine can bridge a WebRTC leg and a plain RTP leg at all (shared codec: passthrough). */
export function bridgesWebRtc(caps: MediaCapabilities): boolean {
  return caps.webrtc;
}

/** Whether it can also transcode `from` ↔ `to` (codec names as in `a=rtpmap`, any case). */
export function transcodes(caps: MediaCapabilities, from: string, to: string): boolean {
  const has = (n: string): boolean =>
    caps.transcode.some((t) => t.toLowerCase() === n.toLowerCase());
  return from.toLowerCase() === to.toLowerCase() || (has(from) && has(to));
}

/** The gateway case of issue #20: an Opus-only browser and a PCMU/PCMA phone. */
export function bridgesOpusToG711(caps: MediaCapabilities): boolean {
  return caps.webrtc && transcodes(caps, 'opus', 'PCMU') && transcodes(caps, 'opus', 'PCMA');
}
