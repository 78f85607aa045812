import { describe, expect, it } from 'vitest';
import { DONE, NEXT, Route, type Verdict } from '../../src/index.js';

describe('Route: named stages in a fixed order', () => {
  it('runs stages in order until one answers DONE, synchronously when every stage is', () => {
    const seen: string[] = [];
    const r = new Route<string[]>([
      ['a', (c) => (c.push('a'), NEXT)],
      ['b', (c) => (c.push('b'), DONE)],
      ['c', (c) => (c.push('c'), NEXT)],
    ]);
    expect(r.run(seen)).toBeUndefined();
    expect(seen).toEqual(['a', 'b']);
    expect(r.names).toEqual(['a', 'b', 'c']);
  });

  it('waits for an asynchronous stage and goes on after it', async () => {
    const seen: string[] = [];
    const r = new Route<string[]>([
      ['a', async (c): Promise<Verdict> => (c.push('a'), NEXT)],
      ['b', (c) => (c.push('b'), NEXT)],
    ]);
    await r.run(seen);
    expect(seen).toEqual(['a', 'b']);
  });

  it('a stage that throws asynchronously rejects the run', async () => {
    const r = new Route<null>([['a', () => Promise.reject(new Error('boom'))]]);
    await expect(r.run(null)).rejects.toThrow('boom');
  });

  it('refuses two stages with one name', () => {
    expect(
      () =>
        new Route([
          ['a', () => NEXT],
          ['a', () => NEXT],
        ]),
    ).toThrow(/twice/);
  });
});
