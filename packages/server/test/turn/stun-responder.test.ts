import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  StunAttr,
  StunMethod,
  checkFingerprint,
  decodeErrorCode,
  decodeStun,
  decodeXorAddress,
  encodeStun,
  getAttribute,
} from '@tfx/media/stun';
import { answerStun } from '../../src/turn/stun-responder.js';

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
const TID = hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');

// RFC 5769 §2.2 Sample IPv4 Response: 192.0.2.1 port 32853.
const SAMPLE_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);

function decoded(buf: Buffer) {
  const r = decodeStun(buf);
  if (!r.ok) throw new Error(`decode failed: ${r.error.kind} ${r.error.message}`);
  return r.message;
}

describe('STUN codec and responder against hostile datagrams', () => {
  const remote = { family: 'IPv4' as const, address: '127.0.0.1', port: 40000 };

  it('refuses short, non-STUN, wrong-cookie and wrong-length datagrams with a typed error', () => {
    expect(decodeStun(Buffer.alloc(0))).toMatchObject({ ok: false, error: { kind: 'too-short' } });
    expect(decodeStun(Buffer.alloc(19))).toMatchObject({ ok: false, error: { kind: 'too-short' } });
    const notStun = Buffer.from(SAMPLE_REQUEST);
    notStun[0] = 0x80;
    expect(decodeStun(notStun)).toMatchObject({ ok: false, error: { kind: 'not-stun' } });
    const badCookie = Buffer.from(SAMPLE_REQUEST);
    badCookie[4] = 0;
    expect(decodeStun(badCookie)).toMatchObject({ ok: false, error: { kind: 'bad-cookie' } });
    expect(decodeStun(SAMPLE_REQUEST.subarray(0, 100))).toMatchObject({
      ok: false,
      error: { kind: 'bad-length' },
    });
    const lying = Buffer.from(SAMPLE_REQUEST);
    lying.writeUInt16BE(0x0fff, 2);
    expect(decodeStun(lying)).toMatchObject({ ok: false, error: { kind: 'bad-length' } });
  });

  it('refuses an attribute whose length runs past the message', () => {
    const msg = Buffer.from(SAMPLE_REQUEST);
    msg.writeUInt16BE(0x00ff, 22); // SOFTWARE claims 255 bytes
    expect(decodeStun(msg)).toMatchObject({ ok: false, error: { kind: 'truncated-attribute' } });
  });

  it('refuses a FINGERPRINT that is not last (RFC 5389 §15.5)', () => {
    const out = encodeStun(
      { method: 1, class: 'request', transactionId: TID, attributes: [] },
      { fingerprint: true },
    );
    const extra = Buffer.concat([out, hex('80220004 41414141')]);
    extra.writeUInt16BE(extra.length - 20, 2);
    expect(decodeStun(extra)).toMatchObject({
      ok: false,
      error: { kind: 'misplaced-fingerprint' },
    });
  });

  it('drops a binding request whose FINGERPRINT is wrong', () => {
    const msg = Buffer.from(SAMPLE_REQUEST);
    msg.writeUInt8((msg.at(-1) ?? 0) ^ 1, msg.length - 1);
    expect(answerStun(msg, remote)).toEqual({ outcome: 'dropped-fingerprint' });
  });

  it('answers a Binding request with XOR-MAPPED-ADDRESS of the sender and a valid FINGERPRINT', () => {
    const req = encodeStun({ method: 1, class: 'request', transactionId: TID, attributes: [] });
    const ans = answerStun(req, remote);
    expect(ans.outcome).toBe('binding');
    const msg = decoded(ans.reply!);
    expect(msg.class).toBe('success');
    expect(msg.transactionId.equals(TID)).toBe(true);
    expect(checkFingerprint(msg)).toBe(true);
    expect(decodeXorAddress(getAttribute(msg, StunAttr.xorMappedAddress)!, TID)).toEqual(remote);
  });

  it('answers the RFC 5769 sample request (ICE attributes, credentials) with a success', () => {
    expect(answerStun(SAMPLE_REQUEST, remote).outcome).toBe('binding');
  });

  it('answers 420 with UNKNOWN-ATTRIBUTES for an unknown comprehension-required attribute (RFC 5389 §7.3.1)', () => {
    const req = encodeStun({
      method: 1,
      class: 'request',
      transactionId: TID,
      attributes: [
        { type: 0x7777, value: Buffer.from('x') },
        { type: 0xc001, value: Buffer.from('optional, ignored') },
      ],
    });
    const ans = answerStun(req, remote);
    expect(ans.outcome).toBe('unknown-attribute');
    const msg = decoded(ans.reply!);
    expect(msg.class).toBe('error');
    expect(decodeErrorCode(getAttribute(msg, StunAttr.errorCode)!)?.code).toBe(420);
    expect(getAttribute(msg, StunAttr.unknownAttributes)?.toString('hex')).toBe('7777');
  });

  it('answers 400 to methods other than Binding and ignores indications and responses', () => {
    const alloc = encodeStun({
      method: StunMethod.allocate,
      class: 'request',
      transactionId: TID,
      attributes: [],
    });
    expect(answerStun(alloc, remote).outcome).toBe('bad-request');
    const ind = encodeStun({ method: 1, class: 'indication', transactionId: TID, attributes: [] });
    expect(answerStun(ind, remote)).toEqual({ outcome: 'dropped-not-request' });
    expect(answerStun(SAMPLE_IPV4_RESPONSE, remote)).toEqual({ outcome: 'dropped-not-request' });
  });

  it('never throws on arbitrary bytes, nor on mutated valid requests', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const a = answerStun(bytes, remote);
        expect(a.outcome).toBeTypeOf('string');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: SAMPLE_REQUEST.length - 1 }),
            fc.integer({ min: 0, max: 255 }),
          ),
          { maxLength: 8 },
        ),
        fc.integer({ min: 20, max: SAMPLE_REQUEST.length }),
        (edits, cut) => {
          const b = Buffer.from(SAMPLE_REQUEST.subarray(0, cut));
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          const a = answerStun(b, remote);
          if (a.reply) expect(decodeStun(a.reply).ok).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
