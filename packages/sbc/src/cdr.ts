/**
 * Call detail records (issue #19 item 1): one record per SBC call attempt, built from the call's
 * life as the SBC sees it (parties after normalization, zones, every trunk tried and its status,
 * start/ring/answer/end times, final status, who ended it). The record is handed to a `CdrSink`
 * synchronously, before the SBC sends the BYE's 2xx or the final response that ends the call: a
 * sink that writes it durably (the server's, with write(2) on an O_APPEND file) then keeps every
 * call a peer saw end. Pure: no fs here (the sink is the server's).
 */
import type { LegStats } from '@tfx/media';
import type { EndReason, SbcCall } from './call.js';

/**
 * One trunk tried for leg B: its final status (200 when it answered; 0: none received, e.g. the
 * call ended or the try timed out first) and when the INVITE left toward it (ISO).
 */
export interface CdrTry {
  readonly trunk: string;
  readonly status: number;
  readonly at?: string;
}

export interface CdrParties {
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly ruri: string | undefined;
}

/** One leg's media as the engine last reported it (its periodic `stats` event). */
export interface CdrMedia {
  /** The engine's tag of the leg (`a`: the caller's side, `b`: the trunk's). */
  readonly leg: string;
  readonly zone?: string;
  readonly codec?: string;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly packetsLost: number;
  readonly jitterMs: number;
  readonly mos?: number;
}

/** The record of one call attempt (one JSON line of the CDR files). */
export interface CdrRecord {
  /** `sbc`: a B2BUA call of the SBC; `proxy`: a call the SIP server proxied between its users. */
  readonly kind?: 'sbc' | 'proxy';
  readonly id: string;
  /** Leg A's and leg B's Call-IDs (B's is the last trunk's). */
  readonly callId: string | undefined;
  readonly bCallId: string | undefined;
  readonly aZone: string;
  readonly bZone: string;
  /** The trunk of the last try (or `local:<user>`). */
  readonly trunk: string;
  readonly tries: readonly CdrTry[];
  /** The caller's parties as received, and leg B's after normalization. */
  readonly caller: CdrParties;
  readonly callee: CdrParties;
  readonly start: string;
  readonly ring?: string;
  readonly answer?: string;
  readonly end: string;
  /** Seconds from answer to end (0 when not answered). */
  readonly duration: number;
  /** The final SIP status of the attempt: 200 when answered, else the status sent to A. */
  readonly final: number;
  /** Who or what ended the call (`caller-bye`, `callee-bye`, `rejected`…). */
  readonly reason: EndReason | 'expired';
  /** A call to an emergency number (emergency.ts); absent otherwise. */
  readonly emergency?: true;
  /** Per leg, when the engine reported stats during the call (its `statsInterval`); else absent. */
  readonly media?: readonly CdrMedia[];
}

/** Where records go, synchronously: `write` returns when the record is durable enough. */
export interface CdrSink {
  write(record: CdrRecord): void;
}

interface Track {
  readonly caller: CdrParties;
  callee: CdrParties;
  readonly tries: CdrTry[];
  current: string | undefined;
  currentAt: number;
  emergency: boolean;
  ring?: number;
  answer?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function userOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /sips?:([^@;>]+)@/i.exec(value);
  return m?.[1];
}

/** The SBC's bookkeeping of the calls' CDR data (kept beside the calls, dropped at their end). */
export class CdrTracker {
  readonly #tracks = new WeakMap<SbcCall, Track>();
  /** The last stats of each live call's media session (by media id; dropped at the call's end). */
  readonly #media = new Map<string, CdrMedia[]>();
  readonly #sink: CdrSink;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  /** Records ended, by final status class (`2xx`, `4xx`…), for `tfx_sbc_cdrs_total`. */
  readonly totals = new Map<string, number>();

  constructor(sink: CdrSink, now: () => number, onError: (err: unknown) => void) {
    this.#sink = sink;
    this.#now = now;
    this.#onError = onError;
  }

  #track(call: SbcCall): Track {
    let t = this.#tracks.get(call);
    if (!t) {
      const h = call.incoming.request.headers;
      const uri = call.incoming.request.uri;
      t = {
        caller: {
          from: userOf(h.get('from')),
          to: userOf(h.get('to')),
          ruri: uri.kind === 'sip' ? uri.user : undefined,
        },
        callee: { from: undefined, to: undefined, ruri: undefined },
        tries: [],
        current: undefined,
        currentAt: 0,
        emergency: false,
      };
      this.#tracks.set(call, t);
    }
    return t;
  }

  /** Leg B goes to `trunk` with these parties (after normalization). */
  trying(call: SbcCall, trunk: string, callee: CdrParties): void {
    const t = this.#track(call);
    t.callee = callee;
    t.current = trunk;
    t.currentAt = this.#now();
  }

  /** The call goes to an emergency number (emergency.ts): its record says so. */
  emergency(call: SbcCall): void {
    this.#track(call).emergency = true;
  }

  /** The trunk tried last answered `status` (a final status; 200 for a 2xx). */
  tried(call: SbcCall, status: number): void {
    const t = this.#track(call);
    if (t.current === undefined) return;
    t.tries.push({ trunk: t.current, status, at: iso(t.currentAt) });
    t.current = undefined;
  }

  /** The engine's periodic stats of a live call's media session (`isLive`: the SBC's own). */
  stats(mediaId: string, legs: readonly LegStats[]): void {
    this.#media.set(
      mediaId,
      legs.map((l) => ({
        leg: l.tag,
        ...(l.zone !== undefined && { zone: l.zone }),
        ...(l.codec !== undefined && { codec: l.codec }),
        packetsIn: l.packetsIn,
        packetsOut: l.packetsOut,
        packetsLost: l.packetsLost,
        jitterMs: l.jitterMs,
        ...(l.mos !== undefined && { mos: l.mos }),
      })),
    );
  }

  ringing(call: SbcCall): void {
    const t = this.#track(call);
    t.ring ??= this.#now();
  }

  answered(call: SbcCall): void {
    const t = this.#track(call);
    t.answer ??= this.#now();
    if (t.current !== undefined) this.tried(call, 200);
  }

  /** The call ends (before its last message is sent): the record goes to the sink. */
  ending(call: SbcCall, reason: EndReason, status: number, trunk: string): void {
    const t = this.#track(call);
    this.#tracks.delete(call);
    if (t.current !== undefined)
      t.tries.push({ trunk: t.current, status: 0, at: iso(t.currentAt) });
    const end = this.#now();
    const media = this.#media.get(call.mediaId) ?? this.#media.get(call.id);
    this.#media.delete(call.mediaId);
    this.#media.delete(call.id);
    const answered = t.answer !== undefined;
    const final = answered ? 200 : call.incoming.answered ? 200 : status;
    const record: CdrRecord = {
      kind: 'sbc',
      id: call.id,
      callId: call.incoming.request.headers.callId(),
      bCallId: call.b.session?.dialog.id.callId,
      aZone: call.a.zone.name,
      bZone: call.b.zone.name,
      trunk,
      tries: t.tries,
      caller: t.caller,
      callee: t.callee,
      start: iso(call.startedAt),
      ...(t.ring !== undefined && { ring: iso(t.ring) }),
      ...(t.answer !== undefined && { answer: iso(t.answer) }),
      end: iso(end),
      duration: t.answer !== undefined ? Math.max(0, (end - t.answer) / 1000) : 0,
      final,
      reason,
      ...(t.emergency && { emergency: true as const }),
      ...(media && { media }),
    };
    const key = `${Math.floor(final / 100)}xx`;
    this.totals.set(key, (this.totals.get(key) ?? 0) + 1);
    try {
      this.#sink.write(record);
    } catch (err) {
      this.#onError(err);
    }
  }
}
