/**
 * SDP for the contract suite, written and read by hand (not with the SDP module under test), so the
 * suite checks the engines' output against RFC 4566 / RFC 3264 independently.
 */
import type { LegProfile } from '../../src/engine/types.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MLineSpec {
  port: number;
  /** Media type of the m= line. Default `audio`. */
  media?: string;
  transport?: string;
  /** payload type → rtpmap (`PCMU/8000`, `telephone-event/8000`). Static PTs may map to ''. */
  codecs?: Record<number, string>;
  direction?: Direction;
  extra?: string[];
}

let version = 1;

export function makeSdp(address: string, mlines: MLineSpec[], sessionId = 4242): string {
  const ip = address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=probe ${sessionId} ${version++} IN ${ip} ${address}`,
    's=probe',
    `c=IN ${ip} ${address}`,
    't=0 0',
  ];
  for (const m of mlines) {
    const codecs = m.codecs ?? { 0: 'PCMU/8000', 101: 'telephone-event/8000' };
    const pts = Object.keys(codecs);
    lines.push(`m=${m.media ?? 'audio'} ${m.port} ${m.transport ?? 'RTP/AVP'} ${pts.join(' ')}`);
    for (const pt of pts) {
      const map = codecs[Number(pt)];
      if (map) lines.push(`a=rtpmap:${pt} ${map}`);
      if (map?.startsWith('telephone-event')) lines.push(`a=fmtp:${pt} 0-16`);
    }
    lines.push(...(m.extra ?? []));
    lines.push(`a=${m.direction ?? 'sendrecv'}`);
  }
  return lines.join('\r\n') + '\r\n';
}

export interface ReadMLine {
  port: number;
  transport: string;
  pts: number[];
  rtpmap: Map<number, string>;
  direction: Direction;
  address: string;
  attrs: string[];
}

export interface ReadSdp {
  address: string;
  mlines: ReadMLine[];
  raw: string;
}

export function readSdp(sdp: string): ReadSdp {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  let sessionAddr = '';
  let sessionDir: Direction = 'sendrecv';
  const mlines: ReadMLine[] = [];
  let cur: ReadMLine | undefined;
  for (const l of lines) {
    if (l.startsWith('m=')) {
      const [, port, transport, ...fmts] = l.slice(2).split(' ');
      cur = {
        port: Number(port),
        transport: transport ?? '',
        pts: fmts.map(Number),
        rtpmap: new Map(),
        direction: sessionDir,
        address: sessionAddr,
        attrs: [],
      };
      mlines.push(cur);
    } else if (l.startsWith('c=')) {
      const addr = l.split(' ')[2] ?? '';
      if (cur) cur.address = addr;
      else sessionAddr = addr;
    } else if (l.startsWith('a=')) {
      const a = l.slice(2);
      if (a === 'sendrecv' || a === 'sendonly' || a === 'recvonly' || a === 'inactive') {
        if (cur) cur.direction = a;
        else sessionDir = a;
      } else if (cur) {
        cur.attrs.push(a);
        const m = /^rtpmap:(\d+) (.+)$/.exec(a);
        if (m) cur.rtpmap.set(Number(m[1]), m[2]!);
      }
    }
  }
  for (const m of mlines) if (!m.address) m.address = sessionAddr;
  return { address: sessionAddr, mlines, raw: sdp };
}

/** The payload type an SDP's first m-line maps to an encoding name (case-insensitive), if any. */
export function ptOf(m: ReadMLine, encoding: string): number | undefined {
  for (const [pt, map] of m.rtpmap)
    if (map.toLowerCase().startsWith(encoding.toLowerCase() + '/')) return pt;
  if (encoding.toUpperCase() === 'PCMU' && m.pts.includes(0)) return 0;
  if (encoding.toUpperCase() === 'PCMA' && m.pts.includes(8)) return 8;
  return undefined;
}

/** The plain RTP leg profile the contract tests use: RTP/AVP, no ICE or DTLS, strict latching. */
export function plainProfile(mediaAddress: string): LegProfile {
  return {
    mediaAddress,
    transport: 'RTP/AVP',
    ice: 'remove',
    dtls: 'off',
    rtcpMux: 'demux',
    latching: 'strict',
    dtmf: 'rfc4733',
  };
}
