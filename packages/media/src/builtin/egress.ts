/**
 * The relay's own SSRC and a monotonic sequence and timestamp per egress leg. Whatever the far
 * end does (switches SSRC, restarts its sequence, goes on hold, is re-targeted) and whatever the
 * relay inserts (tones, DTMF), the party receiving this leg sees one SSRC whose sequence numbers
 * keep increasing: the fix for janus PR #3640 (seq regression → SRTP replay_old, one-way audio).
 * Pure: callers pass the time.
 */
import { seqDelta } from '../rtp/rtp.js';

/** A jump this far ahead, or this far back, is a restart of the source's sequence. */
const RESTART_AHEAD = 1000;
const RESTART_BACK = 50;

export class EgressSequencer {
  readonly ssrc: number;
  private lastOutSeq: number;
  private lastOutTs: number;
  private lastWallMs = 0;
  private started = false;
  /** Source segment: SSRC (-1 none, -2 synthetic), its base sequence and the offsets. */
  private srcSsrc = -1;
  private srcBaseSeq = 0;
  private outBaseSeq = 0;
  private lastSrcSeq = 0;
  private tsOffset = 0;
  /** Packets and octets sent (for SR, RFC 3550 §6.4.1). */
  packets = 0;
  octets = 0;

  constructor(random: () => number = Math.random) {
    this.ssrc = Math.floor(random() * 0xffffffff) >>> 0;
    this.lastOutSeq = Math.floor(random() * 0x8000);
    this.lastOutTs = Math.floor(random() * 0x7fffffff) >>> 0;
  }

  /** The last timestamp sent and when (for SR). */
  get lastTimestamp(): number {
    return this.lastOutTs;
  }

  get lastSentAtMs(): number {
    return this.lastWallMs;
  }

  private newSegment(nowMs: number, clockRate: number, srcSeq: number, srcTs: number): void {
    const elapsed = this.started
      ? Math.max(1, Math.round(((nowMs - this.lastWallMs) * clockRate) / 1000))
      : 0;
    this.outBaseSeq = this.started ? (this.lastOutSeq + 1) & 0xffff : this.lastOutSeq;
    const outTs = (this.lastOutTs + elapsed) >>> 0;
    this.tsOffset = (outTs - srcTs) >>> 0;
    this.srcBaseSeq = srcSeq;
    this.lastSrcSeq = srcSeq;
    this.started = true;
  }

  /** Maps a relayed packet's source fields to this leg's sequence and timestamp. */
  map(
    srcSsrc: number,
    srcSeq: number,
    srcTs: number,
    nowMs: number,
    clockRate: number,
  ): { seq: number; ts: number } {
    this.advance(srcSsrc, srcSeq, srcTs, nowMs, clockRate);
    return { seq: this.seq, ts: this.ts };
  }

  /** The result of the last `advance`: the egress sequence and timestamp of that packet. */
  seq = 0;
  ts = 0;

  /** `map` without allocation (the relay's hot path): the result is in `seq` and `ts`. */
  advance(srcSsrc: number, srcSeq: number, srcTs: number, nowMs: number, clockRate: number): void {
    const jump = seqDelta(this.lastSrcSeq, srcSeq);
    if (!this.started || srcSsrc !== this.srcSsrc || jump > RESTART_AHEAD || jump < -RESTART_BACK) {
      this.newSegment(nowMs, clockRate, srcSeq, srcTs);
      this.srcSsrc = srcSsrc;
    }
    const seq = (this.outBaseSeq + seqDelta(this.srcBaseSeq, srcSeq)) & 0xffff;
    const ts = (srcTs + this.tsOffset) >>> 0;
    if (seqDelta(this.lastOutSeq, seq) > 0 || this.packets === 0) {
      this.lastOutSeq = seq;
      this.lastOutTs = ts;
      this.lastWallMs = nowMs;
      this.lastSrcSeq = srcSeq;
    }
    this.seq = seq;
    this.ts = ts;
  }

  /**
   * A packet the relay makes itself (tone frame, DTMF event packet). `tsStep` advances the
   * timestamp from the previous synthetic packet (0 keeps it: RFC 4733 §2.5.1.2, all packets of
   * one event carry the event's start timestamp); the first after relayed media starts a segment.
   */
  synth(nowMs: number, clockRate: number, tsStep: number): { seq: number; ts: number } {
    let ts: number;
    if (this.srcSsrc !== -2 || !this.started) {
      const elapsed = this.started
        ? Math.max(1, Math.round(((nowMs - this.lastWallMs) * clockRate) / 1000))
        : 0;
      ts = (this.lastOutTs + elapsed) >>> 0;
      this.srcSsrc = -2;
      this.started = true;
    } else ts = (this.lastOutTs + tsStep) >>> 0;
    const seq = this.packets === 0 ? this.lastOutSeq : (this.lastOutSeq + 1) & 0xffff;
    this.lastOutSeq = seq;
    this.lastOutTs = ts;
    this.lastWallMs = nowMs;
    return { seq, ts };
  }

  count(bytes: number): void {
    this.packets++;
    this.octets += bytes;
  }
}
