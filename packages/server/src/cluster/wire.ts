/**
 * One node-stream entry (router.ts) as Redis keeps it, a pure codec. The entry's fields:
 *
 *   m  {"v":<protocol>,"b":[<envelope>, …]}     the batch, oldest first, as JSON
 *   p  <packet>                                   one per `deliver` of the batch, in order
 *
 * A `deliver` travels in `b` as `{"t":"deliver","room","to","from","event","p":<i>}`, where `i`
 * is the index in the entry's field list of its packet's value: the relayed item, already encoded
 * as the target's socket.io connection receives it (envelope.ts `encodeRelayed`). It is its own
 * field so that it passes through Redis byte for byte: no JSON escaping into the batch, no
 * JSON.parse on the receiving node and no second encoding there (docs/benchmarks.md "Scale-out",
 * 2026-12-07). Everything else in `b` is the envelope itself.
 *
 * A `deliver` in the form processes before the pass-through wrote (`item` inline, no `p`) is
 * still read, so that a rolling upgrade loses nothing from the processes not yet upgraded; the
 * other way round, those read the new form as a failed envelope, so upgrade them one after the
 * other without a pause (docs/scaling.md).
 *
 * Decoding never throws: what does not parse or fails its checks (envelope.ts `isEnvelope`) is
 * counted in `bad` and left out.
 */
import { encodeRelayed, isEnvelope } from './envelope.js';
import type { Envelope, RelayedItem } from './types.js';

export const BATCH_FIELD = 'm';
export const PACKET_FIELD = 'p';

/** The field list of one entry (`XADD key … * <fields>`). */
export function encodeEntry(version: number, batch: readonly Envelope[]): string[] {
  const fields = [BATCH_FIELD, ''];
  const b: unknown[] = [];
  for (const env of batch) {
    if (env.t === 'deliver') {
      b.push({
        t: 'deliver',
        room: env.room,
        to: env.to,
        from: env.from,
        event: env.event,
        p: fields.length + 1,
      });
      fields.push(PACKET_FIELD, env.packet);
    } else b.push(env);
  }
  fields[1] = JSON.stringify({ v: version, b });
  return fields;
}

export interface DecodedEntry {
  readonly envelopes: Envelope[];
  /** Envelopes (or the whole entry, as one) that did not parse or failed their checks. */
  readonly bad: number;
}

const NOTHING: DecodedEntry = { envelopes: [], bad: 1 };

/** The envelopes of one entry as XREAD returns its fields; `version`: this node's protocol. */
export function decodeEntry(fields: unknown, version: number): DecodedEntry {
  if (!Array.isArray(fields) || fields[0] !== BATCH_FIELD) return NOTHING;
  const raw: unknown = fields[1];
  if (typeof raw !== 'string') return NOTHING;
  let wire: { v?: unknown; b?: unknown };
  try {
    wire = JSON.parse(raw) as { v?: unknown; b?: unknown };
  } catch {
    return NOTHING;
  }
  if (
    typeof wire !== 'object' ||
    wire === null ||
    !Array.isArray(wire.b) ||
    typeof wire.v !== 'number' ||
    Math.abs(wire.v - version) > 1
  )
    return NOTHING;
  const envelopes: Envelope[] = [];
  let bad = 0;
  for (const x of wire.b as unknown[]) {
    const env = withPacket(x, fields as unknown[]);
    if (isEnvelope(env)) envelopes.push(env);
    else bad++;
  }
  return { envelopes, bad };
}

/** A `deliver` with its packet taken from the entry's fields; anything else as it is. */
function withPacket(x: unknown, fields: readonly unknown[]): unknown {
  if (typeof x !== 'object' || x === null || (x as { t?: unknown }).t !== 'deliver') return x;
  const d = x as Record<string, unknown>;
  if (d.p === undefined && d.item !== undefined) return fromItem(d);
  const p = d.p;
  if (
    typeof p !== 'number' ||
    !Number.isInteger(p) ||
    p < 3 ||
    p >= fields.length ||
    p % 2 === 0 ||
    fields[p - 1] !== PACKET_FIELD
  )
    return undefined;
  return { t: 'deliver', room: d.room, to: d.to, from: d.from, event: d.event, packet: fields[p] };
}

/**
 * A `deliver` as processes before the pass-through wrote it (`item`: the event and its payload
 * inline), so that during a rolling upgrade what they send still arrives: encoded here, once.
 */
function fromItem(d: Record<string, unknown>): unknown {
  const item = d.item as { event?: unknown; payload?: { from?: unknown } } | null;
  if (
    typeof item !== 'object' ||
    item === null ||
    (item.event !== 'signal' && item.event !== 'message') ||
    typeof item.payload !== 'object' ||
    item.payload === null ||
    typeof item.payload.from !== 'string'
  )
    return undefined;
  return {
    t: 'deliver',
    room: d.room,
    to: d.to,
    from: item.payload.from,
    event: item.event,
    packet: encodeRelayed(item as RelayedItem),
  };
}
