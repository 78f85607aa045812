/**
 * RTCP codec (RFC 3550 §6.4): compound packets with SR, RR, SDES, BYE; other types are kept as
 * `unknown` entries. Pure: bytes in, typed packets or a typed error out; builders for SR/RR.
 */

export interface ReportBlock {
  readonly ssrc: number;
  /** Fraction lost since the last report, as a fixed-point fraction of 256 (§6.4.1). */
  readonly fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  readonly cumulativeLost: number;
  /** Extended highest sequence number received. */
  readonly highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (0 if none). */
  readonly lsr: number;
  /** Delay since that SR, in units of 1/65536 s. */
  readonly dlsr: number;
}

export type RtcpPacket =
  | {
      readonly type: 'sr';
      readonly ssrc: number;
      readonly ntpSec: number;
      readonly ntpFrac: number;
      readonly rtpTimestamp: number;
      readonly packetCount: number;
      readonly octetCount: number;
      readonly reports: readonly ReportBlock[];
    }
  | { readonly type: 'rr'; readonly ssrc: number; readonly reports: readonly ReportBlock[] }
  | { readonly type: 'sdes'; readonly chunks: readonly { ssrc: number; cname?: string }[] }
  | { readonly type: 'bye'; readonly ssrcs: readonly number[] }
  | { readonly type: 'unknown'; readonly packetType: number };

export type RtcpParseError = 'too-short' | 'version' | 'length' | 'not-rtcp' | 'report-count';

export type RtcpParseResult =
  | { readonly ok: true; readonly packets: readonly RtcpPacket[] }
  | { readonly ok: false; readonly error: RtcpParseError };

const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

function reportBlock(b: Uint8Array, o: number): ReportBlock {
  let lost = (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
  if (lost & 0x800000) lost -= 0x1000000;
  return {
    ssrc: u32(b, o),
    fractionLost: b[o + 4]!,
    cumulativeLost: lost,
    highestSeq: u32(b, o + 8),
    jitter: u32(b, o + 12),
    lsr: u32(b, o + 16),
    dlsr: u32(b, o + 20),
  };
}

/** RFC 3550 §A.2 validity checks on a compound packet, then each packet's fields. */
export function parseRtcp(b: Uint8Array): RtcpParseResult {
  if (b.length < 8) return { ok: false, error: 'too-short' };
  const first = b[1]!;
  // §A.2: the first packet of a compound is an SR or RR (a lone feedback packet is accepted too,
  // RFC 5506 reduced-size RTCP).
  if (first < 192 || first > 223) return { ok: false, error: 'not-rtcp' };
  const packets: RtcpPacket[] = [];
  let off = 0;
  while (off < b.length) {
    if (off + 4 > b.length) return { ok: false, error: 'too-short' };
    if (b[off]! >> 6 !== 2) return { ok: false, error: 'version' };
    const count = b[off]! & 0x1f;
    const pt = b[off + 1]!;
    const len = (((b[off + 2]! << 8) | b[off + 3]!) + 1) * 4;
    if (off + len > b.length) return { ok: false, error: 'length' };
    const body = off + 4;
    if (pt === 200) {
      if (len < 28 + count * 24) return { ok: false, error: 'report-count' };
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(reportBlock(b, body + 24 + i * 24));
      packets.push({
        type: 'sr',
        ssrc: u32(b, body),
        ntpSec: u32(b, body + 4),
        ntpFrac: u32(b, body + 8),
        rtpTimestamp: u32(b, body + 12),
        packetCount: u32(b, body + 16),
        octetCount: u32(b, body + 20),
        reports,
      });
    } else if (pt === 201) {
      if (len < 8 + count * 24) return { ok: false, error: 'report-count' };
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(reportBlock(b, body + 4 + i * 24));
      packets.push({ type: 'rr', ssrc: u32(b, body), reports });
    } else if (pt === 202) {
      const chunks: { ssrc: number; cname?: string }[] = [];
      let o = body;
      const end = off + len;
      for (let i = 0; i < count && o + 4 <= end; i++) {
        const ssrc = u32(b, o);
        o += 4;
        let cname: string | undefined;
        while (o < end && b[o] !== 0) {
          const t = b[o]!;
          const l = b[o + 1] ?? 0;
          if (o + 2 + l > end) break;
          if (t === 1) cname = Buffer.from(b.subarray(o + 2, o + 2 + l)).toString('latin1');
          o += 2 + l;
        }
        o = (o + 4) & ~3; // the null item, then padding to a 32-bit boundary
        chunks.push(cname === undefined ? { ssrc } : { ssrc, cname });
      }
      packets.push({ type: 'sdes', chunks });
    } else if (pt === 203) {
      const ssrcs: number[] = [];
      for (let i = 0; i < count && body + i * 4 + 4 <= off + len; i++)
        ssrcs.push(u32(b, body + i * 4));
      packets.push({ type: 'bye', ssrcs });
    } else packets.push({ type: 'unknown', packetType: pt });
    off += len;
  }
  return { ok: true, packets };
}

function writeBlock(b: Buffer, o: number, r: ReportBlock): void {
  b.writeUInt32BE(r.ssrc >>> 0, o);
  b[o + 4] = r.fractionLost & 0xff;
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)) & 0xffffff;
  b[o + 5] = lost >> 16;
  b[o + 6] = (lost >> 8) & 0xff;
  b[o + 7] = lost & 0xff;
  b.writeUInt32BE(r.highestSeq >>> 0, o + 8);
  b.writeUInt32BE(r.jitter >>> 0, o + 12);
  b.writeUInt32BE(r.lsr >>> 0, o + 16);
  b.writeUInt32BE(r.dlsr >>> 0, o + 20);
}

function sdesCname(ssrc: number, cname: string): Buffer {
  const name = Buffer.from(cname, 'latin1').subarray(0, 255);
  const len = Math.ceil((4 + 2 + name.length + 1) / 4) * 4;
  const b = Buffer.alloc(4 + len);
  b[0] = 0x81;
  b[1] = 202;
  b.writeUInt16BE(len / 4, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 1;
  b[9] = name.length;
  name.copy(b, 10);
  return b;
}

/** A compound SR + SDES(CNAME) (RFC 3550 §6.4.1, §6.1: every compound carries a CNAME). */
export function buildSenderReport(p: {
  ssrc: number;
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: readonly ReportBlock[];
  cname: string;
}): Buffer {
  const reports = p.reports.slice(0, 31);
  const b = Buffer.alloc(28 + reports.length * 24);
  b[0] = 0x80 | reports.length;
  b[1] = 200;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(p.ssrc >>> 0, 4);
  b.writeUInt32BE(p.ntpSec >>> 0, 8);
  b.writeUInt32BE(p.ntpFrac >>> 0, 12);
  b.writeUInt32BE(p.rtpTimestamp >>> 0, 16);
  b.writeUInt32BE(p.packetCount >>> 0, 20);
  b.writeUInt32BE(p.octetCount >>> 0, 24);
  reports.forEach((r, i) => writeBlock(b, 28 + i * 24, r));
  return Buffer.concat([b, sdesCname(p.ssrc, p.cname)]);
}

/** A compound RR + SDES(CNAME) (RFC 3550 §6.4.2). */
export function buildReceiverReport(p: {
  ssrc: number;
  reports: readonly ReportBlock[];
  cname: string;
}): Buffer {
  const reports = p.reports.slice(0, 31);
  const b = Buffer.alloc(8 + reports.length * 24);
  b[0] = 0x80 | reports.length;
  b[1] = 201;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(p.ssrc >>> 0, 4);
  reports.forEach((r, i) => writeBlock(b, 8 + i * 24, r));
  return Buffer.concat([b, sdesCname(p.ssrc, p.cname)]);
}
