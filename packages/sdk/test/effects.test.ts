import { describe, expect, it } from 'vitest';
import { EFFECT_LEVELS, EffectsGovernor, FaceTrack, cssFilter, workingSize } from '../src/index.js';

describe('effects governor', () => {
  it('keeps the best level while frames stay within the budget', () => {
    const g = new EffectsGovernor({ budgetMs: 20, window: 5 });
    for (let i = 0; i < 50; i++) expect(g.record(10).kind).toBe('keep');
    expect(g.level).toBe(0);
    expect(g.state).toBe('running');
  });
  it('steps down one level per window over budget, then switches off', () => {
    const g = new EffectsGovernor({ budgetMs: 5, window: 4 });
    const decisions: string[] = [];
    for (let i = 0; i < 4 * (EFFECT_LEVELS.length + 2); i++) {
      const d = g.record(30);
      if (d.kind !== 'keep') decisions.push(d.kind === 'down' ? `down${d.level}` : 'off');
    }
    expect(decisions).toEqual(['down1', 'down2', 'off']);
    expect(g.state).toBe('off');
    g.reset();
    expect([g.level, g.state]).toEqual([0, 'running']);
  });
  it('judges by the median: a few slow frames do not step down', () => {
    const g = new EffectsGovernor({ budgetMs: 20, window: 5 });
    for (const ms of [10, 200, 10, 300, 10]) expect(g.record(ms).kind).toBe('keep');
    expect(g.level).toBe(0);
  });
  it('ignores nonsense costs', () => {
    const g = new EffectsGovernor({ budgetMs: 1, window: 3 });
    for (const ms of [Number.NaN, -5, Infinity, Number.NaN]) expect(g.record(ms).kind).toBe('keep');
    expect(g.level).toBe(0);
    expect(() => new EffectsGovernor({ budgetMs: 0 })).toThrow(RangeError);
  });
  it('never works above 640×360 and keeps the aspect ratio', () => {
    expect(workingSize(1280, 720, 640)).toEqual({ w: 640, h: 360 });
    expect(workingSize(640, 480, 640)).toEqual({ w: 480, h: 360 });
    expect(workingSize(320, 180, 640)).toEqual({ w: 320, h: 180 });
    expect(workingSize(1280, 720, 320)).toEqual({ w: 320, h: 180 });
    expect(workingSize(0, 0, 640)).toEqual({ w: 640, h: 360 });
  });
});

describe('colour filters', () => {
  it('maps every name to a CSS filter scaled by intensity', () => {
    expect(cssFilter('grayscale')).toBe('grayscale(1)');
    expect(cssFilter('sepia', 0.5)).toBe('sepia(0.5)');
    expect(cssFilter('invert', 7)).toBe('invert(1)');
    expect(cssFilter('warm', 0)).toBe('sepia(0) saturate(1) hue-rotate(0deg)');
    for (const n of ['cool', 'high-contrast', 'vivid'] as const)
      expect(cssFilter(n)).toMatch(/^[a-z-]+\([0-9.-]+(deg)?\)( [a-z-]+\([0-9.-]+(deg)?\))*$/);
  });
});

describe('face track smoothing', () => {
  it('moves toward a new detection gradually instead of jumping', () => {
    const t = new FaceTrack({ tauMs: 200, holdMs: 5000 });
    t.detected([{ x: 0.2, y: 0.2, w: 0.2, h: 0.3 }], 0);
    expect(t.at(0)?.x).toBeCloseTo(0.2);
    t.detected([{ x: 0.3, y: 0.2, w: 0.2, h: 0.3 }], 100);
    const mid = t.at(150)?.x ?? 0;
    expect(mid).toBeGreaterThan(0.2);
    expect(mid).toBeLessThan(0.3);
    expect(t.at(3000)?.x).toBeCloseTo(0.3, 3);
  });
  it('snaps to a face far away, tracks the largest face, forgets after the hold time', () => {
    const t = new FaceTrack({ holdMs: 1000 });
    t.detected([{ x: 0.05, y: 0.1, w: 0.1, h: 0.1 }], 0);
    t.detected(
      [
        { x: 0.7, y: 0.6, w: 0.25, h: 0.3 },
        { x: 0.1, y: 0.1, w: 0.05, h: 0.05 },
      ],
      10,
    );
    expect(t.at(10)?.x).toBeCloseTo(0.7);
    expect(t.at(2000)).toBeNull();
  });
  it('ignores broken boxes and empty detections', () => {
    const t = new FaceTrack();
    t.detected([{ x: Number.NaN, y: 0, w: 1, h: 1 }], 0);
    t.detected([], 0);
    expect(t.at(1)).toBeNull();
  });
});
