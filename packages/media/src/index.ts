/**
 * @tfx/media: the media plane (layer 1, imports @tfx/protocol only).
 * The MediaEngine contract, and (as they land) SDP, RTP/RTCP, STUN, the built-in engine and the
 * rtpengine backend.
 */
export type * from './engine/types.js';
export { MediaEventHub } from './engine/events.js';
export { bridgesOpusToG711, bridgesWebRtc, transcodes } from './engine/capabilities.js';
export * as sdp from './sdp/index.js';
export * as stun from './stun/codec.js';
export * as rtp from './rtp/index.js';
export * as codec from './codec/index.js';
export * from './builtin/index.js';
export {
  RtpengineEngine,
  createRtpengineEngine,
  type RtpengineEngineOptions,
} from './rtpengine/index.js';
export { decodeWav, readWav } from './builtin/sources.js';
