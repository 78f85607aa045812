/**
 * Call recording in a media worker: a stereo WAV (the caller left, the callee right, decoded
 * G.711, placed by arrival time so both channels stay aligned), or the RTP the relay sends both
 * ways in a PCAP file (LINKTYPE_RAW, IPv4/IPv6 + UDP headers made up from the real addresses).
 *
 * The WAV is streamed to its file: audio waits at most ~1.2 s in memory (frames older than
 * SETTLE_MS are final and written about once a second), the header's sizes are filled in at
 * close. Bounded: a channel that runs more than AHEAD_S ahead of what is written (a flood) loses
 * the excess (counted by the caller), and a recording stops growing at MAX_WAV_S. A write error
 * (disk full) ends the recording, never the worker.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pcapFileHeader, pcapRecord } from '@tfx/protocol';
import { ALAW_TO_PCM, ULAW_TO_PCM } from '../codec/g711.js';

const RATE = 8000;
/** Longest WAV recording: 8 hours (8 kHz × 2 channels × 2 bytes = 32 kB/s, 0.9 GB). */
export const MAX_WAV_S = 8 * 3600;
/** Frames older than this (by arrival time) are final and may be written. */
const SETTLE_MS = 200;
/** How far ahead of what is written one channel may run (a sender faster than real time). */
const AHEAD_S = 10;
/** Frames written per write call (1 s). */
const CHUNK = RATE;

/** One channel's pending audio: non-overlapping segments in sample order, from `written` on. */
class Channel {
  private segs: { at: number; pcm: Int16Array }[] = [];
  end = 0;

  /** Places `pcm` at `atSample` (or right after the previous audio); false if over the bound. */
  put(pcm: Int16Array, atSample: number, written: number): boolean {
    // Keep the stream contiguous unless the arrival is more than 100 ms ahead (a gap, hold).
    let at = atSample > this.end + RATE / 10 ? atSample : this.end;
    if (at < written) at = written;
    if (at + pcm.length - written > AHEAD_S * RATE) return false;
    this.segs.push({ at, pcm });
    this.end = at + pcm.length;
    return true;
  }

  /** Writes samples [from, to) into `out` (interleaved stereo, this channel at `ch`), drops them. */
  take(from: number, to: number, out: Buffer, ch: 0 | 1): void {
    for (const seg of this.segs) {
      const a = Math.max(from, seg.at);
      const b = Math.min(to, seg.at + seg.pcm.length);
      for (let i = a; i < b; i++) out.writeInt16LE(seg.pcm[i - seg.at]!, (i - from) * 4 + ch * 2);
    }
    this.segs = this.segs.filter((seg) => seg.at + seg.pcm.length > to);
  }
}

export class WavRecorder {
  private readonly channels = [new Channel(), new Channel()] as const;
  private fd: number | undefined;
  /** Stereo frames written to the file so far. */
  private written = 0;
  private lastFlushMs: number;
  /** Samples refused by the bounds, and why the recording stopped early, if it did. */
  overflow = 0;
  failed: string | undefined;

  /** Opens (creates or truncates) `path`; throws if it cannot. */
  constructor(
    readonly path: string,
    private readonly startMs: number,
  ) {
    this.fd = openSync(path, 'w');
    this.lastFlushMs = startMs;
    writeSync(this.fd, wavHeader(0));
  }

  /** One RTP payload received from the party of `channel` (0 left, 1 right). */
  audio(channel: 0 | 1, encoding: string, payload: Uint8Array, nowMs: number): void {
    if (this.fd === undefined) return;
    const table = encoding === 'PCMU' ? ULAW_TO_PCM : encoding === 'PCMA' ? ALAW_TO_PCM : undefined;
    if (!table) return;
    const at = this.sampleAt(nowMs);
    if (at + payload.length > MAX_WAV_S * RATE) return;
    const pcm = new Int16Array(payload.length);
    for (let i = 0; i < payload.length; i++) pcm[i] = table[payload[i]!]!;
    if (!this.channels[channel].put(pcm, at, this.written)) this.overflow += pcm.length;
    if (nowMs - this.lastFlushMs >= 1000) {
      this.lastFlushMs = nowMs;
      this.flush(this.sampleAt(nowMs - SETTLE_MS));
    }
  }

  /** Bytes of audio data in the file so far (tests, stats). */
  get dataBytes(): number {
    return this.written * 4;
  }

  private sampleAt(ms: number): number {
    return Math.max(0, Math.floor(((ms - this.startMs) * RATE) / 1000));
  }

  /** Writes every frame before `limit` (silence where a channel has none). */
  private flush(limit: number): void {
    const to = Math.min(limit, MAX_WAV_S * RATE);
    try {
      while (this.fd !== undefined && this.written < to) {
        const n = Math.min(CHUNK, to - this.written);
        const out = Buffer.alloc(n * 4);
        this.channels[0].take(this.written, this.written + n, out, 0);
        this.channels[1].take(this.written, this.written + n, out, 1);
        writeSync(this.fd, out);
        this.written += n;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.failed = err instanceof Error ? err.message : String(err);
    this.close();
  }

  /** Writes what is left and the header's sizes, closes the file. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    if (this.failed === undefined) this.flush(Math.max(this.channels[0].end, this.channels[1].end));
    const fd = this.fd;
    this.fd = undefined;
    try {
      writeSync(fd, wavHeader(this.written * 4), 0, 44, 0);
    } catch {
      // the data stays; the header says 0 bytes (players read to the end of file)
    }
    closeSync(fd);
  }
}

/** RIFF/WAVE header of a 16-bit stereo PCM file at 8 kHz with `dataBytes` of audio. */
export function wavHeader(dataBytes: number): Buffer {
  const b = Buffer.alloc(44);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(2, 22);
  b.writeUInt32LE(RATE, 24);
  b.writeUInt32LE(RATE * 4, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

export class PcapRecorder {
  private fd: number | undefined;
  /** Why the capture stopped early (a write error: disk full), if it did. */
  failed: string | undefined;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, pcapFileHeader());
  }

  packet(
    src: { address: string; port: number },
    dst: { address: string; port: number },
    payload: Uint8Array,
    nowMs: number,
  ): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, pcapRecord(src, dst, payload, nowMs));
    } catch (err) {
      this.failed = err instanceof Error ? err.message : String(err);
      this.close();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
