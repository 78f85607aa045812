/** The WebRTC ↔ SIP gateway's server side: room dial-out (docs/sdk.md, "Calling phones"). */
export { createGatewayModule, type GatewayModule, type GatewayModuleOptions } from './module.js';
export { RoomDialOut, dialOutKey, DIAL_OUT_TTL_MS, type DialOutCredential } from './dial-out.js';
