/**
 * The bandwidth a call's media needs, from its SDP offer (issue #18 item 3): a pure scan of the
 * offer's lines, never throwing on garbage. Per live m= line (port not 0; at most `MAX_STREAMS`):
 *
 *   b=TIAS:<bps>  (RFC 3890 §6.2: transport independent, without IP/UDP/RTP headers)
 *                 → bps / 1000 + the packet overhead at the stream's packet rate
 *   b=AS:<kbps>   (RFC 4566 §5.8 / RFC 8866 §5.8: the application's bandwidth, overhead included)
 *                 → kbps
 *   else the codecs offered: the largest of those known (the answer may pick any of them), plus
 *   the packet overhead: PCMU/PCMA/G722 64 kb/s, G729 8, GSM 13.2, iLBC 15.2, Opus its
 *   `maxaveragebitrate` (else 40 kb/s), L16 by its rate; an unknown audio codec 64 kb/s; video
 *   without b= `DEFAULT_VIDEO_KBPS`.
 *
 * Audio never counts below its codec's rate (a `b=AS:1` cannot slip a G.711 call past a budget);
 * a session-level b=AS/TIAS applies when no m= line has its own. Overhead: IPv4 + UDP + RTP =
 * 40 bytes per packet, at `a=ptime` (default 20 ms) for audio, 1 packet per 1200 bytes for video.
 * Malformed, negative or absurd (> 10 Gb/s) b= values are ignored (the codec decides).
 */

export const DEFAULT_VIDEO_KBPS = 1500;
/** A call without SDP (a late offer): one G.711 stream with its overhead. */
export const LATE_OFFER_KBPS = 80;
export const MAX_STREAMS = 16;
const MAX_KBPS = 10_000_000;
const HEADER_BYTES = 40;

/** kb/s of the codecs known by their rtpmap encoding name (lower case). */
const CODEC_KBPS: Readonly<Record<string, number>> = {
  pcmu: 64,
  pcma: 64,
  g722: 64,
  g729: 8,
  gsm: 13.2,
  ilbc: 15.2,
  opus: 40,
  'telephone-event': 0,
  cn: 0,
  red: 0,
  rtx: 0,
  ulpfec: 0,
  flexfec: 0,
};
/** Static payload types (RFC 3551 §6) when no rtpmap names them. */
const STATIC: Readonly<Record<string, string>> = {
  '0': 'pcmu',
  '3': 'gsm',
  '8': 'pcma',
  '9': 'g722',
  '13': 'cn',
  '18': 'g729',
};

interface Stream {
  kind: string;
  formats: string[];
  as?: number;
  tias?: number;
  ptime?: number;
  rtpmap: Map<string, { name: string; rate: number; channels: number }>;
  fmtp: Map<string, string>;
}

/** A b= value: digits only, within bounds; anything else is undefined (ignored). */
function bandwidthValue(v: string, max: number): number | undefined {
  if (!/^\d{1,12}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= max ? n : undefined;
}

/** kb/s of one stream, overhead included. */
function streamKbps(s: Stream): number {
  const video = s.kind === 'video';
  const ptime = s.ptime !== undefined && s.ptime >= 5 && s.ptime <= 1000 ? s.ptime : 20;
  const overheadAt = (kbps: number): number =>
    video
      ? Math.ceil((kbps * 1000) / 8 / 1200) * HEADER_BYTES * 8 * 0.001
      : (HEADER_BYTES * 8 * (1000 / ptime)) / 1000;
  let codec = 0;
  if (!video) {
    for (const pt of s.formats) {
      const m = s.rtpmap.get(pt);
      const name = m?.name ?? STATIC[pt];
      let k = name !== undefined ? CODEC_KBPS[name] : undefined;
      if (name === 'opus') {
        const fm = /maxaveragebitrate=(\d{1,9})/i.exec(s.fmtp.get(pt) ?? '');
        const rate = fm ? Number(fm[1]) / 1000 : undefined;
        if (rate !== undefined && rate >= 6 && rate <= 510) k = rate;
      } else if (name === 'l16' && m)
        k = (16 * Math.min(m.rate, 192_000) * Math.max(1, Math.min(m.channels, 8))) / 1000;
      codec = Math.max(codec, k ?? 64);
    }
    if (codec > 0) codec += overheadAt(codec);
  }
  if (s.tias !== undefined) return Math.max(codec, s.tias / 1000 + overheadAt(s.tias / 1000));
  if (s.as !== undefined) return Math.max(codec, s.as);
  return video ? DEFAULT_VIDEO_KBPS + overheadAt(DEFAULT_VIDEO_KBPS) : codec;
}

/**
 * The kb/s an SDP offer's media needs (overhead included), rounded up; `undefined` SDP (a late
 * offer) counts as one G.711 stream. Never throws.
 */
export function sdpBandwidthKbps(sdp: string | undefined): number {
  if (sdp === undefined || sdp.trim() === '') return LATE_OFFER_KBPS;
  const streams: Stream[] = [];
  const session: { as?: number; tias?: number } = {};
  let cur: Stream | undefined;
  let live = false;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind, port, , ...formats] = line.slice(2).split(/\s+/);
      live = port !== undefined && port !== '0' && /^\d{1,5}(\/\d+)?$/.test(port);
      cur = undefined;
      if (!live || streams.length >= MAX_STREAMS) continue;
      cur = {
        kind: (kind ?? '').toLowerCase(),
        formats: formats.slice(0, 64),
        rtpmap: new Map(),
        fmtp: new Map(),
      };
      streams.push(cur);
      continue;
    }
    const b = /^b=(AS|TIAS):(.*)$/i.exec(line);
    if (b) {
      const tias = (b[1] as string).toUpperCase() === 'TIAS';
      const v = bandwidthValue((b[2] as string).trim(), tias ? MAX_KBPS * 1000 : MAX_KBPS);
      if (v === undefined) continue;
      const target = cur ?? (streams.length === 0 && !live ? session : undefined);
      if (target) target[tias ? 'tias' : 'as'] = v;
      continue;
    }
    if (!cur) continue;
    const rm = /^a=rtpmap:(\d{1,3})\s+([^/\s]+)\/(\d{1,7})(?:\/(\d{1,2}))?/i.exec(line);
    if (rm)
      cur.rtpmap.set(rm[1] as string, {
        name: (rm[2] as string).toLowerCase(),
        rate: Number(rm[3]),
        channels: rm[4] !== undefined ? Number(rm[4]) : 1,
      });
    const fm = /^a=fmtp:(\d{1,3})\s+(.{0,512})/i.exec(line);
    if (fm) cur.fmtp.set(fm[1] as string, fm[2] as string);
    const pt = /^a=ptime:(\d{1,4})/i.exec(line);
    if (pt) cur.ptime = Number(pt[1]);
  }
  if (streams.length === 0) return 0;
  const own = streams.some((s) => s.as !== undefined || s.tias !== undefined);
  if (!own && (session.as !== undefined || session.tias !== undefined)) {
    // A session-level figure covers every stream (RFC 8866 §5.8), still not below the codecs.
    const audio = streams.filter((s) => s.kind !== 'video').reduce((n, s) => n + streamKbps(s), 0);
    const declared = session.tias !== undefined ? session.tias / 1000 : (session.as as number);
    return Math.ceil(Math.max(audio, declared));
  }
  return Math.ceil(streams.reduce((n, s) => n + streamKbps(s), 0));
}

/** Live m= lines (port not 0) of an SDP, at most `MAX_STREAMS`; a late offer counts one. Pure. */
export function sdpStreamCount(sdp: string | undefined): number {
  if (sdp === undefined || sdp.trim() === '') return 1;
  let n = 0;
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=\S+\s+(\d{1,5})/.exec(line.trim());
    if (m && m[1] !== '0') n++;
  }
  return Math.min(n, MAX_STREAMS);
}
