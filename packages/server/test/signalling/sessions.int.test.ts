import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ask, next, startSignalling, until } from './harness.js';

describe('sessions', () => {
  it('ended sessions are persisted in the data dir, without addresses, and read back after a restart', async () => {
    const h = await startSignalling({ 'signalling.resumeGraceMs': '100' });
    const a = await h.join('persist-room', 'Ann');
    const b = await h.join('persist-room', 'Bob');
    await ask(b.client, 'leave', {});
    await ask(a.client, 'leave', {});
    await until(
      async () => (await h.module.service.getSession(a.result.sessionId))?.endedAt !== undefined,
    );
    const live = await h.join('still-live', 'Cat');
    await h.close(false);

    const text = readFileSync(join(h.dataDir, 'sessions', 'ended.jsonl'), 'utf8');
    expect(text).not.toMatch(/127\.0\.0\.1|::1|ffff/);

    const again = await startSignalling({}, h.dataDir);
    try {
      const ended = await again.module.service.getSession(a.result.sessionId);
      expect(ended).toMatchObject({ room: 'persist-room', peakParticipants: 2 });
      expect(ended?.participants.map((p) => p.name)).toEqual(['Ann', 'Bob']);
      // A session still live at shutdown was ended by the close.
      const closed = await again.module.service.getSession(live.result.sessionId);
      expect(closed?.endedAt).toBeTypeOf('number');
      const page = await again.module.service.listSessions({ state: 'ended', limit: 10 });
      expect(page.items.map((s) => s.room)).toEqual(['still-live', 'persist-room']);
    } finally {
      await again.close(false);
      await rm(h.dataDir, { recursive: true, force: true });
    }
  });

  it('a session starts at the first join of an empty room and a new one starts after it ended', async () => {
    const h = await startSignalling({ 'signalling.resumeGraceMs': '100' });
    try {
      const a = await h.join('again-room', 'Ann');
      expect(
        (await h.module.service.listSessions({ state: 'live', limit: 10 })).items.map((s) => s.id),
      ).toEqual([a.result.sessionId]);
      await ask(a.client, 'leave', {});
      await until(
        async () => (await h.module.service.getSession(a.result.sessionId))?.endedAt !== undefined,
      );
      expect(await h.metric('tfx_signalling_rooms')).toBe(0);
      const b = await h.join('again-room', 'Bob');
      expect(b.result.sessionId).not.toBe(a.result.sessionId);
      expect(b.result.moderatorToken).toBeDefined();
    } finally {
      await h.close();
    }
  });
});

describe('draining', () => {
  it('tells connected clients the server is shutting down and refuses new joins and connections', async () => {
    const h = await startSignalling();
    try {
      const a = await h.join('drain-room', 'Ann');
      const idle = await h.open();
      const notice = next(a.client, 'server-notice');
      const noticeIdle = next(idle, 'server-notice');
      await h.module.drain?.();
      expect(await notice).toMatchObject({ kind: 'shutting-down' });
      expect(await noticeIdle).toMatchObject({ kind: 'shutting-down' });
      expect(await ask(idle, 'join', { room: 'drain-room', name: 'Late' })).toMatchObject({
        ok: false,
        error: { code: 'shutting-down' },
      });
      await expect(h.open()).rejects.toMatchObject({ data: { code: 'shutting-down' } });
      // The resume token stays good for another process sharing the store.
      expect(a.result.resumeToken).toBeTypeOf('string');
    } finally {
      await h.close();
    }
  });

  it('closing twice is harmless', async () => {
    const h = await startSignalling();
    await h.join('twice-closed', 'Ann');
    await h.module.close();
    await h.module.close();
    await h.close();
  });
});

describe('logs', () => {
  it('bind roomId and peerId and never carry tokens or passwords', async () => {
    const lines: string[] = [];
    const h = await startSignalling({ 'signalling.resumeGraceMs': '5000' }, undefined, lines);
    try {
      const a = await h.join('log-room', 'Ann', { password: 'very-secret-pw' });
      const b = await h.join('log-room', 'Bob', { password: 'very-secret-pw' });
      await ask(a.client, 'lock', { moderatorToken: a.result.moderatorToken, locked: true });
      await ask(b.client, 'kick', { moderatorToken: 'wrong-token-guess', peerId: a.result.peerId });
      a.client.io.engine.close();
      await until(() => h.module.service.listRooms()[0]?.peers.some((p) => !p.connected) === true);
      const again = h.connect({ auth: { protocol: 1, resumeToken: a.result.resumeToken } });
      const resumed = await next(again, 'resumed');
      await ask(again, 'leave', {});
      const text = lines.join('\n');
      expect(
        lines.some(
          (l) => l.includes('"roomId":"log-room"') && l.includes(`"peerId":"${a.result.peerId}"`),
        ),
      ).toBe(true);
      for (const secret of [
        'very-secret-pw',
        a.result.moderatorToken as string,
        a.result.resumeToken,
        b.result.resumeToken,
        resumed.resumeToken,
        'wrong-token-guess',
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await h.close();
    }
  });
});
