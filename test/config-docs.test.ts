import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { renderConfigDocs } from '../packages/server/src/config/index.js';

describe('docs/configuration.md', () => {
  it('is exactly what the schema generates (run `npm run docs:config` after changing the schema)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderConfigDocs());
  });
});
