import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DtmfDetector,
  ReceiveStats,
  buildReceiverReport,
  buildRtp,
  buildSenderReport,
  dtmfPackets,
  emodelMos,
  isRtcp,
  parseRtcp,
  parseRtp,
  parseTelephoneEvent,
  rttFromReport,
  ntpOf,
  ntpMiddle,
} from '../../src/rtp/index.js';

describe('RTP header (RFC 3550 §5.1)', () => {
  it('reads the fixed header, CSRCs, extension and padding', () => {
    const b = Buffer.from([
      0xb1, 0xe5, 0x12, 0x34, 0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0xbe, 0xde, 0, 1, 9,
      9, 9, 9, 0xaa, 0xbb, 0, 2,
    ]);
    const r = parseRtp(b);
    expect(r).toEqual({
      ok: true,
      header: {
        padding: true,
        extension: true,
        csrcCount: 1,
        marker: true,
        payloadType: 101,
        sequence: 0x1234,
        timestamp: 256,
        ssrc: 0xdeadbeef,
        payloadOffset: 24,
        payloadLength: 2,
      },
    });
  });

  it.each([
    ['too short', [0x80, 0, 0], 'too-short'],
    ['version 0', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'version'],
    ['RTCP SR on a muxed port (RFC 5761 §4)', [0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'rtcp'],
    ['CSRC count beyond the packet', [0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'csrc-overflow'],
    [
      'extension beyond the packet',
      [0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9],
      'extension-overflow',
    ],
    ['padding count 0', [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'padding'],
    ['padding beyond the payload', [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff], 'padding'],
  ])('refuses %s', (_n, bytes, error) => {
    expect(parseRtp(Buffer.from(bytes))).toEqual({ ok: false, error });
  });

  it('builds what it parses', () => {
    const b = buildRtp(
      { marker: true, payloadType: 8, sequence: 65535, timestamp: 2 ** 32 - 1, ssrc: 7 },
      Buffer.from([1, 2]),
    );
    const r = parseRtp(b);
    expect(r.ok && r.header).toMatchObject({
      marker: true,
      payloadType: 8,
      sequence: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 7,
      payloadLength: 2,
    });
  });

  it('never throws on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const r = parseRtp(bytes);
        if (r.ok)
          expect(r.header.payloadOffset + r.header.payloadLength).toBeLessThanOrEqual(bytes.length);
        parseRtcp(bytes);
        isRtcp(bytes);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('RTCP (RFC 3550 §6.4)', () => {
  const block = {
    ssrc: 9,
    fractionLost: 64,
    cumulativeLost: -2,
    highestSeq: 70000,
    jitter: 33,
    lsr: 0x12345678,
    dlsr: 655,
  };

  it('parses the SR and RR it builds, with SDES CNAME', () => {
    const sr = buildSenderReport({
      ssrc: 1,
      ntpSec: 10,
      ntpFrac: 20,
      rtpTimestamp: 30,
      packetCount: 40,
      octetCount: 50,
      reports: [block],
      cname: 'tfx',
    });
    const r = parseRtcp(sr);
    expect(r.ok && r.packets).toEqual([
      {
        type: 'sr',
        ssrc: 1,
        ntpSec: 10,
        ntpFrac: 20,
        rtpTimestamp: 30,
        packetCount: 40,
        octetCount: 50,
        reports: [block],
      },
      { type: 'sdes', chunks: [{ ssrc: 1, cname: 'tfx' }] },
    ]);
    const rr = parseRtcp(buildReceiverReport({ ssrc: 2, reports: [block], cname: 'x' }));
    expect(rr.ok && rr.packets[0]).toEqual({ type: 'rr', ssrc: 2, reports: [block] });
    expect(isRtcp(sr)).toBe(true);
  });

  it.each([
    ['too short', [0x80, 200, 0], 'too-short'],
    ['not RTCP', [0x80, 0, 0, 1, 0, 0, 0, 0], 'not-rtcp'],
    ['lying length', [0x81, 200, 0, 0x40, 1, 2, 3, 4], 'length'],
    ['report count beyond the packet', [0x85, 201, 0, 1, 0, 0, 0, 1], 'report-count'],
    ['bad version', [0x40, 201, 0, 1, 0, 0, 0, 1], 'version'],
  ])('refuses %s', (_n, bytes, error) => {
    expect(parseRtcp(Buffer.from(bytes))).toEqual({ ok: false, error });
  });
});

describe('receive statistics (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts loss from sequence gaps, across wrap-around, and the fraction lost per interval', () => {
    const s = new ReceiveStats(8000);
    let seq = 65530;
    for (let i = 0; i < 100; i++) {
      if (i % 10 !== 3) s.update(seq & 0xffff, i * 160, i * 20, 172);
      seq++;
    }
    expect(s.lost).toBe(10);
    expect(s.takeFractionLost()).toBe(Math.floor((10 * 256) / 100));
    expect(s.extendedMaxSeq).toBe(65530 + 99);
  });

  it('a sequence restart and an SSRC switch are not counted as loss', () => {
    const s = new ReceiveStats(8000);
    for (let i = 0; i < 10; i++) s.update(100 + i, i * 160, i * 20, 172);
    for (let i = 0; i < 10; i++) s.update(40000 + i, i * 160, 200 + i * 20, 172);
    for (let i = 0; i < 10; i++) s.update(5 + i, i * 160, 400 + i * 20, 172, i === 0);
    expect(s.lost).toBe(0);
    expect(s.restarts).toBe(2);
  });

  it('jitter stays 0 for a perfectly paced stream and grows with irregular arrival', () => {
    const s = new ReceiveStats(8000);
    for (let i = 0; i < 50; i++) s.update(i, i * 160, i * 20, 172);
    expect(s.jitter).toBe(0);
    for (let i = 50; i < 100; i++) s.update(i, i * 160, i * 20 + (i % 2 ? 10 : 0), 172);
    expect(s.jitterMs).toBeGreaterThan(3);
  });
});

describe('E-model MOS as rtpengine computes it', () => {
  it.each([
    [{ jitterMs: 0, lossPercent: 0 }, 4.4],
    [{ jitterMs: 0, lossPercent: 5 }, 4.0],
    [{ jitterMs: 0, lossPercent: 20 }, 2.2],
    [{ rttMs: 400, jitterMs: 20, lossPercent: 0 }, 3.1],
    [{ jitterMs: 0, lossPercent: 100 }, 1],
  ])('%j → %d', (input, mos) => {
    expect(emodelMos(input)).toBeCloseTo(mos, 1);
  });

  it('RTT comes from LSR/DLSR of a report block (§6.4.1)', () => {
    const sent = ntpOf(1_000_000);
    const lsr = ntpMiddle(sent.sec, sent.frac);
    const rtt = rttFromReport(1_000_150, lsr, 65536 / 10); // 100 ms held at the far end
    expect(rtt).toBeGreaterThan(49);
    expect(rtt).toBeLessThan(51);
  });
});

describe('RFC 4733 DTMF', () => {
  it('§2.5.1: a digit is marker first, growing durations, then three End packets with the same duration', () => {
    const pk = dtmfPackets({ event: 11, durationMs: 100, volume: 10, clockRate: 8000 });
    expect(pk[0]!.marker).toBe(true);
    expect(pk.slice(1).every((p) => !p.marker)).toBe(true);
    const ev = pk.map((p) => parseTelephoneEvent(p.payload)!);
    expect(ev.filter((e) => e.end)).toHaveLength(3);
    expect(ev.at(-1)).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    const durations = ev.map((e) => e.duration);
    expect([...durations].sort((a, b) => a - b)).toEqual(durations);
  });

  it('the detector reports each digit once, marker bit or not', () => {
    const d = new DtmfDetector();
    const end = Buffer.from([5, 0x8a, 3, 0x20]);
    const mid = Buffer.from([5, 0x0a, 1, 0x00]);
    expect(d.push(1, 1000, mid)).toBeUndefined();
    expect(d.push(1, 1000, end)?.event).toBe(5);
    expect(d.push(1, 1000, end)).toBeUndefined();
    expect(d.push(1, 1000, end)).toBeUndefined();
    expect(d.push(1, 2000, end)?.event).toBe(5);
  });
});
