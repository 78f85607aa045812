/**
 * The REST API (`/api/v1`) on a real platform over real HTTPS: admin auth, sessions (live, ended,
 * pagination, close, kick), room creation, every response checked against the published OpenAPI
 * document, and ended sessions read back after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import { GENERATED_ROOM_PATTERN, type Session, type SessionPage } from '@tfx/protocol';
import { OpenApiChecker } from './openapi.js';
import {
  makeDataDir,
  startTestPlatform,
  until,
  type Client,
  type TestPlatform,
} from './harness.js';

let t: TestPlatform;
let api: OpenApiChecker;
let dataDir = '';
const clientsByRoom = new Map<string, Client[]>();

async function startAll(): Promise<void> {
  t = await startTestPlatform({ dataDir });
  const doc = await t.req('GET', '/api/v1/openapi.json');
  api = new OpenApiChecker(doc.json as ConstructorParameters<typeof OpenApiChecker>[0]);
}

async function stopAll(): Promise<void> {
  clientsByRoom.clear();
  await t.close(false);
}

/** A request whose answer is checked against the OpenAPI document (route template given). */
async function call(
  method: string,
  template: string,
  path: string,
  body?: unknown,
  token?: string,
) {
  const res = await t.req(method, path, { body, ...(token !== undefined ? { token } : {}) });
  api.check(method, template, res.status, res.status === 204 ? undefined : res.json);
  return res;
}

/** A real socket.io client joins `room`. */
async function joinPeer(
  room: string,
  name: string,
): Promise<{ peerId: string; sessionId: string; client: Client }> {
  const { client, result } = await t.join(room, name);
  clientsByRoom.set(room, [...(clientsByRoom.get(room) ?? []), client]);
  return { peerId: result.peerId, sessionId: result.sessionId, client };
}

/** Everyone in `room` disconnects; resolves once its session has ended (after the grace period). */
async function endSession(room: string, sessionId: string): Promise<void> {
  for (const c of clientsByRoom.get(room) ?? []) c.close();
  clientsByRoom.delete(room);
  await until(`session ${sessionId} to end`, async () => {
    const r = await t.req('GET', `/api/v1/sessions/${sessionId}`);
    return (r.json as Session).endedAt !== undefined;
  });
}

beforeAll(async () => {
  dataDir = await makeDataDir();
  await startAll();
});
afterAll(async () => {
  await stopAll();
  await rm(dataDir, { recursive: true, force: true });
});

describe('admin auth on /api/v1', () => {
  const routes: [string, string][] = [
    ['GET', '/api/v1/sessions'],
    ['GET', '/api/v1/sessions/abc'],
    ['DELETE', '/api/v1/sessions/abc'],
    ['DELETE', '/api/v1/sessions/abc/participants/p1'],
    ['POST', '/api/v1/rooms'],
  ];
  it.each(routes)(
    '%s %s answers 401 unauthorized without the admin token or with a wrong one',
    async (method, path) => {
      for (const token of ['', 'wrong-token-wrong-token']) {
        const res = await t.req(method, path, {
          token,
          ...(method === 'POST' ? { body: {} } : {}),
        });
        expect(res.status).toBe(401);
        expect(res.json).toMatchObject({ error: { code: 'unauthorized' } });
      }
    },
  );

  it('keeps /healthz and /readyz public', async () => {
    expect((await t.req('GET', '/healthz', { token: '' })).status).toBe(200);
    expect((await t.req('GET', '/readyz', { token: '' })).status).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  it('describes every route with admin security and JSON schemas for requests and responses', () => {
    const ops: [string, string][] = [
      ['GET', '/api/v1/sessions'],
      ['GET', '/api/v1/sessions/{id}'],
      ['DELETE', '/api/v1/sessions/{id}'],
      ['DELETE', '/api/v1/sessions/{id}/participants/{peerId}'],
      ['POST', '/api/v1/rooms'],
    ];
    for (const [m, p] of ops) {
      const op = api.operation(m, p);
      expect(op.security, `${m} ${p}`).toEqual([{ admin: [] }]);
      expect(Object.keys(op.responses ?? {})).toContain('401');
    }
    const doc = api.doc as unknown as { components: { securitySchemes: unknown } };
    expect(doc.components.securitySchemes).toEqual({ admin: { type: 'http', scheme: 'bearer' } });
  });

  it('catches a body with a field the document does not describe (the checker can fail)', async () => {
    const res = await call('GET', '/api/v1/sessions', '/api/v1/sessions?state=live');
    const page = res.json as SessionPage;
    expect(() => api.check('GET', '/api/v1/sessions', 200, { ...page, extra: 1 })).toThrow(
      /does not match/,
    );
    expect(() =>
      api.check('GET', '/api/v1/sessions/{id}', 200, {
        id: 'x',
        room: 'abc',
        startedAt: new Date().toISOString(),
        peakParticipants: 1,
        participants: [{ id: 'p', name: 'n', joinedAt: new Date().toISOString(), ip: '127.0.0.1' }],
      }),
    ).toThrow(/does not match/);
  });
});

describe('POST /api/v1/rooms', () => {
  it('generates a name with ≥ 40 bits of entropy and answers the URL and a moderator token', async () => {
    const res = await call('POST', '/api/v1/rooms', '/api/v1/rooms', {});
    expect(res.status).toBe(201);
    const body = res.json as { room: string; url: string; moderatorToken: string };
    expect(body.room).toMatch(GENERATED_ROOM_PATTERN);
    expect(body.url).toBe(`${t.base}/r/${body.room}`);
    expect(body.moderatorToken.length).toBeGreaterThanOrEqual(32);
    const other = (await call('POST', '/api/v1/rooms', '/api/v1/rooms', {})).json as {
      room: string;
    };
    expect(other.room).not.toBe(body.room);
  });

  it('creates a named room with a password and an expiry, and refuses the same name with 409 conflict', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await call('POST', '/api/v1/rooms', '/api/v1/rooms', {
      name: 'Board-Meeting',
      password: 'pw',
      expiresAt,
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      room: 'board-meeting',
      url: `${t.base}/r/board-meeting`,
      expiresAt,
    });
    const again = await call('POST', '/api/v1/rooms', '/api/v1/rooms', { name: 'board-meeting' });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: 'conflict' } });
  });

  it('refuses bad names, unknown fields and past expiries with 400 bad-request', async () => {
    for (const body of [
      { name: '-bad' },
      { name: 'a' },
      { name: 'x'.repeat(65) },
      { color: 'red' },
      { expiresAt: 'tomorrow' },
      { expiresAt: new Date(Date.now() - 1000).toISOString() },
    ]) {
      const res = await call('POST', '/api/v1/rooms', '/api/v1/rooms', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json).toMatchObject({ error: { code: 'bad-request' } });
    }
  });
});

describe('sessions', () => {
  it('lists a live session with its participants, and shows it by id', async () => {
    const a = await joinPeer('live-room', 'Alice');
    await joinPeer('live-room', 'Bob');
    const list = (
      await call('GET', '/api/v1/sessions', '/api/v1/sessions?state=live&room=live-room')
    ).json as SessionPage;
    expect(list.items).toHaveLength(1);
    const s = list.items[0]!;
    expect(s).toMatchObject({ id: a.sessionId, room: 'live-room', peakParticipants: 2 });
    expect(s.endedAt).toBeUndefined();
    expect(s.participants.map((p) => p.name)).toEqual(['Alice', 'Bob']);
    expect(new Date(s.startedAt).toISOString()).toBe(s.startedAt);
    const one = await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`);
    expect(one.json).toEqual(s);
  });

  it('kicks a participant (204), then 404 for one not in the room', async () => {
    const a = await joinPeer('kick-room', 'Alice');
    const b = await joinPeer('kick-room', 'Bob');
    const kicked = new Promise<unknown>((resolve) => b.client.once('kicked', resolve));
    const res = await call(
      'DELETE',
      '/api/v1/sessions/{id}/participants/{peerId}',
      `/api/v1/sessions/${a.sessionId}/participants/${b.peerId}`,
    );
    expect(res.status).toBe(204);
    expect(await kicked).toEqual({ reason: 'kicked' });
    const s = (await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`))
      .json as Session;
    expect(s.participants.find((p) => p.id === b.peerId)?.leftAt).toBeDefined();
    const again = await call(
      'DELETE',
      '/api/v1/sessions/{id}/participants/{peerId}',
      `/api/v1/sessions/${a.sessionId}/participants/${b.peerId}`,
    );
    expect(again.status).toBe(404);
    expect(again.json).toMatchObject({ error: { code: 'not-found' } });
  });

  it('closes a live session (204); it is then ended with durationMs, and closing again is 409 conflict', async () => {
    const a = await joinPeer('close-room', 'Alice');
    await joinPeer('close-room', 'Bob');
    const res = await call('DELETE', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`);
    expect(res.status).toBe(204);
    const s = (await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`))
      .json as Session;
    expect(s.endedAt).toBeDefined();
    expect(s.durationMs).toBe(Date.parse(s.endedAt!) - Date.parse(s.startedAt));
    expect(s.participants.every((p) => p.leftAt !== undefined)).toBe(true);
    const ended = (
      await call('GET', '/api/v1/sessions', '/api/v1/sessions?state=ended&room=close-room')
    ).json as SessionPage;
    expect(ended.items.map((x) => x.id)).toEqual([a.sessionId]);
    const again = await call('DELETE', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: 'conflict' } });
  });

  it('answers 404 not-found for unknown sessions and 400 for malformed ids and queries', async () => {
    for (const [m, tpl, p] of [
      ['GET', '/api/v1/sessions/{id}', '/api/v1/sessions/nope'],
      ['DELETE', '/api/v1/sessions/{id}', '/api/v1/sessions/nope'],
      [
        'DELETE',
        '/api/v1/sessions/{id}/participants/{peerId}',
        '/api/v1/sessions/nope/participants/p1',
      ],
    ] as const) {
      const res = await call(m, tpl, p);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error: { code: 'not-found' } });
    }
    for (const q of [
      'state=gone',
      'limit=0',
      'limit=1001',
      'limit=abc',
      'room=-x',
      'cursor=',
      'other=1',
    ]) {
      const res = await call('GET', '/api/v1/sessions', `/api/v1/sessions?${q}`);
      expect(res.status, q).toBe(400);
    }
    const res = await call('GET', '/api/v1/sessions', '/api/v1/sessions?cursor=garbage!');
    expect(res.status).toBe(400);
    expect(
      (await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${'x'.repeat(65)}`)).status,
    ).toBe(400);
  });

  it('paginates ended sessions newest first with a cursor that is stable while sessions keep ending', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { sessionId } = await joinPeer('page-room', `P${i}`);
      made.push(sessionId);
      await endSession('page-room', sessionId);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = `/api/v1/sessions?state=ended&room=page-room&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await call('GET', '/api/v1/sessions', q)).json as SessionPage;
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
      pages++;
      // Concurrent appends between pages must neither repeat nor skip older items.
      if (pages === 1) {
        const late = await joinPeer('page-room', 'late');
        await endSession('page-room', late.sessionId);
      }
    } while (cursor && pages < 10);
    expect(seen).toEqual([...made].reverse());
    expect(pages).toBe(3);
  });
});

describe('ended sessions across a restart', () => {
  it('reads ended sessions back from the data dir, and they hold no IP addresses', async () => {
    const a = await joinPeer('restart-room', 'Carol');
    await endSession('restart-room', a.sessionId);
    const before = (await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`))
      .json as Session;
    await stopAll();
    await startAll();
    const after = await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${a.sessionId}`);
    expect(after.status).toBe(200);
    expect(after.json).toEqual(before);
    const all = await call('GET', '/api/v1/sessions', '/api/v1/sessions?state=ended&limit=1000');
    const text =
      JSON.stringify(all.json) +
      (await readFile(joinPath(dataDir, 'sessions', 'ended.jsonl'), 'utf8'));
    expect(text).toContain('restart-room');
    expect(text).not.toMatch(/\b127\.0\.0\.\d+\b|::1|::ffff:|"ip"|"address"/);
  });
});
