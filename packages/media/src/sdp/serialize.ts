/**
 * SDP serializer: the lines as kept, CRLF after each (RFC 4566 §5). Pure.
 */
import type { SdpMedia, SessionDescription } from './model.js';

export function mLineValue(
  m: Pick<SdpMedia, 'media' | 'port' | 'portCount' | 'proto' | 'formats'>,
): string {
  const port = m.portCount !== undefined ? `${m.port}/${m.portCount}` : String(m.port);
  return [m.media, port, m.proto, ...m.formats].join(' ');
}

export function serializeSdp(sdp: SessionDescription): string {
  const out: string[] = [];
  for (const l of sdp.session) out.push(`${l.type}=${l.value}`);
  for (const m of sdp.media) {
    out.push(`m=${mLineValue(m)}`);
    for (const l of m.lines) out.push(`${l.type}=${l.value}`);
  }
  return out.join('\r\n') + '\r\n';
}
