/**
 * RFC 4733 telephone-event between clock rates: the browser leg runs telephone-event/48000 (the
 * Opus clock), the phone leg telephone-event/8000 (rtpengine#963, #778 are the bugs when this is
 * wrong). Pure: the caller owns RTP headers and keeps one `ClockMap` per direction of a call.
 *
 * What changes: the RTP timestamp (RFC 4733 §2.5.1: the event's start, the same on every packet of
 * one event) maps onto the other leg's timeline, and the duration (§2.3.5: "in timestamp units")
 * scales by toRate / fromRate. What is kept: the event code, the E (end) bit, the volume — and the
 * number of packets, so the sender's three end packets (§2.5.1.4) stay three. Durations that no
 * longer fit 16 bits after scaling up are clamped to 0xFFFF; splitting a long event into segments
 * (§2.5.1.3, long-duration events) is the gateway's job: it needs state.
 */
import { encodeTelephoneEvent, parseTelephoneEvent } from '../rtp/dtmf.js';

/** Maps timestamps of one leg's RTP clock onto another's. */
export interface ClockMap {
  readonly fromRate: number;
  readonly toRate: number;
  /** A timestamp on the source leg … */
  readonly fromBase: number;
  /** … and the timestamp of the same instant on the destination leg. */
  readonly toBase: number;
}

function checkRate(r: number): void {
  if (!Number.isInteger(r) || r < 1000 || r > 192000)
    throw new RangeError(`RTP clock rate must be an integer 1000..192000, got ${r}`);
}

/** A 32-bit RTP timestamp on the source leg → the destination leg (wraps handled, RFC 3550 §5.1). */
export function rescaleTimestamp(ts: number, map: ClockMap): number {
  checkRate(map.fromRate);
  checkRate(map.toRate);
  const delta = ((ts >>> 0) - (map.fromBase >>> 0)) | 0; // signed: events may predate the base
  return (map.toBase + Math.round((delta * map.toRate) / map.fromRate)) >>> 0;
}

/** A duration in source timestamp units → destination units (clamped to 16 bits, §2.3.5). */
export function rescaleDuration(duration: number, fromRate: number, toRate: number): number {
  checkRate(fromRate);
  checkRate(toRate);
  return Math.min(0xffff, Math.max(0, Math.round((duration * toRate) / fromRate)));
}

/**
 * One telephone-event payload rescaled. `undefined` when it is not a 4-byte RFC 4733 payload
 * (RFC 2198-packed events are not handled; the caller counts the drop).
 */
export function rescaleTelephoneEventPayload(
  payload: Uint8Array,
  fromRate: number,
  toRate: number,
): Buffer | undefined {
  if (payload.length !== 4) return undefined;
  const e = parseTelephoneEvent(payload)!;
  return encodeTelephoneEvent({ ...e, duration: rescaleDuration(e.duration, fromRate, toRate) });
}

export interface TelephoneEventRtp {
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payload: Uint8Array;
}

/** A whole telephone-event packet (timestamp, marker, payload) onto the other leg's clock. */
export function rescaleTelephoneEvent(
  p: TelephoneEventRtp,
  map: ClockMap,
): { timestamp: number; marker: boolean; payload: Buffer } | undefined {
  const payload = rescaleTelephoneEventPayload(p.payload, map.fromRate, map.toRate);
  if (!payload) return undefined;
  return { timestamp: rescaleTimestamp(p.timestamp, map), marker: p.marker, payload };
}
