/**
 * `getStats()` summaries and the per-peer connection-quality indicator. Pure: a report (any
 * iterable of stats dictionaries) in, a summary out; quality is a function of two summaries.
 */

export interface InboundSummary {
  readonly kind: 'audio' | 'video';
  readonly trackIdentifier?: string;
  readonly mid?: string;
  readonly bytesReceived: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly framesDecoded?: number;
  readonly frameWidth?: number;
  readonly frameHeight?: number;
  readonly framesPerSecond?: number;
  readonly jitter?: number;
}

export interface OutboundSummary {
  readonly kind: 'audio' | 'video';
  readonly mid?: string;
  readonly bytesSent: number;
  readonly framesEncoded?: number;
  readonly frameWidth?: number;
  readonly frameHeight?: number;
  readonly qualityLimitationReason?: string;
}

export interface PeerStats {
  /** Time of the report, ms (`performance.now()` timebase of the stats). */
  readonly timestamp: number;
  readonly inbound: readonly InboundSummary[];
  readonly outbound: readonly OutboundSummary[];
  /** Totals over all inbound RTP streams. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly framesDecoded: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  /** Round-trip time of the selected candidate pair, seconds. */
  readonly rtt?: number;
  /** Candidate types of the selected pair (`host`, `srflx`, `prflx`, `relay`). */
  readonly localCandidateType?: string;
  readonly remoteCandidateType?: string;
  /** Transport protocol of the local candidate (`udp`/`tcp`). */
  readonly protocol?: string;
}

type Dict = Record<string, unknown>;

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Drops undefined fields so the summary stays compact and structurally clean. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Summarises an `RTCStatsReport` (or any iterable of `[id, stats]`). */
export function summarizeStats(
  report: Iterable<[string, unknown]> | { forEach(cb: (v: unknown) => void): void },
): PeerStats {
  const all: Dict[] = [];
  if (Symbol.iterator in report) {
    for (const [, v] of report as Iterable<[string, unknown]>)
      if (v && typeof v === 'object') all.push(v as Dict);
  } else {
    report.forEach((v) => {
      if (v && typeof v === 'object') all.push(v as Dict);
    });
  }
  const byId = new Map(all.map((s) => [String(s.id), s]));
  const inbound: InboundSummary[] = [];
  const outbound: OutboundSummary[] = [];
  let timestamp = 0;
  let pair: Dict | undefined;
  for (const s of all) {
    timestamp = Math.max(timestamp, num(s.timestamp) ?? 0);
    const kind = s.kind === 'audio' ? 'audio' : 'video';
    if (s.type === 'inbound-rtp') {
      inbound.push(
        clean({
          kind,
          trackIdentifier: str(s.trackIdentifier),
          mid: str(s.mid),
          bytesReceived: num(s.bytesReceived) ?? 0,
          packetsReceived: num(s.packetsReceived) ?? 0,
          packetsLost: num(s.packetsLost) ?? 0,
          framesDecoded: num(s.framesDecoded),
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          framesPerSecond: num(s.framesPerSecond),
          jitter: num(s.jitter),
        }),
      );
    } else if (s.type === 'outbound-rtp') {
      outbound.push(
        clean({
          kind,
          mid: str(s.mid),
          bytesSent: num(s.bytesSent) ?? 0,
          framesEncoded: num(s.framesEncoded),
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          qualityLimitationReason: str(s.qualityLimitationReason),
        }),
      );
    } else if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId);
    } else if (
      s.type === 'candidate-pair' &&
      !pair &&
      (s.selected === true || (s.nominated === true && s.state === 'succeeded'))
    ) {
      pair = s;
    }
  }
  const local = pair ? byId.get(String(pair.localCandidateId)) : undefined;
  const remote = pair ? byId.get(String(pair.remoteCandidateId)) : undefined;
  const sum = (f: (s: InboundSummary) => number | undefined): number =>
    inbound.reduce((a, s) => a + (f(s) ?? 0), 0);
  return clean({
    timestamp,
    inbound,
    outbound,
    bytesReceived: sum((s) => s.bytesReceived),
    bytesSent: outbound.reduce((a, s) => a + s.bytesSent, 0),
    framesDecoded: sum((s) => s.framesDecoded),
    packetsReceived: sum((s) => s.packetsReceived),
    packetsLost: sum((s) => s.packetsLost),
    rtt: num(pair?.currentRoundTripTime),
    localCandidateType: str(local?.candidateType),
    remoteCandidateType: str(remote?.candidateType),
    protocol: str(local?.protocol),
  });
}

/** Connection quality of one peer, for the indicator. */
export type Quality = 'good' | 'fair' | 'poor' | 'lost' | 'connecting';

/**
 * Quality from the ICE/peer connection state and two successive stats summaries: `lost` when the
 * connection is disconnected/failed or nothing arrived between the two, `poor`/`fair` by packet
 * loss and round-trip time (thresholds after common MOS rules of thumb: > 10% loss or > 500 ms
 * RTT is poor, > 3% or > 250 ms fair).
 */
export function computeQuality(
  connectionState: RTCPeerConnectionState | string,
  prev: PeerStats | undefined,
  cur: PeerStats | undefined,
): Quality {
  if (connectionState === 'new' || connectionState === 'connecting') return 'connecting';
  if (connectionState !== 'connected') return 'lost';
  if (!cur) return 'connecting';
  if (!prev) return 'good';
  const received = cur.packetsReceived - prev.packetsReceived;
  const lost = Math.max(0, cur.packetsLost - prev.packetsLost);
  const expecting = prev.packetsReceived > 0 || cur.packetsReceived > 0;
  if (expecting && received <= 0 && cur.bytesReceived <= prev.bytesReceived) return 'lost';
  const loss = received + lost > 0 ? lost / (received + lost) : 0;
  const rtt = cur.rtt ?? 0;
  if (loss > 0.1 || rtt > 0.5) return 'poor';
  if (loss > 0.03 || rtt > 0.25) return 'fair';
  return 'good';
}
