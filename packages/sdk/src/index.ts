/**
 * @tfx/sdk — the TFX browser SDK. The only public surface of the package.
 *
 * ```ts
 * const client = new TfxClient();
 * const media = await client.createLocalMedia();
 * const room = await client.join('my-room', { name: 'Ann', media });
 * room.on('track', ({ peer, source, track }) => show(peer.id, source, track));
 * ```
 * See docs/sdk.md.
 */
export { TfxClient, type TfxClientOptions, type JoinOptions } from './client.js';
export {
  Room,
  RemotePeer,
  type RoomEvents,
  type TrackEvent,
  type LeaveReason,
  type ScreenShareOptions,
} from './room.js';
export {
  LocalMedia,
  type LocalMediaEvents,
  type EffectsOptions,
  type EffectsState,
} from './local.js';
export {
  MediaManager,
  browserSupport,
  classifyMediaError,
  videoConstraints,
  audioConstraints,
  DEFAULT_CAMERA,
  type AcquireOptions,
  type AcquiredMedia,
  type CameraConstraints,
  type DeviceLists,
  type MediaMode,
  type MediaWarning,
} from './media.js';
export {
  PeerLink,
  isPolite,
  type PeerLinkEvents,
  type PeerLinkOptions,
  type PeerSignal,
  type MediaSource,
  type RemoteTrack,
  type SourceMap,
  type NegotiationCounters,
} from './peer.js';
export {
  SignallingConnection,
  type SignallingEvents,
  type SignallingOptions,
  type SignallingState,
  type TfxSocket,
} from './signalling.js';
export {
  BackoffReconnectPolicy,
  NEVER_RECONNECT,
  type ReconnectPolicy,
  type ReconnectContext,
  type BackoffOptions,
} from './reconnect.js';
export {
  ChatHistory,
  HISTORY_LIMIT,
  MAX_CHAT_TEXT,
  isLongestPresent,
  parseChannelMessage,
  type ChatMessage,
  type ChannelMessage,
} from './chat.js';
export {
  cameraCaps,
  screenCaps,
  audioCaps,
  applyCaps,
  withCaps,
  scaleFor,
  type SenderCaps,
} from './bitrate.js';
export {
  summarizeStats,
  computeQuality,
  type PeerStats,
  type Quality,
  type InboundSummary,
  type OutboundSummary,
} from './stats.js';
export { credentialExpiry, turnRefreshDelay, type IceServerLike } from './turn.js';
export {
  statsSample,
  statsRates,
  sampleStats,
  type StatsSample,
  type StatsRates,
} from './stats-detail.js';
export { Moderator, type ModeratorEvents } from './moderation.js';
export { waitForAdmission } from './lobby.js';
export { TfxSdkError, type TfxSdkErrorCode, type SdkErrorCode } from './errors.js';
export { Emitter, type EventMap, type Listener } from './emitter.js';
export { realClock, type Clock } from './clock.js';
export {
  WidgetTransport,
  attachWidgetTransport,
  type WidgetChannelLike,
  type WidgetPayload,
  type WidgetFrameType,
  type WidgetInbound,
  type WidgetDropReason,
  type WidgetTransportCounters,
  type WidgetTransportEvents,
  type WidgetTransportOptions,
  type WidgetOpenEntry,
} from './widget-transport.js';
export {
  EffectsGovernor,
  EFFECT_LEVELS,
  workingSize,
  quantile,
  type EffectLevel,
  type GovernorDecision,
} from './effects/governor.js';
export { cssFilter } from './effects/filters.js';
export { FaceTrack, type FaceBox } from './effects/face-track.js';
export type { EffectEngines, Segmenter, FaceFinder } from './effects/engines.js';
export type { PipelineStats } from './effects/pipeline.js';
