/**
 * Names and limits of the media capabilities (no zod: the widget SDK bundle imports these).
 *
 * A sandboxed widget never receives a `MediaStreamTrack`, a `VideoFrame` or a frame stream
 * (Chromium refuses to hand them to an opaque-origin frame); it asks the host for what it may
 * have, over its port, by the request types below, each gated by one key of the manifest's
 * `permissions.media`. The zod schemas of the requests, the processor specs, the overlay shapes
 * and the manifest key live in `media.ts` (the host validates with them).
 *
 * Extending: a new capability adds its request type here, its schema and permission key in
 * `media.ts`, and (if the host pushes data) its event type to `MEDIA_EVENT_TYPES` and the
 * envelope's `HostToWidget`.
 */

/** Widget → host media requests. Each names the `permissions.media` key that grants it. */
export const MEDIA_REQUEST_TYPES = [
  'media.processor.set',
  'media.frames.subscribe',
  'media.frames.unsubscribe',
  'media.overlay.set',
] as const;
export type MediaRequestType = (typeof MEDIA_REQUEST_TYPES)[number];

/** Host → widget media envelopes. */
export const MEDIA_EVENT_TYPES = ['media.ack', 'media.frame', 'media.processor'] as const;
export type MediaEventType = (typeof MEDIA_EVENT_TYPES)[number];

export function isMediaRequestType(v: unknown): v is MediaRequestType {
  return typeof v === 'string' && (MEDIA_REQUEST_TYPES as readonly string[]).includes(v);
}

export const MEDIA_LIMITS = {
  /** Still frames to a widget: at most this many per second. */
  framesMaxFps: 5,
  /** Still frames to a widget: at most this wide (height follows the aspect ratio). */
  framesMaxWidth: 640,
  /** Steps in one processor chain. */
  chainMax: 4,
  /** Shapes in one `media.overlay.set`. */
  overlayMaxShapes: 32,
  /** Points in one polyline. */
  polylineMaxPoints: 64,
  /** Characters of a text shape or a name badge. */
  textMax: 64,
  /** Blur strength (CSS pixels of the blur radius at 640 wide). */
  blurMax: 20,
  /** `data:` URL of a background image (the user's own picture, kept local). */
  backgroundDataUrlMax: 4 * 1024 * 1024,
} as const;

/** Colour filters (a canvas/GPU pass, no model). */
export const VIDEO_FILTER_NAMES = [
  'grayscale',
  'sepia',
  'warm',
  'cool',
  'high-contrast',
  'vivid',
  'invert',
] as const;
export type VideoFilterName = (typeof VIDEO_FILTER_NAMES)[number];

/** Backgrounds TFX ships (drawn images served from its own origin). */
export const BUILTIN_BACKGROUNDS = ['office', 'shelves', 'sunset', 'plain'] as const;
export type BuiltinBackground = (typeof BUILTIN_BACKGROUNDS)[number];

/** Stickers the host draws (a widget names one; it never supplies pixels). */
export const BUILTIN_STICKERS = ['star', 'heart', 'crown', 'glasses', 'party'] as const;
export type BuiltinSticker = (typeof BUILTIN_STICKERS)[number];

/** What the face-overlay processor draws around a detected face. */
export const FACE_OVERLAY_STYLES = ['frame', 'sticker', 'badge', 'centre'] as const;
export type FaceOverlayStyle = (typeof FACE_OVERLAY_STYLES)[number];

/** Types of processor steps. */
export const VIDEO_PROCESSOR_TYPES = [
  'blur',
  'background-image',
  'filter',
  'face-overlay',
] as const;
export type VideoProcessorType = (typeof VIDEO_PROCESSOR_TYPES)[number];

/** Kinds of overlay shapes a widget may send. */
export const OVERLAY_SHAPE_KINDS = ['rect', 'ellipse', 'polyline', 'text', 'sticker'] as const;
export type OverlayShapeKind = (typeof OVERLAY_SHAPE_KINDS)[number];
