import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  KIND_AWARENESS,
  KIND_DOC,
  frame,
  fromBase64,
  isLanguage,
  peerColour,
  toBase64,
  unframe,
} from '../src/editor/wire.js';

const buf = (u: Uint8Array): ArrayBuffer =>
  u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;

describe('editor wire', () => {
  it('frames and unframes doc and awareness updates', () => {
    const f = unframe(buf(frame(KIND_DOC, new Uint8Array([1, 2, 3]))));
    expect(f?.kind).toBe(KIND_DOC);
    expect([...f!.payload]).toEqual([1, 2, 3]);
    expect(unframe(buf(frame(KIND_AWARENESS, new Uint8Array([9]))))?.kind).toBe(KIND_AWARENESS);
  });

  it('rejects unknown kinds and empty payloads', () => {
    expect(unframe(new Uint8Array([7, 1]).buffer)).toBeUndefined();
    expect(unframe(new Uint8Array([KIND_DOC]).buffer)).toBeUndefined();
    expect(unframe(new ArrayBuffer(0))).toBeUndefined();
  });

  it('round-trips base64, also beyond one String.fromCharCode batch', () => {
    const big = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    expect(fromBase64(toBase64(big))).toEqual(big);
    expect(fromBase64(toBase64(new Uint8Array()))).toEqual(new Uint8Array());
  });

  it('gives each peer a stable colour', () => {
    expect(peerColour('abc')).toEqual(peerColour('abc'));
    expect(peerColour('abc').color).toMatch(/^hsl\(\d+ 80% 65%\)$/);
    expect(peerColour('abc').color).not.toBe(peerColour('abd').color);
  });

  it('knows its languages', () => {
    expect(isLanguage('python')).toBe(true);
    expect(isLanguage('cobol')).toBe(false);
    expect(isLanguage(3)).toBe(false);
  });

  it('two documents exchanging framed updates converge; a late joiner catches up from the state', () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const REMOTE = Symbol('remote');
    const link = (from: Y.Doc, to: Y.Doc): void => {
      from.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin === REMOTE) return;
        const m = unframe(buf(frame(KIND_DOC, u)));
        Y.applyUpdate(to, m!.payload, REMOTE);
      });
    };
    link(a, b);
    link(b, a);
    a.getText('code').insert(0, 'hello');
    b.getText('code').insert(5, ' world');
    a.getText('code').insert(0, '> ');
    expect(a.getText('code').toString()).toBe('> hello world');
    expect(b.getText('code').toString()).toBe('> hello world');
    const late = new Y.Doc();
    Y.applyUpdate(late, fromBase64(toBase64(Y.encodeStateAsUpdate(a))));
    expect(late.getText('code').toString()).toBe('> hello world');
  });
});
