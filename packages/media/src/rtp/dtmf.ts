/**
 * RFC 4733 telephone events: the payload codec, a sender that produces the packets of a digit,
 * and a detector that reports each digit once. Pure.
 *
 *  0                   1                   2                   3
 * |     event     |E|R| volume    |          duration             |
 */

export const DTMF_DIGITS = '0123456789*#ABCD';

export interface TelephoneEvent {
  /** RFC 4733 §3.2: events 0-15 are DTMF digits 0-9, *, #, A-D. */
  readonly event: number;
  readonly end: boolean;
  /** -dBm0, 0-63. */
  readonly volume: number;
  /** In timestamp units. */
  readonly duration: number;
}

export function parseTelephoneEvent(p: Uint8Array): TelephoneEvent | undefined {
  if (p.length < 4) return undefined;
  return {
    event: p[0]!,
    end: (p[1]! & 0x80) !== 0,
    volume: p[1]! & 0x3f,
    duration: (p[2]! << 8) | p[3]!,
  };
}

export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event & 0xff;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(Math.min(0xffff, e.duration), 2);
  return b;
}

export function digitOf(event: number): string | undefined {
  return event < 16 ? DTMF_DIGITS[event] : undefined;
}

export function eventOf(digit: string): number | undefined {
  const i = DTMF_DIGITS.indexOf(digit.toUpperCase());
  return i < 0 ? undefined : i;
}

export interface DtmfPacket {
  readonly marker: boolean;
  /** Offset of this packet's send time from the digit's start, in ms. */
  readonly atMs: number;
  readonly payload: Buffer;
}

/**
 * The packets of one digit (RFC 4733 §2.5.1): one every `packetMs` with a growing duration, the
 * first with the marker bit (§2.5.1.3); then the final packet with the End bit sent three times
 * (§2.5.1.4: "the final packet for an event MUST be retransmitted" — three, as common practice).
 * All share the RTP timestamp of the event's start.
 */
export function dtmfPackets(p: {
  event: number;
  durationMs: number;
  volume: number;
  clockRate: number;
  packetMs?: number;
}): DtmfPacket[] {
  const step = p.packetMs ?? 20;
  const out: DtmfPacket[] = [];
  const toTs = (ms: number): number => Math.round((ms * p.clockRate) / 1000);
  for (let t = step; t < p.durationMs; t += step) {
    out.push({
      marker: out.length === 0,
      atMs: t - step,
      payload: encodeTelephoneEvent({
        event: p.event,
        end: false,
        volume: p.volume,
        duration: toTs(t),
      }),
    });
  }
  const end = encodeTelephoneEvent({
    event: p.event,
    end: true,
    volume: p.volume,
    duration: toTs(p.durationMs),
  });
  for (let i = 0; i < 3; i++)
    out.push({ marker: out.length === 0, atMs: p.durationMs - step + i, payload: end });
  return out;
}

/**
 * Reports each event once, at its first End packet, keyed by RTP timestamp (RFC 4733 §2.5.2.2:
 * packets of one event share a timestamp). The marker bit is optional: providers send events
 * without it (livekit/sip PR #585), so it is not required here.
 */
export class DtmfDetector {
  private lastEndTs: number | undefined;
  private lastSsrc: number | undefined;

  /** Returns the finished event, once, or undefined. */
  push(ssrc: number, timestamp: number, payload: Uint8Array): TelephoneEvent | undefined {
    const e = parseTelephoneEvent(payload);
    if (!e || !e.end) return undefined;
    if (this.lastEndTs === timestamp && this.lastSsrc === ssrc) return undefined; // a retransmitted end
    this.lastEndTs = timestamp;
    this.lastSsrc = ssrc;
    return e;
  }
}
