/**
 * The router's RESP2 codec (cluster/resp.ts): commands encode as Redis reads them, replies parse
 * in any split, and bytes that are not RESP2 (or exceed the bounds) give a protocol error — never
 * a throw, never a hang.
 */
import { describe, expect, it } from 'vitest';
import {
  ReplyParser,
  RespError,
  RespProtocolError,
  encodeCommand,
  type Reply,
} from '../../src/cluster/resp.js';

function parseAll(bytes: Buffer, split = bytes.length, p = new ReplyParser()): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i += split) {
    p.push(bytes.subarray(i, i + split));
    for (let r = p.next(); r !== undefined; r = p.next()) {
      out.push(r);
      if (r instanceof RespProtocolError) return out;
    }
  }
  return out;
}

describe('encodeCommand', () => {
  it('writes an array of bulk strings, lengths in bytes (UTF-8)', () => {
    expect(encodeCommand(['XADD', 'k', '*', 'p', 'ü€']).toString('utf8')).toBe(
      '*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$1\r\np\r\n$5\r\nü€\r\n',
    );
    expect(encodeCommand([]).toString()).toBe('*0\r\n');
    const big = 'x'.repeat(1234);
    expect(encodeCommand([big]).toString()).toBe(`*1\r\n$1234\r\n${big}\r\n`);
  });
});

describe('ReplyParser', () => {
  const xread =
    '*1\r\n*2\r\n$6\r\nstream\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$1\r\nm\r\n$2\r\n{}\r\n$1\r\np\r\n$7\r\n2["ü"]\r\n' +
    '*2\r\n$3\r\n1-1\r\n*0\r\n';
  const expected: Reply = [
    [
      'stream',
      [
        ['1-0', ['m', '{}', 'p', '2["ü"]']],
        ['1-1', []],
      ],
    ],
  ];

  it('parses every type, in one piece and split at every byte', () => {
    const bytes = Buffer.from(`+OK\r\n:42\r\n:-7\r\n$-1\r\n*-1\r\n$0\r\n\r\n-ERR no\r\n${xread}`);
    for (const split of [bytes.length, 1, 2, 3, 7]) {
      const out = parseAll(bytes, split);
      expect(out.slice(0, 6)).toEqual(['OK', 42, -7, null, null, '']);
      expect(out[6]).toBeInstanceOf(RespError);
      expect((out[6] as Error).message).toBe('ERR no');
      expect(out[7]).toEqual(expected);
      expect(out).toHaveLength(8);
    }
  });

  it('waits for the rest of an incomplete reply', () => {
    const p = new ReplyParser();
    p.push(Buffer.from('$5\r\nhel'));
    expect(p.next()).toBeUndefined();
    p.push(Buffer.from('lo\r\n'));
    expect(p.next()).toBe('hello');
    expect(p.next()).toBeUndefined();
  });

  it.each([
    ['an unknown type byte', '!oops\r\n'],
    ['a length that is not a number', '$abc\r\n'],
    ['a negative length other than -1', '$-2\r\n'],
    ['a bulk string without its CRLF', '$2\r\nabcd\r\n'],
    ['a line ended by CR alone', '+OK\rX'],
    ['an integer with garbage', ':12a\r\n'],
  ])('gives a protocol error for %s, and keeps giving it', (_what, bytes) => {
    const p = new ReplyParser();
    p.push(Buffer.from(bytes));
    const r = p.next();
    expect(r).toBeInstanceOf(RespProtocolError);
    p.push(Buffer.from('+OK\r\n'));
    expect(p.next()).toBe(r);
  });

  it('refuses what exceeds its bounds instead of buffering it', () => {
    const p = new ReplyParser({ maxBulk: 10, maxArray: 3 });
    p.push(Buffer.from('$11\r\n'));
    expect(p.next()).toBeInstanceOf(RespProtocolError);
    const q = new ReplyParser({ maxBulk: 10, maxArray: 3 });
    q.push(Buffer.from('*4\r\n'));
    expect(q.next()).toBeInstanceOf(RespProtocolError);
    const deep = new ReplyParser();
    deep.push(Buffer.from('*1\r\n'.repeat(9) + ':1\r\n'));
    expect(deep.next()).toBeInstanceOf(RespProtocolError);
    const long = new ReplyParser();
    long.push(Buffer.from(`+${'x'.repeat(70 * 1024)}`));
    expect(long.next()).toBeInstanceOf(RespProtocolError);
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = '+-:$*\r\n0123456789-abc';
    for (let n = 0; n < 2000; n++) {
      const s = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () =>
        alphabet.charAt(Math.floor(rnd() * alphabet.length)),
      ).join('');
      expect(() => parseAll(Buffer.from(s), 1 + Math.floor(rnd() * 4))).not.toThrow();
    }
  });
});
