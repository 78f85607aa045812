/**
 * Text chat carried on the SDK's data channel. The server never sees or stores chat: history
 * lives in each browser. When a peer joins, the peer that has been present longest offers it the
 * last `HISTORY_LIMIT` messages. Pure: parsing, the bounded history and the "who offers" rule.
 */

export const HISTORY_LIMIT = 200;
/** Longest chat text accepted, in characters. */
export const MAX_CHAT_TEXT = 4000;

export interface ChatMessage {
  /** Unique id (sender peer id + counter), used to drop duplicates when history merges. */
  readonly id: string;
  /** Peer id of the author. */
  readonly from: string;
  /** Display name of the author when sent. */
  readonly name: string;
  readonly text: string;
  /** Sender's clock, ms since the epoch. */
  readonly ts: number;
}

/** Messages on the SDK data channel (JSON text frames). */
export type ChannelMessage =
  | { readonly t: 'chat'; readonly msg: ChatMessage }
  | { readonly t: 'history'; readonly msgs: readonly ChatMessage[] }
  | { readonly t: 'app'; readonly data: unknown };

function isString(v: unknown, max = 256): v is string {
  return typeof v === 'string' && v.length <= max;
}

function parseChat(v: unknown): ChatMessage | null {
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Record<string, unknown>;
  if (
    !isString(m.id) ||
    !isString(m.from) ||
    !isString(m.name) ||
    !isString(m.text, MAX_CHAT_TEXT)
  ) {
    return null;
  }
  if (typeof m.ts !== 'number' || !Number.isFinite(m.ts)) return null;
  return { id: m.id, from: m.from, name: m.name, text: m.text, ts: m.ts };
}

/** Parses one data-channel frame; `null` for anything malformed (it is dropped, never thrown). */
export function parseChannelMessage(raw: unknown): ChannelMessage | null {
  if (typeof raw !== 'string' || raw.length > 2_000_000) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  switch (o.t) {
    case 'chat': {
      const msg = parseChat(o.msg);
      return msg ? { t: 'chat', msg } : null;
    }
    case 'history': {
      if (!Array.isArray(o.msgs) || o.msgs.length > HISTORY_LIMIT) return null;
      const msgs = o.msgs.map(parseChat).filter((m): m is ChatMessage => m !== null);
      return { t: 'history', msgs };
    }
    case 'app':
      return { t: 'app', data: o.data };
    default:
      return null;
  }
}

/** The last `limit` messages, in timestamp order, without duplicates. */
export class ChatHistory {
  readonly #limit: number;
  #msgs: ChatMessage[] = [];
  readonly #ids = new Set<string>();

  constructor(limit = HISTORY_LIMIT) {
    this.#limit = limit;
  }

  /** Adds a message; returns false if it was already known. */
  add(msg: ChatMessage): boolean {
    if (this.#ids.has(msg.id)) return false;
    this.#ids.add(msg.id);
    this.#msgs.push(msg);
    if (this.#msgs.length > 1 && msg.ts < (this.#msgs[this.#msgs.length - 2]?.ts ?? 0)) {
      this.#msgs.sort((a, b) => a.ts - b.ts);
    }
    this.#trim();
    return true;
  }

  /** Merges a history offered by a peer; returns the messages that were new, in order. */
  merge(msgs: readonly ChatMessage[]): ChatMessage[] {
    const fresh = msgs.filter((m) => !this.#ids.has(m.id));
    for (const m of fresh) this.#ids.add(m.id);
    this.#msgs = [...this.#msgs, ...fresh].sort((a, b) => a.ts - b.ts);
    this.#trim();
    const kept = new Set(this.#msgs.map((m) => m.id));
    return fresh.filter((m) => kept.has(m.id)).sort((a, b) => a.ts - b.ts);
  }

  messages(): readonly ChatMessage[] {
    return this.#msgs;
  }

  get size(): number {
    return this.#msgs.length;
  }

  #trim(): void {
    while (this.#msgs.length > this.#limit) {
      const dropped = this.#msgs.shift();
      if (dropped) this.#ids.delete(dropped.id);
    }
  }
}

/**
 * Whether the local peer is the longest present, and so the one that offers its history to a
 * newcomer. Needs no clocks: the peers listed when we joined are older than us, everyone who
 * joined later is younger; we are the oldest once none of the older ones is still here.
 */
export function isLongestPresent(
  olderThanMe: ReadonlySet<string>,
  present: Iterable<string>,
): boolean {
  for (const id of present) if (olderThanMe.has(id)) return false;
  return true;
}
