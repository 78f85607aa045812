import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BencodeError,
  decode,
  decodeDict,
  encode,
  type BValue,
} from '../../src/rtpengine/bencode.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function reasonOf(input: string, opts?: { maxDepth?: number }): string {
  try {
    decode(b(input), opts);
  } catch (e) {
    expect(e).toBeInstanceOf(BencodeError);
    return (e as BencodeError).reason;
  }
  return 'decoded';
}

describe('bencode (BEP 3, the ng protocol encoding)', () => {
  it('decodes the four types as rtpengine sends them', () => {
    expect(decode(b('i42e'))).toBe(42);
    expect(decode(b('i-7e'))).toBe(-7);
    expect(decode(b('i0e'))).toBe(0);
    expect(decode(b('4:spam'))).toBe('spam');
    expect(decode(b('0:'))).toBe('');
    expect(decode(b('l4:spami3ee'))).toEqual(['spam', 3]);
    expect(decodeDict(b('d6:result4:ponge'))).toEqual({ result: 'pong' });
    expect(decode(b('d3:sdp5:v=0\r\n5:flagsl13:trust-addressee'))).toEqual({
      sdp: 'v=0\r\n',
      flags: ['trust-address'],
    });
  });

  it('returns byte strings as bytes when asked', () => {
    expect(decode(b('3:\x00\xff\x80'), { bytes: true })).toEqual(Uint8Array.of(0, 255, 128));
  });

  it('accepts dictionary keys out of order (rtpengine does not sort its replies)', () => {
    expect(decode(b('d1:bi1e1:ai2ee'))).toEqual({ a: 2, b: 1 });
  });

  it('encodes with keys in byte order and leaves out undefined entries', () => {
    expect(encode({ command: 'ping' }).toString()).toBe('d7:command4:pinge');
    expect(
      encode({ b: 1, a: ['x', 2], c: undefined } as unknown as Record<string, BValue>).toString(),
    ).toBe('d1:al1:xi2ee1:bi1ee');
    expect(encode('é').toString('latin1')).toBe('2:\xc3\xa9');
    expect(encode(Uint8Array.of(1, 2)).toString('latin1')).toBe('2:\x01\x02');
  });

  it.each([
    ['', 'truncated'],
    ['i42', 'truncated'],
    ['l', 'truncated'],
    ['d3:key', 'truncated'],
    ['5:abc', 'bad-length'],
    ['99999999999999:x', 'bad-length'],
    ['999999999999999999999:x', 'bad-length'],
    ['-1:x', 'unexpected-byte'],
    ['01:x', 'bad-length'],
    ['i01e', 'bad-integer'],
    ['i-0e', 'bad-integer'],
    ['ie', 'bad-integer'],
    ['i1.5e', 'bad-integer'],
    ['i99999999999999999e', 'bad-integer'],
    ['i9007199254740993e', 'bad-integer'],
    ['x', 'unexpected-byte'],
    ['di1ei2ee', 'bad-key'],
    ['d1:ai1e1:ai2ee', 'bad-key'],
    ['i1ei2e', 'trailing-bytes'],
    ['4:spam ', 'trailing-bytes'],
  ])('refuses %j with reason %s', (input, reason) => {
    expect(reasonOf(input)).toBe(reason);
  });

  it('refuses nesting deeper than maxDepth without overflowing the stack', () => {
    expect(reasonOf('l'.repeat(100_000) + 'e'.repeat(100_000))).toBe('too-deep');
    expect(reasonOf('llee', { maxDepth: 1 })).toBe('too-deep');
    expect(decode(b('llee'), { maxDepth: 2 })).toEqual([[]]);
  });

  it('refuses values bencode cannot carry', () => {
    for (const v of [1.5, NaN, Infinity, null, true, () => 1, 2 ** 60]) {
      expect(() => encode(v as unknown as BValue)).toThrow(BencodeError);
    }
  });

  const value: fc.Arbitrary<BValue> = fc.letrec<{ v: BValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.maxSafeInteger(),
      fc.array(tie('v'), { maxLength: 5 }),
      fc
        .dictionary(fc.string({ maxLength: 10 }), tie('v'), { maxKeys: 5 })
        .map((d) => Object.assign(Object.create(null) as object, d) as BValue),
    ),
  })).v;

  it('round-trips every value: decode(encode(v)) equals v (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(decode(encode(v))).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips canonical bytes: encode(decode(x)) === x (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        const wire = encode(v);
        expect(encode(decode(wire)).equals(wire)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a BencodeError on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(BencodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but a BencodeError on mutated valid messages (fuzz)', () => {
    fc.assert(
      fc.property(
        value,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (v, at, byte, cut) => {
          const wire = Buffer.from(encode(v));
          if (wire.length > 0) wire[at % wire.length] = byte;
          const input = wire.subarray(0, wire.length - (cut % (wire.length + 1)));
          try {
            decode(input);
          } catch (e) {
            expect(e).toBeInstanceOf(BencodeError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
