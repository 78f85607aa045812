/**
 * The MediaEngine contract suite, part 2 (issue #20 item 6): the gateway's cases, engine-agnostic,
 * run on both engines with real UDP on loopback and RTP probes as the far ends.
 *
 *   - hold, a sequence jump of 40 000 while held (what a 12-minute hold does), resume: audio both
 *     ways again (janus-gateway PR #3640);
 *   - early media, then the answer with a new SSRC and a restarted sequence;
 *   - a payload-type change by the far side in a re-INVITE (PCMU → PCMA);
 *   - DTMF (RFC 4733) both ways, with each party's payload type;
 *   - an Opus-only party ↔ a PCMU-only party (`codecs.transcode` on the PCMU side's profile).
 *
 * Checks that need a capability are gated on it, with the reason in the test name. Not here: the
 * browser's ICE restart, an ICE-lite DTLS peer and the other WebRTC-leg cases need a WebRTC peer
 * (`suite-webrtc.ts`, run on both engines).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LegProfile, MediaEngine } from '../../src/engine/types.js';
import { OpusCodec } from '../../src/codec/opus.js';
import {
  RtpProbe,
  goertzel,
  rtpPacket,
  seqMonotonic,
  sleep,
  toneUlaw,
  unulaw,
  waitFor,
} from './probe.js';
import { makeSdp, plainProfile, ptOf, readSdp, type MLineSpec, type ReadMLine } from './sdp.js';

let seq = 0;

function codecsOf(m: ReadMLine): Record<number, string> {
  const out: Record<number, string> = {};
  for (const pt of m.pts) out[pt] = m.rtpmap.get(pt) ?? '';
  return out;
}

/** A 20 ms Opus frame of a sine at `hz` (48 kHz), starting at sample `from`. */
function sine48(hz: number, from: number): Int16Array {
  const out = new Int16Array(960);
  for (let i = 0; i < 960; i++)
    out[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (from + i)) / 48000));
  return out;
}

export function runMediaEngineContractPart2(
  name: string,
  makeEngine: () => Promise<MediaEngine>,
  opts: { readonly address?: string } = {},
): void {
  const address = opts.address ?? '127.0.0.1';
  const plain = plainProfile(address);

  describe(`MediaEngine contract, part 2 (gateway): ${name}`, () => {
    let engine: MediaEngine;
    const probes: RtpProbe[] = [];
    const calls: string[] = [];
    const probe = async (): Promise<RtpProbe> => {
      const p = await RtpProbe.open(address);
      probes.push(p);
      return p;
    };

    interface Call {
      callId: string;
      relayA: { address: string; port: number };
      relayB: { address: string; port: number };
      ptA: (enc: string) => number | undefined;
      ptB: (enc: string) => number | undefined;
    }

    const call = async (
      a: RtpProbe,
      b: RtpProbe,
      specA: Omit<MLineSpec, 'port'> = {},
      answerB: (offered: ReadMLine) => Omit<MLineSpec, 'port'> = (m) => ({ codecs: codecsOf(m) }),
      profiles: { a?: LegProfile; b?: LegProfile } = {},
    ): Promise<Call> => {
      const callId = `contract2-${name}-${process.pid}-${++seq}`;
      calls.push(callId);
      const o = await engine.offer({
        callId,
        fromTag: 'a',
        sdp: makeSdp(address, [{ port: a.port, ...specA }]),
        from: profiles.a ?? plain,
        to: profiles.b ?? plain,
      });
      const mB = readSdp(o.sdp).mlines[0]!;
      const r = await engine.answer({
        callId,
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp(address, [{ port: b.port, ...answerB(mB) }]),
      });
      const mA = readSdp(r.sdp).mlines[0]!;
      return {
        callId,
        relayA: { address: mA.address, port: mA.port },
        relayB: { address: mB.address, port: mB.port },
        ptA: (enc) => ptOf(mA, enc),
        ptB: (enc) => ptOf(mB, enc),
      };
    };

    const reoffer = async (
      c: Call,
      by: 'a' | 'b',
      spec: MLineSpec,
      answer: (offered: ReadMLine) => MLineSpec,
    ): Promise<{ offered: ReadMLine; answered: ReadMLine }> => {
      const fromTag = by;
      const toTag = by === 'a' ? 'b' : 'a';
      const o = await engine.offer({
        callId: c.callId,
        fromTag,
        toTag,
        sdp: makeSdp(address, [spec]),
        from: plain,
        to: plain,
      });
      const offered = readSdp(o.sdp).mlines[0]!;
      const r = await engine.answer({
        callId: c.callId,
        fromTag,
        toTag,
        sdp: makeSdp(address, [answer(offered)]),
      });
      return { offered, answered: readSdp(r.sdp).mlines[0]! };
    };

    beforeAll(async () => {
      engine = await makeEngine();
    });
    afterEach(async () => {
      for (const p of probes.splice(0)) p.close();
      for (const id of calls.splice(0)) await engine.delete({ callId: id }).catch(() => {});
    });
    afterAll(async () => {
      await engine?.close();
    });

    it('hold, a sequence jump of 40 000 while held, resume: audio both ways again (janus PR #3640)', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 10);
      await b.send(c.relayB, 10);
      await waitFor(() => a.received.length >= 10 && b.received.length >= 10, 'media before hold');
      await reoffer(c, 'a', { port: a.port, direction: 'sendonly' }, () => ({
        port: b.port,
        direction: 'recvonly',
      }));
      // Twelve minutes on hold: the phone's sequence and timestamp moved on 40 000 packets.
      a.switchSource({ seq: 40_000 + Math.floor(Math.random() * 1000), ts: 40_000 * 160 });
      await reoffer(c, 'a', { port: a.port }, () => ({ port: b.port }));
      a.clear();
      b.clear();
      await a.send(c.relayA, 30, { gapMs: 10 });
      await b.send(c.relayB, 30, { gapMs: 10 });
      await waitFor(
        () => b.received.length >= 25 && a.received.length >= 25,
        'media after resume',
        20_000,
      );
      expect(seqMonotonic(b.received.map((r) => r.seq))).toBe(true);
      expect(seqMonotonic(a.received.map((r) => r.seq))).toBe(true);
    });

    it('early media, then the answer with a new SSRC and a restarted sequence: the caller keeps getting audio', async (ctx) => {
      const a = await probe();
      const b = await probe();
      const callId = `contract2-early-${process.pid}-${++seq}`;
      calls.push(callId);
      const o = await engine.offer({
        callId,
        fromTag: 'a',
        sdp: makeSdp(address, [{ port: a.port }]),
        from: plain,
        to: plain,
      });
      const mB = readSdp(o.sdp).mlines[0]!;
      const relayB = { address: mB.address, port: mB.port };
      const early = await engine.answer({
        callId,
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp(address, [{ port: b.port, codecs: codecsOf(mB) }]),
      });
      expect(readSdp(early.sdp).mlines[0]!.port).toBeGreaterThan(0);
      await b.send(relayB, 20, { gapMs: 10 });
      await waitFor(() => a.received.length >= 15, 'early media at the caller');
      await engine.answer({
        callId,
        fromTag: 'a',
        toTag: 'b',
        sdp: makeSdp(address, [{ port: b.port, codecs: codecsOf(mB) }]),
      });
      b.switchSource({ ssrc: (b.ssrc ^ 0x5a5a5a5a) >>> 0, seq: 1, ts: 12345 });
      const n = a.received.length;
      await b.send(relayB, 20, { gapMs: 10 });
      await waitFor(() => a.received.length >= n + 15, 'the answer’s stream at the caller');
      if (!engine.capabilities.resequence) {
        ctx.skip(); // rtpengine forwards each ingress SSRC as its own stream (suite.ts header)
        return;
      }
      // One egress SSRC and a sequence that runs on across the switch (no restart, no gap jump).
      expect(new Set(a.received.map((r) => r.ssrc)).size).toBe(1);
      expect(seqMonotonic(a.received.map((r) => r.seq))).toBe(true);
      const jump = (a.received[n]!.seq - a.received[n - 1]!.seq + 0x10000) & 0xffff;
      expect(jump).toBeLessThanOrEqual(6);
    });

    it('a payload-type change by the far side in a re-INVITE (PCMU → PCMA): both ways with the new codec', async () => {
      const a = await probe();
      const b = await probe();
      const both = { 0: 'PCMU/8000', 8: 'PCMA/8000', 101: 'telephone-event/8000' };
      const c = await call(a, b, { codecs: both });
      await a.send(c.relayA, 5, { pt: 0 });
      await waitFor(() => b.received.length >= 5, 'PCMU to B');
      const { offered, answered } = await reoffer(
        c,
        'b',
        { port: b.port, codecs: { 8: 'PCMA/8000', 101: 'telephone-event/8000' } },
        (m) => ({ port: a.port, codecs: codecsOf(m) }),
      );
      const pcmaA = ptOf(offered, 'PCMA');
      const pcmaB = ptOf(answered, 'PCMA');
      expect(pcmaA).toBeDefined();
      expect(pcmaB).toBe(8);
      a.clear();
      b.clear();
      await b.send(c.relayB, 10, { pt: 8 });
      await a.send(c.relayA, 10, { pt: pcmaA! });
      await waitFor(() => a.received.length >= 8 && b.received.length >= 8, 'PCMA both ways');
      expect(a.received.every((r) => r.pt === pcmaA)).toBe(true);
      expect(b.received.every((r) => r.pt === 8)).toBe(true);
    });

    it('RFC 4733 both ways: each party gets the other’s events with its own payload type', async () => {
      const a = await probe();
      const b = await probe();
      // Each party’s telephone-event PT, as its SDP says (the answer keeps the offer’s, RFC 3264 §6.1).
      const c = await call(a, b);
      const teA = c.ptA('telephone-event')!;
      const teB = c.ptB('telephone-event')!;
      expect(teA).toBeDefined();
      expect(teB).toBeDefined();
      const event = async (
        p: RtpProbe,
        to: { address: string; port: number },
        pt: number,
        ev: number,
      ): Promise<void> => {
        const ts = Math.floor(Math.random() * 1e9);
        let s = Math.floor(Math.random() * 30000);
        for (const [d, end] of [
          [160, false],
          [320, false],
          [480, false],
          [800, true],
          [800, true],
          [800, true],
        ] as const) {
          p.sendRaw(
            to,
            rtpPacket({
              pt,
              seq: s++,
              ts,
              ssrc: p.ssrc,
              payload: Buffer.from([ev, (end ? 0x80 : 0) | 10, d >> 8, d & 0xff]),
            }),
          );
          await sleep(20);
        }
      };
      // Audio first (latching), then an event each way.
      await a.send(c.relayA, 3);
      await b.send(c.relayB, 3);
      await event(a, c.relayA, teA, 1);
      await event(b, c.relayB, teB, 11);
      const got = (p: RtpProbe, pt: number): number[] =>
        p.received
          .filter((r) => r.pt === pt && r.payload.length === 4 && (r.payload[1]! & 0x80) !== 0)
          .map((r) => r.payload[0]!);
      await waitFor(() => got(b, teB).length >= 1 && got(a, teA).length >= 1, 'events both ways');
      expect(new Set(got(b, teB))).toEqual(new Set([1]));
      expect(new Set(got(a, teA))).toEqual(new Set([11]));
      // Durations arrive unchanged (same clock both sides).
      const endB = b.received.find((r) => r.pt === teB && (r.payload[1]! & 0x80) !== 0)!;
      expect(endB.payload.readUInt16BE(2)).toBe(800);
    });

    it('an Opus-only party ↔ a PCMU-only party: tones cross both ways through the transcoder', async (ctx) => {
      const t = engine.capabilities.transcode;
      if (!(t.includes('opus') && t.includes('PCMU'))) {
        ctx.skip(); // this engine does not transcode Opus ↔ PCMU
        return;
      }
      const a = await probe();
      const b = await probe();
      const phone: LegProfile = { ...plain, codecs: { transcode: ['PCMU'] } };
      const c = await call(
        a,
        b,
        { codecs: { 111: 'opus/48000/2' } },
        () => ({ codecs: { 0: 'PCMU/8000' } }),
        { b: phone },
      );
      expect(c.ptB('PCMU')).toBe(0);
      expect(c.ptA('opus')).toBe(111);
      const enc = new OpusCodec();
      const dec = new OpusCodec();
      try {
        const aSends = (async () => {
          for (let i = 0; i < 60; i++) {
            a.sendRaw(
              c.relayA,
              rtpPacket({
                pt: 111,
                seq: 100 + i,
                ts: i * 960,
                ssrc: a.ssrc,
                payload: enc.encode(sine48(1000, i * 960)),
              }),
            );
            await sleep(20);
          }
        })();
        const bSends = (async () => {
          for (let i = 0; i < 60; i++) {
            b.sendRaw(
              c.relayB,
              rtpPacket({
                pt: 0,
                seq: 500 + i,
                ts: i * 160,
                ssrc: b.ssrc,
                payload: toneUlaw(440, i * 160, 160),
              }),
            );
            await sleep(20);
          }
        })();
        await Promise.all([aSends, bSends]);
        await waitFor(
          () => a.received.length >= 40 && b.received.length >= 40,
          'transcoded media both ways',
          20_000,
        );
        const pcm8 = b.received
          .filter((r) => r.pt === 0)
          .slice(10, 40)
          .flatMap((r) => [...r.payload].map(unulaw));
        expect(goertzel(pcm8, 1000)).toBeGreaterThan(5 * goertzel(pcm8, 440));
        const pcm48: number[] = [];
        for (const r of a.received.filter((x) => x.pt === 111).slice(10, 40))
          pcm48.push(...(dec.decode(r.payload) ?? []));
        expect(goertzel(pcm48, 440, 48000)).toBeGreaterThan(5 * goertzel(pcm48, 1000, 48000));
      } finally {
        enc.close();
        dec.close();
      }
    });
  });
}
