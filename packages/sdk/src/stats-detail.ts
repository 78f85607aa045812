/**
 * Detailed per-peer stats for a live stats panel: one `StatsSample` per `getStats()` report
 * (totals, codecs, resolution, frame rate, jitter, RTT, the selected candidate pair) and the
 * rates between two samples (bitrate in and out, packet loss). Pure, except `sampleStats`,
 * which reads a peer's connection.
 */
import type { Room } from './room.js';

export interface StatsSample {
  /** Report time, ms. */
  readonly timestamp: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  /** Largest inbound jitter, seconds. */
  readonly jitter?: number;
  /** Round-trip time of the selected pair, seconds. */
  readonly rtt?: number;
  /** The inbound video with the most pixels. */
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  /** Inbound codecs, e.g. `video/VP8`, `audio/opus`. */
  readonly codecs: readonly string[];
  readonly localCandidateType?: string;
  readonly remoteCandidateType?: string;
  readonly protocol?: string;
}

export interface StatsRates {
  /** Kilobits per second received and sent between the two samples. */
  readonly kbpsIn: number;
  readonly kbpsOut: number;
  /** Share of packets lost between the two samples, 0–100. */
  readonly lossPercent: number;
}

type Dict = Record<string, unknown>;
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function entries(
  report: Iterable<[string, unknown]> | { forEach(cb: (v: unknown) => void): void },
): Dict[] {
  const all: Dict[] = [];
  const push = (v: unknown): void => {
    if (v && typeof v === 'object') all.push(v as Dict);
  };
  if (Symbol.iterator in report) for (const [, v] of report as Iterable<[string, unknown]>) push(v);
  else report.forEach(push);
  return all;
}

/** One sample from an `RTCStatsReport` (or any iterable of `[id, stats]`). */
export function statsSample(
  report: Iterable<[string, unknown]> | { forEach(cb: (v: unknown) => void): void },
): StatsSample {
  const all = entries(report);
  const byId = new Map(all.map((s) => [String(s.id), s]));
  let timestamp = 0;
  let bytesReceived = 0;
  let bytesSent = 0;
  let packetsReceived = 0;
  let packetsLost = 0;
  let jitter: number | undefined;
  let best: Dict | undefined;
  let pair: Dict | undefined;
  const codecs = new Set<string>();
  for (const s of all) {
    timestamp = Math.max(timestamp, num(s.timestamp) ?? 0);
    if (s.type === 'inbound-rtp') {
      bytesReceived += num(s.bytesReceived) ?? 0;
      packetsReceived += num(s.packetsReceived) ?? 0;
      packetsLost += Math.max(0, num(s.packetsLost) ?? 0);
      const j = num(s.jitter);
      if (j !== undefined) jitter = Math.max(jitter ?? 0, j);
      const codec = str(byId.get(String(s.codecId))?.mimeType);
      if (codec && (num(s.packetsReceived) ?? 0) > 0) codecs.add(codec);
      const px = (num(s.frameWidth) ?? 0) * (num(s.frameHeight) ?? 0);
      if (s.kind === 'video' && px > 0) {
        const bestPx = (num(best?.frameWidth) ?? 0) * (num(best?.frameHeight) ?? 0);
        if (px > bestPx) best = s;
      }
    } else if (s.type === 'outbound-rtp') {
      bytesSent += num(s.bytesSent) ?? 0;
    } else if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId) ?? pair;
    } else if (s.type === 'candidate-pair' && !pair && s.nominated === true) {
      if (s.state === 'succeeded') pair = s;
    }
  }
  const local = pair ? byId.get(String(pair.localCandidateId)) : undefined;
  const remote = pair ? byId.get(String(pair.remoteCandidateId)) : undefined;
  const out: { -readonly [K in keyof StatsSample]: StatsSample[K] } = {
    timestamp,
    bytesReceived,
    bytesSent,
    packetsReceived,
    packetsLost,
    codecs: [...codecs].sort(),
  };
  const set = <K extends keyof StatsSample>(k: K, v: StatsSample[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('jitter', jitter);
  set('rtt', num(pair?.currentRoundTripTime));
  set('width', num(best?.frameWidth));
  set('height', num(best?.frameHeight));
  set('fps', num(best?.framesPerSecond));
  set('localCandidateType', str(local?.candidateType));
  set('remoteCandidateType', str(remote?.candidateType));
  set('protocol', str(local?.protocol));
  return out;
}

/**
 * Rates between two samples. Counters that went backwards (a new connection after an ICE
 * restart, a renegotiated stream) count as a fresh start: the rate is 0, never negative.
 */
export function statsRates(prev: StatsSample | undefined, cur: StatsSample): StatsRates {
  if (!prev) return { kbpsIn: 0, kbpsOut: 0, lossPercent: 0 };
  const dt = (cur.timestamp - prev.timestamp) / 1000;
  const rate = (a: number, b: number): number => (dt > 0 && b >= a ? ((b - a) * 8) / 1000 / dt : 0);
  const received = cur.packetsReceived - prev.packetsReceived;
  const lost = cur.packetsLost - prev.packetsLost;
  const lossPercent =
    received >= 0 && lost > 0 && received + lost > 0 ? (lost / (received + lost)) * 100 : 0;
  return {
    kbpsIn: rate(prev.bytesReceived, cur.bytesReceived),
    kbpsOut: rate(prev.bytesSent, cur.bytesSent),
    lossPercent,
  };
}

/** A fresh sample of one peer's connection, or undefined when it has none. */
export async function sampleStats(room: Room, peerId: string): Promise<StatsSample | undefined> {
  const pc = room.peers.get(peerId)?.link?.pc;
  if (!pc) return undefined;
  return statsSample(await pc.getStats());
}
