import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  StunAttr,
  StunMethod,
  checkFingerprint,
  checkIntegrity,
  crc32,
  decodeErrorCode,
  decodeStun,
  decodeXorAddress,
  encodeErrorCode,
  encodeStun,
  encodeXorAddress,
  getAttribute,
  longTermKey,
  messageType,
} from '../../src/stun/codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 §2.1 Sample Request (short-term credentials; padding bytes are 0x20).
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
const SHORT_TERM_PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const TID = hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');

// RFC 5769 §2.2 Sample IPv4 Response: 192.0.2.1 port 32853.
const SAMPLE_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);

// RFC 5769 §2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
const SAMPLE_IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

// RFC 5769 §2.4 Sample Request with Long-Term Authentication (no FINGERPRINT).
const SAMPLE_LONG_TERM_REQUEST = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

function decoded(buf: Buffer) {
  const r = decodeStun(buf);
  if (!r.ok) throw new Error(`decode failed: ${r.error.kind} ${r.error.message}`);
  return r.message;
}

describe('STUN codec against the RFC 5769 test vectors', () => {
  it('decodes the §2.1 sample request and verifies its MESSAGE-INTEGRITY and FINGERPRINT', () => {
    const msg = decoded(SAMPLE_REQUEST);
    expect(msg.method).toBe(StunMethod.binding);
    expect(msg.class).toBe('request');
    expect(msg.transactionId.equals(TID)).toBe(true);
    expect(getAttribute(msg, StunAttr.software)?.toString()).toBe('STUN test client');
    expect(getAttribute(msg, StunAttr.username)?.toString()).toBe('evtj:h6vY');
    expect(checkIntegrity(msg, Buffer.from(SHORT_TERM_PASSWORD))).toBe(true);
    expect(checkIntegrity(msg, Buffer.from('wrong password'))).toBe(false);
    expect(checkFingerprint(msg)).toBe(true);
  });

  it('encodes the §2.1 sample request byte for byte (integrity then fingerprint, 0x20 padding)', () => {
    const out = encodeStun(
      {
        method: StunMethod.binding,
        class: 'request',
        transactionId: TID,
        attributes: [
          { type: StunAttr.software, value: Buffer.from('STUN test client') },
          { type: StunAttr.priority, value: hex('6e0001ff') },
          { type: StunAttr.iceControlled, value: hex('932ff9b151263b36') },
          { type: StunAttr.username, value: Buffer.from('evtj:h6vY') },
        ],
      },
      { integrityKey: Buffer.from(SHORT_TERM_PASSWORD), fingerprint: true, padding: 0x20 },
    );
    expect(out.toString('hex')).toBe(SAMPLE_REQUEST.toString('hex'));
  });

  it('encodes the §2.2 IPv4 response byte for byte with XOR-MAPPED-ADDRESS 192.0.2.1:32853', () => {
    const out = encodeStun(
      {
        method: StunMethod.binding,
        class: 'success',
        transactionId: TID,
        attributes: [
          { type: StunAttr.software, value: Buffer.from('test vector') },
          {
            type: StunAttr.xorMappedAddress,
            value: encodeXorAddress({ family: 'IPv4', address: '192.0.2.1', port: 32853 }, TID),
          },
        ],
      },
      { integrityKey: Buffer.from(SHORT_TERM_PASSWORD), fingerprint: true, padding: 0x20 },
    );
    expect(out.toString('hex')).toBe(SAMPLE_IPV4_RESPONSE.toString('hex'));
    const msg = decoded(SAMPLE_IPV4_RESPONSE);
    expect(msg.class).toBe('success');
    expect(checkFingerprint(msg)).toBe(true);
    expect(decodeXorAddress(getAttribute(msg, StunAttr.xorMappedAddress)!, TID)).toEqual({
      family: 'IPv4',
      address: '192.0.2.1',
      port: 32853,
    });
  });

  it('encodes and decodes the §2.3 IPv6 response byte for byte', () => {
    const addr = {
      family: 'IPv6' as const,
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
    };
    const out = encodeStun(
      {
        method: StunMethod.binding,
        class: 'success',
        transactionId: TID,
        attributes: [
          { type: StunAttr.software, value: Buffer.from('test vector') },
          { type: StunAttr.xorMappedAddress, value: encodeXorAddress(addr, TID) },
        ],
      },
      { integrityKey: Buffer.from(SHORT_TERM_PASSWORD), fingerprint: true, padding: 0x20 },
    );
    expect(out.toString('hex')).toBe(SAMPLE_IPV6_RESPONSE.toString('hex'));
    const msg = decoded(SAMPLE_IPV6_RESPONSE);
    expect(checkIntegrity(msg, Buffer.from(SHORT_TERM_PASSWORD))).toBe(true);
    expect(decodeXorAddress(getAttribute(msg, StunAttr.xorMappedAddress)!, TID)).toEqual(addr);
  });

  it('verifies the §2.4 long-term request with key MD5(username:realm:password)', () => {
    const msg = decoded(SAMPLE_LONG_TERM_REQUEST);
    const username = getAttribute(msg, StunAttr.username)!.toString('utf8');
    const realm = getAttribute(msg, StunAttr.realm)!.toString('utf8');
    expect(username).toBe('\u30de\u30c8\u30ea\u30c3\u30af\u30b9');
    expect(realm).toBe('example.org');
    expect(getAttribute(msg, StunAttr.nonce)!.toString()).toBe('f//499k954d6OL34oL9FSTvy64sA');
    // The password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep.
    expect(checkIntegrity(msg, longTermKey(username, realm, 'TheMatrIX'))).toBe(true);
    expect(checkFingerprint(msg)).toBeUndefined();
    const out = encodeStun(
      {
        method: StunMethod.binding,
        class: 'request',
        transactionId: msg.transactionId,
        attributes: [
          { type: StunAttr.username, value: Buffer.from(username) },
          { type: StunAttr.nonce, value: Buffer.from('f//499k954d6OL34oL9FSTvy64sA') },
          { type: StunAttr.realm, value: Buffer.from(realm) },
        ],
      },
      { integrityKey: longTermKey(username, realm, 'TheMatrIX') },
    );
    expect(out.toString('hex')).toBe(SAMPLE_LONG_TERM_REQUEST.toString('hex'));
  });
});

describe('STUN codec details', () => {
  it('computes CRC-32 as zlib does (check value of "123456789" is 0xCBF43926)', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('places the class bits as RFC 5389 §6 shows (Binding success 0x0101, Allocate error 0x0113)', () => {
    expect(messageType(StunMethod.binding, 'request')).toBe(0x0001);
    expect(messageType(StunMethod.binding, 'success')).toBe(0x0101);
    expect(messageType(StunMethod.binding, 'error')).toBe(0x0111);
    expect(messageType(StunMethod.allocate, 'error')).toBe(0x0113);
    expect(messageType(StunMethod.binding, 'indication')).toBe(0x0011);
  });

  it('round-trips ERROR-CODE (RFC 5389 §15.6) and XOR addresses for any port and IPv4 address', () => {
    expect(decodeErrorCode(encodeErrorCode(420, 'Unknown Attribute'))).toEqual({
      code: 420,
      reason: 'Unknown Attribute',
    });
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.integer({ min: 0, max: 65535 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        (ip, port, tid) => {
          const t = Buffer.from(tid);
          const a = { family: 'IPv4' as const, address: ip, port };
          expect(decodeXorAddress(encodeXorAddress(a, t), t)).toEqual(a);
        },
      ),
    );
  });

  it('round-trips IPv6 XOR addresses in their RFC 5952 text form', () => {
    for (const address of [
      '::1',
      '::',
      'fe80::1',
      '2001:db8::8:800:200c:417a',
      '1:0:0:1:0:0:0:1',
    ]) {
      const a = { family: 'IPv6' as const, address, port: 1 };
      const back = decodeXorAddress(encodeXorAddress(a, TID), TID)!;
      expect(back.address).toBe(address === '1:0:0:1:0:0:0:1' ? '1:0:0:1::1' : address);
    }
  });
});
