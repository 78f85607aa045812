/**
 * Offer/answer for the built-in relay, pure: which streams of an SDP the relay accepts for a leg,
 * the codecs each party declared (its own payload types), the codec list written toward the other
 * party (its payload types where it has declared them before: janus-gateway#1591), and the
 * payload-type maps between the two.
 */
import type { LegProfile, MediaAddress } from '../engine/types.js';
import {
  attributes,
  direction,
  fmtp,
  hasAttribute,
  isRtpProto,
  isSecureProto,
  mediaConnection,
  rtcpAttribute,
  rtpMaps,
  type Direction,
  type SdpMedia,
  type SessionDescription,
} from '../sdp/model.js';
import type { CodecPlan } from '../sdp/rewrite.js';

/** Whether the relay can take a stream of an SDP from a party with `profile`. */
export function acceptStream(
  m: SdpMedia,
  profile: LegProfile,
): { ok: true } | { ok: false; reason: string } {
  if (m.port === 0) return { ok: false, reason: 'rejected by the sender (port 0)' };
  if (m.media !== 'audio' && m.media !== 'video')
    return { ok: false, reason: `media type ${m.media} is not relayed` };
  if (!isRtpProto(m.proto)) return { ok: false, reason: `unknown transport ${m.proto}` };
  if (m.proto === 'UDP/TLS/RTP/SAVPF' && profile.transport === 'UDP/TLS/RTP/SAVPF')
    return { ok: true }; // DTLS-SRTP terminated by the engine's WebRTC leg (RFC 5764)
  if (isSecureProto(m.proto)) {
    // sems#132: never accept an SRTP stream the relay cannot decrypt (it would be dead air).
    return {
      ok: false,
      reason: `${m.proto} needs SRTP termination, which the built-in engine does not do${
        profile.sdes === 'terminate' ? ' yet' : ''
      }`,
    };
  }
  if (m.portCount !== undefined && m.portCount > 1)
    return { ok: false, reason: 'layered (multi-port) streams are not relayed' };
  return { ok: true };
}

export interface DeclaredStream {
  readonly remote: MediaAddress | null;
  readonly rtcpRemote: MediaAddress | null;
  readonly rtcpMux: boolean;
  readonly direction: Direction;
  readonly codecs: CodecPlan[];
  readonly proto: string;
}

/** What a party says about one stream: where it receives, how, with which codecs. */
export function declared(sdp: SessionDescription, m: SdpMedia): DeclaredStream {
  const c = mediaConnection(sdp, m);
  const unspecified = !c || c.address === '0.0.0.0' || c.address === '::';
  const remote = unspecified || m.port === 0 ? null : { address: c.address, port: m.port };
  const rtcp = rtcpAttribute(m);
  const rtcpRemote = remote
    ? { address: rtcp?.address ?? remote.address, port: rtcp?.port ?? remote.port + 1 }
    : null;
  const codecs = rtpMaps(m).map((r) => {
    const f = fmtp(m, r.pt);
    return f === undefined ? { ...r } : { ...r, fmtp: f };
  });
  return {
    remote,
    rtcpRemote,
    rtcpMux: hasAttribute(m.lines, 'rtcp-mux'),
    // RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) is treated as sendonly-or-inactive.
    direction: unspecified && direction(sdp, m) === 'sendrecv' ? 'inactive' : direction(sdp, m),
    codecs,
    proto: m.proto,
  };
}

const same = (a: CodecPlan, b: CodecPlan): boolean =>
  a.encoding.toLowerCase() === b.encoding.toLowerCase() && a.clockRate === b.clockRate;

/**
 * The codecs written toward the receiving party: the offer's, filtered by the receiving leg's
 * policy (`offer` keeps only the named ones in that order, `strip` removes), each with the PT the
 * receiving party already uses for it, else the offerer's (when that PT is free).
 */
export function codecsToward(
  offered: readonly CodecPlan[],
  policy: LegProfile['codecs'],
  receiverKnown: readonly CodecPlan[],
): CodecPlan[] {
  let list = [...offered];
  if (policy?.strip?.length) {
    const strip = new Set(policy.strip.map((s) => s.toLowerCase()));
    list = list.filter((c) => !strip.has(c.encoding.toLowerCase()));
  }
  if (policy?.offer?.length) {
    const order = policy.offer.map((s) => s.toLowerCase());
    list = list
      .filter((c) => order.includes(c.encoding.toLowerCase()))
      .sort(
        (a, b) => order.indexOf(a.encoding.toLowerCase()) - order.indexOf(b.encoding.toLowerCase()),
      );
  }
  const used = new Set<number>();
  const out: CodecPlan[] = [];
  for (const c of list) {
    const known = receiverKnown.find((k) => same(k, c));
    let pt = known && !used.has(known.pt) ? known.pt : c.pt;
    if (used.has(pt)) {
      pt = 96;
      while (used.has(pt) && pt < 128) pt++;
      if (pt >= 128) continue;
    }
    used.add(pt);
    out.push({ ...c, pt });
  }
  return out;
}

/** Only the codecs of `answer` that were in `offered` (RFC 3264 §6.1), in the answer's order. */
export function answeredSubset(
  answer: readonly CodecPlan[],
  offered: readonly CodecPlan[],
): CodecPlan[] {
  return answer.filter((a) => offered.some((o) => same(o, a)));
}

/** `codecs` with the PTs of `party` where it has the same codec. */
export function withPtsOf(codecs: readonly CodecPlan[], party: readonly CodecPlan[]): CodecPlan[] {
  const out: CodecPlan[] = [];
  for (const c of codecs) {
    const p = party.find((k) => same(k, c));
    if (p && !out.some((o) => o.pt === p.pt)) out.push({ ...c, pt: p.pt });
  }
  return out;
}

/** Payload-type map for packets from `from` to `to`: by codec name and clock rate. */
export function ptMap(from: readonly CodecPlan[], to: readonly CodecPlan[]): [number, number][] {
  const out: [number, number][] = [];
  for (const f of from) {
    const t = to.find((k) => same(k, f));
    if (t) out.push([f.pt, t.pt]);
  }
  return out;
}

export function isTelephoneEvent(c: CodecPlan): boolean {
  return c.encoding.toLowerCase() === 'telephone-event';
}

/** The first audio codec (not telephone-event, CN) a party receives. */
export function mainCodec(codecs: readonly CodecPlan[]): CodecPlan | undefined {
  return codecs.find((c) => !isTelephoneEvent(c) && c.encoding.toUpperCase() !== 'CN');
}

export function hasIceOrDtls(m: SdpMedia): boolean {
  return (
    attributes(m.lines, 'fingerprint').length > 0 || attributes(m.lines, 'ice-ufrag').length > 0
  );
}
