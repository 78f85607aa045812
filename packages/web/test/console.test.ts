/** The console's page registry and chart scales (pure; no DOM). */
import { describe, expect, it } from 'vitest';
import { niceMax, ticks } from '../src/admin/chart.js';
import { pageGroups, registerPage, registeredPages, type ConsolePage } from '../src/admin/page.js';

const page = (id: string, group: string): ConsolePage => ({
  id,
  title: id,
  icon: 'overview',
  group,
  mount: () => ({ update: async () => undefined }),
});

describe('console page registry', () => {
  it('keeps registration order, groups by first appearance, and refuses duplicates and bad ids', () => {
    registerPage(page('alpha', 'Platform'));
    registerPage(page('sip-one', 'SIP'));
    registerPage(page('beta', 'Platform'));
    expect(registeredPages().map((p) => p.id)).toEqual(['alpha', 'sip-one', 'beta']);
    expect(pageGroups().map((g) => [g.group, g.pages.map((p) => p.id)])).toEqual([
      ['Platform', ['alpha', 'beta']],
      ['SIP', ['sip-one']],
    ]);
    expect(() => registerPage(page('alpha', 'Media'))).toThrow(/twice/);
    expect(() => registerPage(page('Bad Id', 'Media'))).toThrow(/bad console page id/);
    expect(() => registerPage(page('a/b', 'Media'))).toThrow(/bad console page id/);
  });
});

describe('chart scales', () => {
  it.each([
    [0, 1, 1],
    [3, 4, 5],
    [7, 1, 10],
    [26, 1, 50],
    [0.3, 0.1, 0.5],
    [99, 5, 100],
    [101, 5, 200],
  ])('niceMax(%d, floor %d) = %d', (max, floor, want) => {
    expect(niceMax(max, floor)).toBe(want);
  });

  it('ticks step evenly from 0 to max in 4 or 5 round steps', () => {
    expect(ticks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(20)).toEqual([0, 5, 10, 15, 20]);
    expect(ticks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(2.5)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });
});
