/**
 * A WebRTC peer for the gateway tests that is not a browser: werift's RTCPeerConnection (full ICE,
 * DTLS, SRTP — a stack independent of the engine's own composition), on 127.0.0.1 only and with
 * no STUN server. It sends Opus or PCMU frames of a tone and keeps what it receives.
 */
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  type RTCRtpTransceiver,
} from 'werift';

export interface PeerRtp {
  pt: number;
  seq: number;
  ts: number;
  marker: boolean;
  payload: Buffer;
}

export type PeerCodec = 'opus' | 'PCMU';

export class WebRtcPeer {
  readonly pc: RTCPeerConnection;
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  readonly received: PeerRtp[] = [];
  transceiver!: RTCRtpTransceiver;
  #seq = 1000;
  #ts = 5000;
  readonly ssrc = 0x1234567;

  constructor(codecs: PeerCodec[]) {
    const audio: RTCRtpCodecParameters[] = [];
    for (const c of codecs) {
      if (c === 'opus')
        audio.push(
          new RTCRtpCodecParameters({
            mimeType: 'audio/opus',
            clockRate: 48000,
            channels: 2,
            payloadType: 111,
          }),
          new RTCRtpCodecParameters({
            mimeType: 'audio/telephone-event',
            clockRate: 48000,
            payloadType: 110,
          }),
        );
      else
        audio.push(
          new RTCRtpCodecParameters({
            mimeType: 'audio/PCMU',
            clockRate: 8000,
            channels: 1,
            payloadType: 0,
          }),
          new RTCRtpCodecParameters({
            mimeType: 'audio/telephone-event',
            clockRate: 8000,
            payloadType: 126,
          }),
        );
    }
    this.pc = new RTCPeerConnection({
      codecs: { audio },
      iceServers: [],
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      // One socket on 127.0.0.1: with the wildcard, werift's candidate of another interface
      // answers checks from the same socket too, and it nominates two pairs with one source.
      iceInterfaceAddresses: { udp4: '127.0.0.1', udp6: undefined },
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
    });
    this.transceiver = this.pc.addTransceiver(this.track, { direction: 'sendrecv' });
    const keep = (rtp: RtpPacket): void => {
      this.received.push({
        pt: rtp.header.payloadType,
        seq: rtp.header.sequenceNumber,
        ts: rtp.header.timestamp,
        marker: rtp.header.marker,
        payload: Buffer.from(rtp.payload),
      });
    };
    this.transceiver.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(keep));
    // An SSRC the SDP did not signal (an engine that forwards the phone's own SSRC, as rtpengine
    // does in passthrough): werift 0.24 routes only signalled SSRCs and drops the rest, where a
    // browser takes one unsignalled stream per m-line (JSEP, RFC 8829 §5.1.1 / Chromium's
    // "unsignaled receive stream"). Keep those too.
    const router = (
      this.pc as unknown as {
        router: { routeRtp: (p: RtpPacket) => void; ssrcTable: Record<number, unknown> };
      }
    ).router;
    const route = router.routeRtp;
    router.routeRtp = (p: RtpPacket): void => {
      if (router.ssrcTable[p.header.ssrc] === undefined) keep(p);
      else route(p);
    };
  }

  /**
   * werift sends a DTLS flight as one datagram per record, all at once through async ICE sends;
   * a browser packs a flight into one datagram. One send at a time, in call order, and a flight's
   * records together (rtpengine 10.5 as the DTLS server wedged now and then on werift's
   * one-record datagrams: "Peer certificate accepted", then no Finished).
   */
  #serialize(): void {
    for (const t of this.pc.dtlsTransports) {
      const conn = t.iceTransport.connection as unknown as {
        send: (d: Buffer) => Promise<void>;
        tfxSerialized?: boolean;
      };
      if (conn.tfxSerialized) continue;
      conn.tfxSerialized = true;
      const send = conn.send.bind(conn);
      let chain: Promise<void> = Promise.resolve();
      const queue = (d: Buffer): Promise<void> =>
        (chain = chain.then(() => send(d)).catch(() => {}));
      // DTLS records of one flight go out in one datagram (RFC 6347 §4.1.1 allows several
      // records per datagram), as BoringSSL does in Chromium.
      let records: Buffer[] = [];
      conn.send = (d: Buffer): Promise<void> => {
        if (d[0]! < 20 || d[0]! > 63) return queue(d);
        records.push(d);
        if (records.length === 1)
          setImmediate(() => {
            const all = Buffer.concat(records);
            records = [];
            void queue(all);
          });
        return Promise.resolve();
      };
    }
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.#serialize();
    await this.gathered();
    return loopbackOnly(this.pc.localDescription!.sdp);
  }

  async answer(remoteOffer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: remoteOffer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.#serialize();
    await this.gathered();
    return loopbackOnly(this.pc.localDescription!.sdp);
  }

  async accept(remoteAnswer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: remoteAnswer });
    // werift 0.24's connect() returns early while the DTLS transport is up, so after an ICE
    // restart its agent (new credentials, no pair) never runs checks again and nothing is sent:
    // start the ICE transport here, as a browser does (RFC 8839 §4.4.1.1.1).
    for (const t of this.pc.dtlsTransports)
      if (t.state === 'connected' && t.iceTransport.state !== 'connected')
        await t.iceTransport.start();
  }

  /** A browser's ICE restart (`restartIce()` then a new offer with new ufrag/pwd). */
  async restartIce(): Promise<string> {
    this.pc.restartIce();
    return this.offer();
  }

  async gathered(): Promise<void> {
    const t0 = Date.now();
    while (this.pc.iceGatheringState !== 'complete' && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 20));
  }

  async connected(timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    while (this.pc.connectionState !== 'connected') {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`werift peer did not connect (${this.pc.connectionState})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends one RTP packet through the peer's sender (werift encrypts it). */
  send(pt: number, payload: Buffer, step: number, marker = false, ts?: number): void {
    const header = new RtpHeader({
      payloadType: pt,
      sequenceNumber: this.#seq,
      timestamp: ts ?? this.#ts,
      ssrc: this.ssrc,
      marker,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    if (ts === undefined) this.#ts = (this.#ts + step) >>> 0;
    this.track.writeRtp(new RtpPacket(header, payload));
  }

  get timestamp(): number {
    return this.#ts;
  }

  /** The raw ICE connection (for sending hostile datagrams from the selected pair). */
  get ice(): { send: (b: Buffer) => Promise<void> } {
    const t = this.pc.dtlsTransports[0]!;
    return t.iceTransport.connection as unknown as { send: (b: Buffer) => Promise<void> };
  }

  async close(): Promise<void> {
    await this.pc.close().catch(() => {});
  }
}

/**
 * Only the 127.0.0.1 candidates: werift lists one per host interface whatever socket it binds,
 * and a full-ICE engine would pair them too (as Chromium in the loopback namespace has no other).
 */
function loopbackOnly(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 \d+ typ /.test(l))
    .join('\r\n');
}
