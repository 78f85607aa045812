/**
 * A small RTP probe for the contract suite: a stand-in phone on a loopback UDP socket. It sends RTP
 * with the SSRC, sequence and payload type it is told, and records every packet it receives with
 * the address it came from, so a test can check that packets come from the relay's address only,
 * in order, with the relay's SSRC. Self-contained on purpose: it does not use the code under test.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface ReceivedRtp {
  readonly from: { address: string; port: number };
  readonly pt: number;
  readonly marker: boolean;
  readonly seq: number;
  readonly ts: number;
  readonly ssrc: number;
  readonly payload: Buffer;
}

export function rtpPacket(p: {
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker?: boolean;
  payload: Buffer;
}): Buffer {
  const b = Buffer.alloc(12 + p.payload.length);
  b[0] = 0x80;
  b[1] = (p.marker ? 0x80 : 0) | (p.pt & 0x7f);
  b.writeUInt16BE(p.seq & 0xffff, 2);
  b.writeUInt32BE(p.ts >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  p.payload.copy(b, 12);
  return b;
}

function parseRtp(b: Buffer): Omit<ReceivedRtp, 'from'> | undefined {
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  const pt = b[1]! & 0x7f;
  if (pt >= 64 && pt <= 95) return undefined; // RTCP (RFC 5761 §4)
  const cc = b[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (b[0]! & 0x10) {
    if (b.length < off + 4) return undefined;
    off += 4 + b.readUInt16BE(off + 2) * 4;
  }
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  if (off > end) return undefined;
  return {
    pt,
    marker: (b[1]! & 0x80) !== 0,
    seq: b.readUInt16BE(2),
    ts: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: Buffer.from(b.subarray(off, end)),
  };
}

export class RtpProbe {
  readonly received: ReceivedRtp[] = [];
  /** Everything that was not RTP (RTCP, garbage), with its source. */
  readonly other: { from: { address: string; port: number }; bytes: Buffer }[] = [];
  private seq: number;
  private ts: number;
  ssrc: number;
  pt = 0;
  private echo = false;
  private samples = 0;

  private constructor(
    readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    this.seq = Math.floor(Math.random() * 60000);
    this.ts = Math.floor(Math.random() * 2 ** 31);
    this.ssrc = Math.floor(Math.random() * 2 ** 32) >>> 0;
    socket.on('message', (msg, rinfo) => {
      const from = { address: rinfo.address, port: rinfo.port };
      const rtp = parseRtp(msg);
      if (rtp) {
        this.received.push({ from, ...rtp });
        if (this.echo) socket.send(msg, rinfo.port, rinfo.address);
      } else this.other.push({ from, bytes: msg });
    });
  }

  static async open(address = '127.0.0.1', port = 0): Promise<RtpProbe> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpProbe(socket, address, socket.address().port);
  }

  /** Echo every RTP packet back to its source (like `sipp -rtp_echo`). */
  setEcho(on: boolean): void {
    this.echo = on;
  }

  /** Sends `count` 20 ms G.711 packets (160 bytes of `fill`) to `to`, pacing a little. */
  async send(
    to: { address: string; port: number },
    count: number,
    opts: { fill?: number; pt?: number; gapMs?: number; toneHz?: number } = {},
  ): Promise<void> {
    for (let i = 0; i < count; i++) {
      let payload: Buffer;
      if (opts.toneHz) payload = toneUlaw(opts.toneHz, this.samples, 160);
      else {
        payload = Buffer.alloc(160, opts.fill ?? 0xd5);
        // Tag every packet with its sequence so an echo can be matched to what was sent.
        payload.writeUInt16BE(this.seq & 0xffff, 0);
      }
      this.samples += 160;
      this.sendRaw(
        to,
        rtpPacket({ pt: opts.pt ?? this.pt, seq: this.seq, ts: this.ts, ssrc: this.ssrc, payload }),
      );
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + 160) >>> 0;
      await sleep(opts.gapMs ?? 2);
    }
  }

  /** Moves the stream to a new SSRC and (optionally) restarts its sequence at `seq`. */
  switchSource(opts: { ssrc?: number; seq?: number; ts?: number }): void {
    if (opts.ssrc !== undefined) this.ssrc = opts.ssrc >>> 0;
    if (opts.seq !== undefined) this.seq = opts.seq & 0xffff;
    if (opts.ts !== undefined) this.ts = opts.ts >>> 0;
  }

  sendRaw(to: { address: string; port: number }, bytes: Buffer): void {
    this.socket.send(bytes, to.port, to.address);
  }

  clear(): void {
    this.received.length = 0;
    this.other.length = 0;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it holds or `timeoutMs` passes (generous: the machine is shared). */
export async function waitFor(
  cond: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Sequence numbers are in order (RFC 3550 §A.1 modular arithmetic) with no repeat. */
export function seqMonotonic(seqs: readonly number[]): boolean {
  for (let i = 1; i < seqs.length; i++) {
    const d = (seqs[i]! - seqs[i - 1]! + 0x10000) & 0xffff;
    if (d === 0 || d >= 0x8000) return false;
  }
  return true;
}

/** G.711 μ-law of one sample (ITU-T G.711), written here apart from the code under test. */
export function ulaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  return ~(sign | (exp << 4) | ((s >> (exp + 3)) & 0x0f)) & 0xff;
}

/** `n` samples of a sine at `freq` Hz (8 kHz), starting at sample `from`, as μ-law. */
export function toneUlaw(freq: number, from: number, n: number, amp = 8000): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = ulaw(amp * Math.sin((2 * Math.PI * freq * (from + i)) / 8000));
  return b;
}

/** Relative power of `freq` in `samples` (Goertzel), normalised by the signal's energy. */
export function goertzel(samples: ArrayLike<number>, freq: number, rate = 8000): number {
  const k = (2 * Math.cos((2 * Math.PI * freq) / rate)) as number;
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!;
    energy += x * x;
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy === 0 ? 0 : power / ((energy * samples.length) / 2);
}

/** μ-law byte to a linear sample. */
export function unulaw(u: number): number {
  u = ~u & 0xff;
  const mag = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84;
  return u & 0x80 ? -mag : mag;
}
