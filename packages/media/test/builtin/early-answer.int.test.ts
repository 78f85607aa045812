/**
 * A second answer to the same offer (183 with SDP, then the 200) that picks another codec: the
 * built-in engine answers the offerer with the codecs it was told first (RFC 3264 §4) and
 * transcodes (PCMU ↔ PCMA) — a caller that keeps the early answer (SIP.js with early media, or
 * the SBC's own 183 for a ringback) keeps two-way audio. Real UDP on 127.0.48.33.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinEngine } from '../../src/builtin/engine.js';
import type { MediaEngine } from '../../src/engine/types.js';
import { RtpProbe, waitFor } from '../contract/probe.js';
import { makeSdp, plainProfile, readSdp } from '../contract/sdp.js';

const ADDRESS = '127.0.48.33';
const plain = plainProfile(ADDRESS);

describe('a final answer with another codec than the early one (built-in engine)', () => {
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

  it('keeps the early answer’s PCMU toward the caller and transcodes to the callee’s PCMA', async () => {
    const a = await RtpProbe.open(ADDRESS);
    const b = await RtpProbe.open(ADDRESS);
    try {
      const both = { 0: 'PCMU/8000', 8: 'PCMA/8000', 101: 'telephone-event/8000' };
      const o = await engine.offer({
        callId: 'early-codec',
        fromTag: 'a',
        sdp: makeSdp(ADDRESS, [{ port: a.port, codecs: both }]),
        from: plain,
        to: plain,
      });
      const mB = readSdp(o.sdp).mlines[0]!;
      const early = await engine.answer({
        callId: 'early-codec',
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp(ADDRESS, [
          { port: b.port, codecs: { 0: 'PCMU/8000', 101: 'telephone-event/8000' } },
        ]),
      });
      expect(readSdp(early.sdp).mlines[0]!.pts[0]).toBe(0);
      const final = await engine.answer({
        callId: 'early-codec',
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp(ADDRESS, [
          { port: b.port, codecs: { 8: 'PCMA/8000', 101: 'telephone-event/8000' } },
        ]),
      });
      const mA = readSdp(final.sdp).mlines[0]!;
      expect(mA.pts[0]).toBe(0); // the caller's answer is the early one's
      await a.send({ address: mA.address, port: mA.port }, 20, { toneHz: 1000, pt: 0, gapMs: 10 });
      await b.send({ address: mB.address, port: mB.port }, 20, { pt: 8, gapMs: 10 });
      await waitFor(
        () => b.received.length >= 15 && a.received.length >= 15,
        'audio both ways',
        20_000,
      );
      expect(b.received.every((p) => p.pt === 8)).toBe(true); // transcoded to the callee's PCMA
      expect(a.received.every((p) => p.pt === 0)).toBe(true); // and back to the caller's PCMU
    } finally {
      a.close();
      b.close();
      await engine.delete({ callId: 'early-codec' }).catch(() => {});
    }
  });
});
