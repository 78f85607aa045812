/**
 * Call recording in a media worker: a stereo WAV (the caller left, the callee right, decoded
 * G.711, placed by arrival time so both channels stay aligned), or the RTP the relay sends both
 * ways in a PCAP file (LINKTYPE_RAW, IPv4/IPv6 + UDP headers made up from the real addresses).
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { ALAW_TO_PCM, ULAW_TO_PCM } from '../rtp/g711.js';
import { encodeStereoWav } from './sources.js';

/** The longest WAV recording kept in memory: one hour (8 kHz × 2 channels × 2 bytes ≈ 115 MB). */
const MAX_WAV_SAMPLES = 8000 * 3600;

class Channel {
  private chunks: Int16Array[] = [];
  length = 0;
  /** Appends `pcm` at the sample position of `atMs` since the start (gaps filled with silence). */
  put(pcm: Int16Array, atSample: number): void {
    // Keep the stream contiguous unless the arrival is more than 100 ms ahead (a gap, hold).
    if (atSample > this.length + 800) this.pad(atSample - this.length);
    if (this.length + pcm.length > MAX_WAV_SAMPLES) return;
    this.chunks.push(pcm);
    this.length += pcm.length;
  }
  pad(n: number): void {
    if (n <= 0) return;
    const len = Math.min(n, MAX_WAV_SAMPLES - this.length);
    if (len <= 0) return;
    this.chunks.push(new Int16Array(len));
    this.length += len;
  }
  samples(): Int16Array {
    const out = new Int16Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export class WavRecorder {
  private readonly channels = [new Channel(), new Channel()];
  constructor(
    readonly path: string,
    private readonly startMs: number,
  ) {}

  /** One RTP payload received from the party of `channel` (0 left, 1 right). */
  audio(channel: 0 | 1, encoding: string, payload: Uint8Array, nowMs: number): void {
    const table = encoding === 'PCMU' ? ULAW_TO_PCM : encoding === 'PCMA' ? ALAW_TO_PCM : undefined;
    if (!table) return;
    const pcm = new Int16Array(payload.length);
    for (let i = 0; i < payload.length; i++) pcm[i] = table[payload[i]!]!;
    this.channels[channel]!.put(pcm, Math.floor(((nowMs - this.startMs) * 8000) / 1000));
  }

  close(): void {
    const [l, r] = this.channels as [Channel, Channel];
    writeFileSync(this.path, encodeStereoWav(l.samples(), r.samples()));
  }
}

export class PcapRecorder {
  private fd: number | undefined;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    // pcap global header: magic, v2.4, thiszone, sigfigs, snaplen, LINKTYPE_RAW (101).
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(65535, 16);
    h.writeUInt32LE(101, 20);
    writeSync(this.fd, h);
  }

  packet(
    src: { address: string; port: number },
    dst: { address: string; port: number },
    payload: Uint8Array,
    nowMs: number,
  ): void {
    if (this.fd === undefined) return;
    const v4 = isIPv4(src.address) && isIPv4(dst.address);
    const ipLen = v4 ? 20 : 40;
    const udpLen = 8 + payload.length;
    const pkt = Buffer.alloc(ipLen + udpLen);
    if (v4) {
      pkt[0] = 0x45;
      pkt.writeUInt16BE(ipLen + udpLen, 2);
      pkt[8] = 64;
      pkt[9] = 17;
      src.address.split('.').forEach((x, i) => (pkt[12 + i] = Number(x)));
      dst.address.split('.').forEach((x, i) => (pkt[16 + i] = Number(x)));
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += pkt.readUInt16BE(i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
      pkt.writeUInt16BE(~sum & 0xffff, 10);
    } else {
      pkt[0] = 0x60;
      pkt.writeUInt16BE(udpLen, 4);
      pkt[6] = 17;
      pkt[7] = 64;
      writeV6(pkt, 8, src.address);
      writeV6(pkt, 24, dst.address);
    }
    pkt.writeUInt16BE(src.port, ipLen);
    pkt.writeUInt16BE(dst.port, ipLen + 2);
    pkt.writeUInt16BE(udpLen, ipLen + 4);
    pkt.set(payload, ipLen + 8);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(nowMs / 1000), 0);
    rec.writeUInt32LE(Math.floor(nowMs % 1000) * 1000, 4);
    rec.writeUInt32LE(pkt.length, 8);
    rec.writeUInt32LE(pkt.length, 12);
    writeSync(this.fd, Buffer.concat([rec, pkt]));
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeV6(b: Buffer, off: number, addr: string): void {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups
    .slice(0, 8)
    .forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16) & 0xffff, off + i * 2));
}
