import { describe, expect, it } from 'vitest';
import {
  BOARD_H,
  BOARD_W,
  Board,
  MAX_POINTS,
  cleanPoints,
  fit,
  isStroke,
  toBoard,
  type Stroke,
} from '../src/draw/model.js';

const stroke = (id: string, author: string, points = [10, 10, 20, 20]): Stroke => ({
  id,
  author,
  color: '#e5484d',
  width: 4,
  points,
});

describe('drawing board model', () => {
  it('validates strokes and points from peers', () => {
    expect(isStroke(stroke('a:1', 'a'))).toBe(true);
    expect(isStroke({ ...stroke('a:1', 'a'), color: 'red; background:url(x)' })).toBe(false);
    expect(isStroke({ ...stroke('a:1', 'a'), width: 1000 })).toBe(false);
    expect(isStroke({ ...stroke('a:1', 'a'), points: [1, 2, 3] })).toBe(false);
    expect(isStroke({ ...stroke('a:1', 'a'), points: [1, Number.NaN] })).toBe(false);
    expect(isStroke(null)).toBe(false);
    expect(cleanPoints([-5, 5000, 10.6, 20.2])).toEqual([0, BOARD_H, 11, 20]);
    expect(cleanPoints(new Array(MAX_POINTS + 2).fill(1))).toBeUndefined();
  });

  it('extends, undoes and removes only the author’s own strokes', () => {
    const b = new Board();
    expect(b.begin(stroke('a:1', 'a'))).toBe(true);
    expect(b.begin(stroke('b:1', 'b'))).toBe(true);
    expect(b.begin(stroke('a:2', 'a'))).toBe(true);
    expect(b.extend('a:2', 'b', [1, 1])).toBe(false);
    expect(b.extend('a:2', 'a', [30, 30])).toBe(true);
    expect(b.get('a:2')?.points).toEqual([10, 10, 20, 20, 30, 30]);
    expect(b.lastOf('a')).toBe('a:2');
    expect(b.remove('a:2', 'b')).toBe(false);
    expect(b.remove('a:2', 'a')).toBe(true);
    expect(b.lastOf('a')).toBe('a:1');
    expect(b.remove('a:1', 'a')).toBe(true);
    expect(b.lastOf('a')).toBeUndefined();
    expect(b.strokes.map((s) => s.id)).toEqual(['b:1']);
  });

  it('clears for everyone and counts clears', () => {
    const b = new Board();
    b.begin(stroke('a:1', 'a'));
    b.clear();
    expect(b.size).toBe(0);
    expect(b.clears).toBe(1);
  });

  it('gives a late joiner the board: received strokes first, its own after, invalid ones skipped', () => {
    const a = new Board();
    a.begin(stroke('a:1', 'a'));
    a.begin(stroke('b:1', 'b'));
    const late = new Board();
    late.begin(stroke('c:1', 'c'));
    const state = JSON.parse(JSON.stringify(a.state())) as unknown;
    (state as { strokes: unknown[] }).strokes.push({ id: 'x', author: 'x', color: 'nope' });
    expect(late.load(state)).toBe(2);
    expect(late.strokes.map((s) => s.id)).toEqual(['a:1', 'b:1', 'c:1']);
    expect(late.load('garbage')).toBe(0);
    // The state is a copy: drawing on after sending it does not change what was sent.
    const snap = a.state();
    a.extend('a:1', 'a', [50, 50]);
    expect(snap.strokes[0]?.points).toEqual([10, 10, 20, 20]);
  });

  it('fits the board into any frame and maps screen points onto it', () => {
    const f = fit(800, 800);
    expect(f.scale).toBeCloseTo(800 / BOARD_W);
    expect(f.ox).toBe(0);
    expect(f.oy).toBeCloseTo((800 - BOARD_H * f.scale) / 2);
    expect(toBoard(f, 400, 400)).toEqual([BOARD_W / 2, BOARD_H / 2]);
    expect(toBoard(f, -10, 0)).toEqual([0, 0]);
  });
});
