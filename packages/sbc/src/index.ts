/**
 * @tfx/sbc: the Session Border Controller (layer 2, on @tfx/sip and the MediaEngine contract of
 * @tfx/media). A B2BUA between zones with topology hiding; no HTTP, no config loading: the server
 * validates `sbc.*` and wires it as a module (docs/sbc.md).
 */
export { Sbc, plainProfile, type CallView, type SbcCounters } from './sbc.js';
export {
  SbcCall,
  relayedStatus,
  sipStatusOf,
  type CallState,
  type EndReason,
  type OutgoingInvite,
} from './call.js';
export { ZoneAgent, ALLOW, type ZoneAgentEvents, type ZoneAgentOptions } from './zone.js';
export {
  DEFAULT_SECURITY,
  ZoneSecurityRoute,
  type SecurityCounters,
  type SecurityStage,
  type ZoneSecurity,
} from './security.js';
export { compileRules, normalizeUser, type CompiledRule, type NormalizeRule } from './normalize.js';
export {
  NO_WEBRTC_WARNING,
  anchorPlan,
  directMedia,
  sdpKind,
  transportKind,
  webrtcProfile,
  type AnchorMedia,
  type AnchorPlan,
  type EndpointKind,
  type MediaPath,
  type Party,
} from './anchor.js';
export { ForkedInvite, bestFinal, type BranchStart } from './fork.js';
export {
  LocalUsers,
  type LocalBinding,
  type LocalContact,
  type LocalRegisterInput,
  type LocalRegistrar,
  type LocalUsersCounters,
} from './local.js';
export { compileRoutes, selectTrunks, type CompiledRoute } from './routing.js';
export type {
  RouteSpec,
  SbcConfig,
  SbcOptions,
  TrunkSpec,
  ZoneLimits,
  ZoneListen,
  ZoneSpec,
  WebSocketHost,
} from './types.js';
