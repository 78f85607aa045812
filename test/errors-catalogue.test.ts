import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, ERROR_CODES, TfxError, isErrorCode, type ErrorCode } from '@tfx/protocol';
// @ts-expect-error -- plain ESM script without types
import { renderErrorTable, START, END } from '../scripts/error-docs.mjs';

describe('the error catalogue', () => {
  it('docs/errors.md shows exactly the catalogue (run `npm run docs:errors` after changing it)', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const table = doc.slice(doc.indexOf(START) + (START as string).length, doc.indexOf(END)).trim();
    expect(table).toBe((renderErrorTable as (c: unknown) => string)(ERROR_CATALOGUE));
  });

  it('codes are lower-case kebab words and every spec is complete', () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      const spec = ERROR_CATALOGUE[code];
      expect(spec.http).toBeGreaterThanOrEqual(200);
      expect(spec.http).toBeLessThan(600);
      expect(spec.summary.length).toBeGreaterThan(10);
      if ('sip' in spec) expect(spec.sip).toBeGreaterThanOrEqual(300);
    }
  });

  it('the exported ErrorCode type and isErrorCode agree with the catalogue', () => {
    const sample: ErrorCode = 'room-full';
    expect(isErrorCode(sample)).toBe(true);
    expect(isErrorCode('no-such-code')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(ERROR_CODES).toEqual(Object.keys(ERROR_CATALOGUE));
  });

  it('TfxError carries the code, the catalogue status and a body for clients', () => {
    const err = new TfxError('room-full', undefined, { capacity: 6 });
    expect(err.spec.http).toBe(409);
    expect(err.toBody()).toEqual({
      code: 'room-full',
      message: ERROR_CATALOGUE['room-full'].summary,
      details: { capacity: 6 },
    });
  });
});
