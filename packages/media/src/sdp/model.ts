/**
 * The SDP model (RFC 4566 / RFC 8866): a session is its session-level lines and its media
 * sections, each kept as the `<type>=<value>` lines that came in, in order, so a rewrite touches
 * only what it means to change and forwards the rest as received. Typed views (origin, connection,
 * direction, rtpmap) are read on demand by the helpers below. Pure: no I/O.
 */

export interface SdpLine {
  /** One letter, RFC 4566 §5 (`v o s i u e p c b t r z k a m`). */
  readonly type: string;
  readonly value: string;
}

export interface SdpMedia {
  /** `audio`, `video`, `application`, … */
  readonly media: string;
  /** 0 rejects (RFC 3264 §6) or disables the stream. */
  readonly port: number;
  /** `<port>/<number of ports>` (RFC 4566 §5.14), if present. */
  readonly portCount?: number;
  /** `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, … (unknown ones are kept as given). */
  readonly proto: string;
  /** Payload types (for RTP) or format names, as strings. */
  readonly formats: readonly string[];
  /** Every line after `m=` up to the next `m=`: i=, c=, b=, k=, a=. */
  readonly lines: readonly SdpLine[];
}

export interface SessionDescription {
  /** Every line before the first `m=`, starting with `v=0`. */
  readonly session: readonly SdpLine[];
  readonly media: readonly SdpMedia[];
}

export interface Origin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

export interface Connection {
  readonly netType: string;
  readonly addrType: 'IP4' | 'IP6' | string;
  readonly address: string;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RtpMap {
  readonly pt: number;
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** Static payload types of RFC 3551 §6 that audio legs meet. */
export const STATIC_PT: Readonly<Record<number, RtpMap>> = {
  0: { pt: 0, encoding: 'PCMU', clockRate: 8000, channels: 1 },
  3: { pt: 3, encoding: 'GSM', clockRate: 8000, channels: 1 },
  4: { pt: 4, encoding: 'G723', clockRate: 8000, channels: 1 },
  8: { pt: 8, encoding: 'PCMA', clockRate: 8000, channels: 1 },
  9: { pt: 9, encoding: 'G722', clockRate: 8000, channels: 1 },
  13: { pt: 13, encoding: 'CN', clockRate: 8000, channels: 1 },
  18: { pt: 18, encoding: 'G729', clockRate: 8000, channels: 1 },
};

export function origin(sdp: SessionDescription): Origin | undefined {
  const o = sdp.session.find((l) => l.type === 'o');
  if (!o) return undefined;
  const f = o.value.split(' ');
  if (f.length !== 6) return undefined;
  return {
    username: f[0]!,
    sessionId: f[1]!,
    sessionVersion: f[2]!,
    netType: f[3]!,
    addrType: f[4]!,
    address: f[5]!,
  };
}

export function parseConnection(value: string): Connection | undefined {
  const f = value.split(' ');
  if (f.length !== 3) return undefined;
  // RFC 4566 §5.7: multicast addresses carry /ttl and /count; we keep only the address.
  return { netType: f[0]!, addrType: f[1]!, address: f[2]!.split('/')[0]! };
}

/** The connection a media section uses: its own c= line, else the session's (RFC 4566 §5.7). */
export function mediaConnection(sdp: SessionDescription, m: SdpMedia): Connection | undefined {
  const own = m.lines.find((l) => l.type === 'c');
  if (own) return parseConnection(own.value);
  const s = sdp.session.find((l) => l.type === 'c');
  return s ? parseConnection(s.value) : undefined;
}

/** `a=<name>[:<value>]` lines of a section, by name. */
export function attributes(lines: readonly SdpLine[], name: string): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (l.type !== 'a') continue;
    const colon = l.value.indexOf(':');
    const n = colon < 0 ? l.value : l.value.slice(0, colon);
    if (n === name) out.push(colon < 0 ? '' : l.value.slice(colon + 1));
  }
  return out;
}

export function hasAttribute(lines: readonly SdpLine[], name: string): boolean {
  return attributes(lines, name).length > 0;
}

/**
 * RFC 3264 §5.1 / RFC 4566 §6: the direction of a stream is its own attribute, else the
 * session's, else `sendrecv`.
 */
export function direction(sdp: SessionDescription, m: SdpMedia): Direction {
  for (const l of m.lines)
    if (l.type === 'a' && DIRECTIONS.has(l.value)) return l.value as Direction;
  for (const l of sdp.session)
    if (l.type === 'a' && DIRECTIONS.has(l.value)) return l.value as Direction;
  return 'sendrecv';
}

/** The rtpmap of every payload type in `m=`, static ones filled in from RFC 3551. */
export function rtpMaps(m: SdpMedia): RtpMap[] {
  const declared = new Map<number, RtpMap>();
  for (const v of attributes(m.lines, 'rtpmap')) {
    const r = /^(\d{1,3}) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(v.trim());
    if (!r) continue;
    const pt = Number(r[1]);
    declared.set(pt, {
      pt,
      encoding: r[2]!,
      clockRate: Number(r[3]),
      ...(r[4] ? { channels: Number(r[4]) } : {}),
    });
  }
  const out: RtpMap[] = [];
  for (const f of m.formats) {
    if (!/^\d{1,3}$/.test(f)) continue;
    const pt = Number(f);
    const map = declared.get(pt) ?? STATIC_PT[pt];
    if (map) out.push(map);
  }
  return out;
}

/** `a=fmtp:<pt> <params>` of a payload type. */
export function fmtp(m: SdpMedia, pt: number): string | undefined {
  for (const v of attributes(m.lines, 'fmtp')) {
    const sp = v.indexOf(' ');
    if (sp > 0 && v.slice(0, sp) === String(pt)) return v.slice(sp + 1);
  }
  return undefined;
}

/** `a=rtcp:<port> [IN IP4 addr]` (RFC 3605). */
export function rtcpAttribute(m: SdpMedia): { port: number; address?: string } | undefined {
  const v = attributes(m.lines, 'rtcp')[0];
  if (v === undefined) return undefined;
  const f = v.trim().split(' ');
  const port = Number(f[0]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return f.length === 4 ? { port, address: f[3]! } : { port };
}

/** Whether the transport carries RTP (RFC 3551/3711/4585/5764 profiles). */
export function isRtpProto(proto: string): boolean {
  return /^(UDP\/TLS\/)?RTP\/S?AVPF?$/.test(proto);
}

export function isSecureProto(proto: string): boolean {
  return /^(UDP\/TLS\/)?RTP\/SAVPF?$/.test(proto);
}
