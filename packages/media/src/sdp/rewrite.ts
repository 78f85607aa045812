/**
 * Rewriting an SDP for the other leg of a relay: the relay's address and ports go into `c=`, `m=`
 * and `a=rtcp`, the engine's own `o=` replaces the party's (topology hiding), codecs are listed
 * with the payload types of the leg that receives the SDP, and attributes that describe the
 * sending party's transport (ICE, DTLS, SDES crypto, SSRCs, candidates) are dropped: the relay
 * terminates them. Everything else is forwarded as received. Pure.
 */
import type { Direction, RtpMap, SdpLine, SdpMedia, SessionDescription } from './model.js';

/** Attributes that belong to the sender's transport or are rewritten here. */
const DROP_ATTRS: ReadonlySet<string> = new Set([
  'rtpmap',
  'fmtp',
  'rtcp',
  'rtcp-mux',
  'rtcp-rsize',
  'rtcp-fb',
  'sendrecv',
  'sendonly',
  'recvonly',
  'inactive',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-lite',
  'ice-mismatch',
  'candidate',
  'end-of-candidates',
  'remote-candidates',
  'fingerprint',
  'setup',
  'tls-id',
  'crypto',
  'ssrc',
  'ssrc-group',
  'msid',
  'msid-semantic',
  'group',
  'mid',
  'extmap',
  'extmap-allow-mixed',
]);

function attrName(l: SdpLine): string {
  const c = l.value.indexOf(':');
  return c < 0 ? l.value : l.value.slice(0, c);
}

export interface CodecPlan extends RtpMap {
  readonly fmtp?: string;
}

export interface MediaPlan {
  /** Relay port for this stream; 0 rejects (RFC 3264 §6) or disables it. */
  readonly port: number;
  /** RTCP port written as `a=rtcp` (RFC 3605) when not multiplexed. */
  readonly rtcpPort?: number;
  /** Write `a=rtcp-mux` (RFC 5761 §5.1.1). */
  readonly rtcpMux: boolean;
  readonly proto: string;
  /** Codecs in order, with the payload types of the receiving leg. */
  readonly codecs: readonly CodecPlan[];
  readonly direction: Direction;
  /** `a=ptime`, replacing the sender's if given. */
  readonly ptime?: number;
  /** Lines the engine adds for its own transport (WebRTC: ICE, fingerprint, setup, candidate). */
  readonly transportLines?: readonly SdpLine[];
}

export interface LegPlan {
  /** Address written into `o=` and `c=`. */
  readonly address: string;
  readonly family: 'IP4' | 'IP6';
  /** The engine's own origin for this leg (RFC 3264 §8: version +1 on every change). */
  readonly origin: { readonly sessionId: string; readonly version: number };
  readonly media: readonly MediaPlan[];
  /** Session-level lines the engine adds (`a=ice-lite`, RFC 8445 §2.5). */
  readonly sessionLines?: readonly SdpLine[];
}

export function rewriteForLeg(input: SessionDescription, plan: LegPlan): SessionDescription {
  const session: SdpLine[] = [];
  let wroteC = false;
  for (const l of input.session) {
    if (l.type === 'o') {
      session.push({
        type: 'o',
        value: `- ${plan.origin.sessionId} ${plan.origin.version} IN ${plan.family} ${plan.address}`,
      });
    } else if (l.type === 'c') {
      if (!wroteC) session.push({ type: 'c', value: `IN ${plan.family} ${plan.address}` });
      wroteC = true;
    } else if (l.type === 't' && !wroteC) {
      // RFC 4566 §5: c= comes before b= and t=; a session without one gets it here.
      session.push({ type: 'c', value: `IN ${plan.family} ${plan.address}` });
      wroteC = true;
      session.push(l);
    } else if (l.type === 'a' && DROP_ATTRS.has(attrName(l))) {
      continue;
    } else session.push(l);
  }
  if (!wroteC) session.push({ type: 'c', value: `IN ${plan.family} ${plan.address}` });
  if (plan.sessionLines) session.push(...plan.sessionLines);

  const media: SdpMedia[] = input.media.map((m, i) => {
    const p = plan.media[i];
    if (!p || p.port === 0) {
      return {
        media: m.media,
        port: 0,
        proto: p?.proto ?? m.proto,
        formats: m.formats.length > 0 ? [m.formats[0]!] : ['0'],
        lines: [],
      };
    }
    const lines: SdpLine[] = [];
    for (const l of m.lines) {
      if (l.type === 'c') continue;
      if (l.type === 'a' && (DROP_ATTRS.has(attrName(l)) || (p.ptime && attrName(l) === 'ptime')))
        continue;
      lines.push(l);
    }
    for (const c of p.codecs) {
      const ch = c.channels && c.channels > 1 ? `/${c.channels}` : '';
      lines.push({ type: 'a', value: `rtpmap:${c.pt} ${c.encoding}/${c.clockRate}${ch}` });
      if (c.fmtp) lines.push({ type: 'a', value: `fmtp:${c.pt} ${c.fmtp}` });
    }
    if (p.transportLines) lines.unshift(...p.transportLines);
    if (p.ptime) lines.push({ type: 'a', value: `ptime:${p.ptime}` });
    if (p.rtcpMux) lines.push({ type: 'a', value: 'rtcp-mux' });
    if (p.rtcpPort !== undefined) lines.push({ type: 'a', value: `rtcp:${p.rtcpPort}` });
    lines.push({ type: 'a', value: p.direction });
    return {
      media: m.media,
      port: p.port,
      proto: p.proto,
      formats: p.codecs.map((c) => String(c.pt)),
      lines,
    };
  });
  return { session, media };
}
