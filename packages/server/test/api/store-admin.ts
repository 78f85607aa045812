/**
 * A `SessionAdmin` over a bare `Store`, used by the API tests while no signalling service is
 * wired: joins go straight into the store (no sockets), kick/close remove peers from it.
 */
import { join } from 'node:path';
import type { SessionAdmin } from '../../src/api/index.js';
import { EndedSessionFile, openMemoryStore, type MemoryStore } from '../../src/store/index.js';

export async function openTestStore(dataDir: string): Promise<MemoryStore> {
  return openMemoryStore({
    maxEnded: 100_000,
    retentionMs: 30 * 86_400_000,
    file: new EndedSessionFile(join(dataDir, 'sessions', 'ended.jsonl')),
  });
}

export function storeAdmin(store: MemoryStore): SessionAdmin {
  return {
    listSessions: (q) => store.listSessions(q),
    getSession: (id) => store.getSession(id),
    async closeSession(id) {
      const s = await store.getSession(id);
      if (!s || s.endedAt !== undefined) return false;
      const now = Date.now();
      for (const p of await store.listPeers(s.room)) await store.leave(s.room, p.id, now);
      await store.endSessionIfEmpty(s.room, now);
      return true;
    },
    async kickPeer(id, peerId) {
      const s = await store.getSession(id);
      if (!s || s.endedAt !== undefined) return false;
      return (await store.leave(s.room, peerId, Date.now())).left;
    },
    async createRoom(input) {
      const { room, moderatorToken } = await store.createRoom({
        ...input,
        capacity: 6,
        now: Date.now(),
      });
      return { room: room.name, moderatorToken, expiresAt: room.expiresAt };
    },
  };
}
