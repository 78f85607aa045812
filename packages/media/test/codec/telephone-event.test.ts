import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  rescaleDuration,
  rescaleTelephoneEvent,
  rescaleTelephoneEventPayload,
  rescaleTimestamp,
} from '../../src/codec/telephone-event.js';
import { dtmfPackets, encodeTelephoneEvent, parseTelephoneEvent } from '../../src/rtp/dtmf.js';

const TO_48 = { fromRate: 8000, toRate: 48000, fromBase: 1000, toBase: 777_000 };
const TO_8 = { fromRate: 48000, toRate: 8000, fromBase: 777_000, toBase: 1000 };

describe('RFC 4733 telephone-event between 8 kHz and 48 kHz', () => {
  it('duration 160 at 8 kHz ↔ 960 at 48 kHz; the E bit, event and volume are kept', () => {
    expect(rescaleDuration(160, 8000, 48000)).toBe(960);
    expect(rescaleDuration(960, 48000, 8000)).toBe(160);
    const p = encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 160 });
    const up = rescaleTelephoneEventPayload(p, 8000, 48000)!;
    expect(parseTelephoneEvent(up)).toEqual({ event: 11, end: true, volume: 10, duration: 960 });
    const down = rescaleTelephoneEventPayload(up, 48000, 8000)!;
    expect(Buffer.compare(down, Buffer.from(p))).toBe(0);
    const notEnd = encodeTelephoneEvent({ event: 1, end: false, volume: 7, duration: 800 });
    expect(parseTelephoneEvent(rescaleTelephoneEventPayload(notEnd, 8000, 48000)!)).toEqual({
      event: 1,
      end: false,
      volume: 7,
      duration: 4800,
    });
  });

  it('a whole digit keeps its packets: same start timestamp on all, three end packets, marker once', () => {
    const pkts = dtmfPackets({ event: 1, durationMs: 100, volume: 10, clockRate: 8000 });
    const ts8 = 1000 + 8000 * 3; // the digit starts 3 s after the base
    const mapped = pkts.map((p) =>
      rescaleTelephoneEvent({ timestamp: ts8, marker: p.marker, payload: p.payload }, TO_48)!,
    );
    expect(mapped.length).toBe(pkts.length);
    expect(new Set(mapped.map((m) => m.timestamp))).toEqual(new Set([777_000 + 48000 * 3]));
    expect(mapped.filter((m) => m.marker).length).toBe(1);
    const events = mapped.map((m) => parseTelephoneEvent(m.payload)!);
    const ends = events.filter((e) => e.end);
    expect(ends.length).toBe(3);
    expect(new Set(ends.map((e) => e.duration))).toEqual(new Set([4800])); // 100 ms at 48 kHz
    // and back to 8 kHz gives the original packets byte for byte
    const back = mapped.map((m) => rescaleTelephoneEvent(m, TO_8)!);
    back.forEach((b, i) => {
      expect(b.timestamp).toBe(ts8);
      expect(Buffer.compare(b.payload, pkts[i]!.payload)).toBe(0);
    });
  });

  it('timestamps wrap at 2^32 and may precede the base', () => {
    const map = { fromRate: 8000, toRate: 48000, fromBase: 0xffff_ff00, toBase: 0xffff_0000 };
    expect(rescaleTimestamp(0x0000_0100, map)).toBe((0xffff_0000 + 0x200 * 6) >>> 0);
    expect(rescaleTimestamp(0xffff_fe00, map)).toBe((0xffff_0000 - 0x100 * 6) >>> 0);
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.nat(0xffffffff),
        (d, base) => {
          const m = { fromRate: 8000, toRate: 48000, fromBase: base, toBase: 12345 };
          const t48 = rescaleTimestamp((base + d) >>> 0, m);
          expect(
            rescaleTimestamp(t48, { fromRate: 48000, toRate: 8000, fromBase: 12345, toBase: base }),
          ).toBe((base + d) >>> 0);
        },
      ),
    );
  });

  it('long durations clamp to 16 bits; hostile payloads are refused, not thrown', () => {
    expect(rescaleDuration(20000, 8000, 48000)).toBe(0xffff);
    expect(rescaleTelephoneEventPayload(new Uint8Array(3), 8000, 48000)).toBeUndefined();
    expect(rescaleTelephoneEventPayload(new Uint8Array(8), 8000, 48000)).toBeUndefined();
    expect(
      rescaleTelephoneEvent({ timestamp: 0, marker: true, payload: new Uint8Array(0) }, TO_48),
    ).toBeUndefined();
    expect(() => rescaleDuration(160, 0, 48000)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat(0xffffffff), (b, ts) => {
        const r = rescaleTelephoneEvent({ timestamp: ts, marker: false, payload: b }, TO_48);
        if (b.length !== 4) expect(r).toBeUndefined();
        else expect(parseTelephoneEvent(r!.payload)!.end).toBe((b[1]! & 0x80) !== 0);
      }),
    );
  });
});
