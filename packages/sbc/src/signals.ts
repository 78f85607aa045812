/**
 * The SBC's per-call signalling record, for `GET /api/v1/sbc/calls/{id}/pcap`: every SIP message
 * a zone's stack received or sent (the stacks' message tap), kept by SIP Call-ID with the real
 * local and remote address and port of its datagram or connection. A call's PCAP is the messages
 * of its legs' Call-IDs, oldest first (RFC 3261 §8.1.1.4: the Call-ID names a leg's dialog).
 *
 * Bounded: at most MAX_PER_CALL_ID messages per Call-ID (the latest kept), MAX_CALL_IDS
 * Call-IDs and MAX_MESSAGES messages in all (the least recently written Call-IDs go first), and the leg Call-IDs of the last MAX_ENDED
 * ended SBC calls. Inbound messages keep their received bytes; outbound ones are serialized when
 * the PCAP is asked for (a sent message is never changed).
 */
import {
  serializeMessage,
  type Endpoint,
  type MessageTap,
  type SipMessage,
  type TransportProtocol,
} from '@tfx/sip';
import { PCAP_HEADER_BYTES, pcapFileHeader, pcapRecord } from '@tfx/protocol';

export const MAX_PER_CALL_ID = 200;
export const MAX_CALL_IDS = 4000;
export const MAX_ENDED = 500;
/** Most messages kept in all (about 1–2 kB each): past it the least recently active Call-IDs go. */
export const MAX_MESSAGES = 50_000;

/** A kept message (`messages()`: the console's per-call ladder; `entries()`: lawful intercept). */
export interface SignalEntry {
  readonly callId: string;
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly transport: TransportProtocol;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly message: SipMessage;
  readonly bytes: Uint8Array | undefined;
  readonly seq: number;
}
type Entry = SignalEntry;

export class SignalRecord {
  /** Call-ID → its messages (Map order: least recently written first). */
  readonly #byCallId = new Map<string, Entry[]>();
  /** Ended SBC call id → its legs' Call-IDs (Map order: oldest first). */
  readonly #ended = new Map<string, readonly string[]>();
  #seq = 0;
  #total = 0;
  /** Messages dropped by the per-Call-ID bound, and Call-IDs evicted (counted, never silent). */
  readonly dropped = { messages: 0, callIds: 0 };

  constructor(
    readonly limits: { perCallId: number; callIds: number; ended: number; messages: number } = {
      perCallId: MAX_PER_CALL_ID,
      callIds: MAX_CALL_IDS,
      ended: MAX_ENDED,
      messages: MAX_MESSAGES,
    },
  ) {}

  /** The tap a zone's stack calls for every message in and out. */
  readonly tap: MessageTap = {
    enabled: true,
    record: (direction, transport: TransportProtocol, local, remote, message, at) =>
      this.record(direction, local, remote, message, at, transport),
  };

  record(
    direction: 'in' | 'out',
    local: Endpoint,
    remote: Endpoint,
    message: SipMessage,
    at: number,
    transport: TransportProtocol = 'udp',
  ): void {
    const callId = message.headers.callId()?.trim();
    if (!callId) return;
    let list = this.#byCallId.get(callId);
    if (list) this.#byCallId.delete(callId);
    else {
      list = [];
      if (this.#byCallId.size >= this.limits.callIds) this.#evictOldest();
    }
    this.#byCallId.set(callId, list);
    this.#total++;
    list.push({
      callId,
      at,
      direction,
      transport,
      src: direction === 'in' ? remote : local,
      dst: direction === 'in' ? local : remote,
      message,
      bytes: direction === 'in' ? message.raw : undefined,
      seq: this.#seq++,
    });
    if (list.length > this.limits.perCallId) {
      list.shift();
      this.#total--;
      this.dropped.messages++;
    }
    while (this.#total > this.limits.messages && this.#byCallId.size > 1) this.#evictOldest();
  }

  /** Messages kept in all. */
  get size(): number {
    return this.#total;
  }

  #evictOldest(): void {
    const oldest = this.#byCallId.entries().next().value;
    if (!oldest) return;
    this.#byCallId.delete(oldest[0]);
    this.#total -= oldest[1].length;
    this.dropped.callIds++;
  }

  /** An SBC call ended: its legs' Call-IDs stay known for the last `limits.ended` calls. */
  ended(callId: string, legCallIds: readonly string[]): void {
    this.#ended.delete(callId);
    this.#ended.set(callId, legCallIds);
    if (this.#ended.size > this.limits.ended) {
      const oldest = this.#ended.keys().next().value;
      if (oldest !== undefined) this.#ended.delete(oldest);
    }
  }

  /** The leg Call-IDs of an ended call still kept. */
  endedLegs(callId: string): readonly string[] | undefined {
    return this.#ended.get(callId);
  }

  /** How many messages are kept for these Call-IDs. */
  count(callIds: readonly string[]): number {
    return [...new Set(callIds)].reduce((n, c) => n + (this.#byCallId.get(c)?.length ?? 0), 0);
  }

  /** These Call-IDs' messages recorded after sequence number `afterSeq`, oldest first. */
  entries(callIds: readonly string[], afterSeq = -1): readonly SignalEntry[] {
    return [...new Set(callIds)]
      .flatMap((c) => this.#byCallId.get(c) ?? [])
      .filter((e) => e.seq > afterSeq)
      .sort((x, y) => x.seq - y.seq);
  }

  /** These Call-IDs' messages, oldest first (the console's ladder of a call's legs). */
  messages(callIds: readonly string[]): readonly SignalEntry[] {
    return [...new Set(callIds)]
      .flatMap((c) => this.#byCallId.get(c) ?? [])
      .sort((x, y) => x.seq - y.seq);
  }

  /** A PCAP file of these Call-IDs' messages, oldest first (UDP records: see pcap.ts). */
  pcap(callIds: readonly string[]): Uint8Array {
    const entries = this.messages(callIds);
    const records = entries.map((e) =>
      pcapRecord(e.src, e.dst, e.bytes ?? serializeMessage(e.message), e.at),
    );
    const out = new Uint8Array(PCAP_HEADER_BYTES + records.reduce((n, r) => n + r.length, 0));
    out.set(pcapFileHeader(), 0);
    let off = PCAP_HEADER_BYTES;
    for (const r of records) {
      out.set(r, off);
      off += r.length;
    }
    return out;
  }
}
