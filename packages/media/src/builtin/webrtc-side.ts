/**
 * The WebRTC part of a relay side (in the media worker): one UDP port carries STUN, DTLS and SRTP
 * (RFC 7983 demultiplexing, rtcp-mux RFC 5761). ICE-lite answers the browser's checks and follows
 * its nominations (an ICE restart or a network change re-selects, and the DTLS association and
 * SRTP contexts go on: rtpengine#1019); DTLS-SRTP in the role `a=setup` gave; every SRTP/SRTCP
 * packet is authenticated before it is relayed, and a bad tag is a counted drop.
 */
import type { RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { MediaAddress } from '../engine/types.js';
import { answerCheck, demuxKind } from '../webrtc/ice-lite.js';
import { DtlsSrtp, type DtlsCertificate, type DtlsState } from '../webrtc/dtls-srtp.js';
import { SrtpReplayError } from '../webrtc/srtp-fast.js';
import { isRtcp } from '../rtp/rtp.js';
import type { SideWebRtc } from './protocol.js';

/** Addresses that passed a check, kept for DTLS from a pair not nominated yet. */
const MAX_VALIDATED = 8;

export interface WebRtcSideHooks {
  readonly send: (datagram: Buffer, to: MediaAddress) => void;
  readonly drop: (reason: string) => void;
  readonly onState?: (state: DtlsState, why?: string) => void;
}

export class WebRtcSide {
  #cfg: SideWebRtc;
  #selected: MediaAddress | undefined;
  #nominated = false;
  readonly #validated: string[] = [];
  #dtls: DtlsSrtp | undefined;
  readonly #cert: DtlsCertificate;
  readonly #hooks: WebRtcSideHooks;
  #closed = false;
  dtlsFailure: string | undefined;

  constructor(cfg: SideWebRtc, cert: DtlsCertificate, hooks: WebRtcSideHooks) {
    this.#cfg = cfg;
    this.#cert = cert;
    this.#hooks = hooks;
    this.#lite();
    this.#ensureDtls();
  }

  /** RFC 8445 §6.1.1: both sides lite, so the peer's SDP candidate is the selected pair. */
  #lite(): void {
    const r = this.#cfg.liteRemote;
    if (!r || this.#nominated) return;
    this.#selected = { address: r.address, port: r.port };
    const key = `${r.address}|${r.port}`;
    if (!this.#validated.includes(key)) this.#validated.push(key);
    if (this.#cfg.role === 'client' && this.#dtls?.state === 'new') this.#dtls.start();
  }

  /** Where media to the browser goes: the selected ICE pair. */
  get selected(): MediaAddress | undefined {
    return this.#selected;
  }

  get dtlsState(): DtlsState | 'none' {
    return this.#dtls?.state ?? 'none';
  }

  get ready(): boolean {
    return this.#dtls?.ready === true;
  }

  /**
   * New signalling (re-offer, ICE restart): credentials may change; the DTLS role, the
   * association and the SRTP contexts stay (RFC 8842 §5.5; rtpengine#2156).
   */
  configure(cfg: SideWebRtc): void {
    this.#cfg = cfg;
    this.#lite();
    if (this.#dtls) this.#dtls.remoteFingerprints = cfg.remoteFingerprints;
    this.#ensureDtls();
  }

  #ensureDtls(): void {
    if (this.#dtls || this.#closed || !this.#cfg.role || this.#cfg.remoteFingerprints.length === 0)
      return;
    this.#dtls = new DtlsSrtp({
      role: this.#cfg.role,
      cert: this.#cert,
      remoteFingerprints: this.#cfg.remoteFingerprints,
      send: (record) => {
        const to = this.#selected;
        if (to) this.#hooks.send(record, to);
      },
      onState: (state, why) => {
        if (state === 'failed') {
          this.dtlsFailure = why;
          this.#hooks.drop(why === 'fingerprint-mismatch' ? 'dtls-fingerprint' : 'dtls-failed');
        }
        this.#hooks.onState?.(state, why);
      },
    });
    // RFC 5763 §5: the active side (client) starts once it has a path to the peer.
    if (this.#cfg.role === 'client' && this.#selected) this.#dtls.start();
  }

  /**
   * A datagram on the side's port. Returns the plain RTP/RTCP to relay, or undefined when it was
   * ICE/DTLS traffic or dropped (counted through `hooks.drop`).
   */
  receive(msg: Buffer, rinfo: RemoteInfo): Buffer | undefined {
    if (this.#closed || msg.length === 0) return undefined;
    const kind = demuxKind(msg[0]!);
    if (kind === 'stun') {
      this.#stun(msg, rinfo);
      return undefined;
    }
    if (kind === 'dtls') {
      if (!this.#isValidated(rinfo)) this.#hooks.drop('dtls-unknown-source');
      else if (!this.#dtls) this.#hooks.drop('dtls-unconfigured');
      else this.#dtls.receive(msg);
      return undefined;
    }
    if (kind !== 'rtp') {
      this.#hooks.drop('garbage');
      return undefined;
    }
    const sel = this.#selected;
    if (!sel || sel.address !== rinfo.address || sel.port !== rinfo.port) {
      this.#hooks.drop('wrong-source');
      return undefined;
    }
    if (!this.#dtls?.ready) {
      this.#hooks.drop('srtp-not-ready');
      return undefined;
    }
    try {
      const plain = isRtcp(msg) ? this.#dtls.unprotectRtcp(msg) : this.#dtls.unprotectRtp(msg);
      if (!plain) this.#hooks.drop('srtp-not-ready');
      return plain;
    } catch (e) {
      // RFC 3711 §3.3: authentication failed (or the packet is too short to hold a tag), or
      // §3.3.2: the packet was replayed or is older than the replay window.
      this.#hooks.drop(e instanceof SrtpReplayError ? 'srtp-replay' : 'srtp-auth');
      return undefined;
    }
  }

  #isValidated(r: RemoteInfo): boolean {
    return this.#validated.includes(`${r.address}|${r.port}`);
  }

  #stun(msg: Buffer, rinfo: RemoteInfo): void {
    const res = answerCheck(
      msg,
      { address: rinfo.address, port: rinfo.port, family: isIPv6(rinfo.address) ? 'IPv6' : 'IPv4' },
      {
        localUfrag: this.#cfg.localUfrag,
        localPwd: this.#cfg.localPwd,
        ...(this.#cfg.remoteUfrag !== undefined ? { remoteUfrag: this.#cfg.remoteUfrag } : {}),
      },
    );
    if (!res.ok) {
      this.#hooks.drop(res.reason);
      return;
    }
    const key = `${rinfo.address}|${rinfo.port}`;
    if (!this.#validated.includes(key)) {
      this.#validated.push(key);
      if (this.#validated.length > MAX_VALIDATED) this.#validated.shift();
    }
    const here = { address: rinfo.address, port: rinfo.port };
    // RFC 8445 §7.3.1.5 (lite agent): a nominated pair becomes the selected one; before any
    // nomination the first valid pair carries media and DTLS provisionally.
    if (res.nominated || !this.#nominated) {
      const changed =
        !this.#selected ||
        this.#selected.address !== here.address ||
        this.#selected.port !== here.port;
      if (res.nominated) this.#nominated = true;
      if (changed) this.#selected = here;
    }
    this.#hooks.send(res.response, here);
    if (this.#cfg.role === 'client' && this.#dtls?.state === 'new') this.#dtls.start();
  }

  /** Plain RTP → SRTP toward the browser, or undefined before DTLS is up (counted by caller). */
  protectRtp(rtp: Buffer): Buffer | undefined {
    return this.#dtls?.protectRtp(rtp);
  }

  protectRtcp(rtcp: Buffer): Buffer | undefined {
    return this.#dtls?.protectRtcp(rtcp);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dtls?.close();
  }
}
