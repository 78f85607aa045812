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
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
    });
    this.transceiver = this.pc.addTransceiver(this.track, { direction: 'sendrecv' });
    this.transceiver.onTrack.subscribe((t) =>
      t.onReceiveRtp.subscribe((rtp) =>
        this.received.push({
          pt: rtp.header.payloadType,
          seq: rtp.header.sequenceNumber,
          ts: rtp.header.timestamp,
          marker: rtp.header.marker,
          payload: Buffer.from(rtp.payload),
        }),
      ),
    );
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    return this.pc.localDescription!.sdp;
  }

  async answer(remoteOffer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: remoteOffer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription!.sdp;
  }

  async accept(remoteAnswer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: remoteAnswer });
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
