/**
 * The file-transfer widget's pure model: the wire format (JSON control messages, binary chunks),
 * validation of everything a peer sends, and the two state machines — one incoming transfer on
 * the receiver, one outgoing transfer (with a state per recipient) on the sender. The receiver
 * hashes what it receives itself (SHA-256, incrementally, as chunks arrive) and compares it with
 * the sender's hash at the end. No DOM; the widget (`widget.ts`) drives these.
 *
 * Wire:
 *   offer   {t:'offer', id, name, size, mime}        sender → recipients
 *   chunk   binary: [1][id: 8 bytes][seq: u32 BE][data]
 *   end     {t:'end', id, sha256}                      sender → recipients, after the last chunk
 *   cancel  {t:'cancel', id}                           sender → recipients (all stop), or
 *                                                      recipient → sender (that one declines)
 *   ack     {t:'ack', id, bytes}                       recipient → sender, progress (≈ every MiB)
 *   result  {t:'result', id, ok, sha256}               recipient → sender, after hashing
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export const CHUNK_KIND = 1;
export const HEADER_BYTES = 13; // kind + 8-byte id + u32 seq
/** Payload per chunk: large enough to amortise the widget↔host hops, well under maxMessageBytes. */
export const CHUNK_BYTES = 256 * 1024;
/** The largest file we accept (the receiver holds it in memory until it is saved). */
export const MAX_FILE_BYTES = 4 * 1024 ** 3;
export const MAX_NAME = 255;
/** A receiver acknowledges progress about this often (bytes). */
export const ACK_EVERY = 1024 * 1024;

const ID = /^[0-9a-f]{16}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export type Control =
  | { t: 'offer'; id: string; name: string; size: number; mime: string }
  | { t: 'end'; id: string; sha256: string }
  | { t: 'cancel'; id: string }
  | { t: 'ack'; id: string; bytes: number }
  | { t: 'result'; id: string; ok: boolean; sha256: string };

export interface Chunk {
  readonly id: string;
  readonly seq: number;
  readonly data: Uint8Array;
}

export function newTransferId(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(8)));
}

const isSize = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_FILE_BYTES;

/**
 * A file name safe to show and to save: no path, no control characters, no bidi overrides,
 * at most MAX_NAME characters; `file` when nothing is left.
 */
export function safeName(v: string): string {
  const base = v.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  const name = clean.replace(/^\.+/, '').slice(0, MAX_NAME);
  return name || 'file';
}

/** A control message from a peer, validated; `undefined` for anything else (count it). */
export function parseControl(v: unknown): Control | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const m = v as Record<string, unknown>;
  if (typeof m.id !== 'string' || !ID.test(m.id)) return undefined;
  const id = m.id;
  switch (m.t) {
    case 'offer':
      if (typeof m.name !== 'string' || m.name.length > 4 * MAX_NAME || !isSize(m.size))
        return undefined;
      return {
        t: 'offer',
        id,
        name: safeName(m.name),
        size: m.size,
        mime: typeof m.mime === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(m.mime) ? m.mime : '',
      };
    case 'end':
      return typeof m.sha256 === 'string' && HEX64.test(m.sha256)
        ? { t: 'end', id, sha256: m.sha256 }
        : undefined;
    case 'cancel':
      return { t: 'cancel', id };
    case 'ack':
      return isSize(m.bytes) ? { t: 'ack', id, bytes: m.bytes } : undefined;
    case 'result':
      return typeof m.ok === 'boolean' && typeof m.sha256 === 'string' && HEX64.test(m.sha256)
        ? { t: 'result', id, ok: m.ok, sha256: m.sha256 }
        : undefined;
    default:
      return undefined;
  }
}

/** One chunk on the wire (the payload is copied once, into the frame). */
export function encodeChunk(id: string, seq: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + data.byteLength);
  out[0] = CHUNK_KIND;
  for (let i = 0; i < 8; i++) out[1 + i] = parseInt(id.slice(i * 2, i * 2 + 2), 16);
  new DataView(out.buffer).setUint32(9, seq >>> 0);
  out.set(data, HEADER_BYTES);
  return out;
}

/** A chunk from a peer, or `undefined` if it is not one (count it). The data is a view, not a copy. */
export function decodeChunk(buf: ArrayBuffer): Chunk | undefined {
  if (buf.byteLength < HEADER_BYTES) return undefined;
  const b = new Uint8Array(buf);
  if (b[0] !== CHUNK_KIND) return undefined;
  return {
    id: bytesToHex(b.subarray(1, 9)),
    seq: new DataView(buf).getUint32(9),
    data: b.subarray(HEADER_BYTES),
  };
}

/** Chunk boundaries for a file of `size` bytes: [start, end) per sequence number. */
export function chunkRanges(size: number, chunk = CHUNK_BYTES): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = 0; at < size; at += chunk) out.push([at, Math.min(size, at + chunk)]);
  return out;
}

/** An incremental SHA-256 (what both sides use; the receiver's is its own). */
export interface Hasher {
  update(data: Uint8Array): void;
  hex(): string;
}
export function newHasher(): Hasher {
  const h = sha256.create();
  return {
    update: (d) => void h.update(d),
    hex: () => bytesToHex(h.digest()),
  };
}

// ---- incoming ------------------------------------------------------------------------------

export type IncomingState = 'receiving' | 'done' | 'corrupt' | 'cancelled' | 'failed';

/** Why an incoming transfer failed (shown to the user, counted). */
export type FailReason =
  'out-of-order' | 'too-long' | 'too-short' | 'sender-left' | 'sender-cancelled';

/**
 * One file arriving from one sender. Explicit states:
 *   receiving --chunk(next seq, fits)--> receiving
 *   receiving --end(hash)--> done | corrupt        (the receiver's own hash vs the sender's)
 *   receiving --cancel (us)--> cancelled           (we tell the sender)
 *   receiving --cancel (sender) / sender left / bad chunk--> failed
 * Terminal states ignore everything (late chunks after a cancel are expected, not errors).
 */
export class Incoming {
  state: IncomingState = 'receiving';
  received = 0;
  failReason: FailReason | undefined;
  /** The receiver's own SHA-256 of what arrived (set at `end`). */
  sha256: string | undefined;
  /** The sender's SHA-256 (set at `end`). */
  claimed: string | undefined;
  private nextSeq = 0;
  private lastAck = 0;
  private readonly hasher = newHasher();
  private parts: Uint8Array<ArrayBuffer>[] = [];
  private held = 0;

  constructor(
    readonly id: string,
    readonly from: string,
    readonly name: string,
    readonly size: number,
    readonly mime: string,
  ) {}

  get active(): boolean {
    return this.state === 'receiving';
  }

  /** Takes a chunk. Returns `ack` when the sender should hear about progress. */
  chunk(seq: number, data: Uint8Array): 'ok' | 'ack' | 'ignored' | 'failed' {
    if (this.state !== 'receiving') return 'ignored';
    if (seq !== this.nextSeq) return this.fail('out-of-order');
    if (this.received + data.byteLength > this.size) return this.fail('too-long');
    this.nextSeq++;
    this.received += data.byteLength;
    this.hasher.update(data);
    // Keep a copy: the view points into a message buffer we do not own.
    this.parts.push(data.slice());
    this.held += data.byteLength;
    if (this.received - this.lastAck >= ACK_EVERY) {
      this.lastAck = this.received;
      return 'ack';
    }
    return 'ok';
  }

  /** The sender's last word: compare our own hash with the sender's. */
  end(claimed: string): IncomingState {
    if (this.state !== 'receiving') return this.state;
    if (this.received !== this.size) {
      this.fail('too-short');
      return this.state;
    }
    this.claimed = claimed;
    this.sha256 = this.hasher.hex();
    this.state = this.sha256 === claimed ? 'done' : 'corrupt';
    if (this.state === 'corrupt') this.takeParts();
    return this.state;
  }

  /** We cancel (the widget tells the sender). */
  cancel(): boolean {
    if (this.state !== 'receiving') return false;
    this.state = 'cancelled';
    this.parts = [];
    this.held = 0;
    return true;
  }

  fail(reason: FailReason): 'failed' {
    if (this.state === 'receiving') {
      this.state = 'failed';
      this.failReason = reason;
      this.parts = [];
      this.held = 0;
    }
    return 'failed';
  }

  /** Bytes received but not yet taken with `takeParts` (held in memory). */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * The bytes received since the last call, in order, and forgets them: the widget folds them into
   * a Blob as they arrive (the browser may keep a large Blob on disk), so a big file is not held
   * twice. Nothing once the transfer is corrupt, cancelled or failed.
   */
  takeParts(): Uint8Array<ArrayBuffer>[] {
    const out = this.state === 'receiving' || this.state === 'done' ? this.parts : [];
    this.parts = [];
    this.held = 0;
    return out;
  }
}

// ---- outgoing ------------------------------------------------------------------------------

export type RecipientState = 'sending' | 'verified' | 'corrupt' | 'declined' | 'left' | 'failed';

export interface Recipient {
  readonly id: string;
  state: RecipientState;
  /** Bytes the recipient has acknowledged. */
  acked: number;
}

export type OutgoingState = 'sending' | 'sent' | 'done' | 'cancelled' | 'failed';

/**
 * One file going to one or more recipients. Explicit states:
 *   sending --all chunks handed over + end--> sent --every recipient settled--> done
 *   sending --cancel (us)--> cancelled
 *   sending --every recipient declined/left--> failed
 * Each recipient: sending → verified | corrupt (its own hash says so) | declined | left | failed.
 */
export class Outgoing {
  state: OutgoingState = 'sending';
  /** Bytes handed to the data channel (our side of the progress). */
  sent = 0;
  readonly recipients: Map<string, Recipient>;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly size: number,
    recipientIds: readonly string[],
    /** A directed transfer (to one peer) rather than to everyone. */
    readonly directed: boolean,
  ) {
    this.recipients = new Map(recipientIds.map((r) => [r, { id: r, state: 'sending', acked: 0 }]));
  }

  get active(): boolean {
    return this.state === 'sending' || this.state === 'sent';
  }

  /** Recipients still taking chunks. */
  live(): string[] {
    return [...this.recipients.values()].filter((r) => r.state === 'sending').map((r) => r.id);
  }

  /** The slowest live recipient's acknowledged bytes (what the progress bar shows). */
  acked(): number {
    const live = [...this.recipients.values()].filter((r) => r.state === 'sending');
    if (live.length === 0) return this.sent;
    return Math.min(...live.map((r) => r.acked));
  }

  handed(bytes: number): void {
    if (this.state === 'sending') this.sent += bytes;
  }

  finished(): void {
    if (this.state === 'sending') this.state = 'sent';
    this.settle();
  }

  /** A recipient's progress or verdict. Unknown peers and settled ones are ignored (`false`). */
  fromRecipient(peer: string, m: Control): boolean {
    const r = this.recipients.get(peer);
    if (!r || r.state !== 'sending' || !this.active) return false;
    if (m.t === 'ack') r.acked = Math.min(this.size, Math.max(r.acked, m.bytes));
    else if (m.t === 'result') {
      r.state = m.ok ? 'verified' : 'corrupt';
      if (m.ok) r.acked = this.size;
    } else if (m.t === 'cancel') r.state = 'declined';
    else return false;
    this.settle();
    return true;
  }

  /** A recipient left the call or could not be reached. */
  lost(peer: string, state: 'left' | 'failed' = 'left'): void {
    const r = this.recipients.get(peer);
    if (r?.state === 'sending') {
      r.state = state;
      this.settle();
    }
  }

  cancel(): boolean {
    if (!this.active) return false;
    this.state = 'cancelled';
    return true;
  }

  private settle(): void {
    if (!this.active) return;
    const rs = [...this.recipients.values()];
    if (rs.some((r) => r.state === 'sending')) return;
    const anyDelivered = rs.some((r) => r.state === 'verified' || r.state === 'corrupt');
    if (this.state === 'sent' || anyDelivered) this.state = anyDelivered ? 'done' : 'failed';
    else this.state = 'failed'; // nobody left to send to
  }
}

// ---- presentation helpers ----------------------------------------------------------------------

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** Remaining time as "12 s", "3 min", or "" when unknown. */
export function formatEta(remainingBytes: number, bytesPerSec: number): string {
  if (!(bytesPerSec > 0) || remainingBytes <= 0) return '';
  const s = remainingBytes / bytesPerSec;
  if (s < 1) return '< 1 s';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** A smoothed rate (bytes/s) from progress samples: the window's slope. */
export class Rate {
  private samples: Array<[number, number]> = [];
  constructor(private readonly windowMs = 2000) {}
  sample(atMs: number, bytes: number): void {
    this.samples.push([atMs, bytes]);
    while (this.samples.length > 2 && atMs - this.samples[0]![0] > this.windowMs)
      this.samples.shift();
  }
  perSecond(): number {
    if (this.samples.length < 2) return 0;
    const [t0, b0] = this.samples[0]!;
    const [t1, b1] = this.samples[this.samples.length - 1]!;
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  }
}
