/**
 * The classic libpcap file format (https://wiki.wireshark.org/Development/LibpcapFileFormat),
 * LINKTYPE_RAW (101): every record is an IPv4 or IPv6 packet with a UDP header made up from the
 * real addresses and ports, carrying the payload as it went on the wire. Pure (no I/O, no Node
 * Buffer): the media worker's RTP recording and the SBC's per-call signalling capture share it.
 */

export interface PcapEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Bytes of the file header (magic, v2.4, thiszone, sigfigs, snaplen, linktype). */
export const PCAP_HEADER_BYTES = 24;
const SNAPLEN = 65535;
const LINKTYPE_RAW = 101;

/** The 24-byte global header (little-endian, microsecond timestamps, LINKTYPE_RAW). */
export function pcapFileHeader(): Uint8Array {
  const h = new Uint8Array(PCAP_HEADER_BYTES);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, SNAPLEN, true);
  v.setUint32(20, LINKTYPE_RAW, true);
  return h;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * One record: the 16-byte record header, then an IPv4 (RFC 791, header checksum filled in) or
 * IPv6 (RFC 8200) header, a UDP header (RFC 768, checksum 0: "not computed" in IPv4; Wireshark
 * accepts it unvalidated in IPv6 too) and the payload. Both ends IPv4 → IPv4, else IPv6 (a
 * mapped or unparsable address is written as best it can be: the capture is a record, not a
 * route). A payload larger than fits one UDP datagram is cut to it (captured length < original).
 */
export function pcapRecord(
  src: PcapEndpoint,
  dst: PcapEndpoint,
  payload: Uint8Array,
  nowMs: number,
): Uint8Array {
  const v4 = V4.test(src.address) && V4.test(dst.address);
  const ipLen = v4 ? 20 : 40;
  const body = payload.subarray(0, SNAPLEN - ipLen - 8);
  const udpLen = 8 + body.length;
  const out = new Uint8Array(16 + ipLen + udpLen);
  const v = new DataView(out.buffer);
  const ms = Math.max(0, nowMs);
  v.setUint32(0, Math.floor(ms / 1000) >>> 0, true);
  v.setUint32(4, Math.floor(ms % 1000) * 1000, true);
  v.setUint32(8, ipLen + udpLen, true);
  v.setUint32(12, ipLen + udpLen, true);
  const ip = 16;
  if (v4) {
    out[ip] = 0x45;
    v.setUint16(ip + 2, ipLen + udpLen);
    out[ip + 8] = 64;
    out[ip + 9] = 17;
    writeV4(out, ip + 12, src.address);
    writeV4(out, ip + 16, dst.address);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += v.getUint16(ip + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(ip + 10, ~sum & 0xffff);
  } else {
    out[ip] = 0x60;
    v.setUint16(ip + 4, udpLen);
    out[ip + 6] = 17;
    out[ip + 7] = 64;
    writeV6(v, ip + 8, src.address);
    writeV6(v, ip + 24, dst.address);
  }
  const udp = ip + ipLen;
  v.setUint16(udp, src.port & 0xffff);
  v.setUint16(udp + 2, dst.port & 0xffff);
  v.setUint16(udp + 4, udpLen);
  out.set(body, udp + 8);
  return out;
}

function writeV4(b: Uint8Array, off: number, addr: string): void {
  addr.split('.').forEach((x, i) => (b[off + i] = Number(x) & 0xff));
}

function writeV6(v: DataView, off: number, addr: string): void {
  const plain = addr.replace(/^\[|\]$/g, '').split('%')[0] ?? '';
  const [head, tail] = plain.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? h
      : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  groups.slice(0, 8).forEach((g, i) => v.setUint16(off + i * 2, parseInt(g, 16) & 0xffff || 0));
}

/**
 * The records of a file this writer made (little-endian, microsecond), each whole (its 16-byte
 * header and data) with its time in µs; a truncated or foreign file yields what parses before
 * the damage (a recording still being written ends mid-record).
 */
export function pcapRecords(
  file: Uint8Array,
): { readonly us: number; readonly bytes: Uint8Array }[] {
  if (file.length < PCAP_HEADER_BYTES) return [];
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) !== 0xa1b2c3d4) return [];
  const out: { us: number; bytes: Uint8Array }[] = [];
  let off = PCAP_HEADER_BYTES;
  while (off + 16 <= file.length) {
    const incl = v.getUint32(off + 8, true);
    if (incl > SNAPLEN || off + 16 + incl > file.length) break;
    out.push({
      us: v.getUint32(off, true) * 1e6 + v.getUint32(off + 4, true),
      bytes: file.subarray(off, off + 16 + incl),
    });
    off += 16 + incl;
  }
  return out;
}

/** One file of the records of several (this writer's), in time order (stable for equal times). */
export function mergePcaps(files: readonly Uint8Array[]): Uint8Array {
  const all = files.flatMap((f, i) => pcapRecords(f).map((r, j) => ({ ...r, i, j })));
  all.sort((x, y) => x.us - y.us || x.i - y.i || x.j - y.j);
  const out = new Uint8Array(PCAP_HEADER_BYTES + all.reduce((n, r) => n + r.bytes.length, 0));
  out.set(pcapFileHeader(), 0);
  let off = PCAP_HEADER_BYTES;
  for (const r of all) {
    out.set(r.bytes, off);
    off += r.bytes.length;
  }
  return out;
}
