/**
 * STUN message codec (RFC 5389): a pure function from bytes to a typed message or a typed parse
 * error, and back. No sockets, timers or logging. Used by the built-in STUN responder and by the
 * coturn integration test's minimal TURN client (RFC 5766 methods share this framing).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * |                         Magic Cookie                          |
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_BYTES = 20;
/** RFC 5389 §15.5: the FINGERPRINT value is CRC-32 of the message XOR'ed with 0x5354554e. */
export const FINGERPRINT_XOR = 0x5354554e;

export const StunMethod = {
  binding: 0x001,
  // RFC 5766 (TURN)
  allocate: 0x003,
  refresh: 0x004,
  createPermission: 0x008,
} as const;

export const StunAttr = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  unknownAttributes: 0x000a,
  realm: 0x0014,
  nonce: 0x0015,
  xorMappedAddress: 0x0020,
  software: 0x8022,
  alternateServer: 0x8023,
  fingerprint: 0x8028,
  // RFC 5766 (TURN)
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  // RFC 8445 (ICE)
  priority: 0x0024,
  useCandidate: 0x0025,
  iceControlled: 0x8029,
  iceControlling: 0x802a,
} as const;

export type StunClass = 'request' | 'indication' | 'success' | 'error';

export interface StunAttribute {
  readonly type: number;
  /** The value without padding (a view into the original datagram when decoded). */
  readonly value: Buffer;
  /** Offset of the attribute header in the original message (decoded messages only). */
  readonly offset?: number;
}

export interface StunMessage {
  readonly method: number;
  readonly class: StunClass;
  /** 12 bytes. */
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
  /** The original bytes (decoded messages only): integrity and fingerprint are checked on them. */
  readonly raw?: Buffer;
}

export type StunParseErrorKind =
  | 'too-short'
  | 'not-stun'
  | 'bad-cookie'
  | 'bad-length'
  | 'truncated-attribute'
  | 'too-many-attributes'
  | 'misplaced-fingerprint'
  | 'attribute-after-integrity';

export interface StunParseError {
  readonly kind: StunParseErrorKind;
  readonly message: string;
}

export type StunParseResult =
  | { readonly ok: true; readonly message: StunMessage }
  | { readonly ok: false; readonly error: StunParseError };

/** Largest message decoded; larger datagrams are refused as `bad-length` before any parsing. */
export const MAX_MESSAGE_BYTES = 4096;
const MAX_ATTRIBUTES = 64;

const fail = (kind: StunParseErrorKind, message: string): StunParseResult => ({
  ok: false,
  error: { kind, message },
});

const CLASS_BITS: Record<StunClass, number> = {
  request: 0x000,
  indication: 0x010,
  success: 0x100,
  error: 0x110,
};

/** RFC 5389 §6: the class bits C1 C0 sit at bits 8 and 4 of the type; the method fills the rest. */
export function messageType(method: number, cls: StunClass): number {
  const m = method & 0xfff;
  return ((m & 0xf80) << 2) | ((m & 0x070) << 1) | (m & 0x00f) | CLASS_BITS[cls];
}

function splitType(type: number): { method: number; cls: StunClass } {
  const method = ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f);
  const c = type & 0x0110;
  const cls: StunClass =
    c === 0x000 ? 'request' : c === 0x010 ? 'indication' : c === 0x100 ? 'success' : 'error';
  return { method, cls };
}

/** True if the datagram could be STUN at all (cheap check before decoding, RFC 5389 §6). */
export function looksLikeStun(buf: Uint8Array): boolean {
  return (
    buf.length >= HEADER_BYTES &&
    (buf[0]! & 0xc0) === 0 &&
    buf[4] === 0x21 &&
    buf[5] === 0x12 &&
    buf[6] === 0xa4 &&
    buf[7] === 0x42
  );
}

export function decodeStun(input: Uint8Array): StunParseResult {
  const buf = Buffer.isBuffer(input)
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.length);
  if (buf.length < HEADER_BYTES) return fail('too-short', `${buf.length} bytes < 20-byte header`);
  if (buf.length > MAX_MESSAGE_BYTES)
    return fail('bad-length', `${buf.length} bytes > ${MAX_MESSAGE_BYTES}`);
  const type = buf.readUInt16BE(0);
  // RFC 5389 §6: "The most significant 2 bits of every STUN message MUST be zeroes."
  if ((type & 0xc000) !== 0) return fail('not-stun', 'the first two bits are not zero');
  // RFC 5389 §6: "The magic cookie field MUST contain the fixed value 0x2112A442".
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return fail('bad-cookie', 'no magic cookie');
  const length = buf.readUInt16BE(2);
  // RFC 5389 §6: the length excludes the header and is a multiple of 4 (attributes are padded).
  if (length % 4 !== 0) return fail('bad-length', `length ${length} is not a multiple of 4`);
  if (length !== buf.length - HEADER_BYTES)
    return fail('bad-length', `length ${length} but ${buf.length - HEADER_BYTES} bytes follow`);

  const attributes: StunAttribute[] = [];
  let offset = HEADER_BYTES;
  let sawIntegrity = false;
  while (offset < buf.length) {
    if (attributes.length >= MAX_ATTRIBUTES)
      return fail('too-many-attributes', `more than ${MAX_ATTRIBUTES} attributes`);
    if (offset + 4 > buf.length)
      return fail('truncated-attribute', `attribute header at ${offset} is cut`);
    const attrType = buf.readUInt16BE(offset);
    const attrLen = buf.readUInt16BE(offset + 2);
    const padded = (attrLen + 3) & ~3;
    if (offset + 4 + padded > buf.length)
      return fail(
        'truncated-attribute',
        `attribute 0x${attrType.toString(16)} at ${offset} overruns`,
      );
    if (sawIntegrity && attrType !== StunAttr.fingerprint)
      // RFC 5389 §15.4: attributes after MESSAGE-INTEGRITY (other than FINGERPRINT) are ignored;
      // we refuse them outright, since nothing legitimate sends them.
      return fail(
        'attribute-after-integrity',
        `attribute 0x${attrType.toString(16)} after MESSAGE-INTEGRITY`,
      );
    if (attrType === StunAttr.messageIntegrity) sawIntegrity = true;
    attributes.push({
      type: attrType,
      value: buf.subarray(offset + 4, offset + 4 + attrLen),
      offset,
    });
    offset += 4 + padded;
    // RFC 5389 §15.5: "When present, the FINGERPRINT attribute MUST be the last attribute in
    // the message".
    if (attrType === StunAttr.fingerprint && offset !== buf.length)
      return fail('misplaced-fingerprint', 'FINGERPRINT is not the last attribute');
  }
  const { method, cls } = splitType(type);
  return {
    ok: true,
    message: {
      method,
      class: cls,
      transactionId: buf.subarray(8, 20),
      attributes,
      raw: buf,
    },
  };
}

export function getAttribute(msg: StunMessage, type: number): Buffer | undefined {
  return msg.attributes.find((a) => a.type === type)?.value;
}

export interface EncodeOptions {
  /** Key for MESSAGE-INTEGRITY (HMAC-SHA1): the password for short-term credentials, or
   * `longTermKey(username, realm, password)` for long-term ones. */
  readonly integrityKey?: Buffer | undefined;
  /** Append FINGERPRINT (CRC-32). */
  readonly fingerprint?: boolean | undefined;
  /** Byte used for attribute padding (RFC 5389 allows any value; RFC 5769 vectors use 0x20). */
  readonly padding?: number | undefined;
}

function attrBytes(type: number, value: Uint8Array, pad: number): Buffer {
  const padded = (value.length + 3) & ~3;
  const out = Buffer.alloc(4 + padded, pad);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  out.set(value, 4);
  return out;
}

export function encodeStun(msg: StunMessage, options: EncodeOptions = {}): Buffer {
  if (msg.transactionId.length !== 12) throw new RangeError('transaction id must be 12 bytes');
  const pad = options.padding ?? 0;
  const parts = msg.attributes.map((a) => attrBytes(a.type, a.value, pad));
  let body = Buffer.concat(parts);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(messageType(msg.method, msg.class), 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  msg.transactionId.copy(header, 8);

  if (options.integrityKey) {
    // RFC 5389 §15.4: the HMAC covers the message up to the attribute, with the length field
    // already counting the MESSAGE-INTEGRITY attribute (24 bytes) but not what follows it.
    header.writeUInt16BE(body.length + 24, 2);
    const hmac = createHmac('sha1', options.integrityKey).update(header).update(body).digest();
    body = Buffer.concat([body, attrBytes(StunAttr.messageIntegrity, hmac, pad)]);
  }
  if (options.fingerprint) {
    // RFC 5389 §15.5: CRC-32 of the message up to FINGERPRINT, length including its 8 bytes.
    header.writeUInt16BE(body.length + 8, 2);
    const value = Buffer.alloc(4);
    value.writeUInt32BE((crc32(Buffer.concat([header, body])) ^ FINGERPRINT_XOR) >>> 0, 0);
    body = Buffer.concat([body, attrBytes(StunAttr.fingerprint, value, pad)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** The header with its length field set to `length`, followed by the message body up to `end`. */
function prefixWithLength(raw: Buffer, end: number, length: number): Buffer {
  const copy = Buffer.from(raw.subarray(0, end));
  copy.writeUInt16BE(length, 2);
  return copy;
}

/** `undefined` when the message has no FINGERPRINT; otherwise whether it is correct. */
export function checkFingerprint(msg: StunMessage): boolean | undefined {
  const attr = msg.attributes.find((a) => a.type === StunAttr.fingerprint);
  if (!attr) return undefined;
  if (!msg.raw || attr.offset === undefined || attr.value.length !== 4) return false;
  const covered = prefixWithLength(msg.raw, attr.offset, attr.offset + 8 - HEADER_BYTES);
  return attr.value.readUInt32BE(0) === (crc32(covered) ^ FINGERPRINT_XOR) >>> 0;
}

/** `undefined` when the message has no MESSAGE-INTEGRITY; otherwise whether it verifies. */
export function checkIntegrity(msg: StunMessage, key: Buffer): boolean | undefined {
  const attr = msg.attributes.find((a) => a.type === StunAttr.messageIntegrity);
  if (!attr) return undefined;
  if (!msg.raw || attr.offset === undefined || attr.value.length !== 20) return false;
  const covered = prefixWithLength(msg.raw, attr.offset, attr.offset + 24 - HEADER_BYTES);
  const expected = createHmac('sha1', key).update(covered).digest();
  return timingSafeEqual(expected, attr.value);
}

/** RFC 5389 §15.4: long-term credential key = MD5(username ":" realm ":" SASLprep(password)). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

export interface TransportAddress {
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
}

function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new RangeError(`not an IP address: ${address}`);
  const [head = '', tail] = address.split('::');
  const groups = (s: string | undefined): string[] => (s ? s.split(':') : []);
  let hs = groups(head);
  let ts = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const expand = (g: string[]): string[] =>
    g.flatMap((x) => {
      if (!x.includes('.')) return [x];
      const b = x.split('.').map(Number);
      return [
        (((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16),
        (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16),
      ];
    });
  hs = expand(hs);
  ts = expand(ts);
  const fill = tail === undefined ? [] : new Array<string>(8 - hs.length - ts.length).fill('0');
  const all = [...hs, ...fill, ...ts];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipString(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // RFC 5952 §4.2: the longest run (≥ 2) of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** RFC 5389 §15.2: XOR-MAPPED-ADDRESS (also XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS). */
export function encodeXorAddress(addr: TransportAddress, transactionId: Buffer): Buffer {
  const ip = ipBytes(addr.address);
  const out = Buffer.alloc(4 + ip.length);
  out.writeUInt8(ip.length === 4 ? 0x01 : 0x02, 1);
  // X-Port is the port XOR'ed with the most significant 16 bits of the magic cookie.
  out.writeUInt16BE((addr.port ^ (MAGIC_COOKIE >>> 16)) & 0xffff, 2);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4);
  for (let i = 0; i < ip.length; i++) out[4 + i] = ip[i]! ^ mask[i]!;
  return out;
}

export function decodeXorAddress(
  value: Buffer,
  transactionId: Buffer,
): TransportAddress | undefined {
  if (value.length < 4) return undefined;
  const family = value[1];
  const len = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (len === 0 || value.length !== 4 + len) return undefined;
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4);
  const ip = Buffer.alloc(len);
  for (let i = 0; i < len; i++) ip[i] = value[4 + i]! ^ mask[i]!;
  return {
    family: len === 4 ? 'IPv4' : 'IPv6',
    address: ipString(ip),
    port: (value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16)) & 0xffff,
  };
}

/** RFC 5389 §15.6: ERROR-CODE = class (hundreds) and number, then a UTF-8 reason phrase. */
export function encodeErrorCode(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(4 + text.length);
  out.writeUInt8(Math.floor(code / 100) & 0x07, 2);
  out.writeUInt8(code % 100, 3);
  text.copy(out, 4);
  return out;
}

export function decodeErrorCode(value: Buffer): { code: number; reason: string } | undefined {
  if (value.length < 4) return undefined;
  return {
    code: (value[2]! & 0x07) * 100 + value[3]!,
    reason: value.subarray(4).toString('utf8'),
  };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309 / ITU-T V.42, as in zlib), as RFC 5389 §15.5 asks. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
