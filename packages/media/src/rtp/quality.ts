/**
 * Receive statistics of one RTP stream (RFC 3550 Appendix A.1, A.3, A.8) and the E-model MOS
 * (ITU-T G.107) as rtpengine computes it. Pure state, no clock of its own: callers pass arrival
 * times, so tests are deterministic.
 */
import { seqDelta } from './rtp.js';

/** RFC 3550 §A.1: a jump of more than this many sequence numbers is a restart, not loss. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export class ReceiveStats {
  /** Packets received (all, including duplicates). */
  received = 0;
  bytes = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private started = false;
  /** Packets expected and received since the last `takeInterval` (§A.3 fraction lost). */
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Received in sequence accounting (restarts reset base). */
  private counted = 0;
  private lostBeforeRestarts = 0;
  /** Jitter in timestamp units, §A.8 (×16 kept as a float for precision). */
  private jitterTs = 0;
  private lastTransit: number | undefined;
  /** Sequence restarts and SSRC switches seen (livekit/media-sdk counts both). */
  restarts = 0;

  constructor(private readonly clockRate: number) {}

  /**
   * One packet. `arrivalMs` is the arrival time; `timestamp` the RTP timestamp; `restart` tells a
   * new SSRC (the caller tracks SSRCs).
   */
  update(
    seq: number,
    timestamp: number,
    arrivalMs: number,
    bytes: number,
    newSource = false,
  ): void {
    this.received++;
    this.bytes += bytes;
    if (!this.started || newSource) {
      if (this.started) {
        this.lostBeforeRestarts += this.lostNow();
        this.restarts++;
      }
      this.started = true;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.counted = 1;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
      this.lastTransit = undefined;
    } else {
      const d = seqDelta(this.maxSeq, seq);
      if (d > 0 && d < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
        this.counted++;
      } else if (d <= 0 && d >= -MAX_MISORDER) {
        this.counted++; // late or duplicate
      } else {
        // §A.1: a very large jump: the sender restarted its sequence.
        this.lostBeforeRestarts += this.lostNow();
        this.restarts++;
        this.baseSeq = seq;
        this.maxSeq = seq;
        this.cycles = 0;
        this.counted = 1;
        this.expectedPrior = 0;
        this.receivedPrior = 0;
      }
    }
    // §A.8: D(i-1,i) = (Rj - Ri) - (Sj - Si); J += (|D| - J) / 16.
    const transit = (arrivalMs * this.clockRate) / 1000 - timestamp;
    if (this.lastTransit !== undefined) {
      let dd = Math.abs(transit - this.lastTransit);
      if (dd > this.clockRate * 10) dd = 0; // a timestamp jump (new talkspurt after hold)
      this.jitterTs += (dd - this.jitterTs) / 16;
    }
    this.lastTransit = transit;
  }

  get extendedMaxSeq(): number {
    return this.cycles + this.maxSeq;
  }

  private expected(): number {
    return this.cycles + this.maxSeq - this.baseSeq + 1;
  }

  private lostNow(): number {
    return Math.max(0, this.expected() - this.counted);
  }

  /** Cumulative packets lost (§A.3), across restarts. */
  get lost(): number {
    return this.started ? this.lostBeforeRestarts + this.lostNow() : 0;
  }

  /** Jitter in timestamp units, as written into a report block. */
  get jitter(): number {
    return Math.round(this.jitterTs);
  }

  get jitterMs(): number {
    return (this.jitterTs * 1000) / this.clockRate;
  }

  /** §A.3: the fraction lost since the last call, as a fraction of 256, and resets the interval. */
  takeFractionLost(): number {
    const expected = this.expected();
    const expInt = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const recInt = this.counted - this.receivedPrior;
    this.receivedPrior = this.counted;
    const lostInt = expInt - recInt;
    return expInt <= 0 || lostInt <= 0 ? 0 : Math.min(255, Math.floor((lostInt << 8) / expInt));
  }

  /** Loss over the whole stream as a percentage. */
  get lossPercent(): number {
    const total = this.lost + this.received;
    return total === 0 ? 0 : (100 * this.lost) / total;
  }
}

/**
 * MOS by the E-model as rtpengine computes it (`mos_calc` in daemon/ssrc.c, the "legacy"
 * PingPlotter form of ITU-T G.107): effective latency = RTT + 2 × jitter + 10 ms;
 * R = 93.2 − latency/40 (below 160 ms) or 93.2 − (latency − 120)/10; R −= 2.5 × loss %;
 * MOS = 1 + 0.035 R + 7·10⁻⁶ R (R − 60)(100 − R) (G.107 §B.3), rounded down to one decimal as
 * rtpengine stores it (MOS × 10 as an integer). Without an RTT, rtpengine's "LQ" mode: RTT 0.
 */
export function emodelMos(p: { rttMs?: number; jitterMs: number; lossPercent: number }): number {
  const rtt = Math.floor(p.rttMs ?? 0);
  const eff = rtt + Math.floor(p.jitterMs) * 2 + 10;
  let r = eff < 160 ? 93.2 - eff / 40 : 93.2 - (eff - 120) / 10;
  r -= Math.floor(p.lossPercent) * 2.5;
  if (r < 0) return 1;
  const mos = 1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r);
  return Math.max(1, Math.floor(mos * 10) / 10);
}

/** NTP time (RFC 3550 §4) of a Unix ms instant: seconds since 1900 and a 32-bit fraction. */
export function ntpOf(unixMs: number): { sec: number; frac: number } {
  const sec = Math.floor(unixMs / 1000) + 2_208_988_800;
  const frac = Math.floor(((unixMs % 1000) / 1000) * 2 ** 32);
  return { sec: sec >>> 0, frac: frac >>> 0 };
}

/** The middle 32 bits of an NTP timestamp (LSR in report blocks, §6.4.1). */
export function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

/**
 * RTT from a report block (§6.4.1): A − LSR − DLSR, with A the arrival time's middle NTP bits.
 * Returns ms, or undefined without an SR echoed.
 */
export function rttFromReport(
  arrivalUnixMs: number,
  lsr: number,
  dlsr: number,
): number | undefined {
  if (lsr === 0) return undefined;
  const { sec, frac } = ntpOf(arrivalUnixMs);
  const a = ntpMiddle(sec, frac);
  const rtt = (a - lsr - dlsr) >>> 0;
  if (rtt > 0x7fffffff) return undefined;
  return (rtt / 65536) * 1000;
}
