/**
 * The dial pad's call-progress sounds, made with WebAudio (no audio asset):
 * - `ring`: an incoming call rings — 400 + 450 Hz in the double-ring cadence (0.4 s on, 0.2 s off,
 *   0.4 s on, 2 s off; ITU-T E.180 Supplement 2), distinct from a ringback tone on purpose;
 * - `ringback`: an outgoing call rings at the far end and nothing else is heard — 440 + 480 Hz,
 *   2 s on, 4 s off (ITU-T E.180, the North American ringback). Played only when the far end's
 *   ringing carries no early media: through TFX's SBC a 180 becomes a 183 with the SBC's own
 *   ringback in the media (docs/sbc.md), so the page never doubles it.
 * One tone at a time; `stop()` is idempotent. The cadence is scheduled on the AudioContext's own
 * clock (gain automation), not with timers. `state` and the `analyser` are what a person cannot
 * see and a test can: the tone playing now, and the signal itself.
 */

export type ToneKind = 'ring' | 'ringback';
export type ToneState = ToneKind | 'off';

interface ToneSpec {
  readonly freqs: readonly [number, number];
  /** On/off durations (s) of one cadence period, starting with "on". */
  readonly cadence: readonly number[];
}

export const TONES: Readonly<Record<ToneKind, ToneSpec>> = {
  ring: { freqs: [400, 450], cadence: [0.4, 0.2, 0.4, 2] },
  ringback: { freqs: [440, 480], cadence: [2, 4] },
};

/** How long a tone is scheduled ahead (s): longer than any call rings (RFC 3261 Timer C, 3 min). */
const SCHEDULE_S = 240;
/** Each of the two sines' peak level (their sum stays below full scale). */
const LEVEL = 0.2;

/**
 * The times (s from the start) at which the tone's gain switches, with the level it switches to:
 * the cadence repeated until `horizon`. Pure, for the schedule and its unit test.
 */
export function cadenceSteps(
  cadence: readonly number[],
  horizon: number,
): Array<readonly [t: number, on: boolean]> {
  const period = cadence.reduce((a, b) => a + b, 0);
  if (!(period > 0) || cadence.some((d) => !(d >= 0))) throw new Error('bad cadence');
  const steps: Array<readonly [number, boolean]> = [];
  for (let t = 0; t < horizon;) {
    for (let i = 0; i < cadence.length && t < horizon; i++) {
      steps.push([t, i % 2 === 0]);
      t += cadence[i] as number;
    }
  }
  return steps;
}

export class TonePlayer {
  #ctx: AudioContext | undefined;
  #nodes: AudioNode[] = [];
  #state: ToneState = 'off';
  #analyser: AnalyserNode | undefined;

  /** The tone playing now. */
  get state(): ToneState {
    return this.#state;
  }

  /** The tones' signal, for a test (or a meter); present once a tone has played. */
  get analyser(): AnalyserNode | undefined {
    return this.#analyser;
  }

  /**
   * Creates (or resumes) the AudioContext from a user gesture — a sign-in click, a keypad press —
   * so that a call ringing in later is audible under the browser's autoplay policy.
   */
  unlock(): void {
    try {
      const ctx = this.#context();
      if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    } catch {
      // No WebAudio: the call still rings on screen.
    }
  }

  /** Starts a tone (stopping any other). */
  play(kind: ToneKind): void {
    if (this.#state === kind) return;
    this.stop();
    let ctx: AudioContext;
    try {
      ctx = this.#context();
    } catch {
      return;
    }
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    const spec = TONES[kind];
    const gain = ctx.createGain();
    const t0 = ctx.currentTime + 0.02;
    gain.gain.setValueAtTime(0, ctx.currentTime);
    for (const [t, on] of cadenceSteps(spec.cadence, SCHEDULE_S))
      gain.gain.setValueAtTime(on ? LEVEL : 0, t0 + t);
    gain.connect(this.#analyser as AnalyserNode);
    const oscs = spec.freqs.map((f) => {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start(t0);
      return o;
    });
    this.#nodes = [...oscs, gain];
    this.#state = kind;
  }

  /** Stops the tone. Idempotent. */
  stop(): void {
    for (const n of this.#nodes) {
      if (n instanceof OscillatorNode) n.stop();
      n.disconnect();
    }
    this.#nodes = [];
    this.#state = 'off';
  }

  /** Stops the tone and releases the AudioContext. Idempotent. */
  close(): void {
    this.stop();
    void this.#ctx?.close().catch(() => undefined);
    this.#ctx = undefined;
    this.#analyser = undefined;
  }

  #context(): AudioContext {
    if (!this.#ctx) {
      this.#ctx = new AudioContext();
      this.#analyser = this.#ctx.createAnalyser();
      this.#analyser.fftSize = 2048;
      this.#analyser.connect(this.#ctx.destination);
    }
    return this.#ctx;
  }
}

/**
 * Which tone a call's state calls for: an incoming call ringing → `ring`; an outgoing call told
 * the far end rings (180/183) without early media → `ringback`; otherwise none. Pure.
 */
export function toneFor(
  direction: 'incoming' | 'outgoing',
  state: string,
  earlyMedia: boolean,
): ToneKind | null {
  if (direction === 'incoming') return state === 'incoming' ? 'ring' : null;
  return state === 'ringing' && !earlyMedia ? 'ringback' : null;
}
