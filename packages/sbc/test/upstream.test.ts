/**
 * The pure parts of the upstream registration (upstream.ts): the refresh schedule (RFC 3261
 * §10.2.1: refresh before the granted expiry) and the backoff after failures, with hostile grants
 * that must not make a tight REGISTER loop.
 */
import { describe, expect, it } from 'vitest';
import {
  UPSTREAM_MIN_REFRESH_SECONDS,
  UPSTREAM_RETRY_MAX_SECONDS,
  refreshSeconds,
  retrySeconds,
} from '../src/upstream.js';

describe('upstream refresh schedule', () => {
  it.each([
    [3600, 3600, 3240],
    [600, 600, 540],
    [60, 600, 54],
    [20, 20, 15],
    [30, 60, 25],
  ])('a %i s grant (asked %i s) is refreshed after %i s', (granted, asked, at) => {
    expect(refreshSeconds(granted, asked)).toBe(at);
  });

  it('never refreshes sooner than 5 s, whatever the carrier grants', () => {
    for (const g of [1, 2, 5, 9, 10])
      expect(refreshSeconds(g, 600)).toBe(UPSTREAM_MIN_REFRESH_SECONDS);
  });

  it('a grant that is no positive finite number falls back to what was asked for', () => {
    for (const g of [0, -5, NaN, Infinity, -Infinity]) expect(refreshSeconds(g, 600)).toBe(540);
    expect(refreshSeconds(NaN, NaN)).toBe(UPSTREAM_MIN_REFRESH_SECONDS);
    expect(refreshSeconds(0, 0)).toBe(UPSTREAM_MIN_REFRESH_SECONDS);
  });

  it('a huge grant stays within a timer’s range', () => {
    expect(refreshSeconds(2 ** 40, 600) * 1000).toBeLessThan(2 ** 31);
  });
});

describe('upstream backoff after failures', () => {
  it('doubles from the base per failure in a row, up to 600 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retrySeconds(n, 30))).toEqual([
      30, 60, 120, 240, 480, 600, 600,
    ]);
    expect(retrySeconds(1)).toBe(30);
    expect(retrySeconds(1_000_000, 30)).toBe(UPSTREAM_RETRY_MAX_SECONDS);
  });

  it('hostile inputs count as the first failure with a sane base (never below 1 s, never a loop)', () => {
    for (const n of [0, -1, NaN, 1.5, Infinity]) expect(retrySeconds(n, 30)).toBe(30);
    for (const b of [0, -3, NaN, 0.001]) expect(retrySeconds(1, b)).toBe(30);
    expect(retrySeconds(1, 5)).toBe(5);
    expect(retrySeconds(2, 10_000)).toBe(UPSTREAM_RETRY_MAX_SECONDS);
  });
});
