import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ACK_EVERY,
  CHUNK_BYTES,
  HEADER_BYTES,
  Incoming,
  MAX_FILE_BYTES,
  Outgoing,
  Rate,
  chunkRanges,
  decodeChunk,
  encodeChunk,
  formatBytes,
  formatEta,
  newHasher,
  newTransferId,
  parseControl,
  safeName,
} from '../src/files/model.js';

const ID = '0123456789abcdef';
const buf = (u: Uint8Array): ArrayBuffer =>
  u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

/** Receives `file` through an Incoming in chunks, as the widget does. */
function receive(file: Uint8Array, chunk = CHUNK_BYTES): Incoming {
  const inc = new Incoming(ID, 'peer-a', 'f.bin', file.byteLength, '');
  chunkRanges(file.byteLength, chunk).forEach(([a, b], seq) => {
    const c = decodeChunk(buf(encodeChunk(ID, seq, file.subarray(a, b))))!;
    expect(inc.chunk(c.seq, c.data)).not.toBe('failed');
  });
  return inc;
}

describe('file transfer wire', () => {
  it('encodes and decodes a chunk: id, sequence number and payload', () => {
    const data = bytes(1000);
    const c = decodeChunk(buf(encodeChunk(ID, 0xfffffffe, data)))!;
    expect(c.id).toBe(ID);
    expect(c.seq).toBe(0xfffffffe);
    expect([...c.data]).toEqual([...data]);
    expect(encodeChunk(ID, 1, data).byteLength).toBe(HEADER_BYTES + 1000);
  });

  it('rejects what is not a chunk', () => {
    expect(decodeChunk(new ArrayBuffer(0))).toBeUndefined();
    expect(decodeChunk(new ArrayBuffer(HEADER_BYTES - 1))).toBeUndefined();
    const wrongKind = encodeChunk(ID, 0, bytes(4));
    wrongKind[0] = 7;
    expect(decodeChunk(buf(wrongKind))).toBeUndefined();
    // A header with no payload is a valid (empty) chunk.
    expect(decodeChunk(buf(encodeChunk(ID, 0, new Uint8Array(0))))?.data.byteLength).toBe(0);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const c = decodeChunk(buf(b));
        if (c) expect(c.id).toMatch(/^[0-9a-f]{16}$/);
      }),
    );
  });

  it('new transfer ids are 16 hex digits and differ', () => {
    const a = newTransferId();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(newTransferId()).not.toBe(a);
  });

  it('parses valid control messages', () => {
    expect(
      parseControl({ t: 'offer', id: ID, name: 'a.txt', size: 3, mime: 'text/plain' }),
    ).toEqual({ t: 'offer', id: ID, name: 'a.txt', size: 3, mime: 'text/plain' });
    expect(parseControl({ t: 'end', id: ID, sha256: 'a'.repeat(64) })).toEqual({
      t: 'end',
      id: ID,
      sha256: 'a'.repeat(64),
    });
    expect(parseControl({ t: 'cancel', id: ID })).toEqual({ t: 'cancel', id: ID });
    expect(parseControl({ t: 'ack', id: ID, bytes: 5 })).toEqual({ t: 'ack', id: ID, bytes: 5 });
    expect(parseControl({ t: 'result', id: ID, ok: false, sha256: 'b'.repeat(64) })).toEqual({
      t: 'result',
      id: ID,
      ok: false,
      sha256: 'b'.repeat(64),
    });
  });

  it.each([
    ['not an object', 'offer'],
    ['null', null],
    ['an array', [1, 2]],
    ['unknown type', { t: 'boom', id: ID }],
    ['bad id', { t: 'cancel', id: 'ZZZ' }],
    ['id with extra', { t: 'cancel', id: `${ID}0` }],
    ['negative size', { t: 'offer', id: ID, name: 'x', size: -1 }],
    ['fractional size', { t: 'offer', id: ID, name: 'x', size: 1.5 }],
    ['NaN size', { t: 'offer', id: ID, name: 'x', size: NaN }],
    ['huge size', { t: 'offer', id: ID, name: 'x', size: MAX_FILE_BYTES + 1 }],
    ['size as string', { t: 'offer', id: ID, name: 'x', size: '10' }],
    ['name not a string', { t: 'offer', id: ID, name: 5, size: 1 }],
    ['name far too long', { t: 'offer', id: ID, name: 'x'.repeat(5000), size: 1 }],
    ['short hash', { t: 'end', id: ID, sha256: 'abc' }],
    ['upper-case hash', { t: 'end', id: ID, sha256: 'A'.repeat(64) }],
    ['ack bytes negative', { t: 'ack', id: ID, bytes: -5 }],
    ['result ok not boolean', { t: 'result', id: ID, ok: 'yes', sha256: 'a'.repeat(64) }],
  ])('rejects %s', (_label, v) => {
    expect(parseControl(v)).toBeUndefined();
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        parseControl(v);
        parseControl({ ...(typeof v === 'object' && v ? v : {}), id: ID, t: 'offer' });
      }),
    );
  });

  it('cleans file names: no path, control or bidi characters, bounded, never empty', () => {
    expect(safeName('../../etc/passwd')).toBe('passwd');
    expect(safeName('C:\\Users\\me\\notes.txt')).toBe('notes.txt');
    expect(safeName('evil\u202egnp.exe')).toBe('evilgnp.exe');
    expect(safeName('a\u0000b\nc')).toBe('abc');
    expect(safeName('...hidden')).toBe('hidden');
    expect(safeName('')).toBe('file');
    expect(safeName('///')).toBe('file');
    expect(safeName('x'.repeat(1000))).toHaveLength(255);
    // An offer's name is cleaned too, and a bad mime type is dropped.
    const o = parseControl({ t: 'offer', id: ID, name: '../a/b.png', size: 1, mime: 'x y' });
    expect(o).toMatchObject({ name: 'b.png', mime: '' });
  });

  it('splits a file into chunk ranges', () => {
    expect(chunkRanges(0)).toEqual([]);
    expect(chunkRanges(10, 4)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(chunkRanges(8, 4)).toHaveLength(2);
  });

  it('hashes incrementally like a one-shot SHA-256', () => {
    const data = bytes(700_001);
    const h = newHasher();
    for (const [a, b] of chunkRanges(data.byteLength, 65_536)) h.update(data.subarray(a, b));
    expect(h.hex()).toBe(sha(data));
    expect(newHasher().hex()).toBe(sha(new Uint8Array(0)));
  });
});

describe('incoming transfer', () => {
  it('receives a file, acknowledges about every MiB, and verifies its own hash', () => {
    const file = bytes(3 * ACK_EVERY + 123);
    const inc = new Incoming(ID, 'peer-a', 'f.bin', file.byteLength, '');
    const answers = chunkRanges(file.byteLength).map(([a, b], seq) =>
      inc.chunk(seq, file.subarray(a, b)),
    );
    expect(answers.filter((x) => x === 'ack')).toHaveLength(3);
    expect(inc.received).toBe(file.byteLength);
    expect(inc.end(sha(file))).toBe('done');
    expect(inc.sha256).toBe(sha(file));
    const parts = inc.takeParts();
    expect(Buffer.concat(parts).equals(Buffer.from(file))).toBe(true);
  });

  it('the bytes can be taken as they arrive (folded into a Blob) and still verify', () => {
    const file = bytes(5 * CHUNK_BYTES);
    const inc = new Incoming(ID, 'p', 'f', file.byteLength, '');
    const taken: Uint8Array[] = [];
    chunkRanges(file.byteLength).forEach(([a, b], seq) => {
      inc.chunk(seq, file.subarray(a, b));
      if (seq % 2 === 1) taken.push(...inc.takeParts());
    });
    expect(inc.heldBytes).toBe(CHUNK_BYTES);
    expect(inc.end(sha(file))).toBe('done');
    taken.push(...inc.takeParts());
    expect(Buffer.concat(taken).equals(Buffer.from(file))).toBe(true);
    expect(inc.heldBytes).toBe(0);
  });

  it('keeps a copy of each chunk (the message buffer may be reused)', () => {
    const inc = new Incoming(ID, 'p', 'f', 4, '');
    const chunk = new Uint8Array([1, 2, 3, 4]);
    inc.chunk(0, chunk);
    chunk.fill(0);
    inc.end(sha(new Uint8Array([1, 2, 3, 4])));
    expect(inc.state).toBe('done');
    expect([...inc.takeParts()[0]!]).toEqual([1, 2, 3, 4]);
  });

  it('an empty file verifies at once', () => {
    const inc = new Incoming(ID, 'p', 'empty', 0, '');
    expect(inc.end(sha(new Uint8Array(0)))).toBe('done');
  });

  it('a corrupted byte is caught by the receiver’s hash', () => {
    const file = bytes(100_000);
    const inc = new Incoming(ID, 'p', 'f', file.byteLength, '');
    const damaged = file.slice();
    damaged[5000] = damaged[5000]! ^ 1;
    chunkRanges(file.byteLength, 30_000).forEach(([a, b], seq) =>
      inc.chunk(seq, damaged.subarray(a, b)),
    );
    expect(inc.end(sha(file))).toBe('corrupt');
    expect(inc.sha256).toBe(sha(damaged));
    expect(inc.takeParts()).toEqual([]);
  });

  it('a sender lying about the hash is caught too', () => {
    const inc = receive(bytes(1000));
    expect(inc.end('f'.repeat(64))).toBe('corrupt');
  });

  it('fails on a chunk out of order, a missing chunk, or more bytes than announced', () => {
    const a = new Incoming(ID, 'p', 'f', 10, '');
    expect(a.chunk(1, bytes(5))).toBe('failed');
    expect(a.failReason).toBe('out-of-order');
    expect(a.chunk(0, bytes(5))).toBe('ignored');

    const b = new Incoming(ID, 'p', 'f', 10, '');
    b.chunk(0, bytes(5));
    expect(b.chunk(0, bytes(5))).toBe('failed'); // a replayed chunk
    expect(b.failReason).toBe('out-of-order');

    const c = new Incoming(ID, 'p', 'f', 10, '');
    expect(c.chunk(0, bytes(11))).toBe('failed');
    expect(c.failReason).toBe('too-long');
    expect(c.takeParts()).toEqual([]);

    const d = new Incoming(ID, 'p', 'f', 10, '');
    d.chunk(0, bytes(5));
    expect(d.end(sha(bytes(10)))).toBe('failed');
    expect(d.failReason).toBe('too-short');
  });

  it('cancel (ours) stops it; later chunks and the end are ignored', () => {
    const inc = new Incoming(ID, 'p', 'f', 10, '');
    inc.chunk(0, bytes(5));
    expect(inc.cancel()).toBe(true);
    expect(inc.cancel()).toBe(false);
    expect(inc.chunk(1, bytes(5))).toBe('ignored');
    expect(inc.end(sha(bytes(10)))).toBe('cancelled');
    expect(inc.takeParts()).toEqual([]);
    expect(inc.active).toBe(false);
  });

  it('the sender cancelling or leaving fails it with the reason', () => {
    const inc = new Incoming(ID, 'p', 'f', 10, '');
    inc.fail('sender-left');
    inc.fail('sender-cancelled'); // the first reason stays
    expect(inc.failReason).toBe('sender-left');
    expect(inc.state).toBe('failed');
  });

  it('any sequence of hostile chunks leaves it in a consistent state', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(5), fc.integer({ min: 0, max: 40 })), { maxLength: 20 }),
        (chunks) => {
          const inc = new Incoming(ID, 'p', 'f', 64, '');
          for (const [seq, n] of chunks) inc.chunk(seq, bytes(n));
          expect(inc.received).toBeLessThanOrEqual(64);
          if (inc.state === 'receiving') expect(inc.heldBytes).toBe(inc.received);
          else expect(inc.heldBytes).toBe(0);
        },
      ),
    );
  });
});

describe('outgoing transfer', () => {
  it('goes sending → sent → done once every recipient has verified', () => {
    const o = new Outgoing(ID, 'f', 100, ['b', 'c'], false);
    o.handed(100);
    expect(o.sent).toBe(100);
    o.fromRecipient('b', { t: 'ack', id: ID, bytes: 60 });
    o.fromRecipient('c', { t: 'ack', id: ID, bytes: 40 });
    expect(o.acked()).toBe(40); // the slowest recipient
    o.finished();
    expect(o.state).toBe('sent');
    o.fromRecipient('b', { t: 'result', id: ID, ok: true, sha256: 'a'.repeat(64) });
    expect(o.state).toBe('sent');
    expect(o.live()).toEqual(['c']);
    o.fromRecipient('c', { t: 'result', id: ID, ok: true, sha256: 'a'.repeat(64) });
    expect(o.state).toBe('done');
    expect([...o.recipients.values()].map((r) => r.state)).toEqual(['verified', 'verified']);
  });

  it('a recipient declining or leaving stops chunks to it; the rest go on', () => {
    const o = new Outgoing(ID, 'f', 100, ['b', 'c'], false);
    expect(o.fromRecipient('b', { t: 'cancel', id: ID })).toBe(true);
    expect(o.live()).toEqual(['c']);
    expect(o.state).toBe('sending');
    o.lost('c');
    expect(o.live()).toEqual([]);
    expect(o.state).toBe('failed');
  });

  it('ignores peers that are not recipients, settled recipients, and acks beyond the size', () => {
    const o = new Outgoing(ID, 'f', 100, ['b'], true);
    expect(
      o.fromRecipient('mallory', { t: 'result', id: ID, ok: true, sha256: 'a'.repeat(64) }),
    ).toBe(false);
    o.fromRecipient('b', { t: 'ack', id: ID, bytes: 10_000 });
    expect(o.acked()).toBe(100);
    o.fromRecipient('b', { t: 'ack', id: ID, bytes: 5 }); // never goes backwards
    expect(o.acked()).toBe(100);
    o.finished();
    o.fromRecipient('b', { t: 'result', id: ID, ok: false, sha256: 'a'.repeat(64) });
    expect(o.state).toBe('done');
    expect(o.recipients.get('b')?.state).toBe('corrupt');
    expect(o.fromRecipient('b', { t: 'cancel', id: ID })).toBe(false);
  });

  it('cancel (ours) is final', () => {
    const o = new Outgoing(ID, 'f', 100, ['b'], true);
    expect(o.cancel()).toBe(true);
    expect(o.cancel()).toBe(false);
    expect(o.active).toBe(false);
    o.handed(50);
    expect(o.sent).toBe(0);
    expect(o.fromRecipient('b', { t: 'ack', id: ID, bytes: 5 })).toBe(false);
  });
});

describe('presentation', () => {
  it('formats sizes and times left', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB');
    expect(formatEta(10, 0)).toBe('');
    expect(formatEta(0, 10)).toBe('');
    expect(formatEta(5, 10)).toBe('< 1 s');
    expect(formatEta(300, 10)).toBe('30 s');
    expect(formatEta(6000, 10)).toBe('10 min');
  });

  it('measures a rate over a sliding window', () => {
    const r = new Rate(1000);
    expect(r.perSecond()).toBe(0);
    r.sample(0, 0);
    r.sample(500, 5000);
    expect(r.perSecond()).toBe(10_000);
    r.sample(3000, 5000); // stalled: the old samples slide out
    r.sample(3500, 5000);
    expect(r.perSecond()).toBe(0);
  });
});
