/**
 * Widget contracts without zod (`@tfx/protocol/widgets`): the host↔widget envelope and the
 * peer↔peer wire frame, plus the manifest's types. The zod manifest schema is exported from the
 * package root (`@tfx/protocol`), which the server and the call page use.
 */
export * from './wire.js';
export * from './envelope.js';
export * from './media-names.js';
export type {
  MediaRequest,
  MediaRequestInput,
  OverlayShape,
  VideoProcessorChain,
  VideoProcessorSpec,
  VideoProcessorStep,
  WidgetMediaPermission,
  WidgetMediaPermissions,
} from './media.js';
export type {
  PluginType,
  WidgetManifest,
  WidgetManifestEntry,
  WidgetPermissions,
  WidgetList,
} from './manifest.js';
