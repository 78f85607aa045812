import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OPUS_FRAME, OpusCodec } from '../../src/codec/opus.js';
import { JitterBuffer } from '../../src/codec/jitter.js';
import { Transcoder } from '../../src/codec/transcoder.js';
import { decodeG711, encodeG711 } from '../../src/codec/g711.js';
import { goertzelDb, tone } from '../../src/codec/goertzel.js';

const AMP = 6000;

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so the loss pattern is the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function opusStream(freqs: number[], frames: number): Buffer[] {
  const c = new OpusCodec();
  const out = Array.from({ length: frames }, (_, f) =>
    c.encode(tone(freqs, AMP, OPUS_FRAME, 48000, f * OPUS_FRAME)),
  );
  c.close();
  return out;
}

describe('OpusCodec (opusscript wasm)', () => {
  it('encodes 20 ms frames at 48 kHz and decodes them back with the tone intact', () => {
    const c = new OpusCodec();
    const pcm: Int16Array[] = [];
    for (let f = 0; f < 50; f++) {
      const pkt = c.encode(tone([440], AMP, OPUS_FRAME, 48000, f * OPUS_FRAME));
      expect(pkt.length).toBeGreaterThan(0);
      expect(pkt.length).toBeLessThan(400);
      const d = c.decode(pkt)!;
      expect(d.length).toBe(OPUS_FRAME);
      pcm.push(d);
    }
    const all = concat(pcm).subarray(48000 / 5);
    expect(goertzelDb(all, 440, 48000)).toBeGreaterThan(20 * Math.log10(AMP) - 3);
    expect(c.stats).toMatchObject({ encoded: 50, decoded: 50, invalid: 0 });
    c.close();
  });

  it('decode(null) conceals a lost packet with 20 ms that continues the tone; decoding resumes', () => {
    const pkts = opusStream([440], 30);
    const c = new OpusCodec();
    for (let i = 0; i < 20; i++) c.decode(pkts[i]!);
    const plc = c.decode(null)!;
    expect(plc.length).toBe(OPUS_FRAME);
    expect(goertzelDb(plc, 440, 48000)).toBeGreaterThan(20 * Math.log10(AMP) - 12);
    expect(c.decode(pkts[21]!)!.length).toBe(OPUS_FRAME);
    expect(c.stats.concealed).toBe(1);
    c.close();
  });

  it('garbage, empty and oversized packets are counted, never thrown; close() is idempotent', () => {
    const c = new OpusCodec();
    expect(c.decode(new Uint8Array(0))).toBeUndefined();
    expect(c.decode(new Uint8Array(5000))).toBeUndefined();
    expect(c.decode(Uint8Array.from([0xff, 0xff, 0xff, 1, 2, 3]))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), (b) => {
        const r = c.decode(b);
        expect(r === undefined || r instanceof Int16Array).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(c.stats.invalid).toBeGreaterThanOrEqual(3);
    expect(() => c.encode(new Int16Array(100))).toThrow(RangeError);
    expect(() => new OpusCodec({ bitrate: 5 })).toThrow(RangeError);
    c.close();
    c.close();
    expect(c.closed).toBe(true);
    expect(() => c.decode(null)).toThrow(/closed/);
  });
});

describe('JitterBuffer (RTP sequence order)', () => {
  it('passes in-order packets at once, repairs reordering within depth, counts late and duplicates', () => {
    const j = new JitterBuffer<string>({ depth: 3, capacity: 16 });
    expect(j.push(10, 'a').map((s) => s.payload)).toEqual(['a']);
    expect(j.push(12, 'c')).toEqual([]); // 11 missing: wait
    expect(j.push(11, 'b').map((s) => s.payload)).toEqual(['b', 'c']);
    expect(j.push(11, 'b')).toEqual([]); // late (already played)
    expect(j.push(14, 'e')).toEqual([]);
    expect(j.push(14, 'e')).toEqual([]); // duplicate (queued)
    expect(j.push(15, 'f')).toEqual([]);
    const out = j.push(16, 'g'); // three queued behind the hole at 13: 13 is lost
    expect(out).toEqual([
      { seq: 13, payload: null },
      { seq: 14, payload: 'e' },
      { seq: 15, payload: 'f' },
      { seq: 16, payload: 'g' },
    ]);
    expect(j.push(13, 'd')).toEqual([]); // too late now
    expect(j.stats).toMatchObject({ played: 6, lost: 1, late: 2, duplicate: 1, restarts: 0 });
  });

  it('crosses the 16-bit wrap, stays bounded, and treats a far jump as a restart', () => {
    const j = new JitterBuffer<number>({ depth: 2, capacity: 8 });
    const seen: (number | null)[] = [];
    for (const s of [65534, 65535, 0, 1]) seen.push(...j.push(s, s).map((x) => x.payload));
    expect(seen).toEqual([65534, 65535, 0, 1]);
    expect(j.push(5000, 5000).map((x) => x.payload)).toEqual([5000]);
    expect(j.stats.restarts).toBe(1);
    for (let i = 0; i < 1000; i++) j.push((i * 7919) & 0xffff, i);
    expect(j.size).toBeLessThanOrEqual(8);
    expect(() => j.push(70000, 1)).toThrow(RangeError);
    expect(() => new JitterBuffer({ depth: 4, capacity: 4 })).toThrow(RangeError);
  });
});

describe('Transcoder Opus(48k) ↔ G.711(8k)', () => {
  it('440 Hz + 1 kHz: Opus → PCMU → decode, Goertzel finds both tones', () => {
    const t = new Transcoder({ from: 'opus', to: 'PCMU' });
    const frames: Buffer[] = [];
    opusStream([440, 1000], 100).forEach((p, i) => frames.push(...t.push(i, p)));
    frames.push(...t.flush());
    expect(frames.length).toBe(100);
    expect(frames.every((f) => f.length === 160)).toBe(true);
    const pcm = decodeG711(Buffer.concat(frames.slice(10)), 'PCMU');
    const ref = 20 * Math.log10(AMP);
    for (const f of [440, 1000]) expect(goertzelDb(pcm, f, 8000)).toBeGreaterThan(ref - 3);
    // and something absent is absent
    expect(goertzelDb(pcm, 2500, 8000)).toBeLessThan(ref - 30);
    t.close();
    t.close();
    expect(t.push(100, frames[0]!)).toEqual([]);
  });

  it('PCMA → Opus → PCMU keeps both tones (the phone → browser → phone round trip)', () => {
    const a = new Transcoder({ from: 'PCMA', to: 'opus' });
    const b = new Transcoder({ from: 'opus', to: 'PCMU' });
    const out: Buffer[] = [];
    for (let f = 0; f < 100; f++) {
      const payload = encodeG711(tone([440, 1000], AMP, 160, 8000, f * 160), 'PCMA');
      for (const o of a.push(f, payload)) out.push(...b.push(f, o));
    }
    const pcm = decodeG711(Buffer.concat(out.slice(10)), 'PCMU');
    expect(out.length).toBe(100);
    for (const f of [440, 1000])
      expect(goertzelDb(pcm, f, 8000)).toBeGreaterThan(20 * Math.log10(AMP) - 3);
    a.close();
    b.close();
  });

  it('5 % random loss and reordering: no crash, continuous output (one frame per sequence number)', () => {
    const pkts = opusStream([440, 1000], 400);
    const r = rng(20);
    const t = new Transcoder({ from: 'opus', to: 'PCMA' });
    const order: number[] = [];
    for (let i = 0; i < pkts.length; i++)
      if (r() >= 0.05 || i === 0 || i === pkts.length - 1) order.push(i);
    const dropped = pkts.length - order.length;
    expect(dropped).toBeGreaterThan(5);
    for (let i = 9; i + 1 < order.length; i += 9)
      [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
    const out: Buffer[] = [];
    for (const i of order) out.push(...t.push((60000 + i) & 0xffff, pkts[i]!)); // crosses the wrap
    out.push(...t.flush());
    expect(out.length).toBe(pkts.length);
    expect(t.stats.lost).toBe(dropped);
    expect(t.stats.concealed).toBe(dropped);
    const pcm = decodeG711(Buffer.concat(out.slice(10)), 'PCMA');
    expect(goertzelDb(pcm, 1000, 8000)).toBeGreaterThan(20 * Math.log10(AMP) - 6);
    t.close();
  });

  it('garbage Opus payloads are counted drops, concealed, never thrown', () => {
    const pkts = opusStream([1000], 50);
    const t = new Transcoder({ from: 'opus', to: 'PCMU' });
    const r = rng(7);
    let garbage = 0;
    const out: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      let p: Uint8Array = pkts[i]!;
      if (i % 5 === 2) {
        p =
          i % 10 === 2
            ? new Uint8Array(0)
            : Uint8Array.from({ length: 1 + (i % 7) * 300 }, () => (r() * 256) | 0);
        garbage++;
      }
      expect(() => out.push(...t.push(i, p))).not.toThrow();
    }
    out.push(...t.flush());
    // Continuous: at least one frame per sequence number (random bytes that happen to be a valid
    // 40/60 ms Opus packet legitimately decode to more).
    expect(out.length).toBeGreaterThanOrEqual(50);
    expect(t.stats.invalid).toBeGreaterThanOrEqual(garbage - 2); // random bytes can be a valid Opus packet
    expect(t.stats.invalid).toBeGreaterThan(0);
    t.close();
  });

  it('G.711 input of a wrong size is a counted drop; lost G.711 frames fade out', () => {
    const t = new Transcoder({ from: 'PCMU', to: 'opus' });
    expect(t.push(1, new Uint8Array(0)).length).toBe(1);
    expect(t.push(2, new Uint8Array(481)).length).toBe(1);
    expect(t.stats.invalid).toBe(2);
    expect(() => new Transcoder({ from: 'opus', to: 'opus' })).toThrow(RangeError);
    t.close();
    const g = new Transcoder({ from: 'PCMU', to: 'PCMA' });
    const loud = encodeG711(tone([1000], 16000, 160, 8000), 'PCMU');
    const out = [...g.push(1, loud), ...g.push(5, loud), ...g.push(6, loud), ...g.push(7, loud)];
    expect(out.length).toBe(7); // 2, 3, 4 concealed
    const peak = (b: Buffer): number => Math.max(...decodeG711(b, 'PCMA').map(Math.abs));
    const peaks = out.map(peak);
    expect(peaks[1]!).toBeLessThan(peaks[0]! * 0.6);
    expect(peaks[2]!).toBeLessThan(peaks[1]! * 0.6);
    expect(peaks[3]!).toBeLessThan(peaks[2]! * 0.6);
    expect(peaks[4]!).toBeGreaterThan(peaks[0]! * 0.9);
    expect(g.stats).toMatchObject({ lost: 3, concealed: 3, frames: 7 });
    g.close();
  });
});
