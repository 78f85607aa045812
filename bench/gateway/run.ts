/**
 * bench/gateway (skeleton): the built-in engine as a WebRTC ↔ RTP gateway. N calls, each a werift
 * RTCPeerConnection (the "browser", full ICE + DTLS-SRTP, in this process) ↔ engine ↔ an RTP probe
 * (the "phone"), 20 ms audio both ways for --seconds. Two modes in the same run:
 *   passthrough — PCMU in the browser and at the phone;
 *   transcode   — Opus-only browser ↔ PCMU phone (Opus ↔ G.711 in the engine's worker).
 * The engine's cost is its media worker's event-loop utilisation (busy fraction of that thread,
 * `worker.performance.eventLoopUtilization()`: RTP, SRTP, DTLS, codec wasm), so the peers' own
 * CPU in the main thread does not count. Per call: % of a core; legs per core = calls / busy.
 * Loss: packets sent vs received at each end after a drain. Bounded: --calls ≤ 50, --seconds ≤ 30;
 * 127.0.0.1 only, no STUN server. rtpengine in the same run and node-datachannel as a second
 * WebRTC transport are the next steps (issue #20 benchmark).
 *
 *   npx tsx bench/gateway/run.ts [-- --calls 10 --seconds 5 --modes passthrough,transcode]
 */
import { createBuiltinEngine } from '../../packages/media/src/builtin/engine.js';
import type { LegProfile } from '../../packages/media/src/engine/types.js';
import { OpusCodec } from '../../packages/media/src/codec/opus.js';
import { RtpProbe, sleep, toneUlaw } from '../../packages/media/test/contract/probe.js';
import { makeSdp, readSdp } from '../../packages/media/test/contract/sdp.js';
import { WebRtcPeer } from '../../packages/media/test/webrtc/peer.js';

const opt = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : dflt;
};
const CALLS = Math.min(50, Number(opt('calls', '10')));
const SECONDS = Math.min(30, Number(opt('seconds', '5')));
const MODES = opt('modes', 'passthrough,transcode').split(',') as ('passthrough' | 'transcode')[];

const WEB: LegProfile = {
  mediaAddress: '127.0.0.1',
  transport: 'UDP/TLS/RTP/SAVPF',
  ice: 'lite',
  dtls: 'passive',
  rtcpMux: 'require',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const PHONE: LegProfile = {
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};

// One second of a 440 Hz tone, encoded once (the peers' encoding is not what is measured).
const opusFrames: Buffer[] = (() => {
  const enc = new OpusCodec();
  const out: Buffer[] = [];
  for (let f = 0; f < 50; f++) {
    const pcm = new Int16Array(960);
    for (let i = 0; i < 960; i++)
      pcm[i] = 8000 * Math.sin((2 * Math.PI * 440 * (f * 960 + i)) / 48000);
    out.push(enc.encode(pcm));
  }
  enc.close();
  return out;
})();
const ulawFrames = Array.from({ length: 50 }, (_, f) => toneUlaw(1000, f * 160, 160));

interface Leg {
  peer: WebRtcPeer;
  probe: RtpProbe;
  phoneSide: { address: string; port: number };
}

async function run(mode: 'passthrough' | 'transcode'): Promise<void> {
  const base = 44000 + 2 * Math.floor(Math.random() * 2000);
  const engine = await createBuiltinEngine({
    portMin: base,
    portMax: base + 4 * CALLS + 99,
    workers: 1,
    mediaTimeoutMs: 0,
  });
  const legs: Leg[] = [];
  try {
    const t0 = Date.now();
    for (let c = 0; c < CALLS; c++) {
      const peer = new WebRtcPeer([mode === 'transcode' ? 'opus' : 'PCMU']);
      const offer = await peer.offer();
      const callId = `bench-${mode}-${c}`;
      const toPhone = (
        await engine.offer({ callId, fromTag: 'b', sdp: offer, from: WEB, to: PHONE })
      ).sdp;
      const probe = await RtpProbe.open('127.0.0.1');
      const m = readSdp(toPhone).mlines[0]!;
      const ans = makeSdp('127.0.0.1', [{ port: probe.port, codecs: { 0: 'PCMU/8000' } }]);
      await peer.accept((await engine.answer({ callId, fromTag: 'b', toTag: 'p', sdp: ans })).sdp);
      legs.push({ peer, probe, phoneSide: { address: m.address, port: m.port } });
    }
    await Promise.all(legs.map((l) => l.peer.connected(60_000)));
    const setupMs = Date.now() - t0;
    const worker = engine.workerThreads[0]!;
    const pt = mode === 'transcode' ? 111 : 0;
    // Warm-up 1 s, then the measured window.
    let sent = 0;
    const tick = (i: number): void => {
      for (const l of legs) {
        l.peer.send(
          pt,
          mode === 'transcode' ? opusFrames[i % 50]! : ulawFrames[i % 50]!,
          mode === 'transcode' ? 960 : 160,
        );
        l.probe.sendRaw(l.phoneSide, ulawPacket(l.probe, i));
        sent += 2;
      }
    };
    let i = 0;
    const startAt = Date.now();
    let elu0 = worker.performance.eventLoopUtilization();
    let sent0 = 0;
    let recv0 = 0;
    while (Date.now() - startAt < (1 + SECONDS) * 1000) {
      tick(i++);
      if (i === 50) {
        elu0 = worker.performance.eventLoopUtilization();
        sent0 = sent;
        recv0 = received(legs);
      }
      const next = startAt + i * 20;
      await sleep(Math.max(0, next - Date.now()));
    }
    const elu = worker.performance.eventLoopUtilization(elu0);
    await sleep(500);
    const delivered = received(legs) - recv0;
    const busy = elu.utilization;
    console.log(
      JSON.stringify({
        mode,
        calls: CALLS,
        seconds: SECONDS,
        setupAllMs: setupMs,
        workerBusyPct: +(busy * 100).toFixed(1),
        pctCorePerCall: +((busy * 100) / CALLS).toFixed(2),
        callsPerCore: busy > 0 ? Math.round(CALLS / busy) : null,
        packetsSent: sent - sent0,
        packetsDelivered: delivered,
        lossPct: +((100 * (sent - sent0 - delivered)) / Math.max(1, sent - sent0)).toFixed(2),
      }),
    );
  } finally {
    for (const l of legs) {
      await l.peer.close();
      l.probe.close();
    }
    await engine.close();
  }
}

const seqs = new WeakMap<RtpProbe, number>();
function ulawPacket(probe: RtpProbe, i: number): Buffer {
  const seq = ((seqs.get(probe) ?? 0) + 1) & 0xffff;
  seqs.set(probe, seq);
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE((i * 160) >>> 0, 4);
  b.writeUInt32BE(probe.ssrc, 8);
  ulawFrames[i % 50]!.copy(b, 12);
  return b;
}

function received(legs: Leg[]): number {
  let n = 0;
  for (const l of legs) n += l.peer.received.length + l.probe.received.length;
  return n;
}

for (const mode of MODES) await run(mode);
process.exit(0);
