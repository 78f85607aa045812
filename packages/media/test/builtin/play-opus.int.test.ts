/**
 * playMedia toward an Opus party (a browser's leg after transcoding): the built-in engine plays
 * tones and WAVs as Opus at 48 kHz (8 kHz frames up-sampled and encoded), on the party's own SSRC
 * with a monotonic sequence, and the relay resumes after stopMedia. Real UDP on 127.0.48.32.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinEngine } from '../../src/builtin/engine.js';
import { OpusCodec } from '../../src/codec/opus.js';
import type { MediaEngine } from '../../src/engine/types.js';
import { RtpProbe, goertzel, seqMonotonic, waitFor } from '../contract/probe.js';
import { makeSdp, plainProfile, ptOf, readSdp } from '../contract/sdp.js';

const ADDRESS = '127.0.48.32';
const plain = plainProfile(ADDRESS);

describe('playMedia toward an Opus party (built-in engine)', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    engine = await createBuiltinEngine({
      portMin: base,
      portMax: base + 99,
      workers: 1,
      mediaTimeoutMs: 0,
    });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('a 1 kHz tone arrives as Opus (Goertzel after decoding), then the relay resumes on the same SSRC', async () => {
    const a = await RtpProbe.open(ADDRESS);
    const b = await RtpProbe.open(ADDRESS);
    const dec = new OpusCodec();
    try {
      const o = await engine.offer({
        callId: 'play-opus',
        fromTag: 'a',
        sdp: makeSdp(ADDRESS, [{ port: a.port, codecs: { 111: 'opus/48000/2' } }]),
        from: plain,
        to: { ...plain, codecs: { transcode: ['PCMU'] } },
      });
      const mB = readSdp(o.sdp).mlines[0]!;
      const r = await engine.answer({
        callId: 'play-opus',
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp(ADDRESS, [{ port: b.port, codecs: { 0: 'PCMU/8000' } }]),
      });
      expect(ptOf(readSdp(r.sdp).mlines[0]!, 'opus')).toBe(111);
      await engine.playMedia(
        { callId: 'play-opus', tag: 'a' },
        { tone: 'sine', frequency: 1000 },
        { repeat: 0 },
      );
      await waitFor(() => a.received.length >= 40, 'the tone at the Opus party', 20_000);
      await engine.stopMedia({ callId: 'play-opus', tag: 'a' });
      const tone = a.received.slice(5, 40);
      expect(tone.every((p) => p.pt === 111)).toBe(true);
      const pcm: number[] = [];
      for (const p of tone) pcm.push(...(dec.decode(p.payload) ?? []));
      expect(pcm.length).toBeGreaterThan(960 * 30);
      expect(goertzel(pcm, 1000, 48000)).toBeGreaterThan(10 * goertzel(pcm, 440, 48000));
      // Timestamps step by 960 (20 ms at 48 kHz).
      expect((tone[1]!.ts - tone[0]!.ts) >>> 0).toBe(960);
      // The relay resumes: B's PCMU reaches A transcoded, on the same SSRC, sequence running on.
      const n = a.received.length;
      await b.send({ address: mB.address, port: mB.port }, 30, { toneHz: 440, pt: 0, gapMs: 20 });
      await waitFor(() => a.received.length >= n + 20, 'relayed audio after stopMedia', 20_000);
      expect(new Set(a.received.map((p) => p.ssrc)).size).toBe(1);
      expect(seqMonotonic(a.received.map((p) => p.seq))).toBe(true);
    } finally {
      dec.close();
      a.close();
      b.close();
      await engine.delete({ callId: 'play-opus' }).catch(() => {});
    }
  });
});
