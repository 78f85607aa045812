import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EndedSessionFile, MemoryStore, openMemoryStore } from '../../src/store/index.js';
import { hashPassword, verifyPassword } from '../../src/store/secrets.js';
import { runStoreContract } from './contract.js';

runStoreContract('memory', async (o) => new MemoryStore(o));

describe('memory store persistence', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'tfx-store-'));
    dirs.push(d);
    return d;
  };

  it('reads ended sessions back after a restart', async () => {
    const path = join(tmp(), 'sessions', 'ended.jsonl');
    const now = Date.now();
    const a = await openMemoryStore({
      maxEnded: 100,
      retentionMs: 86_400_000,
      file: new EndedSessionFile(path),
    });
    const j = await a.join({
      room: 'persist',
      peerId: 'p1',
      name: 'Ann',
      state: { audio: true, video: false },
      capacity: 6,
      now,
    });
    if (!j.ok) throw new Error('join failed');
    await a.leave('persist', 'p1', now + 10);
    const ended = await a.endSessionIfEmpty('persist', now + 20);
    await a.close();
    const b = await openMemoryStore({
      maxEnded: 100,
      retentionMs: 86_400_000,
      file: new EndedSessionFile(path),
    });
    expect(await b.getSession(j.sessionId)).toEqual(ended);
    expect((await b.listSessions({ state: 'ended', limit: 10 })).items).toEqual([ended]);
    await b.close();
  });

  it('skips a torn last line and rewrites the file without expired sessions', async () => {
    const dir = join(tmp(), 'sessions');
    mkdirSync(dir);
    const path = join(dir, 'ended.jsonl');
    const now = Date.now();
    const line = (id: string, endedAt: number): string =>
      JSON.stringify({
        id,
        room: 'abc',
        startedAt: endedAt,
        endedAt,
        peakParticipants: 1,
        participants: [],
      });
    writeFileSync(
      path,
      `${line('old', now - 10 * 86_400_000)}\n${line('kept', now)}\n{"id":"torn","ro`,
    );
    const s = await openMemoryStore({
      maxEnded: 100,
      retentionMs: 86_400_000,
      file: new EndedSessionFile(path),
    });
    expect((await s.listSessions({ state: 'ended', limit: 10 })).items.map((x) => x.id)).toEqual([
      'kept',
    ]);
    await s.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('room passwords', () => {
  it('are stored as salted scrypt hashes and verified', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsf', a)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});
