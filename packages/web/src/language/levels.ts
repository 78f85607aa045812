/**
 * Audio levels of everyone in the call, measured in this page: one `AudioContext`, and per
 * participant (our microphone and each peer's received `mic` track) a `MediaStreamAudioSourceNode`
 * → `AnalyserNode`. Nothing is played through the context (the analysers are not connected to its
 * destination); remote audio keeps playing through the tile's `<audio>` element, which Chromium
 * needs for a received WebRTC track to reach Web Audio at all.
 *
 * `sample(bins)` reads every analyser now: the level (0 … 1) — the RMS of the loudest 256-sample
 * slice (~5 ms) of the last 4096 samples (~85 ms at 48 kHz) — and the frequency magnitudes folded
 * into `bins` groups (0 … 255). Callers sample on their own timers (the speaker ring every 100 ms,
 * each subscribed widget) — at most 30 Hz, and not while the page is hidden. The window covers
 * most of a 100 ms tick, so a short sound between two ticks is not missed: with a 5 ms window a
 * periodic sound (Chromium's fake microphone beeps every 500 ms) could fall between the ticks in
 * phase for as long as the page lived.
 */
import type { Room } from '@tfx/sdk';
import type { PeerLevel } from '@tfx/protocol/widgets';

interface Source {
  readonly track: MediaStreamTrack;
  readonly node: MediaStreamAudioSourceNode;
  readonly analyser: AnalyserNode;
}

/** Samples the analyser keeps (~85 ms at 48 kHz); the level is the loudest slice of them. */
const FFT = 4096;
/** One slice (~5 ms): the RMS window of the level. */
const SLICE = 256;

/**
 * The RMS (0 … 1) of the loudest `slice`-sample slice of unsigned 8-bit samples (128 = silence),
 * as `AnalyserNode.getByteTimeDomainData` gives them. Pure.
 */
export function loudestSliceRms(samples: Uint8Array, slice: number): number {
  let loudest = 0;
  for (let start = 0; start + slice <= samples.length; start += slice) {
    let sum = 0;
    for (let i = start; i < start + slice; i++) {
      const x = ((samples[i] ?? 128) - 128) / 128;
      sum += x * x;
    }
    loudest = Math.max(loudest, sum);
  }
  return Math.min(1, Math.sqrt(loudest / slice));
}

export class AudioLevels {
  readonly #room: Room;
  #ctx: AudioContext | null = null;
  readonly #sources = new Map<string, Source>();
  readonly #time = new Uint8Array(FFT);
  readonly #freq = new Uint8Array(FFT / 2);
  #closed = false;

  constructor(room: Room) {
    this.#room = room;
  }

  /** The tracks to measure now: our microphone (under our peer id) and each peer's. */
  #tracks(): Map<string, MediaStreamTrack> {
    const m = new Map<string, MediaStreamTrack>();
    const mine = this.#room.local.audioTrack;
    if (mine && mine.readyState === 'live') m.set(this.#room.peerId, mine);
    for (const p of this.#room.peers.values()) {
      const t = p.tracks.get('mic');
      if (t && t.readyState === 'live') m.set(p.id, t);
    }
    return m;
  }

  #sync(): void {
    const want = this.#tracks();
    for (const [id, s] of this.#sources)
      if (want.get(id) !== s.track) {
        s.node.disconnect();
        this.#sources.delete(id);
      }
    if (want.size === 0) return;
    if (!this.#ctx) {
      this.#ctx = new AudioContext();
      // Created without a user gesture it may start suspended: resume on the next one.
      const resume = (): void => void this.#ctx?.resume().catch(() => undefined);
      resume();
      document.addEventListener('pointerdown', resume, { once: true });
    }
    for (const [id, track] of want) {
      if (this.#sources.has(id)) continue;
      const node = this.#ctx.createMediaStreamSource(new MediaStream([track]));
      const analyser = this.#ctx.createAnalyser();
      analyser.fftSize = FFT;
      analyser.smoothingTimeConstant = 0.5;
      node.connect(analyser);
      this.#sources.set(id, { track, node, analyser });
    }
  }

  /** Everyone's level now (peers without audio are left out). */
  sample(bins = 0): PeerLevel[] {
    if (this.#closed) return [];
    this.#sync();
    const out: PeerLevel[] = [];
    for (const [peer, s] of this.#sources) {
      s.analyser.getByteTimeDomainData(this.#time);
      const level = loudestSliceRms(this.#time, SLICE);
      let groups: number[] = [];
      if (bins > 0) {
        s.analyser.getByteFrequencyData(this.#freq);
        const per = this.#freq.length / bins;
        groups = Array.from({ length: bins }, (_, i) => {
          let max = 0;
          for (let j = Math.floor(i * per); j < Math.floor((i + 1) * per); j++)
            max = Math.max(max, this.#freq[j] ?? 0);
          return max;
        });
      }
      out.push({ peer, level: Math.round(level * 1000) / 1000, bins: groups });
    }
    return out;
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sources.values()) s.node.disconnect();
    this.#sources.clear();
    void this.#ctx?.close().catch(() => undefined);
    this.#ctx = null;
  }
}

/**
 * The active-speaker ring: every 100 ms, a tile whose participant is louder than `threshold`
 * gets `data-speaking` (kept for 400 ms after the voice stops, so the ring does not flicker).
 */
export function mountSpeakerRing(
  levels: AudioLevels,
  root: HTMLElement,
  selfId: () => string,
  threshold = 0.02,
): () => void {
  const lastLoud = new Map<string, number>();
  const tick = (): void => {
    if (document.hidden) return;
    const now = performance.now();
    for (const l of levels.sample(0)) if (l.level > threshold) lastLoud.set(l.peer, now);
    const speaking = (id: string): boolean => now - (lastLoud.get(id) ?? -Infinity) < 400;
    for (const el of root.querySelectorAll<HTMLElement>('.tile[data-peer]')) {
      const on = speaking(el.dataset.peer ?? '');
      if (on !== (el.dataset.speaking === 'true')) el.dataset.speaking = String(on);
    }
    const self = root.querySelector<HTMLElement>('.self');
    if (self) {
      const on = speaking(selfId());
      if (on !== (self.dataset.speaking === 'true')) self.dataset.speaking = String(on);
    }
  };
  const timer = setInterval(tick, 100);
  return () => clearInterval(timer);
}
