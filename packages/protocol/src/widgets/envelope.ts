/**
 * The host↔widget `postMessage` envelope: what the call page (the host) and a widget frame say to
 * each other. Pure types and hand-written validators (no zod: the widget SDK bundle stays small).
 *
 * Handshake: the widget posts `hello` to its parent window (listing the protocol versions it
 * speaks); the host checks the sender (`event.source` is the widget's frame, `event.origin` the
 * origin the manifest allows) and answers `welcome` with a `MessagePort`. Everything after goes
 * over that port. Every envelope a widget sends carries its widget id; one carrying another
 * widget's id is ignored and counted by the host.
 */
import { WIDGET_ID_MAX, WIDGET_ID_PATTERN } from './wire.js';
import { isMediaRequestType, VIDEO_PROCESSOR_TYPES, type MediaRequestType } from './media-names.js';
import type { MediaRequestInput, VideoProcessorChain } from './media.js';

/** Versions of this envelope; the handshake picks the highest both sides speak. */
export const WIDGET_PROTOCOL_VERSIONS = [1] as const;
export const WIDGET_PROTOCOL_VERSION = 1;
export const ENVELOPE_TAG = 'tfx-widget';

export interface WidgetPeer {
  readonly id: string;
  readonly name: string;
}

/** Error codes a widget may see (a subset of the error catalogue plus `closed`). */
export type WidgetErrorCode =
  | 'widget-message-too-large'
  | 'peer-unavailable'
  | 'bad-request'
  | 'version-mismatch'
  | 'widget-not-available'
  | 'forbidden'
  | 'unavailable'
  | 'rate-limited'
  | 'closed';

export type WidgetData =
  | { readonly encoding: 'json'; readonly text: string }
  | {
      readonly encoding: 'binary';
      readonly bytes: ArrayBuffer;
    };

interface Base {
  readonly tfx: typeof ENVELOPE_TAG;
  readonly v: number;
}

// --- widget → host ----------------------------------------------------------------------------

export type WidgetToHost = Base &
  (
    | {
        readonly type: 'hello';
        readonly versions: readonly number[];
        readonly sdk: string;
        /**
         * Random per `connect()`: the SDK repeats `hello` until answered, and the host answers
         * one nonce once (a new nonce is a new document: a reload or a navigation).
         */
        readonly nonce: string;
      }
    | {
        readonly type: 'send';
        readonly widget: string;
        /** Correlates the `sent` / `error` answer. */
        readonly id: number;
        readonly data: WidgetData;
        readonly to?: string;
      }
    | { readonly type: 'state-request'; readonly widget: string }
    | {
        readonly type: 'state-offer';
        readonly widget: string;
        readonly id: number;
        readonly to: string;
        readonly data: WidgetData;
      }
  );

// --- host → widget ----------------------------------------------------------------------------

export type HostToWidget =
  | (Base &
      (
        | {
            readonly type: 'welcome';
            readonly widget: string;
            readonly self: WidgetPeer;
            readonly peers: readonly WidgetPeer[];
            readonly maxMessageBytes: number;
          }
        | { readonly type: 'reject'; readonly code: WidgetErrorCode; readonly message: string }
        | { readonly type: 'message'; readonly from: WidgetPeer; readonly data: WidgetData }
        | { readonly type: 'peers'; readonly peers: readonly WidgetPeer[] }
        | { readonly type: 'self'; readonly self: WidgetPeer }
        | { readonly type: 'sent'; readonly id: number }
        | {
            readonly type: 'error';
            readonly id?: number;
            readonly code: WidgetErrorCode;
            readonly message: string;
          }
        | { readonly type: 'state-request'; readonly from: WidgetPeer }
        | { readonly type: 'state-offer'; readonly from: WidgetPeer; readonly data: WidgetData }
      ))
  | HostMediaToWidget;

/**
 * A media request as the widget SDK sends it (types from `media.ts`; the host validates the
 * whole envelope with `parseMediaRequest` from the package root and checks the manifest with
 * `mediaRequestAllowed`). Answered by `media.ack` or `error` with the same `id`.
 */
export type WidgetMediaToHost = MediaRequestInput;

/** A bitmap the host transfers (an `ImageBitmap` in a browser). */
export interface FrameBitmap {
  readonly width: number;
  readonly height: number;
  close(): void;
}

/** Who set the processor chain that is running now. */
export type ProcessorSetBy = 'user' | 'widget' | 'none';

/** Host → widget media envelopes (see `MEDIA_EVENT_TYPES`). */
export type HostMediaToWidget = Base &
  (
    | { readonly type: 'media.ack'; readonly id: number }
    | {
        readonly type: 'media.frame';
        readonly peer: 'self';
        /** Transferred: the widget owns it and should `close()` it when done. */
        readonly bitmap: FrameBitmap;
        readonly width: number;
        readonly height: number;
        /** Capture time, ms on the host's clock (monotonic within one subscription). */
        readonly at: number;
      }
    | {
        readonly type: 'media.processor';
        /** The chain running on the user's camera now (`[]`: none). */
        readonly chain: VideoProcessorChain;
        readonly by: ProcessorSetBy;
        /** The widget that set it, when `by` is "widget". */
        readonly widget?: string;
        /** Why the chain changed without a request (e.g. switched off: the device is too slow). */
        readonly notice?: string;
      }
  );

export type WidgetToHostType = WidgetToHost['type'];
export type HostToWidgetType = HostToWidget['type'];

// --- validators -------------------------------------------------------------------------------

const PEER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function rec(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : null;
}

export function isWidgetId(v: unknown): v is string {
  return typeof v === 'string' && v.length <= WIDGET_ID_MAX && WIDGET_ID_PATTERN.test(v);
}

function isPeerId(v: unknown): v is string {
  return typeof v === 'string' && PEER_ID.test(v);
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 53;
}

function parseData(v: unknown, maxBytes: number): WidgetData | null {
  const d = rec(v);
  if (!d) return null;
  // A JSON string takes at most 3 bytes per UTF-16 unit in UTF-8: the exact check is the host's.
  if (d.encoding === 'json' && typeof d.text === 'string' && d.text.length <= maxBytes)
    return { encoding: 'json', text: d.text };
  if (d.encoding === 'binary' && d.bytes instanceof ArrayBuffer)
    return { encoding: 'binary', bytes: d.bytes };
  return null;
}

function parsePeer(v: unknown): WidgetPeer | null {
  const p = rec(v);
  if (!p || !isPeerId(p.id) || typeof p.name !== 'string') return null;
  return { id: p.id, name: p.name.slice(0, 128) };
}

/**
 * Validates an envelope a widget sent. `null` for anything that is not a well-formed envelope of
 * a known type (the host ignores and counts it). `maxBytes` bounds JSON text before encoding.
 */
export function parseWidgetToHost(v: unknown, maxBytes: number): WidgetToHost | null {
  const o = rec(v);
  if (!o || o.tfx !== ENVELOPE_TAG || typeof o.v !== 'number') return null;
  const base = { tfx: ENVELOPE_TAG, v: o.v } as const;
  switch (o.type) {
    case 'hello': {
      if (!Array.isArray(o.versions) || o.versions.length > 16) return null;
      const versions = o.versions.filter((x): x is number => Number.isInteger(x));
      return {
        ...base,
        type: 'hello',
        versions,
        sdk: typeof o.sdk === 'string' ? o.sdk.slice(0, 32) : '',
        nonce: typeof o.nonce === 'string' ? o.nonce.slice(0, 64) : '',
      };
    }
    case 'send': {
      if (!isWidgetId(o.widget) || !isSeq(o.id)) return null;
      if (o.to !== undefined && !isPeerId(o.to)) return null;
      const data = parseData(o.data, maxBytes);
      if (!data) return null;
      return {
        ...base,
        type: 'send',
        widget: o.widget,
        id: o.id,
        data,
        ...(o.to !== undefined ? { to: o.to } : {}),
      };
    }
    case 'state-request':
      return isWidgetId(o.widget) ? { ...base, type: 'state-request', widget: o.widget } : null;
    case 'state-offer': {
      if (!isWidgetId(o.widget) || !isSeq(o.id) || !isPeerId(o.to)) return null;
      const data = parseData(o.data, maxBytes);
      return data
        ? { ...base, type: 'state-offer', widget: o.widget, id: o.id, to: o.to, data }
        : null;
    }
    default:
      return null;
  }
}

/** Validates an envelope from the host (the widget SDK's side). */
export function parseHostToWidget(v: unknown): HostToWidget | null {
  const o = rec(v);
  if (!o || o.tfx !== ENVELOPE_TAG || typeof o.v !== 'number') return null;
  const base = { tfx: ENVELOPE_TAG, v: o.v } as const;
  const peers = (x: unknown): WidgetPeer[] | null =>
    Array.isArray(x) ? x.map(parsePeer).filter((p): p is WidgetPeer => p !== null) : null;
  switch (o.type) {
    case 'welcome': {
      const self = parsePeer(o.self);
      const ps = peers(o.peers);
      if (!isWidgetId(o.widget) || !self || !ps || typeof o.maxMessageBytes !== 'number')
        return null;
      return {
        ...base,
        type: 'welcome',
        widget: o.widget,
        self,
        peers: ps,
        maxMessageBytes: o.maxMessageBytes,
      };
    }
    case 'reject':
    case 'error': {
      if (typeof o.code !== 'string' || typeof o.message !== 'string') return null;
      const code = o.code as WidgetErrorCode;
      if (o.type === 'reject') return { ...base, type: 'reject', code, message: o.message };
      return {
        ...base,
        type: 'error',
        code,
        message: o.message,
        ...(isSeq(o.id) ? { id: o.id } : {}),
      };
    }
    case 'message':
    case 'state-offer': {
      const from = parsePeer(o.from);
      const data = parseData(o.data, Number.MAX_SAFE_INTEGER);
      if (!from || !data) return null;
      return { ...base, type: o.type, from, data };
    }
    case 'state-request': {
      const from = parsePeer(o.from);
      return from ? { ...base, type: 'state-request', from } : null;
    }
    case 'peers': {
      const ps = peers(o.peers);
      return ps ? { ...base, type: 'peers', peers: ps } : null;
    }
    case 'self': {
      const self = parsePeer(o.self);
      return self ? { ...base, type: 'self', self } : null;
    }
    case 'sent':
      return isSeq(o.id) ? { ...base, type: 'sent', id: o.id } : null;
    case 'media.ack':
      return isSeq(o.id) ? { ...base, type: 'media.ack', id: o.id } : null;
    case 'media.frame': {
      const b = rec(o.bitmap);
      if (!b || typeof b.close !== 'function' || o.peer !== 'self') return null;
      if (!isDim(o.width) || !isDim(o.height) || typeof o.at !== 'number') return null;
      return {
        ...base,
        type: 'media.frame',
        peer: 'self',
        bitmap: b as unknown as FrameBitmap,
        width: o.width,
        height: o.height,
        at: o.at,
      };
    }
    case 'media.processor': {
      if (!Array.isArray(o.chain) || o.chain.length > 8) return null;
      const types: readonly unknown[] = VIDEO_PROCESSOR_TYPES;
      if (!o.chain.every((s) => types.includes(rec(s)?.type))) return null;
      const by = o.by === 'user' || o.by === 'widget' ? o.by : 'none';
      return {
        ...base,
        type: 'media.processor',
        chain: o.chain as VideoProcessorChain,
        by,
        ...(isWidgetId(o.widget) ? { widget: o.widget } : {}),
        ...(typeof o.notice === 'string' ? { notice: o.notice.slice(0, 300) } : {}),
      };
    }
    default:
      return null;
  }
}

function isDim(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 8192;
}

/** A media request, checked only as far as routing needs (widget id, request id, type). */
export interface MediaEnvelope {
  readonly type: MediaRequestType;
  readonly widget: string;
  readonly id: number;
  /** The whole envelope, not yet validated: the host runs `parseMediaRequest` on it. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * Picks out a media request (`media.*`) from what a widget posted, without zod. `null` for
 * anything else (including media requests without a widget id or request id).
 */
export function peekMediaEnvelope(v: unknown): MediaEnvelope | null {
  const o = rec(v);
  if (!o || o.tfx !== ENVELOPE_TAG || typeof o.v !== 'number') return null;
  if (!isMediaRequestType(o.type) || !isWidgetId(o.widget) || !isSeq(o.id)) return null;
  return { type: o.type, widget: o.widget, id: o.id, raw: o };
}

/** The version both sides speak, or `null`. */
export function pickVersion(theirs: readonly number[]): number | null {
  const ours: readonly number[] = WIDGET_PROTOCOL_VERSIONS;
  const common = theirs.filter((v) => ours.includes(v));
  return common.length ? Math.max(...common) : null;
}
