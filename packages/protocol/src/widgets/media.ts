/**
 * Media capabilities, declared once (zod): the video processor specs (`room.setVideoProcessor`
 * in the SDK and `media.processor.set` from a widget take the same spec), the overlay shapes a
 * widget may send, the manifest's `permissions.media`, and the widget → host media requests.
 *
 * Exported from the package root (with zod); `@tfx/protocol/widgets` carries only the types and
 * the names in `media-names.ts`, so the widget SDK stays free of zod. The host validates every
 * media request with `parseMediaRequest` and checks it against the manifest with
 * `mediaRequestAllowed` before doing anything.
 *
 * Extending (audio levels, captions …): add the request's schema to `MEDIA_REQUEST_SCHEMAS`, its
 * name to `MEDIA_REQUEST_TYPES`, its key to `widgetMediaPermissionsSchema` and its line to
 * `MEDIA_REQUEST_PERMISSION`. The tests check that the four agree.
 */
import { z } from 'zod';
import {
  BUILTIN_BACKGROUNDS,
  BUILTIN_STICKERS,
  FACE_OVERLAY_STYLES,
  MEDIA_LIMITS,
  MEDIA_REQUEST_TYPES,
  VIDEO_FILTER_NAMES,
  type MediaRequestType,
} from './media-names.js';
import { WIDGET_ID_MAX, WIDGET_ID_PATTERN } from './wire.js';

export * from './media-names.js';

// --- video processor specs ---------------------------------------------------------------------

/**
 * An image the user picked (`data:image/…;base64,` or a `blob:` URL of this page) or a path on
 * TFX's own origin. Absolute http(s) URLs are refused: the call page never fetches another host.
 */
export function isLocalImageUrl(v: string): boolean {
  if (v.startsWith('/') && !v.startsWith('//')) return !/[\s\\]/.test(v) && v.length <= 2048;
  if (v.startsWith('blob:')) return v.length <= 2048 && !/\s/.test(v);
  return /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$/.test(v);
}

const colourSchema = z
  .string()
  .regex(
    /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/,
    'expected #rgb, #rrggbb or #rrggbbaa',
  );

/** Text drawn by the host: no control characters, bounded. */
const overlayTextSchema = z
  .string()
  .max(MEDIA_LIMITS.textMax)
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(s), {
    message: 'control or bidi-override characters are not allowed',
  });

export const blurStepSchema = z.strictObject({
  type: z.literal('blur'),
  strength: z
    .number()
    .min(1)
    .max(MEDIA_LIMITS.blurMax)
    .optional()
    .describe('Blur radius in pixels at 640 wide (default 10).'),
});

export const backgroundStepSchema = z
  .strictObject({
    type: z.literal('background-image'),
    background: z.enum(BUILTIN_BACKGROUNDS).optional().describe('A background TFX ships.'),
    url: z
      .string()
      .max(MEDIA_LIMITS.backgroundDataUrlMax)
      .refine(isLocalImageUrl, 'expected a data:image URL, a blob: URL or a path on this origin')
      .optional()
      .describe('The user’s own picture (kept in the browser) or a path on TFX’s origin.'),
  })
  .refine((s) => (s.background === undefined) !== (s.url === undefined), {
    message: 'give exactly one of background and url',
  });

export const filterStepSchema = z.strictObject({
  type: z.literal('filter'),
  name: z.enum(VIDEO_FILTER_NAMES),
  intensity: z.number().min(0).max(1).optional().describe('0 = off … 1 = full (default 1).'),
});

export const faceOverlayStepSchema = z.strictObject({
  type: z.literal('face-overlay'),
  style: z.enum(FACE_OVERLAY_STYLES),
  sticker: z.enum(BUILTIN_STICKERS).optional().describe('For style "sticker".'),
  label: overlayTextSchema.optional().describe('For style "badge" (default: the display name).'),
  color: colourSchema.optional(),
});

export const videoProcessorStepSchema = z.discriminatedUnion('type', [
  blurStepSchema,
  backgroundStepSchema,
  filterStepSchema,
  faceOverlayStepSchema,
]);
export type VideoProcessorStep = z.infer<typeof videoProcessorStepSchema>;

/**
 * One step or a chain of steps, applied in order (`null` = no processing). Each type appears at
 * most once, and blur and background-image exclude each other (both replace the background).
 */
export const videoProcessorSpecSchema = z.preprocess(
  (v) => (v === null ? [] : Array.isArray(v) ? v : [v]),
  z
    .array(videoProcessorStepSchema)
    .max(MEDIA_LIMITS.chainMax)
    .superRefine((steps, ctx) => {
      const seen = new Set<string>();
      for (const [i, s] of steps.entries()) {
        if (seen.has(s.type))
          ctx.addIssue({ code: 'custom', path: [i], message: `"${s.type}" appears twice` });
        seen.add(s.type);
      }
      if (seen.has('blur') && seen.has('background-image'))
        ctx.addIssue({ code: 'custom', message: 'blur and background-image exclude each other' });
    }),
);
/** What callers pass: a step, an array of steps, or `null` (off). */
export type VideoProcessorSpec =
  | z.input<typeof videoProcessorStepSchema>
  | readonly z.input<typeof videoProcessorStepSchema>[]
  | null;
/** After validation: always an array (empty = no processing). */
export type VideoProcessorChain = VideoProcessorStep[];

export type ProcessorSpecCheck =
  | { readonly ok: true; readonly chain: VideoProcessorChain }
  | { readonly ok: false; readonly error: string };

/** Validates a spec; `null` is the empty chain (processing off). */
export function checkVideoProcessorSpec(v: unknown): ProcessorSpecCheck {
  const r = videoProcessorSpecSchema.safeParse(v);
  if (r.success) return { ok: true, chain: r.data };
  return { ok: false, error: issuesText(r.error) };
}

// --- overlay shapes ----------------------------------------------------------------------------

/** A fraction of the frame (0 … 1), or of the face box when the shape's `space` is "face". */
const unit = z.number().finite().min(-1).max(2);
const size = z.number().finite().min(0).max(2);
const shapeCommon = {
  space: z
    .enum(['frame', 'face'])
    .optional()
    .describe('Coordinates relative to the frame (default) or to the tracked face box.'),
  color: colourSchema.optional(),
};

export const overlayShapeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('rect'),
    x: unit,
    y: unit,
    w: size,
    h: size,
    fill: colourSchema.optional(),
    lineWidth: z.number().min(0).max(16).optional(),
    ...shapeCommon,
  }),
  z.strictObject({
    kind: z.literal('ellipse'),
    x: unit,
    y: unit,
    w: size,
    h: size,
    fill: colourSchema.optional(),
    lineWidth: z.number().min(0).max(16).optional(),
    ...shapeCommon,
  }),
  z.strictObject({
    kind: z.literal('polyline'),
    points: z
      .array(z.tuple([unit, unit]))
      .min(2)
      .max(MEDIA_LIMITS.polylineMaxPoints),
    closed: z.boolean().optional(),
    lineWidth: z.number().min(0).max(16).optional(),
    ...shapeCommon,
  }),
  z.strictObject({
    kind: z.literal('text'),
    x: unit,
    y: unit,
    text: overlayTextSchema,
    size: z.number().min(0.02).max(0.3).optional().describe('Height as a fraction of the frame.'),
    ...shapeCommon,
  }),
  z.strictObject({
    kind: z.literal('sticker'),
    x: unit,
    y: unit,
    w: size,
    h: size,
    sticker: z.enum(BUILTIN_STICKERS),
    space: shapeCommon.space,
  }),
]);
export type OverlayShape = z.infer<typeof overlayShapeSchema>;

// --- manifest: permissions.media ---------------------------------------------------------------

export const widgetMediaPermissionsSchema = z
  .strictObject({
    processor: z
      .boolean()
      .optional()
      .describe(
        'May pick and tune the built-in video processors for its own user (media.processor.set).',
      ),
    frames: z
      .enum(['self'])
      .optional()
      .describe(
        'May receive still frames (ImageBitmaps, at most 5/s, 640 wide) of its own user’s camera (media.frames.subscribe).',
      ),
    overlay: z
      .boolean()
      .optional()
      .describe('May send vector shapes the host draws into its user’s video (media.overlay.set).'),
  })
  .describe(
    'Media capabilities (the host acts; the widget never gets a track). Shown to the user while used.',
  );
export type WidgetMediaPermissions = z.infer<typeof widgetMediaPermissionsSchema>;
export type WidgetMediaPermission = keyof WidgetMediaPermissions;

// --- widget → host media requests --------------------------------------------------------------

const requestBase = {
  tfx: z.literal('tfx-widget'),
  v: z.number().int(),
  widget: z.string().min(1).max(WIDGET_ID_MAX).regex(WIDGET_ID_PATTERN),
  /** Correlates the host's `media.ack` or `error`. */
  id: z
    .number()
    .int()
    .min(0)
    .max(2 ** 53),
};

export const MEDIA_REQUEST_SCHEMAS = {
  'media.processor.set': z.strictObject({
    ...requestBase,
    type: z.literal('media.processor.set'),
    /** `null` turns off what this widget set. */
    spec: videoProcessorSpecSchema,
  }),
  'media.frames.subscribe': z.strictObject({
    ...requestBase,
    type: z.literal('media.frames.subscribe'),
    peer: z.literal('self'),
    fps: z.number().min(0.1).max(MEDIA_LIMITS.framesMaxFps),
    maxWidth: z.number().int().min(16).max(MEDIA_LIMITS.framesMaxWidth).optional(),
  }),
  'media.frames.unsubscribe': z.strictObject({
    ...requestBase,
    type: z.literal('media.frames.unsubscribe'),
  }),
  'media.overlay.set': z.strictObject({
    ...requestBase,
    type: z.literal('media.overlay.set'),
    peer: z.literal('self'),
    /** Replaces this widget's shapes; `[]` clears them. */
    shapes: z.array(overlayShapeSchema).max(MEDIA_LIMITS.overlayMaxShapes),
  }),
} as const satisfies Record<MediaRequestType, z.ZodType>;

export type MediaRequest = {
  [K in MediaRequestType]: z.output<(typeof MEDIA_REQUEST_SCHEMAS)[K]>;
}[MediaRequestType];
/** What a widget sends (before validation: a spec may be a single step or `null`). */
export type MediaRequestInput =
  | {
      [K in Exclude<MediaRequestType, 'media.processor.set'>]: z.input<
        (typeof MEDIA_REQUEST_SCHEMAS)[K]
      >;
    }[Exclude<MediaRequestType, 'media.processor.set'>]
  | (Omit<z.input<(typeof MEDIA_REQUEST_SCHEMAS)['media.processor.set']>, 'spec'> & {
      readonly spec: VideoProcessorSpec;
    });

/** Which manifest key grants each request. */
export const MEDIA_REQUEST_PERMISSION: Record<MediaRequestType, WidgetMediaPermission> = {
  'media.processor.set': 'processor',
  'media.frames.subscribe': 'frames',
  'media.frames.unsubscribe': 'frames',
  'media.overlay.set': 'overlay',
};

export function mediaRequestAllowed(
  perms: WidgetMediaPermissions | undefined,
  type: MediaRequestType,
): boolean {
  const v = perms?.[MEDIA_REQUEST_PERMISSION[type]];
  return v !== undefined && v !== false;
}

export type MediaRequestCheck =
  | { readonly ok: true; readonly request: MediaRequest }
  | { readonly ok: false; readonly id?: number; readonly error: string };

/**
 * Validates a widget's media request (the envelope as received on the port). A failure carries
 * the request id when the envelope had a usable one, so the host can answer `error`.
 */
export function parseMediaRequest(v: unknown): MediaRequestCheck {
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  const id =
    typeof o.id === 'number' && Number.isInteger(o.id) && o.id >= 0 && o.id <= 2 ** 53
      ? o.id
      : undefined;
  const type = o.type;
  if (typeof type !== 'string' || !(MEDIA_REQUEST_TYPES as readonly string[]).includes(type))
    return { ok: false, ...(id !== undefined ? { id } : {}), error: 'unknown media request' };
  const r = MEDIA_REQUEST_SCHEMAS[type as MediaRequestType].safeParse(v);
  if (r.success) return { ok: true, request: r.data as MediaRequest };
  return { ok: false, ...(id !== undefined ? { id } : {}), error: issuesText(r.error) };
}

function issuesText(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ')
    .slice(0, 300);
}
