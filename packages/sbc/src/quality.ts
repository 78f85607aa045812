/**
 * Live quality per trunk (issue #18 item 2; docs/sbc.md, "Routing on cost and quality"), the
 * figures OpenSIPS's `qrouting` keeps per gateway plus the media engine's MOS:
 *
 * - ASR, answer-seizure ratio (ITU-T E.411): attempts answered / attempts sent to the trunk;
 * - PDD, post-dial delay (ITU-T E.437 / RFC 6076 §4.1's "Session Request Delay"): from the INVITE
 *   sent to the trunk to its first 18x or its 2xx, averaged over attempts that got one;
 * - ACD, average call duration: answer to end of the answered calls, seconds;
 * - MOS: the E-model MOS (ITU-T G.107, as rtpengine computes it) of the stream the trunk sent,
 *   from the engine's periodic per-call stats (the last value of the call's `b` leg).
 *
 * Each trunk keeps its last `windowCalls` attempts, and only those of the last `windowMinutes`
 * (an injected clock). Pure: `QualityMeter` holds the samples, `QualityTracker` turns one call's
 * events (trying, progress, answered, failed, stats, ended) into samples. No timers, no I/O.
 */
import type { LegStats } from '@tfx/media';

/** The sliding window (`sbc.quality`). */
export interface QualityWindow {
  /** Attempts kept per trunk (the last N). */
  readonly windowCalls: number;
  /** Attempts older than this are forgotten (0: no age limit). */
  readonly windowMinutes: number;
}

export const DEFAULT_QUALITY_WINDOW: QualityWindow = { windowCalls: 100, windowMinutes: 60 };

/** Most attempts kept per trunk, whatever the configuration. */
export const MAX_WINDOW_CALLS = 10_000;

/** One trunk's live quality (REST `quality`, metrics): null when nothing measured it yet. */
export interface TrunkQuality {
  /** Attempts in the window. */
  readonly calls: number;
  /** Answered / attempts, 0–1. */
  readonly asr: number | null;
  /** Mean post-dial delay, ms. */
  readonly pddMs: number | null;
  /** Mean duration of the answered calls, seconds. */
  readonly acdSeconds: number | null;
  /** Mean MOS (1–5) of the calls the engine reported one for. */
  readonly mos: number | null;
}

/** One attempt's outcome. */
export interface QualitySample {
  /** Clock ms when the attempt ended (its age in the window). */
  readonly at: number;
  readonly answered: boolean;
  readonly pddMs?: number;
  readonly durationSeconds?: number;
  readonly mos?: number;
}

const finite = (v: number | undefined, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;

const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

/** The samples of every trunk, each trunk a bounded ring. */
export class QualityMeter {
  #window: QualityWindow;
  readonly #now: () => number;
  readonly #samples = new Map<string, QualitySample[]>();

  constructor(window: QualityWindow, now: () => number) {
    this.#window = window;
    this.#now = now;
  }

  /** A new window (a reload); samples beyond it go at the next read or record. */
  setWindow(window: QualityWindow): void {
    this.#window = window;
  }

  /** Records an attempt; out-of-range figures (NaN, negative, MOS outside 1–5) are dropped. */
  record(trunk: string, s: QualitySample): void {
    const clean: QualitySample = {
      at: s.at,
      answered: s.answered === true,
      ...(finite(s.pddMs, 0, 3_600_000) && { pddMs: s.pddMs }),
      ...(s.answered &&
        finite(s.durationSeconds, 0, 30 * 86_400) && {
          durationSeconds: s.durationSeconds,
        }),
      ...(finite(s.mos, 1, 5) && { mos: s.mos }),
    };
    let list = this.#samples.get(trunk);
    if (!list) this.#samples.set(trunk, (list = []));
    list.push(clean);
    this.#trim(list);
  }

  /** A trunk's figures over its window (zero calls: every figure null). */
  of(trunk: string): TrunkQuality {
    const list = this.#samples.get(trunk) ?? [];
    this.#trim(list);
    const answered = list.filter((s) => s.answered);
    return {
      calls: list.length,
      asr: list.length === 0 ? null : answered.length / list.length,
      pddMs: mean(list.flatMap((s) => (s.pddMs !== undefined ? [s.pddMs] : []))),
      acdSeconds: mean(
        answered.flatMap((s) => (s.durationSeconds !== undefined ? [s.durationSeconds] : [])),
      ),
      mos: mean(list.flatMap((s) => (s.mos !== undefined ? [s.mos] : []))),
    };
  }

  /** Forgets trunks no longer configured (a reload). */
  retain(names: ReadonlySet<string>): void {
    for (const k of this.#samples.keys()) if (!names.has(k)) this.#samples.delete(k);
  }

  #trim(list: QualitySample[]): void {
    const max = Math.min(MAX_WINDOW_CALLS, Math.max(1, Math.floor(this.#window.windowCalls)));
    if (list.length > max) list.splice(0, list.length - max);
    const ms = this.#window.windowMinutes * 60_000;
    if (ms > 0) {
      const oldest = this.#now() - ms;
      let drop = 0;
      while (drop < list.length && (list[drop] as QualitySample).at < oldest) drop++;
      if (drop > 0) list.splice(0, drop);
    }
  }
}

/** One call as the tracker sees it: a key object with the id of its media session. */
export interface QualityCall {
  readonly mediaId: string;
}

interface Attempt {
  readonly trunk: string;
  readonly sent: number;
  pdd?: number;
  answer?: number;
}

/** The media leg facing the trunk (SbcCall's leg B media tag). */
export const TRUNK_LEG_TAG = 'b';

/**
 * Turns a call's events into samples of the meter. Only named trunks count (`registered:…` and
 * `local:…` destinations, which hold a `:`, are not trunks).
 */
export class QualityTracker {
  readonly meter: QualityMeter;
  readonly #now: () => number;
  readonly #attempts = new WeakMap<QualityCall, Attempt>();
  /** The last MOS of each live media session's trunk leg. */
  readonly #mos = new Map<string, number>();

  constructor(meter: QualityMeter, now: () => number) {
    this.meter = meter;
    this.#now = now;
  }

  /** The INVITE goes to `trunk` (a previous attempt still open ends unanswered). */
  trying(call: QualityCall, trunk: string): void {
    this.failed(call);
    if (trunk.includes(':')) return;
    this.#attempts.set(call, { trunk, sent: this.#now() });
  }

  /** A provisional (18x) from the trunk: the post-dial delay, once. */
  progress(call: QualityCall, status: number): void {
    const a = this.#attempts.get(call);
    if (a && status > 100 && a.pdd === undefined) a.pdd = this.#now() - a.sent;
  }

  answered(call: QualityCall): void {
    const a = this.#attempts.get(call);
    if (!a || a.answer !== undefined) return;
    const now = this.#now();
    a.pdd ??= now - a.sent;
    a.answer = now;
  }

  /** The attempt failed (a final ≥ 300, a timeout, a transport error): an unanswered seizure. */
  failed(call: QualityCall): void {
    const a = this.#attempts.get(call);
    if (!a || a.answer !== undefined) return;
    this.#attempts.delete(call);
    this.meter.record(a.trunk, {
      at: this.#now(),
      answered: false,
      ...(a.pdd !== undefined && { pddMs: a.pdd }),
    });
  }

  /** The engine's periodic stats of a live media session. */
  stats(mediaId: string, legs: readonly LegStats[]): void {
    const mos = legs.find((l) => l.tag === TRUNK_LEG_TAG)?.mos;
    if (typeof mos === 'number' && Number.isFinite(mos)) this.#mos.set(mediaId, mos);
  }

  /** The call ends: an answered attempt becomes a sample with its duration and MOS. */
  ended(call: QualityCall): void {
    const mos = this.#mos.get(call.mediaId);
    this.#mos.delete(call.mediaId);
    const a = this.#attempts.get(call);
    if (!a) return;
    if (a.answer === undefined) return this.failed(call);
    this.#attempts.delete(call);
    const now = this.#now();
    this.meter.record(a.trunk, {
      at: now,
      answered: true,
      ...(a.pdd !== undefined && { pddMs: a.pdd }),
      durationSeconds: Math.max(0, (now - a.answer) / 1000),
      ...(mos !== undefined && { mos }),
    });
  }

  /** Forgets the MOS of a media session (a call that ended without the tracker's `ended`). */
  drop(mediaId: string): void {
    this.#mos.delete(mediaId);
  }
}
