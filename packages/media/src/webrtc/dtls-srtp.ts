/**
 * DTLS-SRTP for one WebRTC leg (RFC 5763, RFC 5764), composed from werift 0.24's DTLS and SRTP
 * pieces without its RTCPeerConnection (the approach of LiveKit's `dtls_srtp.go`): the relay's
 * socket demultiplexes (RFC 7983) and hands DTLS records here; after the handshake, RTP and RTCP
 * are protected and unprotected here with the keys exported from the DTLS session (RFC 5764 §4.2).
 *
 * The DTLS role comes from `a=setup` (RFC 5763 §5: "active" is the DTLS client), never from the
 * ICE role (freeswitch#2545). The peer's certificate must match the fingerprint of its SDP
 * (RFC 8122 §5: "the endpoint MUST [...] verify that the certificate [...] matches"); a mismatch
 * fails the leg and no SRTP key is ever used. Packets whose authentication tag is wrong
 * (RFC 3711 §3.3 step 5: "[...] the packet MUST be discarded") are dropped by the caller.
 */
import { createHash } from 'node:crypto';
import {
  CipherContext,
  DtlsClient,
  DtlsServer,
  HashAlgorithm,
  NamedCurveAlgorithm,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  SignatureAlgorithm,
  SrtcpSession,
  SrtpSession,
  keyLength,
  saltLength,
  type DtlsSocket,
} from 'werift';
import { SrtpRtpContext } from './srtp-fast.js';

export interface DtlsCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** `sha-256` fingerprint of the certificate's DER (RFC 8122 §5), upper-case hex with colons. */
  readonly fingerprint: string;
  readonly signatureHash: { hash: number; signature: number };
}

/** One self-signed ECDSA P-256 certificate for the engine (RFC 8827 §6.5 allows reuse per host). */
export async function createDtlsCertificate(): Promise<DtlsCertificate> {
  const { certPem, keyPem, signatureHash } = await CipherContext.createSelfSignedCertificateWithKey(
    { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  return {
    certPem,
    keyPem,
    fingerprint: fingerprintOf(pemToDer(certPem), 'sha-256'),
    signatureHash: signatureHash as { hash: number; signature: number },
  };
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

const HASHES: Record<string, string> = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

/** RFC 8122 §5 fingerprint: `XX:YY:…` of the hash of the DER certificate. */
export function fingerprintOf(der: Buffer, algorithm: string): string {
  const h = HASHES[algorithm.toLowerCase()];
  if (!h) throw new RangeError(`unsupported fingerprint hash ${algorithm}`);
  return createHash(h)
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

export interface RemoteFingerprint {
  readonly algorithm: string;
  readonly value: string;
}

export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export interface DtlsSrtpOptions {
  /** `client` when this side is `a=setup:active`, `server` when `passive`. */
  readonly role: 'client' | 'server';
  readonly cert: DtlsCertificate;
  readonly remoteFingerprints: readonly RemoteFingerprint[];
  /** Sends a DTLS record to the peer (the leg's selected ICE pair). */
  readonly send: (record: Buffer) => void;
  readonly onState: (state: DtlsState, why?: string) => void;
}

/** One DTLS association and its SRTP/SRTCP contexts. Idempotent close(). */
export class DtlsSrtp {
  #state: DtlsState = 'new';
  readonly role: 'client' | 'server';
  readonly #opts: DtlsSrtpOptions;
  readonly #dtls: DtlsSocket;
  #deliver: ((data: Buffer, addr: unknown) => void) | undefined;
  /** RTP both ways (the hot path: srtp-fast.ts); RTCP, a few packets a second, stays werift's. */
  #rtpOut: SrtpRtpContext | undefined;
  #rtpIn: SrtpRtpContext | undefined;
  #srtcp: SrtcpSession | undefined;
  #remoteFingerprints: readonly RemoteFingerprint[];

  constructor(opts: DtlsSrtpOptions) {
    this.#opts = opts;
    this.role = opts.role;
    this.#remoteFingerprints = opts.remoteFingerprints;
    const transport = {
      type: 'udp',
      address: {} as never,
      closed: false,
      onData: (_d: Buffer, _a: unknown): void => {},
      send: async (data: Buffer): Promise<void> => {
        if (this.#state !== 'closed') opts.send(data);
      },
      close: async (): Promise<void> => {},
    };
    // werift's socket installs its record handler as `onData` on this transport.
    Object.defineProperty(transport, 'onData', {
      get: () => this.#deliver ?? (() => {}),
      set: (f: (data: Buffer, addr: unknown) => void) => (this.#deliver = f),
    });
    const common = {
      cert: opts.cert.certPem,
      key: opts.cert.keyPem,
      signatureHash: opts.cert.signatureHash,
      transport,
      srtpProfiles: [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80],
      extendedMasterSecret: true,
    };
    this.#dtls =
      opts.role === 'server'
        ? new DtlsServer({ ...common, certificateRequest: true } as never)
        : new DtlsClient(common as never);
    this.#dtls.onConnect.subscribe(() => this.#connected());
    this.#dtls.onError.subscribe((e: Error) => this.#fail(`dtls: ${e.message}`));
  }

  get state(): DtlsState {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state === 'connected';
  }

  /** A new fingerprint from a re-offer (the peer may add algorithms; the certificate stays). */
  set remoteFingerprints(f: readonly RemoteFingerprint[]) {
    this.#remoteFingerprints = f;
  }

  /** Starts the handshake (the client sends its ClientHello now; a server waits for one). */
  start(): void {
    if (this.#state !== 'new') return;
    this.#set('connecting');
    if (this.#dtls instanceof DtlsClient)
      this.#dtls.connect().catch((e: unknown) => this.#fail(`dtls connect: ${String(e)}`));
  }

  /** A DTLS record from the peer (first byte 20-63, RFC 7983). */
  receive(record: Buffer): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    if (this.#state === 'new') this.start();
    this.#deliver?.(record, {});
  }

  #connected(): void {
    if (this.#state !== 'connecting' && this.#state !== 'new') return;
    const cert = this.#dtls.remoteCertificate;
    if (!cert) return this.#fail('the peer sent no certificate');
    const ok = this.#remoteFingerprints.some((f) => {
      try {
        return fingerprintOf(Buffer.from(cert), f.algorithm) === f.value.toUpperCase();
      } catch {
        return false;
      }
    });
    if (!ok) return this.#fail('fingerprint-mismatch');
    const profile = this.#dtls.srtp.srtpProfile;
    if (profile === undefined) return this.#fail('no SRTP profile negotiated (RFC 5764 §4.1.2)');
    const k = this.#dtls.extractSessionKeys(keyLength(profile), saltLength(profile));
    const config = {
      keys: {
        localMasterKey: k.localKey as Buffer,
        localMasterSalt: k.localSalt as Buffer,
        remoteMasterKey: k.remoteKey as Buffer,
        remoteMasterSalt: k.remoteSalt as Buffer,
      },
      profile,
    };
    // werift's SrtpSession derives the session keys (RFC 3711 §4.3); packets go through ours.
    const keys = new SrtpSession(config);
    const name =
      profile === ProtectionProfileAeadAes128Gcm ? 'aead-aes-128-gcm' : 'aes-cm-hmac-sha1-80';
    const ctx = (c: SrtpSession['localContext']): SrtpRtpContext =>
      new SrtpRtpContext(name, {
        key: c.srtpSessionKey,
        salt: c.srtpSessionSalt,
        authKey: c.srtpSessionAuthTag,
      });
    this.#rtpOut = ctx(keys.localContext);
    this.#rtpIn = ctx(keys.remoteContext);
    this.#srtcp = new SrtcpSession(config);
    this.#set('connected');
  }

  #fail(why: string): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#rtpOut = undefined;
    this.#rtpIn = undefined;
    this.#srtcp = undefined;
    this.#set('failed', why);
    try {
      this.#dtls.close();
    } catch {
      // already closed
    }
  }

  #set(s: DtlsState, why?: string): void {
    this.#state = s;
    this.#opts.onState(s, why);
  }

  /** Plain RTP → SRTP, or undefined before the handshake. */
  protectRtp(rtp: Buffer): Buffer | undefined {
    return this.#rtpOut?.protect(rtp);
  }

  /** SRTP → plain RTP; throws (SrtpAuthError) when the tag is wrong. */
  unprotectRtp(srtp: Buffer): Buffer | undefined {
    return this.#rtpIn?.unprotect(srtp);
  }

  protectRtcp(rtcp: Buffer): Buffer | undefined {
    return this.#srtcp ? this.#srtcp.encrypt(rtcp) : undefined;
  }

  unprotectRtcp(srtcp: Buffer): Buffer | undefined {
    return this.#srtcp ? this.#srtcp.decrypt(srtcp) : undefined;
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#rtpOut = undefined;
    this.#rtpIn = undefined;
    this.#srtcp = undefined;
    try {
      this.#dtls.close();
    } catch {
      // already closed
    }
  }
}
