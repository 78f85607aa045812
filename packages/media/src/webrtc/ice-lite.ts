/**
 * The ICE-lite side of a WebRTC leg (RFC 8445 §2.5, §7.3): the engine has a known address per
 * zone and no NAT of its own, so it gathers only host candidates, never sends checks, and answers
 * the browser's (the full, controlling agent's) connectivity checks. Pure: bytes in, a response
 * or a counted reason out.
 *
 * The browser nominates: RFC 8445 §7.3.1.5 "If the controlled agent does not accept the request
 * [...]"; a lite agent takes the pair of the first valid check carrying USE-CANDIDATE as selected,
 * and a later nomination (an ICE restart, a network change) re-selects. Until a nomination, the
 * first valid check gives a provisional pair, so DTLS can start (Chrome nominates at once).
 */
import {
  StunAttr,
  StunMethod,
  checkFingerprint,
  checkIntegrity,
  decodeStun,
  encodeStun,
  encodeXorAddress,
  getAttribute,
} from '../stun/codec.js';

export interface IceLiteCredentials {
  /** Our ufrag and password (written into the SDP toward the browser). */
  readonly localUfrag: string;
  readonly localPwd: string;
  /** The browser's ufrag from its SDP, when known (checked in USERNAME, RFC 8445 §7.2.2). */
  readonly remoteUfrag?: string;
}

export type IceCheckResult =
  | {
      readonly ok: true;
      /** The Binding success response to send back to the source. */
      readonly response: Buffer;
      /** USE-CANDIDATE was present: the pair is nominated (RFC 8445 §8.1.1). */
      readonly nominated: boolean;
    }
  | {
      readonly ok: false;
      /** A drop reason counted by the relay. */
      readonly reason:
        | 'stun-malformed'
        | 'stun-not-request'
        | 'stun-username'
        | 'stun-integrity'
        | 'stun-fingerprint'
        | 'stun-role';
    };

/**
 * Checks a STUN Binding request received on a leg and builds the success response.
 * RFC 8445 §7.3: "the agent MUST [...] verify the message integrity" with the short-term
 * credential (our password), USERNAME is `<our ufrag>:<their ufrag>`; RFC 8445 §7.3.1.1: a lite
 * agent is always controlled, so a request with ICE-CONTROLLED (two controlled agents) is refused.
 */
export function answerCheck(
  datagram: Buffer,
  from: { readonly address: string; readonly port: number; readonly family: 'IPv4' | 'IPv6' },
  cred: IceLiteCredentials,
): IceCheckResult {
  const r = decodeStun(datagram);
  if (!r.ok) return { ok: false, reason: 'stun-malformed' };
  const msg = r.message;
  if (msg.method !== StunMethod.binding || msg.class !== 'request')
    return { ok: false, reason: 'stun-not-request' };
  // RFC 5389 §7.3: a FINGERPRINT that does not match means it is not STUN.
  if (checkFingerprint(msg) === false) return { ok: false, reason: 'stun-fingerprint' };
  const user = getAttribute(msg, StunAttr.username)?.toString('utf8');
  const [ours, theirs] = (user ?? '').split(':');
  if (
    ours !== cred.localUfrag ||
    theirs === undefined ||
    (cred.remoteUfrag !== undefined && theirs !== cred.remoteUfrag)
  )
    return { ok: false, reason: 'stun-username' };
  if (checkIntegrity(msg, Buffer.from(cred.localPwd, 'utf8')) !== true)
    return { ok: false, reason: 'stun-integrity' };
  if (getAttribute(msg, StunAttr.iceControlled) !== undefined)
    return { ok: false, reason: 'stun-role' };
  const response = encodeStun(
    {
      method: StunMethod.binding,
      class: 'success',
      transactionId: msg.transactionId,
      attributes: [
        {
          type: StunAttr.xorMappedAddress,
          value: encodeXorAddress(from, msg.transactionId),
        },
      ],
    },
    { integrityKey: Buffer.from(cred.localPwd, 'utf8'), fingerprint: true },
  );
  return {
    ok: true,
    response,
    nominated: getAttribute(msg, StunAttr.useCandidate) !== undefined,
  };
}

/** RFC 7983 §7: the first byte tells STUN, DTLS and RTP/RTCP apart on one port. */
export function demuxKind(first: number): 'stun' | 'dtls' | 'rtp' | 'other' {
  if (first <= 3) return 'stun';
  if (first >= 20 && first <= 63) return 'dtls';
  if (first >= 128 && first <= 191) return 'rtp';
  return 'other';
}
