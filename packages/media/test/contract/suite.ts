/**
 * The MediaEngine contract suite: both engines (built-in and rtpengine) run it on real UDP on
 * loopback. The far ends are RTP probes of ours (test/contract/probe.ts) and `sipp -rtp_echo`.
 * Cases come from bugs the anchors' users reported (docs: ../shared/research/sbc-media.md §A.3).
 *
 *   import { runMediaEngineContract } from './contract/suite.js';
 *   runMediaEngineContract('builtin', () => createBuiltinEngine({ ... }));
 *
 * What a backend lacks (its `capabilities`) is skipped with the reason in the test name.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import type { LegProfile, MediaEngine } from '../../src/engine/types.js';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpProbe, goertzel, rtpPacket, seqMonotonic, sleep, unulaw, waitFor } from './probe.js';
import { makeSdp, plainProfile, ptOf, readSdp, type MLineSpec, type ReadSdp } from './sdp.js';

export interface ContractOptions {
  /** Loopback address for the engine's legs and the probes. Default 127.0.0.1. */
  readonly address?: string;
  /** A leg profile for each side; default plain RTP/AVP, strict latching, no ICE. */
  readonly profile?: (side: 'caller' | 'callee') => LegProfile;
  /** Run the `sipp -rtp_echo` case (needs /usr/bin/sipp). Default true. */
  readonly sipp?: boolean;
}

interface Call {
  callId: string;
  aTag: string;
  bTag: string;
  /** The relay's address for A (from the answer A got) and for B (from the offer B got). */
  relayA: { address: string; port: number };
  relayB: { address: string; port: number };
  toA: ReadSdp;
  toB: ReadSdp;
}

let callSeq = 0;

export function runMediaEngineContract(
  name: string,
  makeEngine: () => Promise<MediaEngine>,
  opts: ContractOptions = {},
): void {
  const address = opts.address ?? '127.0.0.1';
  const plain = plainProfile(address);
  const profile = opts.profile ?? (() => plain);
  const A = profile('caller');
  const B = profile('callee');

  describe(`MediaEngine contract: ${name}`, () => {
    let engine: MediaEngine;
    const probes: RtpProbe[] = [];
    const calls: string[] = [];

    const probe = async (): Promise<RtpProbe> => {
      const p = await RtpProbe.open(address);
      probes.push(p);
      return p;
    };

    /** Offer from A's probe, answer from B's probe, as the SBC would do it. */
    const call = async (
      a: RtpProbe,
      b: RtpProbe,
      codecsA: Record<number, string> = { 0: 'PCMU/8000', 101: 'telephone-event/8000' },
    ): Promise<Call> => {
      const callId = `contract-${name}-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const aTag = `a${callSeq}`;
      const bTag = `b${callSeq}`;
      const offer = await engine.offer({
        callId,
        fromTag: aTag,
        sdp: makeSdp(address, [{ port: a.port, codecs: codecsA }]),
        from: A,
        to: B,
      });
      const toB = readSdp(offer.sdp);
      const mB = toB.mlines[0]!;
      const answer = await engine.answer({
        callId,
        fromTag: aTag,
        toTag: bTag,
        sdp: makeSdp(address, [{ port: b.port, codecs: codecsOf(mB) }]),
      });
      const toA = readSdp(answer.sdp);
      const mA = toA.mlines[0]!;
      return {
        callId,
        aTag,
        bTag,
        relayA: { address: mA.address, port: mA.port },
        relayB: { address: mB.address, port: mB.port },
        toA,
        toB,
      };
    };

    /** A re-offer from one party (`by`) with `spec`; the other party answers with `answerSpec`. */
    const reoffer = async (
      c: Call,
      by: 'a' | 'b',
      spec: MLineSpec,
      answer: (offered: ReadSdp) => MLineSpec,
    ): Promise<{ offered: ReadSdp; answered: ReadSdp }> => {
      const fromTag = by === 'a' ? c.aTag : c.bTag;
      const toTag = by === 'a' ? c.bTag : c.aTag;
      const o = await engine.offer({
        callId: c.callId,
        fromTag,
        toTag,
        sdp: makeSdp(address, [spec]),
        from: by === 'a' ? A : B,
        to: by === 'a' ? B : A,
      });
      const offered = readSdp(o.sdp);
      const r = await engine.answer({
        callId: c.callId,
        fromTag,
        toTag,
        sdp: makeSdp(address, [answer(offered)]),
      });
      return { offered, answered: readSdp(r.sdp) };
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

    it('offer and answer point both parties at the relay; media flows both ways from the relay only, in order, with one SSRC', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      expect(c.relayA.address).toBe(address);
      expect(c.relayB.address).toBe(address);
      expect(c.relayA.port).toBeGreaterThan(0);
      expect(c.relayB.port).toBeGreaterThan(0);
      expect(c.toB.raw).not.toContain(String(a.port) + ' RTP');

      await a.send(c.relayA, 30);
      await waitFor(() => b.received.length >= 30, 'B to receive 30 packets');
      await b.send(c.relayB, 30);
      await waitFor(() => a.received.length >= 30, 'A to receive 30 packets');

      for (const [p, relay] of [
        [b, c.relayB],
        [a, c.relayA],
      ] as const) {
        expect(p.received.every((r) => r.from.port === relay.port)).toBe(true);
        expect(p.received.every((r) => r.from.address === relay.address)).toBe(true);
        expect(new Set(p.received.map((r) => r.ssrc)).size).toBe(1);
        expect(seqMonotonic(p.received.map((r) => r.seq))).toBe(true);
      }
      // What A sent arrives unchanged at B (payload carries the sender's sequence number).
      expect(b.received.map((r) => r.payload.readUInt16BE(0))).toEqual(
        b.received.map((_, i) => (b.received[0]!.payload.readUInt16BE(0) + i) & 0xffff),
      );
    });

    it.runIf(opts.sipp !== false)(
      'media through the relay to sipp -rtp_echo comes back to the caller unchanged',
      async () => {
        const a = await probe();
        const sippPort = 20000 + 2 * Math.floor(Math.random() * 10000);
        const sipp = await startSippEcho(address, sippPort);
        try {
          const callId = `contract-sipp-${process.pid}-${++callSeq}`;
          calls.push(callId);
          const o = await engine.offer({
            callId,
            fromTag: 'sa',
            sdp: makeSdp(address, [{ port: a.port }]),
            from: A,
            to: B,
          });
          const toB = readSdp(o.sdp);
          const r = await engine.answer({
            callId,
            fromTag: 'sa',
            toTag: 'sb',
            sdp: makeSdp(address, [{ port: sippPort, codecs: codecsOf(toB.mlines[0]!) }]),
          });
          const relayA = readSdp(r.sdp).mlines[0]!;
          await a.send({ address: relayA.address, port: relayA.port }, 25);
          await waitFor(() => a.received.length >= 25, 'the echo of 25 packets');
          const sent = new Set<number>();
          for (const p of a.received) sent.add(p.payload.readUInt16BE(0));
          expect(sent.size).toBe(25);
          expect(a.received.every((p) => p.from.port === relayA.port)).toBe(true);
          expect(a.received.every((p) => p.payload.subarray(2).every((x) => x === 0xd5))).toBe(
            true,
          );
        } finally {
          sipp.kill('SIGKILL');
        }
      },
    );

    it('RFC 3264 §8.4 hold: sendonly is answered recvonly, inactive with inactive; resume with the same and with a new port brings media back both ways', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      const codecs = codecsOf(c.toA.mlines[0]!);

      // Hold: A sends sendonly; B sees sendonly and answers recvonly; A gets recvonly.
      const hold = await reoffer(c, 'a', { port: a.port, codecs, direction: 'sendonly' }, (o) => ({
        port: b.port,
        codecs: codecsOf(o.mlines[0]!),
        direction: 'recvonly',
      }));
      expect(hold.offered.mlines[0]!.direction).toBe('sendonly');
      expect(hold.answered.mlines[0]!.direction).toBe('recvonly');

      const inactive = await reoffer(
        c,
        'a',
        { port: a.port, codecs, direction: 'inactive' },
        (o) => ({ port: b.port, codecs: codecsOf(o.mlines[0]!), direction: 'inactive' }),
      );
      expect(inactive.offered.mlines[0]!.direction).toBe('inactive');
      expect(inactive.answered.mlines[0]!.direction).toBe('inactive');

      // Resume with the same address (livekit/sip#779: the destination must not stay 0.0.0.0).
      const resume = await reoffer(c, 'a', { port: a.port, codecs }, (o) => ({
        port: b.port,
        codecs: codecsOf(o.mlines[0]!),
      }));
      expect(resume.offered.mlines[0]!.direction).toBe('sendrecv');
      expect(resume.answered.mlines[0]!.direction).toBe('sendrecv');
      const relayA = {
        address: resume.answered.mlines[0]!.address,
        port: resume.answered.mlines[0]!.port,
      };
      const relayB = {
        address: resume.offered.mlines[0]!.address,
        port: resume.offered.mlines[0]!.port,
      };
      a.clear();
      b.clear();
      await a.send(relayA, 10);
      await b.send(relayB, 10);
      await waitFor(() => a.received.length >= 10 && b.received.length >= 10, 'media both ways');

      // Resume on a new port: A moves to a2.
      const a2 = await probe();
      const moved = await reoffer(c, 'a', { port: a2.port, codecs }, (o) => ({
        port: b.port,
        codecs: codecsOf(o.mlines[0]!),
      }));
      const relayA2 = {
        address: moved.answered.mlines[0]!.address,
        port: moved.answered.mlines[0]!.port,
      };
      const relayB2 = {
        address: moved.offered.mlines[0]!.address,
        port: moved.offered.mlines[0]!.port,
      };
      a.clear();
      b.clear();
      await a2.send(relayA2, 10);
      await waitFor(() => b.received.length >= 10, 'B to hear A from its new port');
      await b.send(relayB2, 10);
      await waitFor(() => a2.received.length >= 10, 'A to hear B on its new port');
      expect(a.received.length).toBe(0);
    });

    it('a re-INVITE that moves the far end re-targets within one packet; the old address gets nothing (janus-gateway#851)', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 5);
      await waitFor(() => b.received.length >= 5, 'B to receive');
      const b2 = await probe();
      const r = await reoffer(
        c,
        'b',
        { port: b2.port, codecs: codecsOf(c.toB.mlines[0]!) },
        (o) => ({
          port: a.port,
          codecs: codecsOf(o.mlines[0]!),
        }),
      );
      const relayA = { address: r.offered.mlines[0]!.address, port: r.offered.mlines[0]!.port };
      b.clear();
      await a.send(relayA, 20);
      await waitFor(() => b2.received.length >= 20, 'the new address to receive all 20 packets');
      await sleep(100);
      expect(b.received.length).toBe(0);
      // Every packet A sent after the answer reached the new address, the first one included.
      const first = b2.received[0]!.payload.readUInt16BE(0);
      expect(b2.received.map((p) => p.payload.readUInt16BE(0))).toEqual(
        b2.received.map((_, i) => (first + i) & 0xffff),
      );
    });

    it("a telephone-event payload type changed by one party is remapped to the other party's, never forwarded raw (janus-gateway#1591)", async (ctx) => {
      if (!engine.capabilities.remapPayloadTypes) return ctx.skip();
      const a = await probe();
      const b = await probe();
      const c = await call(a, b, { 0: 'PCMU/8000', 101: 'telephone-event/8000' });
      // B re-offers with telephone-event on 96; A keeps its own 101 in its answer (RFC 3264 §6.1 SHOULD).
      const r = await reoffer(
        c,
        'b',
        { port: b.port, codecs: { 0: 'PCMU/8000', 96: 'telephone-event/8000' } },
        () => ({ port: a.port, codecs: { 0: 'PCMU/8000', 101: 'telephone-event/8000' } }),
      );
      const relayA = { address: r.offered.mlines[0]!.address, port: r.offered.mlines[0]!.port };
      const bTe = ptOf(r.answered.mlines[0]!, 'telephone-event');
      expect(bTe).toBe(96);
      const event = Buffer.from([5, 0x80 | 10, 0x03, 0x20]); // digit 5, End, volume 10, 800
      // B sends events with 96: A must see 101.
      for (let i = 0; i < 3; i++)
        b.sendRaw(
          c.relayB,
          rtpPacket({ pt: 96, seq: 100 + i, ts: 5000, ssrc: 77, payload: event }),
        );
      await waitFor(() => a.received.length >= 3, 'A to receive the event');
      expect(a.received.map((p) => p.pt)).toEqual([101, 101, 101]);
      // A sends events with 101: B must see 96.
      for (let i = 0; i < 3; i++)
        a.sendRaw(relayA, rtpPacket({ pt: 101, seq: 200 + i, ts: 9000, ssrc: 78, payload: event }));
      await waitFor(() => b.received.length >= 3, 'B to receive the event');
      expect(b.received.map((p) => p.pt)).toEqual([96, 96, 96]);
    });

    it('an SSRC change and a sequence restart mid-stream keep the egress SSRC and a monotonic sequence', async (ctx) => {
      if (!engine.capabilities.resequence) return ctx.skip();
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 20);
      a.switchSource({ ssrc: (a.ssrc ^ 0x5a5a5a5a) >>> 0, seq: 3 });
      await a.send(c.relayA, 20);
      a.switchSource({ seq: 60000 }); // a restart backwards, same SSRC
      await a.send(c.relayA, 20);
      await waitFor(() => b.received.length >= 60, 'B to receive 60 packets');
      expect(new Set(b.received.map((p) => p.ssrc)).size).toBe(1);
      expect(seqMonotonic(b.received.map((p) => p.seq))).toBe(true);
      const ts = b.received.map((p) => p.ts);
      for (let i = 1; i < ts.length; i++) expect((ts[i]! - ts[i - 1]!) >>> 0 < 2 ** 31).toBe(true);
    });

    it('an early answer (183 with SDP) then the final answer (200) on a new port: media goes to the final port (janus-gateway#2646)', async () => {
      const a = await probe();
      const b = await probe();
      const b2 = await probe();
      const callId = `contract-early-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const o = await engine.offer({
        callId,
        fromTag: 'ea',
        sdp: makeSdp(address, [{ port: a.port }]),
        from: A,
        to: B,
      });
      const codecs = codecsOf(readSdp(o.sdp).mlines[0]!);
      const early = await engine.answer({
        callId,
        fromTag: 'ea',
        toTag: 'eb',
        sdp: makeSdp(address, [{ port: b.port, codecs }]),
      });
      const mA = readSdp(early.sdp).mlines[0]!;
      const relayA = { address: mA.address, port: mA.port };
      await a.send(relayA, 5);
      await waitFor(() => b.received.length >= 5, 'early media to B');
      const final = await engine.answer({
        callId,
        fromTag: 'ea',
        toTag: 'eb',
        sdp: makeSdp(address, [{ port: b2.port, codecs }]),
      });
      const mA2 = readSdp(final.sdp).mlines[0]!;
      b.clear();
      await a.send({ address: mA2.address, port: mA2.port }, 10);
      await waitFor(() => b2.received.length >= 10, 'media to the final port');
      expect(b.received).toHaveLength(0);
    });

    it('a late offer (the callee offers in its 200 OK, the caller answers in the ACK) sets up media both ways', async () => {
      const a = await probe();
      const b = await probe();
      const callId = `contract-late-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const o = await engine.offer({
        callId,
        fromTag: 'lb',
        toTag: 'la',
        sdp: makeSdp(address, [{ port: b.port }]),
        from: B,
        to: A,
      });
      const toA = readSdp(o.sdp).mlines[0]!;
      const r = await engine.answer({
        callId,
        fromTag: 'lb',
        toTag: 'la',
        sdp: makeSdp(address, [{ port: a.port, codecs: codecsOf(toA) }]),
      });
      const toB = readSdp(r.sdp).mlines[0]!;
      await a.send({ address: toA.address, port: toA.port }, 10);
      await b.send({ address: toB.address, port: toB.port }, 10);
      await waitFor(() => a.received.length >= 10 && b.received.length >= 10, 'media both ways');
    });

    it('an offer with only RTP/SAVP is refused with media-not-acceptable (or terminated as SDES), never answered inactive (sems#132)', async () => {
      const a = await probe();
      const callId = `contract-savp-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const crypto =
        'crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
      const sdp = makeSdp(address, [
        { port: a.port, transport: 'RTP/SAVP', extra: [`a=${crypto}`] },
      ]);
      if (!engine.capabilities.sdes) {
        await expect(
          engine.offer({ callId, fromTag: 'x', sdp, from: A, to: B }),
        ).rejects.toMatchObject({
          code: 'media-not-acceptable',
        });
      } else {
        const o = await engine.offer({
          callId,
          fromTag: 'x',
          sdp,
          from: { ...A, sdes: 'terminate', transport: 'RTP/SAVP' },
          to: B,
        });
        const m = readSdp(o.sdp).mlines[0]!;
        expect(m.transport).toBe('RTP/AVP');
        expect(m.port).toBeGreaterThan(0);
        expect(m.direction).not.toBe('inactive');
      }
    });

    it('a dual m-line offer (RTP/SAVP + RTP/AVP) is answered on the AVP line, with port 0 on the other (RFC 3264 §6)', async () => {
      const a = await probe();
      const b = await probe();
      const callId = `contract-dual-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const crypto =
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
      const o = await engine.offer({
        callId,
        fromTag: 'da',
        sdp: makeSdp(address, [
          { port: a.port, transport: 'RTP/SAVP', extra: [crypto] },
          { port: a.port, transport: 'RTP/AVP' },
        ]),
        from: A,
        to: B,
      });
      const toB = readSdp(o.sdp);
      const live = toB.mlines.filter((m) => m.port !== 0);
      expect(live).toHaveLength(1);
      expect(live[0]!.transport).toBe('RTP/AVP');
      const r = await engine.answer({
        callId,
        fromTag: 'da',
        toTag: 'db',
        sdp: makeSdp(
          address,
          toB.mlines.map((m) => ({
            port: m.port === 0 ? 0 : b.port,
            transport: m.transport,
            codecs: codecsOf(m),
          })),
        ),
      });
      const toA = readSdp(r.sdp);
      expect(toA.mlines).toHaveLength(2);
      expect(toA.mlines[0]!.port).toBe(0);
      expect(toA.mlines[1]!.port).toBeGreaterThan(0);
      expect(toA.mlines[1]!.transport).toBe('RTP/AVP');
      expect(toA.raw).not.toContain('a=crypto');
      await a.send({ address: toA.mlines[1]!.address, port: toA.mlines[1]!.port }, 10);
      await waitFor(() => b.received.length >= 10, 'B to receive on the AVP stream');
    });

    it('a third source address after latching is ignored: it reaches nobody and receives nothing (RTP Bleed, CVE-2017-14114)', async () => {
      const a = await probe();
      const b = await probe();
      const x = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 10);
      await waitFor(() => b.received.length >= 10, 'B to receive A');
      await x.send(c.relayA, 20, { fill: 0x11 });
      await a.send(c.relayA, 5);
      await waitFor(() => b.received.length >= 15, 'B to receive A again');
      await sleep(100);
      expect(b.received.filter((p) => p.payload[5] === 0x11)).toHaveLength(0);
      await b.send(c.relayB, 10);
      await waitFor(() => a.received.length >= 10, 'A to receive B');
      expect(x.received).toHaveLength(0);
    });

    it('truncated and garbage RTP/RTCP is dropped; the call and another call keep flowing', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      const a2 = await probe();
      const b2 = await probe();
      const c2 = await call(a2, b2);
      await a.send(c.relayA, 3);
      await waitFor(() => b.received.length >= 3, 'B to receive');
      const garbage = [
        Buffer.alloc(0),
        Buffer.from([0x80]),
        Buffer.from([0x80, 0x00, 0x00]),
        Buffer.alloc(11, 0x80),
        Buffer.alloc(200, 0xff),
        Buffer.from([0x00, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        Buffer.from([0x9f, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // CSRC count beyond the packet
        Buffer.from([0x90, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff]), // extension too long
        Buffer.from([0xa0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]), // padding beyond the packet
        Buffer.from([0x81, 0xc8, 0x00, 0x40, 1, 2, 3, 4]), // RTCP SR with a lying length
        Buffer.from([0x80, 0xc9]),
      ];
      for (const g of garbage) {
        a.sendRaw(c.relayA, g);
        a.sendRaw({ address: c.relayA.address, port: c.relayA.port + 1 }, g);
      }
      await sleep(50);
      await a.send(c.relayA, 10);
      await a2.send(c2.relayA, 10);
      await waitFor(() => b.received.length >= 13, 'B to receive after the garbage');
      await waitFor(() => b2.received.length >= 10, 'the other call to keep flowing');
      const stats = await engine.query({ callId: c.callId });
      expect(stats.legs.length).toBeGreaterThanOrEqual(2);
    });

    it('query counts packets per party; delete returns the last stats and forgets the call', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 15);
      await waitFor(() => b.received.length >= 15, 'B to receive');
      await b.send(c.relayB, 7);
      await waitFor(() => a.received.length >= 7, 'A to receive');
      const q = await engine.query({ callId: c.callId });
      const legA = q.legs.find((l) => l.tag === c.aTag);
      const legB = q.legs.find((l) => l.tag === c.bTag);
      expect(legA?.packetsIn).toBeGreaterThanOrEqual(15);
      expect(legB?.packetsIn).toBeGreaterThanOrEqual(7);
      expect(await engine.list()).toContain(c.callId);
      const d = await engine.delete({ callId: c.callId });
      expect(d.legs.find((l) => l.tag === c.aTag)?.packetsIn).toBeGreaterThanOrEqual(15);
      expect(await engine.list()).not.toContain(c.callId);
      await expect(engine.query({ callId: c.callId })).rejects.toMatchObject({
        code: 'media-session-not-found',
      });
      await expect(engine.delete({ callId: 'no-such-call' })).rejects.toMatchObject({
        code: 'media-session-not-found',
      });
    });

    it('stats events: periodic per-leg stats while the call runs (final: false), then the last ones at delete (final: true)', async () => {
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      const events: { final: boolean; packetsA: number; packetsB: number; tags: string[] }[] = [];
      const off = engine.on('stats', (e) => {
        if (e.stats.callId !== c.callId) return;
        const legA = e.stats.legs.find((l) => l.tag === c.aTag);
        const legB = e.stats.legs.find((l) => l.tag === c.bTag);
        events.push({
          final: e.final !== false,
          packetsA: legA?.packetsIn ?? 0,
          packetsB: legB?.packetsIn ?? 0,
          tags: e.stats.legs.map((l) => l.tag),
        });
      });
      try {
        await a.send(c.relayA, 20);
        await b.send(c.relayB, 10);
        await waitFor(() => b.received.length >= 20 && a.received.length >= 10, 'media both ways');
        // The engines under test run with a short stats interval (the contract test files).
        await waitFor(
          () => events.some((e) => !e.final && e.packetsA >= 20 && e.packetsB >= 10),
          'a periodic stats event that counts both parties',
          20_000,
        );
        const periodic = events.find((e) => !e.final && e.packetsA >= 20)!;
        expect(periodic.tags).toEqual(expect.arrayContaining([c.aTag, c.bTag]));
        expect(events.some((e) => e.final)).toBe(false);
        const d = await engine.delete({ callId: c.callId });
        await waitFor(() => events.some((e) => e.final), 'the final stats event');
        const last = events.find((e) => e.final)!;
        expect(last.packetsA).toBe(d.legs.find((l) => l.tag === c.aTag)?.packetsIn);
        // After the call is gone no periodic event names it any more.
        const n = events.length;
        await sleep(1500);
        expect(events.length).toBe(n);
      } finally {
        off();
      }
    });

    it('delete with the From-tag of a BYE (either party) ends the whole call: no media either way, query and list forget it', async () => {
      for (const by of ['a', 'b'] as const) {
        const a = await probe();
        const b = await probe();
        const c = await call(a, b);
        await a.send(c.relayA, 5);
        await b.send(c.relayB, 5);
        await waitFor(() => b.received.length >= 5 && a.received.length >= 5, 'media both ways');
        const d = await engine.delete({ callId: c.callId, tag: by === 'a' ? c.aTag : c.bTag });
        expect(d.legs.map((l) => l.tag)).toEqual(expect.arrayContaining([c.aTag, c.bTag]));
        expect(await engine.list()).not.toContain(c.callId);
        await expect(engine.query({ callId: c.callId })).rejects.toMatchObject({
          code: 'media-session-not-found',
        });
        a.clear();
        b.clear();
        await a.send(c.relayA, 10);
        await b.send(c.relayB, 10);
        await sleep(300);
        expect(b.received).toHaveLength(0);
        expect(a.received).toHaveLength(0);
      }
    });

    it("RFC 4733: playDtmf sends each digit with the party's telephone-event PT, marker first, three End packets, one SSRC", async (ctx) => {
      if (!engine.capabilities.playDtmf) return ctx.skip();
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 5);
      await waitFor(() => b.received.length >= 5, 'B to receive audio');
      const te = ptOf(c.toB.mlines[0]!, 'telephone-event')!;
      b.clear();
      await engine.playDtmf({ callId: c.callId, tag: c.bTag }, '1#', { durationMs: 100 });
      await waitFor(
        () => b.received.filter((p) => p.pt === te && (p.payload[1]! & 0x80) !== 0).length >= 6,
        'two digits with their End packets',
      );
      const events = b.received.filter((p) => p.pt === te);
      const digits = [...new Set(events.map((p) => p.payload[0]))];
      expect(digits).toEqual([1, 11]);
      for (const d of [1, 11]) {
        const ofDigit = events.filter((p) => p.payload[0] === d);
        expect(ofDigit.filter((p) => (p.payload[1]! & 0x80) !== 0).length).toBeGreaterThanOrEqual(
          3,
        );
        expect(new Set(ofDigit.map((p) => p.ts)).size).toBe(1);
      }
      expect(new Set(b.received.map((p) => p.ssrc)).size).toBe(1);
      expect(seqMonotonic(b.received.map((p) => p.seq))).toBe(true);
    });

    it('RFC 4733: an event from a party is reported once as a dtmf event, marker bit or not (livekit/sip PR #585)', async (ctx) => {
      if (!engine.capabilities.detectDtmf) return ctx.skip();
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      const seen: string[] = [];
      const off = engine.on('dtmf', (e) => {
        if (e.callId === c.callId && e.tag === c.aTag) seen.push(e.digit);
      });
      try {
        const mid = Buffer.from([7, 10, 0, 160]);
        const end = Buffer.from([7, 0x80 | 10, 0x03, 0x20]);
        let seq = 500;
        for (const p of [mid, mid, end, end, end])
          a.sendRaw(c.relayA, rtpPacket({ pt: 101, seq: seq++, ts: 8000, ssrc: 99, payload: p }));
        await waitFor(() => seen.length >= 1, 'a dtmf event');
        await sleep(200);
        expect(seen).toEqual(['7']);
      } finally {
        off();
      }
    });

    it('playMedia plays a tone to a party instead of the other side; after stopMedia the relay resumes on the same SSRC', async (ctx) => {
      if (!engine.capabilities.playMedia) return ctx.skip();
      const a = await probe();
      const b = await probe();
      const c = await call(a, b);
      await a.send(c.relayA, 5);
      await waitFor(() => b.received.length >= 5, 'B to receive audio');
      b.clear();
      await engine.playMedia(
        { callId: c.callId, tag: c.bTag },
        { tone: 'sine', frequency: 1000 },
        { repeat: 0 },
      );
      await waitFor(() => b.received.length >= 25, 'the tone');
      await engine.stopMedia({ callId: c.callId, tag: c.bTag });
      const tone = b.received.filter((p) => p.pt === 0).flatMap((p) => [...p.payload].map(unulaw));
      expect(goertzel(tone, 1000)).toBeGreaterThan(0.5);
      await sleep(100);
      const before = b.received.length;
      await a.send(c.relayA, 10, { toneHz: 440 });
      await waitFor(() => b.received.length >= before + 10, 'the relay to resume');
      // One SSRC and sequence across the tone and the relayed stream: only an engine that
      // re-sequences per party (capabilities.resequence) promises that.
      if (engine.capabilities.resequence) {
        expect(new Set(b.received.map((p) => p.ssrc)).size).toBe(1);
        expect(seqMonotonic(b.received.map((p) => p.seq))).toBe(true);
      }
    });

    it('a WAV recording holds the caller in the left channel and the callee in the right (Goertzel per channel)', async (ctx) => {
      if (!engine.capabilities.record.includes('wav')) return ctx.skip();
      const dir = mkdtempSync(join(tmpdir(), 'tfx-rec-'));
      try {
        const a = await probe();
        const b = await probe();
        const c = await call(a, b);
        const path = join(dir, 'call.wav');
        const r = await engine.record({ callId: c.callId }, true, { format: 'wav', path });
        await Promise.all([
          a.send(c.relayA, 60, { toneHz: 440, gapMs: 5 }),
          b.send(c.relayB, 60, { toneHz: 1000, gapMs: 5 }),
        ]);
        await waitFor(() => a.received.length >= 60 && b.received.length >= 60, 'media both ways');
        // Streamed to the file while the call runs (not held until stop): after a second more
        // of media the audio so far is on disk.
        await sleep(1200);
        await Promise.all([
          a.send(c.relayA, 10, { toneHz: 440, gapMs: 5 }),
          b.send(c.relayB, 10, { toneHz: 1000, gapMs: 5 }),
        ]);
        await waitFor(() => statSync(r.path ?? path).size > 44 + 4 * 4000, 'audio on disk');
        await engine.record({ callId: c.callId }, false, { format: 'wav', path });
        const wav = readFileSync(r.path ?? path);
        expect(wav.readUInt16LE(22)).toBe(2);
        const rate = wav.readUInt32LE(24);
        const n = (wav.length - 44) / 4;
        const left: number[] = [];
        const right: number[] = [];
        for (let i = 0; i < n; i++) {
          left.push(wav.readInt16LE(44 + i * 4));
          right.push(wav.readInt16LE(46 + i * 4));
        }
        expect(n).toBeGreaterThan(rate / 2);
        expect(goertzel(left, 440, rate)).toBeGreaterThan(0.3);
        expect(goertzel(left, 1000, rate)).toBeLessThan(0.05);
        expect(goertzel(right, 1000, rate)).toBeGreaterThan(0.3);
        expect(goertzel(right, 440, rate)).toBeLessThan(0.05);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a PCAP recording opens in tshark with both directions of RTP, the relay's SSRCs and the payload type", async (ctx) => {
      if (!engine.capabilities.record.includes('pcap')) return ctx.skip();
      const dir = mkdtempSync(join(tmpdir(), 'tfx-pcap-'));
      try {
        const a = await probe();
        const b = await probe();
        const c = await call(a, b);
        const path = join(dir, 'call.pcap');
        const r = await engine.record({ callId: c.callId }, true, { format: 'pcap', path });
        await a.send(c.relayA, 20);
        await b.send(c.relayB, 20);
        await waitFor(() => a.received.length >= 20 && b.received.length >= 20, 'media both ways');
        await engine.record({ callId: c.callId }, false, { format: 'pcap', path });
        const out = execFileSync(
          'tshark',
          [
            '-r',
            r.path ?? path,
            '-o',
            'rtp.heuristic_rtp:TRUE',
            '-T',
            'fields',
            '-e',
            'rtp.ssrc',
            '-e',
            'rtp.p_type',
          ],
          { encoding: 'utf8' },
        );
        const rows = out
          .trim()
          .split('\n')
          .map((l) => l.split('\t'));
        const ssrcs = new Set(rows.map((r) => Number(r[0])));
        expect(ssrcs).toEqual(new Set([a.received[0]!.ssrc, b.received[0]!.ssrc]));
        expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(['0']));
        expect(rows.length).toBeGreaterThanOrEqual(40);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('an SDP that is not SDP (garbage, 1 MB, 500 m-lines) is refused with media-sdp-invalid; a running call is untouched', async () => {
      const a = await probe();
      const b = await probe();
      const running = await call(a, b);
      const callId = `contract-bad-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const head = `v=0\r\no=x 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\n`;
      const hostile = [
        '',
        'hello',
        'v=0\r\nm=audio x RTP/AVP 0\r\n',
        head + 'm=audio 4000 RTP/AVP 0\r\n' + 'a=x-filler:' + 'y'.repeat(1_048_576) + '\r\n',
        head + 'm=audio 4000 RTP/AVP 0\r\n'.repeat(500),
      ];
      for (const sdp of hostile) {
        await expect(
          engine.offer({ callId, fromTag: 'x', sdp, from: A, to: B }),
        ).rejects.toMatchObject({
          code: expect.stringMatching(/^media-(sdp-invalid|not-acceptable)$/),
        });
      }
      expect(await engine.list()).not.toContain(callId);
      await a.send(running.relayA, 5);
      await b.send(running.relayB, 5);
      await waitFor(
        () => a.received.length >= 5 && b.received.length >= 5,
        'the running call to keep flowing both ways',
      );
    });

    it('an offer with an unknown transport beside RTP/AVP: the unknown line is rejected with port 0, the audio line answered and relayed', async () => {
      const a = await probe();
      const b = await probe();
      const callId = `contract-mixed-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const o = await engine.offer({
        callId,
        fromTag: 'm1',
        sdp: makeSdp(address, [
          { port: a.port + 100, transport: 'TCP/MSRP', media: 'message', codecs: { 0: '' } },
          { port: a.port, codecs: { 0: 'PCMU/8000' } },
        ]),
        from: A,
        to: B,
      });
      const toB = readSdp(o.sdp);
      expect(toB.mlines).toHaveLength(2);
      expect(toB.mlines[0]!.port).toBe(0);
      expect(toB.mlines[1]!.port).toBeGreaterThan(0);
      const r = await engine.answer({
        callId,
        fromTag: 'm1',
        toTag: 'm2',
        sdp: makeSdp(address, [
          { port: 0, transport: 'TCP/MSRP', media: 'message', codecs: { 0: '' } },
          { port: b.port, codecs: { 0: 'PCMU/8000' } },
        ]),
      });
      const toA = readSdp(r.sdp);
      expect(toA.mlines[0]!.port).toBe(0);
      const relayA = { address: toA.mlines[1]!.address, port: toA.mlines[1]!.port };
      await a.send(relayA, 5);
      await waitFor(() => b.received.length >= 5, 'audio on the accepted line');
    });

    it('an offer whose only stream has an unknown transport is refused with a media-* error, and the engine keeps serving', async () => {
      const a = await probe();
      const b = await probe();
      const callId = `contract-unknown-${process.pid}-${++callSeq}`;
      calls.push(callId);
      const sdp = makeSdp(address, [{ port: a.port, transport: 'TCP/MSRP', codecs: { 0: '' } }]);
      await expect(
        engine.offer({ callId, fromTag: 'u', sdp, from: A, to: B }),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^media-(not-acceptable|sdp-invalid|unsupported)$/),
      });
      const c = await call(a, b);
      await a.send(c.relayA, 5);
      await waitFor(() => b.received.length >= 5, 'a new call after the refusal');
    });
  });
}

function codecsOf(m: { pts: number[]; rtpmap: Map<number, string> }): Record<number, string> {
  const out: Record<number, string> = {};
  for (const pt of m.pts)
    out[pt] = m.rtpmap.get(pt) ?? (pt === 0 ? 'PCMU/8000' : pt === 8 ? 'PCMA/8000' : '');
  return out;
}

/** `sipp -rtp_echo` on `port` (and port+2); it echoes without a call. Killed by the caller. */
async function startSippEcho(address: string, port: number): Promise<ChildProcess> {
  const sipPort = 30000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    'sipp',
    [
      '-sn',
      'uas',
      '-i',
      address,
      '-p',
      String(sipPort),
      '-mp',
      String(port),
      '-rtp_echo',
      '-nostdin',
      '-trace_err',
    ],
    { stdio: 'ignore', cwd: '/tmp' },
  );
  // sipp opens its echo socket at start; give it a moment, then probe it.
  const probe = await RtpProbe.open(address);
  try {
    await waitFor(
      () => {
        probe.sendRaw(
          { address, port },
          rtpPacket({ pt: 0, seq: 1, ts: 1, ssrc: 1, payload: Buffer.alloc(4) }),
        );
        return probe.received.length > 0;
      },
      'sipp -rtp_echo to answer',
      15_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    probe.close();
  }
  return child;
}
