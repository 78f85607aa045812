// The user-agent core on SipStack and the dialog layer, its REGISTER client and SDP helpers.
export {
  DEFAULT_SUPPORTED,
  UserAgentCore,
  type RegisterOptions,
  type UserAgentCoreOptions,
} from './core.js';
export {
  Registration,
  answerDigest,
  type RegistrationCounters,
  type RegistrationInfo,
  type RegistrationOptions,
  type RegistrationState,
} from './register.js';
export { directionOf, holdSdp, resumeSdp, withDirection, type Direction } from './sdp.js';
