/**
 * Lawful intercept's delivery points (docs/sbc.md, "Lawful intercept"): the UDP mirror and the
 * PCAP files. Each intercepted call has a channel with its own UDP socket on
 * `sbc.intercept.mediaAddress`, where the media engine forwards the call's RTP both ways
 * (`forward`); the channel tells the directions apart by the engine's source port (built-in) or
 * the port it arrived at (rtpengine: `port` carries leg a's media, `port + 2` leg b's).
 *
 * The mirror's datagram (big-endian), one per SIP message, RTP packet or event:
 *
 *   0  4  "TFXL"                 magic
 *   4  1  1                      version
 *   5  1  kind                   1 SIP message, 2 RTP/RTCP packet, 3 event (JSON)
 *   6  1  leg                    'a' (0x61) caller's leg, 'b' (0x62) callee's, '-' event
 *   7  1  direction              'i' (0x69) the SBC received it from that leg's party,
 *                                'o' (0x6f) the SBC sent it to that party, '-' event
 *   8  8  time                   µs since the Unix epoch
 *  16  1  N                      length of the correlation id
 *  17  N  correlation id         ASCII (`li-` + 16 hex), one per intercepted call
 *  17+N   payload                the message or packet as on the wire; an event's JSON
 *
 * RTP is copied as the SBC sends it: leg b 'o' is the caller's voice on its way to the callee,
 * leg a 'o' the callee's. Events: `{"event":"start","target":…,"kind":…}` and `{"event":"end"}`.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { pcapFileHeader, pcapRecord } from '@tfx/protocol';
import type {
  InterceptChannel,
  InterceptDelivery,
  InterceptRecord,
  InterceptTarget,
  MediaLegMap,
} from '@tfx/sbc';
import type { Logger } from '../log.js';

const MAGIC = [0x54, 0x46, 0x58, 0x4c];
export const LI_KIND = { sip: 1, rtp: 2, event: 3 } as const;
/** Packets held while the channel does not yet know which engine port is which leg. */
const MAX_PENDING = 500;
/** Largest payload a mirror datagram carries (the rest is cut: IPv4 UDP's limit minus header). */
const MAX_PAYLOAD = 65_507 - 17 - 64;

/** The mirror header + payload (see the file comment). */
export function liDatagram(
  kind: keyof typeof LI_KIND,
  leg: 'a' | 'b' | '-',
  direction: 'i' | 'o' | '-',
  atMs: number,
  correlationId: string,
  payload: Uint8Array,
): Buffer {
  const id = Buffer.from(correlationId.slice(0, 64), 'latin1');
  const body = payload.subarray(0, MAX_PAYLOAD);
  const out = Buffer.allocUnsafe(17 + id.length + body.length);
  out.set(MAGIC, 0);
  out[4] = 1;
  out[5] = LI_KIND[kind];
  out[6] = leg.charCodeAt(0);
  out[7] = direction.charCodeAt(0);
  out.writeBigUInt64BE(BigInt(Math.max(0, Math.round(atMs * 1000))), 8);
  out[16] = id.length;
  id.copy(out, 17);
  out.set(body, 17 + id.length);
  return out;
}

/** A mirror datagram read back (tests, tools); undefined when it is not one. */
export function parseLiDatagram(b: Buffer):
  | {
      kind: number;
      leg: string;
      direction: string;
      atUs: bigint;
      correlationId: string;
      payload: Buffer;
    }
  | undefined {
  if (b.length < 17 || !MAGIC.every((m, i) => b[i] === m) || b[4] !== 1) return undefined;
  const n = b[16] as number;
  if (b.length < 17 + n) return undefined;
  return {
    kind: b[5] as number,
    leg: String.fromCharCode(b[6] as number),
    direction: String.fromCharCode(b[7] as number),
    atUs: b.readBigUInt64BE(8),
    correlationId: b.subarray(17, 17 + n).toString('latin1'),
    payload: b.subarray(17 + n),
  };
}

export interface InterceptDeliveryOptions {
  /** The mirror `ADDRESS:PORT` (`[::1]:9000`); undefined: none. */
  readonly udp: string | undefined;
  /** A PCAP file per call in this folder; undefined: none. */
  readonly filesDir: string | undefined;
  /** Where the engine forwards media copies (the channels' sockets bind it). */
  readonly mediaAddress: string;
  readonly logger: Logger;
}

export class LiDelivery implements InterceptDelivery {
  readonly counters = { packets: 0, dropped: 0 };
  readonly #o: InterceptDeliveryOptions;
  readonly #mirror: { address: string; port: number } | undefined;
  #sender: Socket | undefined;
  readonly #channels = new Set<Channel>();
  #closed = false;

  constructor(o: InterceptDeliveryOptions) {
    this.#o = o;
    const m = o.udp && /^\[?([^\]]+?)\]?:(\d+)$/.exec(o.udp);
    this.#mirror = m ? { address: m[1] as string, port: Number(m[2]) } : undefined;
    if (o.filesDir) mkdirSync(o.filesDir, { recursive: true, mode: 0o700 });
  }

  get enabled(): boolean {
    return this.#mirror !== undefined || this.#o.filesDir !== undefined;
  }

  async open(o: {
    correlationId: string;
    call: string;
    target: InterceptTarget;
    at: number;
    pair: boolean;
  }): Promise<InterceptChannel> {
    if (this.#closed) throw new Error('the LI delivery is closed');
    if (!this.enabled) throw new Error('no LI delivery point configured (sbc.intercept)');
    const sockets = await bindMedia(this.#o.mediaAddress, o.pair);
    const ch = new Channel(this, o.correlationId, sockets, this.#pcapFile(o));
    this.#channels.add(ch);
    ch.event(o.at, { event: 'start', target: o.target.id, kind: o.target.kind });
    return ch;
  }

  close(): void {
    this.#closed = true;
    for (const c of [...this.#channels]) c.close();
    this.#sender?.close();
    this.#sender = undefined;
  }

  /** @internal a channel is done */
  forget(c: Channel): void {
    this.#channels.delete(c);
  }

  /** @internal one datagram to the mirror */
  mirror(d: Buffer): void {
    const m = this.#mirror;
    if (!m || this.#closed) return;
    if (!this.#sender) {
      this.#sender = createSocket(m.address.includes(':') ? 'udp6' : 'udp4');
      this.#sender.on('error', (err) => {
        this.counters.dropped++;
        this.#o.logger.debug({ err: err.message }, 'sbc: LI mirror socket error');
      });
    }
    this.#sender.send(d, m.port, m.address, (err) => {
      if (err) this.counters.dropped++;
    });
  }

  #pcapFile(o: {
    correlationId: string;
    call: string;
    target: InterceptTarget;
    at: number;
  }): number | undefined {
    const dir = this.#o.filesDir;
    if (!dir) return undefined;
    writeFileSync(
      join(dir, `${o.correlationId}.json`),
      JSON.stringify({
        correlationId: o.correlationId,
        call: o.call,
        target: o.target,
        start: new Date(o.at).toISOString(),
      }),
      { mode: 0o600 },
    );
    const fd = openSync(join(dir, `${o.correlationId}.pcap`), 'w', 0o600);
    writeSync(fd, pcapFileHeader());
    return fd;
  }
}

/** A socket (or two: `port` and `port + 2`) on the media address, port chosen at random. */
async function bindMedia(address: string, pair: boolean): Promise<Socket[]> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const bind = (port: number): Promise<Socket | undefined> =>
    new Promise((resolve) => {
      const s = createSocket(type);
      s.once('error', () => {
        s.close();
        resolve(undefined);
      });
      s.bind(port, address, () => resolve(s));
    });
  if (!pair) {
    const s = await bind(0);
    if (!s) throw new Error(`cannot bind a UDP socket on ${address}`);
    return [s];
  }
  for (let i = 0; i < 50; i++) {
    const p = 30000 + 2 * Math.floor(Math.random() * 14000);
    const a = await bind(p);
    if (!a) continue;
    const b = await bind(p + 2);
    if (b) return [a, b];
    a.close();
  }
  throw new Error(`no free port pair on ${address}`);
}

type Remotes = {
  readonly a?: { readonly address: string; readonly port: number };
  readonly b?: { readonly address: string; readonly port: number };
};

class Channel implements InterceptChannel {
  readonly mediaAddress: { address: string; port: number };
  #map: MediaLegMap | undefined;
  #remotes: Remotes = {};
  #pending: Array<{ msg: Buffer; rinfo: RemoteInfo; socket: number; at: number }> = [];
  #closed = false;

  constructor(
    readonly delivery: LiDelivery,
    readonly correlationId: string,
    readonly sockets: Socket[],
    public fd: number | undefined,
  ) {
    const a = sockets[0]!.address();
    this.mediaAddress = { address: a.address, port: a.port };
    sockets.forEach((s, i) => {
      s.on('message', (msg, rinfo) => this.#packet(msg, rinfo, i, Date.now()));
      s.on('error', () => this.delivery.counters.dropped++);
    });
  }

  deliver(r: InterceptRecord): void {
    if (this.#closed) return;
    this.delivery.mirror(
      liDatagram(
        r.kind,
        r.leg,
        r.direction === 'in' ? 'i' : 'o',
        r.at,
        this.correlationId,
        r.bytes,
      ),
    );
    this.#write(r.src, r.dst, r.bytes, r.at);
  }

  media(map: MediaLegMap, remotes: Remotes): void {
    this.#map = map;
    this.#remotes = remotes;
    const held = this.#pending;
    this.#pending = [];
    for (const p of held) this.#packet(p.msg, p.rinfo, p.socket, p.at);
  }

  event(at: number, e: Record<string, unknown>): void {
    this.delivery.mirror(
      liDatagram('event', '-', '-', at, this.correlationId, Buffer.from(JSON.stringify(e))),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.event(Date.now(), { event: 'end' });
    this.#closed = true;
    for (const s of this.sockets) s.close();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.delivery.forget(this);
  }

  #packet(msg: Buffer, rinfo: RemoteInfo, socket: number, at: number): void {
    if (this.#closed) return;
    const map = this.#map;
    if (!map) {
      if (this.#pending.length < MAX_PENDING) this.#pending.push({ msg, rinfo, socket, at });
      else this.delivery.counters.dropped++;
      return;
    }
    let leg: 'a' | 'b';
    if (map.by === 'source') {
      // The built-in engine sends each copy from the socket toward the party it goes to.
      leg = rinfo.port === map.a ? 'a' : 'b';
    } else leg = socket === 0 ? 'b' : 'a'; // rtpengine: port carries a's media (to b), port+2 b's
    this.delivery.counters.packets++;
    this.delivery.mirror(liDatagram('rtp', leg, 'o', at, this.correlationId, msg));
    const dst = this.#remotes[leg] ?? this.mediaAddress;
    this.#write({ address: rinfo.address, port: rinfo.port }, dst, msg, at);
  }

  #write(
    src: { address: string; port: number },
    dst: { address: string; port: number },
    bytes: Uint8Array,
    at: number,
  ): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, pcapRecord(src, dst, bytes, at));
    } catch {
      // Disk full: the file stops here, counted; the call and the mirror go on.
      this.delivery.counters.dropped++;
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
