import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCallStore } from '../../src/store/index.js';
import { record, runCallStoreContract } from './sbc-calls-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-calls-'));
runCallStoreContract('file', async (name) => new FileCallStore(join(dir, name, 'calls.jsonl')));

describe('the call journal file', () => {
  it('skips a torn last line (a kill while writing) and keeps the rest', async () => {
    const path = join(dir, 'torn', 'calls.jsonl');
    const a = new FileCallStore(path);
    await a.put(record('c1'));
    await a.close();
    appendFileSync(path, '{"put":{"id":"c2","legs":[{"zo');
    const b = new FileCallStore(path);
    expect((await b.list()).map((r) => r.id)).toEqual(['c1']);
    await b.close();
  });

  it('is compacted to the live calls when it grows', async () => {
    const path = join(dir, 'compact', 'calls.jsonl');
    const a = new FileCallStore(path);
    for (let i = 0; i < 1500; i++) {
      await a.put(record(`c${i}`));
      await a.remove(`c${i}`);
    }
    await a.put(record('kept'));
    await a.close();
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeLessThan(1000);
    const b = new FileCallStore(path);
    expect((await b.list()).map((r) => r.id)).toEqual(['kept']);
    await b.close();
  });
});
