/**
 * The peer↔peer widget wire frame: what one host sends another on the widget data channel.
 * Pure (bytes in, a typed frame or `null` out); no zod, so the widget SDK bundle stays small.
 *
 * A widget message (at most `maxMessageBytes`) is cut into chunks so that no frame exceeds
 * `WIRE_FRAME_BYTES` (16 KiB, the size every browser's SCTP stack sends and receives). Frame
 * layout (big-endian):
 *
 * ```
 *  0  u8   version (1)
 *  1  u8   type: 1 message, 2 state-request, 3 state-offer, 4 host control
 *  2  u8   encoding: 0 JSON (UTF-8), 1 binary
 *  3  u8   flags: bit 0 = addressed to one peer
 *  4  u8   widget id length W (0 only for host control)
 *  5  u8   sender peer id length S (1..64)
 *  6  W+S  widget id, sender id (ASCII, [A-Za-z0-9_-])
 *  …  u32  seq (per sender and widget)
 *  …  u32  chunk index
 *  …  u32  chunk count
 *  …  u32  total payload length of the message
 *  …       payload bytes of this chunk
 * ```
 */

export const WIRE_VERSION = 1;
/** Largest frame on the widget data channel, bytes (header included). */
export const WIRE_FRAME_BYTES = 16 * 1024;
export const WIDGET_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
export const WIDGET_ID_MAX = 64;
const PEER_ID_MAX = 64;
const FIXED_HEADER = 6 + 16;

export const WIRE_TYPES = { message: 1, 'state-request': 2, 'state-offer': 3, control: 4 } as const;
export type WireType = keyof typeof WIRE_TYPES;
export type WireEncoding = 'json' | 'binary';

export interface WireFrame {
  readonly type: WireType;
  readonly encoding: WireEncoding;
  /** True when the message is addressed to one peer (the receiver), not to everyone. */
  readonly directed: boolean;
  /** Widget id; empty for host control frames. */
  readonly widget: string;
  /** Sender peer id as the frame claims it (the receiver checks it against the channel's peer). */
  readonly sender: string;
  readonly seq: number;
  readonly index: number;
  readonly count: number;
  readonly total: number;
  readonly payload: Uint8Array;
}

const TYPE_BY_CODE = new Map<number, WireType>(
  Object.entries(WIRE_TYPES).map(([k, v]) => [v, k as WireType]),
);

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
}

function isIdBytes(b: Uint8Array): boolean {
  for (const c of b) {
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

export function headerBytes(widget: string, sender: string): number {
  return FIXED_HEADER + widget.length + sender.length;
}

/** Payload bytes one chunk carries for this widget and sender. */
export function chunkPayloadBytes(
  widget: string,
  sender: string,
  frameBytes = WIRE_FRAME_BYTES,
): number {
  return frameBytes - headerBytes(widget, sender);
}

/** How many frames a message of `total` bytes needs (at least one, also when empty). */
export function chunkCount(
  total: number,
  widget: string,
  sender: string,
  frameBytes = WIRE_FRAME_BYTES,
): number {
  return Math.max(1, Math.ceil(total / chunkPayloadBytes(widget, sender, frameBytes)));
}

/** Encodes one frame. Throws on ids that are not valid (a programming error, not input). */
export function encodeFrame(f: WireFrame): Uint8Array {
  if (f.widget.length > WIDGET_ID_MAX || (f.widget !== '' && !WIDGET_ID_PATTERN.test(f.widget)))
    throw new Error(`invalid widget id: ${f.widget}`);
  if (f.sender.length === 0 || f.sender.length > PEER_ID_MAX || !WIDGET_ID_PATTERN.test(f.sender))
    throw new Error(`invalid sender id: ${f.sender}`);
  const w = ascii(f.widget);
  const s = ascii(f.sender);
  const head = FIXED_HEADER + w.length + s.length;
  const out = new Uint8Array(head + f.payload.length);
  const dv = new DataView(out.buffer);
  out[0] = WIRE_VERSION;
  out[1] = WIRE_TYPES[f.type];
  out[2] = f.encoding === 'binary' ? 1 : 0;
  out[3] = f.directed ? 1 : 0;
  out[4] = w.length;
  out[5] = s.length;
  out.set(w, 6);
  out.set(s, 6 + w.length);
  let o = 6 + w.length + s.length;
  dv.setUint32(o, f.seq >>> 0);
  dv.setUint32((o += 4), f.index);
  dv.setUint32((o += 4), f.count);
  dv.setUint32((o += 4), f.total);
  out.set(f.payload, head);
  return out;
}

export type FrameError =
  | 'not-binary'
  | 'too-short'
  | 'too-long'
  | 'version'
  | 'type'
  | 'encoding'
  | 'widget-id'
  | 'sender-id'
  | 'chunking';

/** Decodes and sanity-checks one frame from an untrusted peer. */
export function decodeFrame(
  data: unknown,
  frameBytes = WIRE_FRAME_BYTES,
): { ok: true; frame: WireFrame } | { ok: false; error: FrameError } {
  let bytes: Uint8Array;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (data instanceof Uint8Array) bytes = data;
  else return { ok: false, error: 'not-binary' };
  if (bytes.length < FIXED_HEADER + 1) return { ok: false, error: 'too-short' };
  if (bytes.length > frameBytes) return { ok: false, error: 'too-long' };
  if (bytes[0] !== WIRE_VERSION) return { ok: false, error: 'version' };
  const type = TYPE_BY_CODE.get(bytes[1] ?? 0);
  if (!type) return { ok: false, error: 'type' };
  const enc = bytes[2];
  if (enc !== 0 && enc !== 1) return { ok: false, error: 'encoding' };
  const wl = bytes[4] ?? 0;
  const sl = bytes[5] ?? 0;
  if (wl > WIDGET_ID_MAX || (wl === 0) !== (type === 'control'))
    return { ok: false, error: 'widget-id' };
  if (sl === 0 || sl > PEER_ID_MAX) return { ok: false, error: 'sender-id' };
  const head = FIXED_HEADER + wl + sl;
  if (bytes.length < head) return { ok: false, error: 'too-short' };
  const wb = bytes.subarray(6, 6 + wl);
  const sb = bytes.subarray(6 + wl, 6 + wl + sl);
  if (!isIdBytes(wb)) return { ok: false, error: 'widget-id' };
  if (!isIdBytes(sb)) return { ok: false, error: 'sender-id' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 6 + wl + sl;
  const seq = dv.getUint32(o);
  const index = dv.getUint32((o += 4));
  const count = dv.getUint32((o += 4));
  const total = dv.getUint32((o += 4));
  const payload = bytes.subarray(head);
  if (count === 0 || index >= count || payload.length > total)
    return { ok: false, error: 'chunking' };
  return {
    ok: true,
    frame: {
      type,
      encoding: enc === 1 ? 'binary' : 'json',
      directed: ((bytes[3] ?? 0) & 1) === 1,
      widget: String.fromCharCode(...wb),
      sender: String.fromCharCode(...sb),
      seq,
      index,
      count,
      total,
      payload,
    },
  };
}

export interface OutgoingMessage {
  readonly type: WireType;
  readonly encoding: WireEncoding;
  readonly directed: boolean;
  readonly widget: string;
  readonly sender: string;
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** Cuts a message into frames of at most `frameBytes`, lazily (a 1 MiB message is never copied whole). */
export function* chunkMessage(
  m: OutgoingMessage,
  frameBytes = WIRE_FRAME_BYTES,
): Generator<Uint8Array> {
  const per = chunkPayloadBytes(m.widget, m.sender, frameBytes);
  const total = m.payload.length;
  const count = chunkCount(total, m.widget, m.sender, frameBytes);
  for (let index = 0; index < count; index++) {
    yield encodeFrame({
      ...m,
      index,
      count,
      total,
      payload: m.payload.subarray(index * per, Math.min(total, (index + 1) * per)),
    });
  }
}

export interface ReassembledMessage {
  readonly type: WireType;
  readonly encoding: WireEncoding;
  readonly directed: boolean;
  readonly widget: string;
  readonly sender: string;
  readonly seq: number;
  readonly payload: Uint8Array;
}

export type ReassemblyDrop = 'too-large' | 'out-of-order' | 'too-many-partial' | 'length-mismatch';

interface Partial {
  readonly first: WireFrame;
  next: number;
  received: number;
  readonly buf: Uint8Array;
}

/**
 * Puts chunks from one sender (one ordered channel) back together. Chunks of one widget's
 * message arrive in order; messages of different widgets may interleave. Anything that breaks
 * those rules, or exceeds `maxBytes`, is dropped and reported — never thrown.
 */
export class Reassembler {
  readonly #maxBytes: () => number;
  readonly #maxPartial: number;
  readonly #partial = new Map<string, Partial>();

  /** `maxBytes`: a number, or a function read at each message (the limit may change). */
  constructor(maxBytes: number | (() => number), maxPartial = 16) {
    this.#maxBytes = typeof maxBytes === 'number' ? () => maxBytes : maxBytes;
    this.#maxPartial = maxPartial;
  }

  /** Feeds one frame; returns a whole message, `null` (need more), or a drop reason. */
  push(f: WireFrame): ReassembledMessage | null | { drop: ReassemblyDrop } {
    const key = f.widget;
    const cur = this.#partial.get(key);
    if (f.index === 0) {
      if (cur) this.#partial.delete(key); // a new message replaces an unfinished one
      if (f.total > this.#maxBytes()) return { drop: 'too-large' };
      if (f.count === 1) {
        if (f.payload.length !== f.total) return { drop: 'length-mismatch' };
        return { ...pick(f), payload: f.payload.slice() };
      }
      if (this.#partial.size >= this.#maxPartial) return { drop: 'too-many-partial' };
      const buf = new Uint8Array(f.total);
      buf.set(f.payload, 0);
      this.#partial.set(key, { first: f, next: 1, received: f.payload.length, buf });
      return null;
    }
    if (
      !cur ||
      cur.next !== f.index ||
      cur.first.seq !== f.seq ||
      cur.first.count !== f.count ||
      cur.first.total !== f.total ||
      cur.first.type !== f.type ||
      cur.first.encoding !== f.encoding
    ) {
      if (cur) this.#partial.delete(key);
      return { drop: 'out-of-order' };
    }
    if (cur.received + f.payload.length > f.total) {
      this.#partial.delete(key);
      return { drop: 'length-mismatch' };
    }
    cur.buf.set(f.payload, cur.received);
    cur.received += f.payload.length;
    cur.next++;
    if (cur.next < f.count) return null;
    this.#partial.delete(key);
    if (cur.received !== f.total) return { drop: 'length-mismatch' };
    return { ...pick(cur.first), payload: cur.buf };
  }

  /** Bytes held in unfinished messages. */
  get pendingBytes(): number {
    let n = 0;
    for (const p of this.#partial.values()) n += p.buf.length;
    return n;
  }

  clear(): void {
    this.#partial.clear();
  }
}

function pick(f: WireFrame): Omit<ReassembledMessage, 'payload'> {
  return {
    type: f.type,
    encoding: f.encoding,
    directed: f.directed,
    widget: f.widget,
    sender: f.sender,
    seq: f.seq,
  };
}
