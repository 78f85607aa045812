/**
 * The widget manifest (`widgetmanifest.json`): an array of entries, with the original TFX fields
 * (`plugintype`, `id`, `type`, `title`, `icon`, `url`) plus `version`, `description`, and for a
 * widget on another origin its `origin` and the `permissions` it asks for. Declared once here: the
 * server validates the file with it, `GET /api/v1/widgets` answers with it, the call page reads it.
 */
import { z } from 'zod';
import { WIDGET_ID_MAX, WIDGET_ID_PATTERN } from './wire.js';
import { widgetMediaPermissionsSchema } from './media.js';

export const PLUGIN_TYPES = ['chat', 'code', 'draw', 'game', 'file', 'media', 'custom'] as const;
export type PluginType = (typeof PLUGIN_TYPES)[number];

/** Icon names the call page draws itself (an entry's `icon` may be one of these or an image URL). */
export const BUILTIN_ICON_NAMES = [
  'chat',
  'code',
  'draw',
  'game',
  'file',
  'media',
  'custom',
  'puzzle',
  'dice',
] as const;

const ICON_NAME = /^[a-z][a-z0-9-]{0,40}$/;
/** A path on the platform (`/…`, not `//…`) or an absolute http(s) URL. */
export function isWidgetUrl(v: string): boolean {
  if (v.startsWith('/') && !v.startsWith('//')) return !/[\s\\]/.test(v);
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '';
  } catch {
    return false;
  }
}
/** A built-in icon name, a path on the platform, an absolute http(s) URL or a `data:image/…` URL. */
export function isWidgetIcon(v: string): boolean {
  return (
    ICON_NAME.test(v) || /^data:image\/(png|svg\+xml|gif|webp|jpeg);/.test(v) || isWidgetUrl(v)
  );
}

export const widgetOriginSchema = z
  .string()
  .max(256)
  .regex(
    /^https?:\/\/[^/\s?#@]+$/,
    'expected an origin such as https://widgets.example.com (no path)',
  );

export const widgetPermissionsSchema = z
  .strictObject({
    downloads: z.boolean().optional().describe('Adds allow-downloads to the frame sandbox.'),
    popups: z.boolean().optional().describe('Adds allow-popups to the frame sandbox.'),
    camera: z
      .boolean()
      .optional()
      .describe(
        'Delegates the camera (allow="camera"); works only for a widget on its own origin (`origin`): a frame TFX serves is opaque-origin and Chromium refuses it getUserMedia. A TFX-served widget uses `media` instead.',
      ),
    microphone: z
      .boolean()
      .optional()
      .describe('Delegates the microphone (allow="microphone"); same limit as `camera`.'),
    media: widgetMediaPermissionsSchema.optional(),
    fetch: z
      .array(widgetOriginSchema)
      .max(16)
      .optional()
      .describe('Origins a widget served by TFX may fetch from (its connect-src).'),
  })
  .describe('What the widget may do beyond running scripts in its own frame.');
export type WidgetPermissions = z.infer<typeof widgetPermissionsSchema>;

export const widgetEntrySchema = z
  .strictObject({
    plugintype: z.enum(PLUGIN_TYPES).describe('The category (original TFX field).'),
    id: z
      .string()
      .min(1)
      .max(WIDGET_ID_MAX)
      .regex(WIDGET_ID_PATTERN, 'expected letters, digits, "_" or "-"')
      .describe('Unique id; also the tag of the widget’s messages on the data channel.'),
    type: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, ".", "_" or "-"')
      .describe('The widget kind, often equal to plugintype (e.g. pingpong).'),
    title: z.string().min(1).max(80).describe('Shown in the widget bar and the panel header.'),
    icon: z
      .string()
      .min(1)
      .max(8192)
      .refine(isWidgetIcon, 'expected a built-in icon name or an image URL')
      .describe(
        'A built-in icon name (chat, code, draw, game, file, media, custom, …) or an image URL.',
      ),
    url: z
      .string()
      .min(1)
      .max(2048)
      .refine(isWidgetUrl, 'expected a path such as /widgets/x/ or an absolute http(s) URL')
      .describe('The widget’s HTML: a path on the platform or an absolute URL inside `origin`.'),
    version: z.string().max(32).optional(),
    description: z.string().max(500).optional(),
    origin: widgetOriginSchema
      .optional()
      .describe('For a widget served by another origin: that origin (frame-src allows it).'),
    permissions: widgetPermissionsSchema.optional(),
  })
  .describe('One widget of the manifest.');
export type WidgetManifestEntry = z.infer<typeof widgetEntrySchema>;

export const widgetManifestSchema = z
  .array(widgetEntrySchema)
  .max(256)
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
      const first = seen.get(e.id);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'id'],
          message: `duplicate id "${e.id}" (also entry ${first})`,
        });
      else seen.set(e.id, i);
    });
  });
export type WidgetManifest = WidgetManifestEntry[];

/** `GET /api/v1/widgets`: the manifest and the limits the call page applies. */
export const widgetListSchema = z.strictObject({
  widgets: z.array(widgetEntrySchema),
  maxMessageBytes: z.number().int().positive().describe('widgets.maxMessageBytes'),
  chunkBytes: z.number().int().positive().describe('Largest data-channel frame, bytes.'),
});
export type WidgetList = z.infer<typeof widgetListSchema>;

export type ManifestCheck =
  | { readonly ok: true; readonly manifest: WidgetManifest }
  | { readonly ok: false; readonly error: string };

/**
 * Validates a parsed manifest. The error names the entry (index and id, when it has one) and the
 * field, e.g. `entry 2 (id "draw"): field "url": expected a path such as /widgets/x/ …`.
 */
export function checkManifest(value: unknown): ManifestCheck {
  const r = widgetManifestSchema.safeParse(value);
  if (r.success) return { ok: true, manifest: r.data };
  const issues = r.error.issues.slice(0, 5).map((iss) => {
    const [index, field, ...rest] = iss.path;
    if (typeof index !== 'number') return iss.message;
    const raw = Array.isArray(value) ? (value[index] as unknown) : undefined;
    const id =
      raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
        ? ` (id "${String((raw as { id: string }).id).slice(0, 64)}")`
        : '';
    const path = [field, ...rest].filter((p) => p !== undefined).join('.');
    const unknownKeys =
      iss.code === 'unrecognized_keys' ? `: unknown field(s) ${iss.keys.join(', ')}` : '';
    return `entry ${index}${id}${path ? `: field "${path}"` : ''}: ${iss.message}${unknownKeys}`;
  });
  return { ok: false, error: issues.join('; ') };
}
