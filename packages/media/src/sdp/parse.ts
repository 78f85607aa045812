/**
 * The SDP parser (RFC 4566 §5, RFC 8866): text in, a `SessionDescription` or a typed error out.
 * Pure and total: it never throws, whatever the input (fuzzed in test/sdp/sdp.fuzz.test.ts).
 * Limits bound the work hostile input can cause (an SDP of 1 MB, 500 m-lines).
 */
import type { SdpLine, SdpMedia, SessionDescription } from './model.js';
import { parseConnection } from './model.js';

export interface SdpLimits {
  /** Largest SDP body accepted, in bytes (UTF-16 code units). Default 64 KiB. */
  readonly maxBytes: number;
  /** Most m= sections accepted. Default 32. */
  readonly maxMedia: number;
  /** Most lines accepted. Default 2,000. */
  readonly maxLines: number;
}

export const DEFAULT_SDP_LIMITS: SdpLimits = { maxBytes: 65_536, maxMedia: 32, maxLines: 2_000 };

export type SdpParseErrorCode = 'too-large' | 'too-many-media' | 'too-many-lines' | 'syntax';

export interface SdpParseError {
  readonly code: SdpParseErrorCode;
  readonly reason: string;
  /** 1-based line number, when one line is at fault. */
  readonly line?: number;
}

export type SdpParseResult =
  | { readonly ok: true; readonly sdp: SessionDescription }
  | { readonly ok: false; readonly error: SdpParseError };

const TYPE = /^[a-z]$/;
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

function fail(code: SdpParseErrorCode, reason: string, line?: number): SdpParseResult {
  return { ok: false, error: line === undefined ? { code, reason } : { code, reason, line } };
}

export function parseSdp(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): SdpParseResult {
  if (typeof text !== 'string') return fail('syntax', 'SDP is not text');
  if (text.length > limits.maxBytes)
    return fail('too-large', `SDP of ${text.length} bytes exceeds ${limits.maxBytes}`);
  // RFC 4566 §5: lines end with CRLF, and parsers SHOULD accept LF alone.
  const raw = text.split('\n');
  if (raw.length > limits.maxLines + 1)
    return fail('too-many-lines', `SDP of ${raw.length} lines exceeds ${limits.maxLines}`);
  const session: SdpLine[] = [];
  const media: { head: Omit<SdpMedia, 'lines'>; lines: SdpLine[] }[] = [];
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    let l = raw[i]!;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.length === 0) {
      // Blank lines are tolerated only at the end (a trailing CRLF).
      if (raw.slice(i + 1).every((r) => r === '' || r === '\r')) break;
      return fail('syntax', 'blank line inside the SDP', i + 1);
    }
    n++;
    const type = l[0]!;
    if (!TYPE.test(type) || l[1] !== '=')
      return fail('syntax', `not a <type>=<value> line: ${JSON.stringify(l.slice(0, 40))}`, i + 1);
    const value = l.slice(2);
    if (/[\0\r]/.test(value)) return fail('syntax', 'NUL or CR inside a line', i + 1);
    if (n === 1) {
      // RFC 4566 §5.1: the first line is v=0.
      if (type !== 'v' || value !== '0') return fail('syntax', 'the first line must be v=0', i + 1);
      session.push({ type, value });
      continue;
    }
    if (type === 'v') return fail('syntax', 'a second v= line', i + 1);
    if (type === 'm') {
      if (media.length >= limits.maxMedia)
        return fail('too-many-media', `more than ${limits.maxMedia} m= lines`, i + 1);
      const head = parseMLine(value);
      if (!head) return fail('syntax', `bad m= line: ${JSON.stringify(value.slice(0, 60))}`, i + 1);
      media.push({ head, lines: [] });
      continue;
    }
    if (type === 'c' && !parseConnection(value))
      return fail('syntax', `bad c= line: ${JSON.stringify(value.slice(0, 60))}`, i + 1);
    if (type === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      if (!TOKEN.test(name)) return fail('syntax', 'bad attribute name', i + 1);
    }
    const cur = media[media.length - 1];
    if (cur) cur.lines.push({ type, value });
    else session.push({ type, value });
  }
  if (session.length === 0) return fail('syntax', 'empty SDP');
  const o = session.find((l) => l.type === 'o');
  // RFC 4566 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
  if (!o || o.value.split(' ').length !== 6) return fail('syntax', 'missing or bad o= line');
  if (!session.some((l) => l.type === 's')) return fail('syntax', 'missing s= line');
  return {
    ok: true,
    sdp: { session, media: media.map((m) => ({ ...m.head, lines: m.lines })) },
  };
}

/** RFC 4566 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
function parseMLine(value: string): Omit<SdpMedia, 'lines'> | undefined {
  const f = value.split(' ');
  if (f.length < 4) return undefined;
  const [mediaType, portSpec, proto, ...formats] = f as [string, string, string, ...string[]];
  if (!TOKEN.test(mediaType) || !/^[A-Za-z0-9/_.-]+$/.test(proto)) return undefined;
  const pm = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(portSpec);
  if (!pm) return undefined;
  const port = Number(pm[1]);
  if (port > 65535) return undefined;
  if (formats.some((x) => !TOKEN.test(x))) return undefined;
  return {
    media: mediaType,
    port,
    ...(pm[2] !== undefined ? { portCount: Number(pm[2]) } : {}),
    proto,
    formats,
  };
}
