/**
 * The WebRTC attributes of an m-line, both ways (pure): what a browser declares (ICE credentials,
 * fingerprints, `a=setup`, `a=mid`) and what the engine writes toward it (RFC 8839 ICE attributes
 * with one host candidate at the zone's media address, RFC 8122 fingerprint, RFC 8842 setup,
 * RFC 5761 rtcp-mux). The engine is ICE-lite (RFC 8445 §2.5): `a=ice-lite` at session level.
 */
import { attributes, type SdpLine, type SdpMedia, type SessionDescription } from '../sdp/model.js';

export type Setup = 'actpass' | 'active' | 'passive' | 'holdconn';

export interface RemoteWebRtc {
  readonly ufrag: string;
  readonly pwd: string;
  readonly fingerprints: readonly { readonly algorithm: string; readonly value: string }[];
  readonly setup: Setup;
  readonly mid?: string;
  readonly iceLite: boolean;
  /** UDP candidates of component 1 (RTP; rtcp-mux), highest priority first (RFC 8839 §5.1). */
  readonly candidates: readonly { readonly address: string; readonly port: number }[];
}

/** Media or session attribute (RFC 8839 §5.4, RFC 8122 §5: either level). */
function attr(sdp: SessionDescription, m: SdpMedia, name: string): string[] {
  const own = attributes(m.lines, name);
  return own.length ? own : attributes(sdp.session, name);
}

/**
 * What a WebRTC party declares for a stream, or why it cannot be a DTLS-SRTP leg.
 * RFC 8839 §5.4: ufrag 4-256 and pwd 22-256 ice-chars; RFC 8122 §5 fingerprint; RFC 8842 §5.1
 * `a=setup` (absent means `active` from an answerer and `actpass` … RFC 4145 §4: default active).
 */
export function remoteWebRtc(
  sdp: SessionDescription,
  m: SdpMedia,
): { ok: true; value: RemoteWebRtc } | { ok: false; reason: string } {
  const ufrag = attr(sdp, m, 'ice-ufrag')[0]?.trim();
  const pwd = attr(sdp, m, 'ice-pwd')[0]?.trim();
  const iceChars = /^[A-Za-z0-9+/]+$/;
  if (!ufrag || !iceChars.test(ufrag) || ufrag.length < 4 || ufrag.length > 256)
    return { ok: false, reason: 'no valid a=ice-ufrag (RFC 8839 §5.4)' };
  if (!pwd || !iceChars.test(pwd) || pwd.length < 22 || pwd.length > 256)
    return { ok: false, reason: 'no valid a=ice-pwd (RFC 8839 §5.4)' };
  const fingerprints: { algorithm: string; value: string }[] = [];
  for (const f of attr(sdp, m, 'fingerprint')) {
    const r = /^(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,63})$/.exec(f.trim());
    if (r) fingerprints.push({ algorithm: r[1]!.toLowerCase(), value: r[2]!.toUpperCase() });
  }
  if (fingerprints.length === 0) return { ok: false, reason: 'no a=fingerprint (RFC 8122 §5)' };
  const s = attr(sdp, m, 'setup')[0]?.trim() ?? 'active';
  if (!['actpass', 'active', 'passive', 'holdconn'].includes(s))
    return { ok: false, reason: `a=setup:${s} is not one of RFC 4145 §4` };
  const mid = attributes(m.lines, 'mid')[0]?.trim();
  const candidates: { address: string; port: number; priority: number }[] = [];
  for (const c of attributes(m.lines, 'candidate')) {
    // foundation component transport priority address port typ type …
    const f = c.trim().split(/\s+/);
    const port = Number(f[5]);
    if (f.length >= 8 && f[1] === '1' && f[2]?.toLowerCase() === 'udp' && port > 0 && port < 65536)
      candidates.push({ address: f[4]!, port, priority: Number(f[3]) || 0 });
  }
  candidates.sort((a, b) => b.priority - a.priority);
  return {
    ok: true,
    value: {
      ufrag,
      pwd,
      fingerprints,
      setup: s as Setup,
      ...(mid ? { mid } : {}),
      iceLite: attributes(sdp.session, 'ice-lite').length > 0,
      candidates: candidates.map(({ address, port }) => ({ address, port })),
    },
  };
}

/**
 * Our DTLS role from the peer's `a=setup` when we answer (RFC 8842 §5.3: the answerer MUST NOT
 * answer actpass; RFC 5763 §5: active = client). `prefer` is the leg profile's choice for an
 * actpass offer. The ICE role plays no part (freeswitch#2545).
 */
export function answerRole(
  remote: Setup,
  prefer: 'passive' | 'active' | 'actpass' | 'off',
): 'client' | 'server' | undefined {
  if (remote === 'active') return 'server';
  if (remote === 'passive') return 'client';
  if (remote === 'actpass') return prefer === 'active' ? 'client' : 'server';
  return undefined;
}

/** Our role from the peer's answer to our offer (we offered actpass, or our current role). */
export function offererRole(remote: Setup): 'client' | 'server' | undefined {
  if (remote === 'active') return 'server';
  if (remote === 'passive') return 'client';
  return undefined; // RFC 8842 §5.3: an answer MUST NOT be actpass
}

export interface LocalWebRtc {
  readonly ufrag: string;
  readonly pwd: string;
  readonly fingerprint: string;
  /** What we write: `actpass` in a first offer, then our role (RFC 8842 §5.5 keeps it). */
  readonly setup: Setup;
  readonly address: string;
  readonly port: number;
  readonly mid?: string;
  /** The SSRC we send with (RFC 5576 `a=ssrc`; receivers that route by SSRC need it). */
  readonly ssrc?: number;
  readonly cname?: string;
}

/** Our attribute lines for one m-line toward a WebRTC party. */
export function webrtcLines(l: LocalWebRtc): SdpLine[] {
  const lines: SdpLine[] = [];
  if (l.mid !== undefined) lines.push({ type: 'a', value: `mid:${l.mid}` });
  lines.push(
    { type: 'a', value: `ice-ufrag:${l.ufrag}` },
    { type: 'a', value: `ice-pwd:${l.pwd}` },
    { type: 'a', value: `fingerprint:sha-256 ${l.fingerprint}` },
    { type: 'a', value: `setup:${l.setup}` },
    // RFC 8839 §5.1: foundation, component 1 (RTP; rtcp-mux), UDP, priority, address, port, host.
    { type: 'a', value: `candidate:1 1 udp 2130706431 ${l.address} ${l.port} typ host` },
    { type: 'a', value: 'end-of-candidates' },
  );
  if (l.ssrc !== undefined)
    lines.push({ type: 'a', value: `ssrc:${l.ssrc >>> 0} cname:${l.cname ?? 'tfx'}` });
  return lines;
}

/** RFC 8839 §5.4 ice-chars: 4 bytes of entropy → 8 base64url-ish chars; 24 for the password. */
export function iceToken(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('base64')
    .replace(/=+$/, '')
    .replace(/[^A-Za-z0-9+/]/g, 'x');
}
