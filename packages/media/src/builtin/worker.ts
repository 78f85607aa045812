/**
 * A media worker (worker_threads): owns a slice of the media port range and every packet on it.
 * The main thread negotiates SDP and sends `configure`; here each side (one party of one stream)
 * latches its source, relays RTP to its peer side with the peer's payload types and the relay's
 * own SSRC/sequence/timestamp, terminates RTCP (SR/RR per leg), detects and sends RFC 4733
 * events, plays tones and WAV files, records, forwards copies, and watches for media timeouts.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { TfxError } from '@tfx/protocol';
import { isRtcp, newRtpHeader, parseRtpInto, writeRtpFields, writeRtpHeader } from '../rtp/rtp.js';
import { buildReceiverReport, buildSenderReport, parseRtcp } from '../rtp/rtcp.js';
import { ReceiveStats, ntpMiddle, ntpOf, rttFromReport } from '../rtp/quality.js';
import { DtmfDetector, digitOf, dtmfPackets, eventOf } from '../rtp/dtmf.js';
import { linearToAlaw, linearToUlaw } from '../codec/g711.js';
import { OPUS_FRAME, OpusCodec } from '../codec/opus.js';
import { Interpolator8to48 } from '../codec/resample.js';
import { EgressSequencer } from './egress.js';
import { FRAME, renderSource } from './sources.js';
import { PcapRecorder, WavRecorder } from './recorder.js';
import { WebRtcSide } from './webrtc-side.js';
import { TranscodePath } from './transcode-path.js';
import type {
  SideConfig,
  SideStats,
  WorkerCommand,
  WorkerCounters,
  WorkerEvent,
  WorkerInit,
  WorkerReply,
  WorkerRequest,
} from './protocol.js';
import type { MediaAddress, PlaySource } from '../engine/types.js';

const init = workerData as WorkerInit;
const port = parentPort!;

interface Player {
  timer: ReturnType<typeof setInterval>;
  /** Toward an Opus party: 8 kHz frames up to 48 kHz and encoded (released at stop). */
  opus?: { readonly enc: OpusCodec; readonly up: Interpolator8to48 };
}

interface Side {
  readonly id: number;
  readonly address: string;
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly rtpPort: number;
  cfg: SideConfig | undefined;
  latched: MediaAddress | undefined;
  learning: boolean;
  ptMap: Int16Array;
  te: Set<number>;
  rx: ReceiveStats;
  ssrcIn: number | undefined;
  out: EgressSequencer;
  dropped: number;
  lastRxMs: number;
  timedOut: boolean;
  blockMedia: boolean;
  blockDtmf: boolean;
  player: Player | undefined;
  dtmfBusy: boolean;
  detector: DtmfDetector;
  /** Flood guard: tokens refilled at floodPps per second (recovers on its own). */
  tokens: number;
  tokensAt: number;
  /** Last SR received from the party: its NTP middle and when (for our report's LSR/DLSR). */
  lastSr: { middle: number; atMs: number } | undefined;
  /** Our SRs sent to the party, by NTP middle (RTT from its report blocks). */
  rttMs: number | undefined;
  record: { channel: 0 | 1; rec: Recording } | undefined;
  forward: MediaAddress | undefined;
  /** ICE-lite + DTLS-SRTP toward a browser (`UDP/TLS/RTP/SAVPF`). */
  webrtc: WebRtcSide | undefined;
  /** Codec change (and telephone-event rescale) for packets from this side to its peer. */
  tx: TranscodePath | undefined;
}

interface Recording {
  readonly wav?: WavRecorder;
  readonly pcap?: PcapRecorder;
  readonly sides: number[];
}

const sides = new Map<number, Side>();
/** The RTP ports of `sides` (an allocation checks a port in O(1), not by a scan of every side). */
const rtpPorts = new Set<number>();
/** Sides being opened (binding), and those of them closed before their open finished. */
const opening = new Set<number>();
const closedWhileOpening = new Set<number>();
const recordings = new Map<string, Recording>();
const dropped: Record<string, number> = {};
let packetsRelayed = 0;
let bytesRelayed = 0;
let nextPort = init.portMin + (init.portMin % 2);

function drop(s: Side | undefined, why: string): void {
  dropped[why] = (dropped[why] ?? 0) + 1;
  if (s) s.dropped++;
}

function post(e: WorkerEvent): void {
  port.postMessage(e);
}

async function bind(sock: Socket, p: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onErr = (): void => resolve(false);
    sock.once('error', onErr);
    sock.bind({ port: p, address, exclusive: true }, () => {
      sock.off('error', onErr);
      resolve(true);
    });
  });
}

/**
 * dgram resolves the destination of every `send` through its `lookup` (dns.lookup by default:
 * option checks and a nextTick per packet, measured at a few per cent of the worker). Every
 * address here is an IP literal (latched from a packet, or from SDP checked by the parser), so
 * it is answered at once; anything else would still go to dns.lookup.
 */
let lastIp = '';
let lastFamily = 0;
function ipLookup(
  address: string,
  family: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  if (address !== lastIp) {
    const f = isIP(address);
    if (f === 0) {
      dnsLookup(address, { family: typeof family === 'number' ? family : 0 }, cb);
      return;
    }
    lastIp = address;
    lastFamily = f;
  }
  cb(null, address, lastFamily);
}

/** The RTP header of the packet being relayed (one per worker: parsing allocates nothing). */
const hdr = newRtpHeader();

/**
 * Allocates an even RTP port and RTP + 1 for RTCP from this worker's slice. A `close` of the side
 * that arrives while its sockets bind (the engine gave up waiting: a command timeout) closes them
 * as soon as they are bound, so a late open never leaks its ports.
 */
async function open(id: number, address: string): Promise<{ port: number; ssrc: number }> {
  opening.add(id);
  try {
    const r = await allocate(id, address);
    if (closedWhileOpening.delete(id)) {
      closeSide(id);
      throw new TfxError('media-session-not-found', `media side ${id} was closed while opening`);
    }
    return r;
  } finally {
    opening.delete(id);
    closedWhileOpening.delete(id);
  }
}

async function allocate(id: number, address: string): Promise<{ port: number; ssrc: number }> {
  const type = isIPv6(address) ? 'udp6' : 'udp4';
  const span = Math.floor((init.portMax - init.portMin + 1) / 2);
  for (let i = 0; i < span; i++) {
    const p = nextPort;
    nextPort += 2;
    if (nextPort + 1 > init.portMax) nextPort = init.portMin + (init.portMin % 2);
    if (rtpPorts.has(p)) continue;
    const rtp = createSocket({ type, recvBufferSize: 1 << 20, lookup: ipLookup });
    const rtcp = createSocket({ type, lookup: ipLookup });
    if (!(await bind(rtp, p, address))) {
      rtp.close();
      rtcp.close();
      continue;
    }
    if (!(await bind(rtcp, p + 1, address))) {
      rtp.close();
      rtcp.close();
      continue;
    }
    const side: Side = {
      id,
      address,
      rtp,
      rtcp,
      rtpPort: p,
      cfg: undefined,
      latched: undefined,
      learning: true,
      ptMap: new Int16Array(128).fill(-1),
      te: new Set(),
      rx: new ReceiveStats(8000),
      ssrcIn: undefined,
      out: new EgressSequencer(),
      dropped: 0,
      lastRxMs: Date.now(),
      timedOut: false,
      blockMedia: false,
      blockDtmf: false,
      player: undefined,
      dtmfBusy: false,
      detector: new DtmfDetector(),
      tokens: init.floodPps,
      tokensAt: Date.now(),
      lastSr: undefined,
      rttMs: undefined,
      record: undefined,
      forward: undefined,
      webrtc: undefined,
      tx: undefined,
    };
    // A defect in the relay costs one packet (counted), never the worker and its other calls.
    rtp.on('message', (msg, rinfo) => {
      try {
        onRtp(side, msg, rinfo);
      } catch {
        drop(side, 'internal');
      }
    });
    rtcp.on('message', (msg, rinfo) => {
      try {
        onRtcpSocket(side, msg, rinfo);
      } catch {
        drop(side, 'internal');
      }
    });
    rtp.on('error', () => drop(side, 'socket-error'));
    rtcp.on('error', () => drop(side, 'socket-error'));
    sides.set(id, side);
    rtpPorts.add(p);
    return { port: p, ssrc: side.out.ssrc };
  }
  throw new TfxError(
    'media-ports-exhausted',
    `no free media port pair in ${init.portMin}-${init.portMax} on ${address}`,
  );
}

function target(s: Side): MediaAddress | undefined {
  if (s.webrtc) return s.webrtc.selected;
  return s.latched ?? s.cfg?.remote ?? undefined;
}

function rtcpTarget(s: Side): MediaAddress | undefined {
  const t = target(s);
  if (!t) return undefined;
  if (s.cfg?.rtcpMux) return t;
  if (s.latched) return { address: s.latched.address, port: s.latched.port + 1 };
  return s.cfg?.rtcpRemote ?? { address: t.address, port: t.port + 1 };
}

/**
 * Source check (strict latching) first, then the flood guard: packets from a wrong source are
 * dropped before they can spend the party's tokens (a third address must not starve the call).
 */
function admit(s: Side, rinfo: RemoteInfo, now: number): boolean {
  const cfg = s.cfg;
  if (!cfg) {
    drop(s, 'unconfigured');
    return false;
  }
  if (cfg.latching === 'strict') {
    if (
      !s.learning &&
      s.latched &&
      (rinfo.address !== s.latched.address || rinfo.port !== s.latched.port)
    ) {
      // RTP Bleed (CVE-2017-14114): after latching, another source never takes over.
      drop(s, 'wrong-source');
      return false;
    }
  } else if (!cfg.remote || rinfo.address !== cfg.remote.address) {
    drop(s, 'wrong-source');
    return false;
  }
  return floodOk(s, now);
}

/** Flood guard: a token bucket per side; excess is dropped and counted, and it recovers. */
function floodOk(s: Side, now: number): boolean {
  s.tokens = Math.min(init.floodPps, s.tokens + ((now - s.tokensAt) * init.floodPps) / 1000);
  s.tokensAt = now;
  if (s.tokens < 1) {
    drop(s, 'flood');
    return false;
  }
  s.tokens--;
  return true;
}

function onRtp(s: Side, input: Buffer, rinfo: RemoteInfo): void {
  const now = Date.now();
  let msg = input;
  if (s.webrtc) {
    // RFC 7983: STUN, DTLS and SRTP share the port; the WebRTC side checks sources itself.
    if (!s.cfg) return drop(s, 'unconfigured');
    if (!floodOk(s, now)) return;
    const plain = s.webrtc.receive(msg, rinfo);
    if (!plain) return;
    msg = plain;
  } else if (!admit(s, rinfo, now)) return;
  if (isRtcp(msg)) {
    // RFC 5761 §4: RTCP multiplexed on the RTP port.
    onRtcp(s, msg, rinfo, now);
    return;
  }
  if (parseRtpInto(msg, hdr) !== undefined) {
    drop(s, 'bad-rtp');
    return;
  }
  const cfg = s.cfg!;
  if (s.learning && cfg.latching === 'strict') {
    s.latched = { address: rinfo.address, port: rinfo.port };
    s.learning = false;
  }
  const h = hdr;
  const newSource = s.ssrcIn !== undefined && s.ssrcIn !== h.ssrc;
  s.ssrcIn = h.ssrc;
  s.rx.update(h.sequence, h.timestamp, now, msg.length, newSource);
  s.lastRxMs = now;
  s.timedOut = false;
  const isTe = s.te.has(h.payloadType);
  if (s.blockMedia || (isTe && s.blockDtmf)) {
    drop(s, 'blocked');
    return;
  }
  if (isTe) {
    const e = s.detector.push(
      h.ssrc,
      h.timestamp,
      msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength),
    );
    const digit = e && digitOf(e.event);
    if (e && digit)
      post({
        event: 'dtmf',
        callId: cfg.callId,
        tag: cfg.tag,
        digit,
        durationMs: Math.round((e.duration * 1000) / cfg.clockRate),
        volume: e.volume,
      });
  } else if (s.record?.rec.wav) {
    const enc = encodingOfIncoming(s, h.payloadType);
    if (enc)
      s.record.rec.wav.audio(
        s.record.channel,
        enc,
        msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength),
        now,
      );
  }
  const peer = cfg.peer === null ? undefined : sides.get(cfg.peer);
  if (!peer || !peer.cfg) {
    drop(s, 'no-peer');
    return;
  }
  // RFC 3264 §5.1: media flows only where the sender may send and the receiver may receive.
  if (!cfg.sends || !peer.cfg.receives) {
    drop(s, 'direction');
    return;
  }
  if (isTe && peer.cfg.dtmfInfo) {
    // DTMF toward the peer goes as SIP INFO (its profile): detected above, never relayed raw.
    dropped['dtmf-as-info'] = (dropped['dtmf-as-info'] ?? 0) + 1;
    return;
  }
  if (peer.player || peer.dtmfBusy) {
    drop(s, 'replaced');
    return;
  }
  if (s.tx && (s.tx.isAudio(h.payloadType) || s.tx.isEvent(h.payloadType))) {
    transcodeToPeer(s, s.tx, peer, msg, now);
    return;
  }
  const pt = s.ptMap[h.payloadType]!;
  if (pt < 0) {
    // janus-gateway#1591: a payload type the peer did not negotiate is never forwarded raw.
    drop(s, 'unknown-pt');
    return;
  }
  const to = target(peer);
  if (!to) {
    drop(s, 'no-target');
    return;
  }
  const out = peer.out;
  out.advance(h.ssrc, h.sequence, h.timestamp, now, peer.cfg.clockRate);
  writeRtpHeader(msg, h.marker, pt, out.seq, out.ts, out.ssrc);
  send(peer, msg, to, now);
}

/**
 * Opus ↔ G.711 (and telephone-event 48 ↔ 8 kHz) for a packet from `s` (its header is in `hdr`):
 * the frames made are sent with the peer leg's own SSRC, sequence and timestamps.
 */
function transcodeToPeer(s: Side, tx: TranscodePath, peer: Side, msg: Buffer, now: number): void {
  const h = hdr;
  const to = target(peer);
  if (!to) return drop(s, 'no-target');
  const payload = msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
  if (tx.isAudio(h.payloadType)) {
    for (const frame of tx.audio(h.sequence, payload)) {
      const { seq, ts } = peer.out.synth(now, tx.cfg.to.clockRate, tx.frameSamples);
      send(peer, rtpPacket(false, tx.cfg.to.pt, seq, ts, peer.out.ssrc, frame), to, now);
    }
    return;
  }
  const e = tx.event(h.timestamp, payload);
  if (!e) return drop(s, 'bad-telephone-event');
  const te = tx.cfg.teTo!;
  // RFC 4733 §2.5.1.2: all packets of one event carry its start timestamp (on the peer's clock).
  const { seq, ts } = peer.out.synth(now, te.clockRate, e.newEvent ? tx.frameSamples : 0);
  if (e.newEvent) tx.eventTimestamp = ts;
  send(peer, rtpPacket(h.marker, te.pt, seq, tx.eventTimestamp, peer.out.ssrc, e.payload), to, now);
}

function rtpPacket(
  marker: boolean,
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  payload: Uint8Array,
): Buffer {
  const pkt = Buffer.allocUnsafe(12 + payload.length);
  pkt[0] = 0x80;
  writeRtpFields(pkt, { marker, payloadType, sequence, timestamp, ssrc });
  pkt.set(payload, 12);
  return pkt;
}

function send(peer: Side, plain: Buffer, to: MediaAddress, now: number): void {
  let msg = plain;
  if (peer.webrtc) {
    const enc = peer.webrtc.protectRtp(plain);
    if (!enc) return drop(peer, 'dtls-pending');
    msg = enc;
  }
  peer.rtp.send(msg, to.port, to.address);
  peer.out.count(plain.length);
  packetsRelayed++;
  bytesRelayed += msg.length;
  if (peer.forward) peer.rtp.send(plain, peer.forward.port, peer.forward.address);
  peer.record?.rec.pcap?.packet({ address: peer.address, port: peer.rtpPort }, to, plain, now);
}

function encodingOfIncoming(s: Side, pt: number): string | undefined {
  // The party's own PT → the peer's PT → the peer's codec name; G.711 only for the WAV.
  const mapped = s.ptMap[pt]!;
  const peer = s.cfg?.peer === null || !s.cfg ? undefined : sides.get(s.cfg.peer);
  const oc = peer?.cfg?.outCodec;
  if (oc && mapped === oc.pt) return oc.encoding;
  if (pt === 0) return 'PCMU';
  if (pt === 8) return 'PCMA';
  return undefined;
}

function onRtcpSocket(s: Side, msg: Buffer, rinfo: RemoteInfo): void {
  const now = Date.now();
  if (!s.cfg) {
    drop(s, 'unconfigured');
    return;
  }
  const expected = s.latched?.address ?? s.cfg.remote?.address;
  if (expected && rinfo.address !== expected) {
    drop(s, 'wrong-source');
    return;
  }
  onRtcp(s, msg, rinfo, now);
}

/** RTCP from the party is terminated here (the relay rewrites SSRCs): stats and RTT only. */
function onRtcp(s: Side, msg: Buffer, _rinfo: RemoteInfo, now: number): void {
  const r = parseRtcp(msg);
  if (!r.ok) {
    drop(s, 'bad-rtcp');
    return;
  }
  for (const p of r.packets) {
    if (p.type === 'sr') s.lastSr = { middle: ntpMiddle(p.ntpSec, p.ntpFrac), atMs: now };
    if (p.type === 'sr' || p.type === 'rr') {
      for (const b of p.reports) {
        if (b.ssrc !== s.out.ssrc) continue;
        const rtt = rttFromReport(now, b.lsr, b.dlsr);
        if (rtt !== undefined) s.rttMs = rtt;
      }
    }
  }
}

/** RFC 3550 §6.4: an SR (when we sent to the party) or RR toward each party, with our report. */
function sendReports(): void {
  const now = Date.now();
  for (const s of sides.values()) {
    if (!s.cfg) continue;
    const to = rtcpTarget(s);
    if (!to) continue;
    const reports =
      s.ssrcIn === undefined
        ? []
        : [
            {
              ssrc: s.ssrcIn,
              fractionLost: s.rx.takeFractionLost(),
              cumulativeLost: s.rx.lost,
              highestSeq: s.rx.extendedMaxSeq,
              jitter: s.rx.jitter,
              lsr: s.lastSr?.middle ?? 0,
              dlsr: s.lastSr ? Math.floor(((now - s.lastSr.atMs) * 65536) / 1000) : 0,
            },
          ];
    let pkt: Buffer;
    if (s.out.packets > 0) {
      const ntp = ntpOf(now);
      const elapsed = Math.round(((now - s.out.lastSentAtMs) * s.cfg.clockRate) / 1000);
      pkt = buildSenderReport({
        ssrc: s.out.ssrc,
        ntpSec: ntp.sec,
        ntpFrac: ntp.frac,
        rtpTimestamp: (s.out.lastTimestamp + elapsed) >>> 0,
        packetCount: s.out.packets,
        octetCount: s.out.octets,
        reports,
        cname: init.cname,
      });
    } else if (reports.length > 0) {
      pkt = buildReceiverReport({ ssrc: s.out.ssrc, reports, cname: init.cname });
    } else continue;
    if (s.webrtc) {
      // RFC 5764 §4.1: RTCP toward a DTLS-SRTP leg is SRTCP, on the RTP port (rtcp-mux).
      const enc = s.webrtc.protectRtcp(pkt);
      if (enc) s.rtp.send(enc, to.port, to.address);
      continue;
    }
    (s.cfg.rtcpMux ? s.rtp : s.rtcp).send(pkt, to.port, to.address);
  }
}

function checkTimeouts(): void {
  const now = Date.now();
  for (const s of sides.values()) {
    const cfg = s.cfg;
    // The media timeout is paused while the party does not send (hold, inactive).
    if (!cfg || cfg.timeoutMs <= 0 || !cfg.sends || s.timedOut) continue;
    const idle = now - s.lastRxMs;
    if (idle >= cfg.timeoutMs) {
      s.timedOut = true;
      post({ event: 'timeout', callId: cfg.callId, tag: cfg.tag, idleMs: idle });
    }
  }
}

function configure(c: SideConfig): void {
  const s = sides.get(c.id);
  if (!s) throw new TfxError('media-session-not-found', `no side ${c.id}`);
  const prev = s.cfg;
  s.cfg = c;
  s.ptMap = new Int16Array(128).fill(-1);
  for (const [from, to] of c.ptMap) if (from >= 0 && from < 128) s.ptMap[from] = to;
  s.te = new Set(c.telephoneEvent);
  if (c.relearn) {
    // Strict latching: learn again from the first packets after this signalling event. When
    // the SDP address did not change, the latched address stays the target until then.
    const sameRemote =
      prev?.remote &&
      c.remote &&
      prev.remote.address === c.remote.address &&
      prev.remote.port === c.remote.port;
    if (!sameRemote) s.latched = undefined;
    s.learning = true;
  }
  if (!prev || prev.clockRate !== c.clockRate) s.rx = new ReceiveStats(c.clockRate);
  configureGateway(s, c);
  s.lastRxMs = Date.now();
  s.timedOut = false;
}

/** The WebRTC transport and the transcoding path of a side follow its configuration. */
function configureGateway(s: Side, c: SideConfig): void {
  if (c.webrtc) {
    if (!init.dtls) throw new TfxError('media-unsupported', 'this worker has no DTLS certificate');
    if (s.webrtc) s.webrtc.configure(c.webrtc);
    else
      s.webrtc = new WebRtcSide(c.webrtc, init.dtls, {
        send: (d, to) => s.rtp.send(d, to.port, to.address),
        drop: (why) => drop(s, why),
      });
  } else if (s.webrtc) {
    s.webrtc.close();
    s.webrtc = undefined;
  }
  const t = c.transcode;
  const same = s.tx && t && JSON.stringify(s.tx.cfg) === JSON.stringify(t);
  if (!same) {
    s.tx?.close();
    s.tx = t ? new TranscodePath(t) : undefined;
  }
}

function closeSide(id: number): void {
  const s = sides.get(id);
  if (!s) {
    if (opening.has(id)) closedWhileOpening.add(id);
    return;
  }
  sides.delete(id);
  rtpPorts.delete(s.rtpPort);
  stopPlay(s);
  s.webrtc?.close();
  s.tx?.close();
  for (const sock of [s.rtp, s.rtcp]) {
    try {
      sock.close();
    } catch {
      // already closed
    }
  }
  if (s.record) {
    const rec = s.record.rec;
    rec.sides.splice(rec.sides.indexOf(id), 1);
    if (rec.sides.length === 0) finishRecording(rec);
  }
}

function finishRecording(rec: Recording): void {
  for (const [k, v] of recordings) if (v === rec) recordings.delete(k);
  for (const id of rec.sides) {
    const s = sides.get(id);
    if (s) s.record = undefined;
  }
  rec.wav?.close();
  rec.pcap?.close();
  // Audio refused by the WAV's bounds, and recordings a write error (disk full) ended early.
  if (rec.wav?.overflow)
    dropped['record-overflow'] = (dropped['record-overflow'] ?? 0) + rec.wav.overflow;
  if (rec.wav?.failed !== undefined || rec.pcap?.failed !== undefined)
    dropped['record-failed'] = (dropped['record-failed'] ?? 0) + 1;
}

function stats(id: number): SideStats | undefined {
  const s = sides.get(id);
  if (!s) return undefined;
  const remote = target(s);
  return {
    id,
    local: { address: s.address, port: s.rtpPort },
    ...(remote ? { remote } : {}),
    latched: s.latched !== undefined && !s.learning,
    packetsIn: s.rx.received,
    bytesIn: s.rx.bytes,
    packetsOut: s.out.packets,
    bytesOut: s.out.octets,
    dropped: s.dropped,
    packetsLost: s.rx.lost,
    jitterMs: s.rx.jitterMs,
    lossPercent: s.rx.lossPercent,
    ...(s.rttMs !== undefined ? { rttMs: s.rttMs } : {}),
    ...(s.ssrcIn !== undefined ? { ssrcIn: s.ssrcIn } : {}),
    ssrcOut: s.out.ssrc,
    ...(s.webrtc ? { dtls: s.webrtc.dtlsState } : {}),
  };
}

function encodeFrame(pcm: Int16Array, encoding: string): Buffer {
  const enc = encoding === 'PCMA' ? linearToAlaw : linearToUlaw;
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = enc(pcm[i]!);
  return out;
}

function play(s: Side, source: PlaySource, repeat: number): void {
  const codec = s.cfg?.outCodec;
  const isOpus = codec?.encoding.toLowerCase() === 'opus' && codec.clockRate === 48000;
  if (!codec || (codec.encoding !== 'PCMU' && codec.encoding !== 'PCMA' && !isOpus))
    throw new TfxError('media-unsupported', 'playback needs PCMU, PCMA or Opus toward this party');
  const pcm = renderSource(source);
  stopPlay(s);
  const opus = isOpus ? { enc: new OpusCodec(), up: new Interpolator8to48() } : undefined;
  let pos = 0;
  let plays = 0;
  const timer = setInterval(() => {
    if (pos >= pcm.length) {
      plays++;
      if (repeat > 0 && plays >= repeat) {
        stopPlay(s);
        return;
      }
      pos = 0;
    }
    const frame = new Int16Array(FRAME);
    frame.set(pcm.subarray(pos, pos + FRAME));
    pos += FRAME;
    const to = target(s);
    if (!to || !s.cfg?.receives) return;
    const now = Date.now();
    const { seq, ts } = s.out.synth(now, codec.clockRate, opus ? OPUS_FRAME : FRAME);
    const payload = opus
      ? opus.enc.encode(opus.up.process(frame))
      : encodeFrame(frame, codec.encoding);
    const pkt = Buffer.allocUnsafe(12 + payload.length);
    pkt[0] = 0x80;
    writeRtpFields(pkt, {
      marker: false,
      payloadType: codec.pt,
      sequence: seq,
      timestamp: ts,
      ssrc: s.out.ssrc,
    });
    payload.copy(pkt, 12);
    send(s, pkt, to, now);
  }, 20);
  s.player = { timer, ...(opus ? { opus } : {}) };
}

function stopPlay(s: Side): void {
  if (s.player) {
    clearInterval(s.player.timer);
    s.player.opus?.enc.close();
  }
  s.player = undefined;
}

async function playDtmf(
  s: Side,
  digits: string,
  durationMs: number,
  pauseMs: number,
  volume: number,
): Promise<void> {
  const te = s.cfg?.outTelephoneEvent;
  if (!te) throw new TfxError('media-unsupported', 'this party negotiated no telephone-event');
  const events = [...digits].map((d) => {
    const e = eventOf(d);
    if (e === undefined)
      throw new TfxError('bad-request', `not a DTMF digit: ${JSON.stringify(d)}`);
    return e;
  });
  s.dtmfBusy = true;
  try {
    for (const event of events) {
      const packets = dtmfPackets({ event, durationMs, volume, clockRate: te.clockRate });
      const t0 = Date.now();
      let first = true;
      for (const p of packets) {
        const wait = t0 + p.atMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const to = target(s);
        if (!to || !sides.has(s.id)) return;
        const now = Date.now();
        // RFC 4733 §2.5.1.2: every packet of one event carries the event's start timestamp.
        const { seq, ts } = s.out.synth(now, te.clockRate, first ? FRAME : 0);
        first = false;
        const pkt = Buffer.allocUnsafe(12 + p.payload.length);
        pkt[0] = 0x80;
        writeRtpFields(pkt, {
          marker: p.marker,
          payloadType: te.pt,
          sequence: seq,
          timestamp: ts,
          ssrc: s.out.ssrc,
        });
        p.payload.copy(pkt, 12);
        send(s, pkt, to, now);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    s.dtmfBusy = false;
  }
}

function record(c: Extract<WorkerCommand, { cmd: 'record' }>): { path: string } {
  const existing = recordings.get(c.callId);
  if (!c.on) {
    if (existing) finishRecording(existing);
    return { path: c.path };
  }
  if (existing) finishRecording(existing);
  const left = sides.get(c.left);
  const right = sides.get(c.right);
  if (!left || !right) throw new TfxError('media-session-not-found', 'no media to record yet');
  let rec: Recording;
  try {
    rec =
      c.format === 'wav'
        ? { wav: new WavRecorder(c.path, Date.now()), sides: [c.left, c.right] }
        : { pcap: new PcapRecorder(c.path), sides: [c.left, c.right] };
  } catch (err) {
    throw new TfxError(
      'internal',
      `cannot write the recording ${c.path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  left.record = { channel: 0, rec };
  right.record = { channel: 1, rec };
  recordings.set(c.callId, rec);
  return { path: c.path };
}

function side(id: number): Side {
  const s = sides.get(id);
  if (!s) throw new TfxError('media-session-not-found', `no media side ${id}`);
  return s;
}

async function handle(c: WorkerCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'open':
      return open(c.id, c.address);
    case 'configure':
      for (const side of c.sides) configure(side);
      return null;
    case 'close':
      for (const id of c.ids) closeSide(id);
      return null;
    case 'stats':
      return c.ids.map(stats);
    case 'play':
      play(side(c.id), c.source, c.repeat);
      return null;
    case 'stop-play':
      stopPlay(side(c.id));
      return null;
    case 'dtmf':
      await playDtmf(side(c.id), c.digits, c.durationMs, c.pauseMs, c.volume);
      return null;
    case 'record':
      return record(c);
    case 'forward':
      for (const id of c.ids) side(id).forward = c.dest ?? undefined;
      return null;
    case 'block': {
      const s = side(c.id);
      if (c.what === 'media') s.blockMedia = c.on;
      else s.blockDtmf = c.on;
      return null;
    }
    case 'counters': {
      const counters: WorkerCounters = {
        packetsRelayed,
        bytesRelayed,
        dropped: { ...dropped },
        portsInUse: sides.size * 2,
        sides: sides.size,
      };
      return counters;
    }
  }
}

port.on('message', (req: WorkerRequest) => {
  handle(req.command).then(
    (result) => port.postMessage({ rid: req.rid, ok: true, result } satisfies WorkerReply),
    (err: unknown) => {
      const code = err instanceof TfxError ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      port.postMessage({ rid: req.rid, ok: false, error: { code, message } } satisfies WorkerReply);
    },
  );
});

/** Periodic stats: one message with every configured side (the main thread groups by call). */
function postStats(): void {
  const list: SideStats[] = [];
  for (const s of sides.values()) {
    if (!s.cfg) continue;
    const st = stats(s.id);
    if (st) list.push(st);
  }
  if (list.length > 0) post({ event: 'stats', sides: list });
}

setInterval(sendReports, init.rtcpIntervalMs).unref();
if (init.statsIntervalMs > 0) setInterval(postStats, init.statsIntervalMs).unref();
setInterval(checkTimeouts, 1000).unref();
