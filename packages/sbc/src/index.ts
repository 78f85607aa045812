/**
 * @tfx/sbc: the Session Border Controller (layer 2, on @tfx/sip and the MediaEngine contract of
 * @tfx/media). A B2BUA between zones with topology hiding; no HTTP, no config loading: the server
 * validates `sbc.*` and wires it as a module (docs/sbc.md).
 */
export { Sbc, plainProfile, type CallView, type SbcCounters } from './sbc.js';
export {
  RESOURCE_PRIORITY,
  emergencyTrunks,
  isEmergency,
  withResourcePriority,
  type EmergencySpec,
} from './emergency.js';
export {
  SbcCall,
  relayedStatus,
  sipStatusOf,
  type CallState,
  type EndReason,
  type OutgoingInvite,
} from './call.js';
export { ZoneAgent, ALLOW, allowOf, type ZoneAgentEvents, type ZoneAgentOptions } from './zone.js';
export {
  PER_LEG_HEADERS,
  PER_LEG_OPTION_TAGS,
  ZONE_SESSION_TIMER,
  continueOrigin,
  sameSdp,
  sessionTimerOf,
  stripPerLegTags,
} from './per-leg.js';
export { executeRefer, referUser, type TransferCounters, type TransferRoute } from './transfer.js';
export { onRefer } from './refer-policy.js';
export {
  DEFAULT_SECURITY,
  ZoneSecurityRoute,
  type SecurityCounters,
  type SecurityStage,
  type ZoneSecurity,
} from './security.js';
export {
  NO_RULES,
  RuleProblem,
  applyHeaderRules,
  compileRules,
  normalizeUser,
  ruleProblem,
  type CompiledHeaderRule,
  type CompiledRules,
  type CompiledUserRule,
  type HeaderAction,
  type HeaderRule,
  type NormalizeRule,
  type UserField,
  type UserRule,
} from './normalize.js';
export {
  DEFAULT_ALLOW_HEADERS,
  LEG_HEADERS,
  NEVER_CROSS,
  allowEntryProblem,
  compileAllowList,
  crossing,
  headerNameProblem,
  optionTagProblem,
  stripOptionTags,
  type AllowList,
  type HeaderPair,
} from './headers.js';
export { MAX_PATTERN, compilePattern, nestedQuantifier, patternProblem } from './pattern.js';
export {
  MAX_ALLOW,
  MAX_ROUTES,
  MAX_RULES,
  MAX_TAGS,
  MAX_TRUNKS,
  MAX_ZONES,
  compileRuleSet,
  legBRequest,
  reloadPlan,
  type LegBInput,
  type LegBRequest,
  type RuleSet,
} from './rules.js';
export {
  Acl,
  canonicalCidr,
  cidrContains,
  parseAddress,
  parseCidr,
  type AclDecision,
  type AclSpec,
  type Cidr,
} from './acl.js';
export { ZoneAccess, type AccessCounters } from './access.js';
export { AUTHENTICATED_METHODS, SbcAuth, type AuthOutcome } from './auth.js';
export {
  BLACKLIST_MAX,
  Blacklist,
  type BlacklistAdd,
  type BlacklistEntry,
  type BlacklistOrigin,
} from './blacklist.js';
export {
  FraudGuard,
  type FraudCounters,
  type FraudDecision,
  type FraudLimits,
  type FraudRefusal,
} from './fraud.js';
export {
  RegistrationRelay,
  REGISTRATION_DEFAULTS,
  type BindingTarget,
  type InnerRegistrarSpec,
  type RegistrationCounters,
} from './registrar.js';
export {
  CallJournal,
  type CallRecord,
  type CallStore,
  type LegRecord,
  type RecoveryCounters,
} from './recovery.js';
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
export {
  DEFAULT_THRESHOLDS,
  MAX_RATES,
  WEEKDAYS,
  baseOrder,
  belowThresholds,
  compileRoutes,
  dialedDigits,
  matchRate,
  orderTrunks,
  parseHhMm,
  selectTrunks,
  timezoneProblem,
  weightedOrder,
  type CompiledRoute,
  type QualityThresholds,
  type RateEntry,
  type RateWindow,
  type RoutePolicy,
  type RouteRouting,
  type SelectContext,
  type TrunkRouting,
  type Weekday,
} from './routing.js';
export {
  DEFAULT_QUALITY_WINDOW,
  MAX_WINDOW_CALLS,
  QualityMeter,
  QualityTracker,
  type QualityCall,
  type QualitySample,
  type QualityWindow,
  type TrunkQuality,
} from './quality.js';
export type {
  ReferPolicy,
  ZoneSessionTimer,
  RouteSpec,
  SbcConfig,
  SbcOptions,
  TrunkSpec,
  ZoneLimits,
  ZoneListen,
  ZoneSpec,
  WebSocketHost,
} from './types.js';
export {
  DRAIN_MS,
  LawfulIntercept,
  canonicalNumber,
  factsOf,
  matchTarget,
  type CallFacts,
  type InterceptChannel,
  type InterceptCounters,
  type InterceptDelivery,
  type InterceptKind,
  type InterceptRecord,
  type InterceptTarget,
  type MediaLegMap,
} from './intercept.js';
export { CdrTracker, type CdrParties, type CdrRecord, type CdrSink, type CdrTry } from './cdr.js';
export {
  DEFAULT_PROBE,
  TrunkHealth,
  TrunkProbes,
  noTrunkLeft,
  probeAnswered,
  trunkProbes,
  type ProbeSpec,
  type ProbedTrunk,
  type TrunkProbesOptions,
  type TrunkState,
  type TrunkStatus,
} from './probe.js';
export {
  UpstreamRegistrations,
  refreshSeconds,
  retrySeconds,
  UPSTREAM_MIN_REFRESH_SECONDS,
  UPSTREAM_RETRY_MAX_SECONDS,
  UPSTREAM_RETRY_SECONDS,
  type UpstreamSpec,
  type UpstreamState,
  type UpstreamStatus,
} from './upstream.js';
export {
  applyCodecPolicy,
  sdpForTrunk,
  withCodecPolicy,
  type CodecPolicy,
  type CodecPolicyResult,
} from './codec-policy.js';
export {
  AdmissionLedger,
  type AdmissionCounters,
  type AdmissionDecision,
  type AdmissionLimit,
  type AdmissionRequest,
  type AdmissionScope,
  type AdmissionSpec,
  type RateLimits,
  type ZoneAdmission,
} from './admission.js';
export { admitCall, PREEMPTION_REASON, PORTS_PER_STREAM } from './admit.js';
export {
  sdpBandwidthKbps,
  sdpStreamCount,
  DEFAULT_VIDEO_KBPS,
  LATE_OFFER_KBPS,
} from './bandwidth.js';
export {
  DtmfInterworking,
  dtmfRelayBody,
  parseDtmfInfo,
  type DtmfCounters,
  type InfoDigit,
} from './dtmf.js';
export {
  announcementMs,
  failureTone,
  standInAnswer,
  type CallTones,
  type ToneCounters,
  type ZoneTones,
} from './tones.js';
