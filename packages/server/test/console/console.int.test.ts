/**
 * The console's REST routes on a real platform over HTTPS (signalling, API, widgets, console):
 * every answer checked against the published OpenAPI document, the audit log written by the admin
 * routes (data-dir file, REST, export) and only by them, and hostile input refused with 400.
 * Redis and coturn are covered by the browser test (test/e2e/operator-console.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import type {
  AuditEntry,
  AuditPage,
  ConsoleCluster,
  ConsoleHistory,
  ConsoleOverview,
  ConsoleTurn,
  ConsoleWidgets,
  TurnTestResponse,
} from '@tfx/protocol';
import { createConsoleModule } from '../../src/console/index.js';
import { createWidgetsModule } from '../../src/widgets/index.js';
import { createSignallingModule } from '../../src/signalling/index.js';
import { adminFromSignalling, createApiModule } from '../../src/api/index.js';
import { OpenApiChecker } from '../api/openapi.js';
import { makeDataDir, startTestPlatform, until, type TestPlatform } from '../api/harness.js';

let t: TestPlatform;
let consoleModule: ReturnType<typeof createConsoleModule>;
let api: OpenApiChecker;
let silentPort = 0;
const silent = createSocket('udp4');

async function call(
  method: string,
  template: string,
  path: string,
  body?: unknown,
  token?: string,
) {
  const res = await t.req(method, path, { body, ...(token !== undefined ? { token } : {}) });
  const json =
    res.status === 204
      ? undefined
      : template.endsWith('/export') && res.status === 200
        ? res.text
        : res.json;
  api.check(method, template, res.status, json);
  return res;
}

beforeAll(async () => {
  // A UDP port that never answers: the TURN test must report "no answer", not hang or throw.
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  silentPort = silent.address().port;
  const dataDir = await makeDataDir();
  const signalling = createSignallingModule();
  const widgets = createWidgetsModule({ reloadDebounceMs: 20 });
  t = await startTestPlatform({
    dataDir,
    modules: [
      signalling,
      createApiModule({ admin: () => adminFromSignalling(signalling.service) }),
      widgets,
      (consoleModule = createConsoleModule({
        signalling: () => signalling.service,
        widgets,
        version: 'test',
        intervalMs: 100,
      })),
    ],
    flags: {
      'turn.urls': JSON.stringify([
        `turn:127.0.0.1:${silentPort}?transport=udp`,
        'turns:turn.example.com:5349',
        'stun:stun.example.com',
      ]),
      'turn.secret': 'console-test-secret',
      'turn.ttl': '600',
    },
  });
  const doc = await t.req('GET', '/api/v1/openapi.json');
  api = new OpenApiChecker(doc.json as ConstructorParameters<typeof OpenApiChecker>[0]);
});
afterAll(async () => {
  silent.close();
  await t.close();
});

describe('console REST routes', () => {
  it('are all in the OpenAPI document with admin security, and answer 401 without the token', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/v1/console/overview'],
      ['GET', '/api/v1/console/history'],
      ['GET', '/api/v1/console/cluster'],
      ['GET', '/api/v1/console/turn'],
      ['POST', '/api/v1/console/turn/test'],
      ['GET', '/api/v1/console/widgets'],
      ['POST', '/api/v1/console/widgets/reload'],
      ['GET', '/api/v1/audit'],
      ['GET', '/api/v1/audit/export'],
    ];
    for (const [m, p] of routes) {
      expect(api.operation(m, p).security).toEqual([{ admin: [] }]);
      const res = await call(m, p, p, m === 'POST' ? {} : undefined, '');
      expect(res.status, `${m} ${p}`).toBe(401);
    }
  });

  it('overview and history count the live rooms and participants of real socket.io clients', async () => {
    const a = await t.join('console-room', 'Ann');
    await t.join('console-room', 'Bob');
    await t.join('other-room', 'Cara');
    const o = await until('the sampler to see 2 rooms', async () => {
      const r = await call('GET', '/api/v1/console/overview', '/api/v1/console/overview');
      const v = r.json as ConsoleOverview;
      return v.rooms.participants === 3 ? v : undefined;
    });
    expect(o.rooms.live).toBe(2);
    expect(o.processes).toBe(1);
    expect(o.process.self).toBe(true);
    expect(o.process.rooms).toBe(2);
    expect(o.process.participants).toBe(3);
    expect(o.redis).toBeNull();
    expect(o.sip).toBeNull(); // no SIP module here
    expect(o.turn).toEqual({
      turnUrls: 2,
      stunUrls: 1,
      secretConfigured: true,
      credentialTtlSeconds: 600,
      stunResponder: false,
    });
    const h = (await call('GET', '/api/v1/console/history', '/api/v1/console/history'))
      .json as ConsoleHistory;
    expect(h.intervalMs).toBe(100);
    expect(h.samples.at(-1)).toMatchObject({ rooms: 2, participants: 3 });
    expect(h.samples.some((s) => s.participants < 3)).toBe(true);
    a.client.close();
  });

  it('cluster without Redis: this process only, no rolling restart', async () => {
    const c = (await call('GET', '/api/v1/console/cluster', '/api/v1/console/cluster'))
      .json as ConsoleCluster;
    expect(c.redis).toBeNull();
    expect(c.processes.map((p) => [p.id, p.state, p.self])).toEqual([['local', 'running', true]]);
    expect(c.rollingRestart).toEqual({ inProgress: false, running: 1, draining: 0 });
    expect(c.processes[0]!.load.length).toBeGreaterThan(0);
  });

  it('TURN: lists the servers; the allocation test reports a silent server, and skips TLS URLs', async () => {
    const turn = (await call('GET', '/api/v1/console/turn', '/api/v1/console/turn'))
      .json as ConsoleTurn;
    expect(turn.servers.map((s) => [s.kind, s.transport, s.testable])).toEqual([
      ['turn', 'udp', true],
      ['turn', 'tls', false],
      ['stun', 'udp', false],
    ]);
    expect(turn.credentialTtlSeconds).toBe(600);
    const res = await call('POST', '/api/v1/console/turn/test', '/api/v1/console/turn/test', {});
    const r = res.json as TurnTestResponse;
    expect(r.results.map((x) => [x.ok, x.status])).toEqual([
      [false, 0],
      [false, 0],
    ]);
    expect(r.results[0]!.message).toMatch(/no answer/);
    expect(r.results[0]!.username).toMatch(/^\d+:console-test$/);
    expect(r.results[1]!.message).toMatch(/only UDP/);
  });

  it('refuses hostile input with 400 bad-request', async () => {
    for (const [m, tpl, path, body] of [
      ['POST', '/api/v1/console/turn/test', '/api/v1/console/turn/test', { url: 5 }],
      ['POST', '/api/v1/console/turn/test', '/api/v1/console/turn/test', { url: 'x'.repeat(600) }],
      ['POST', '/api/v1/console/turn/test', '/api/v1/console/turn/test', { extra: true }],
      ['GET', '/api/v1/audit', '/api/v1/audit?limit=0', undefined],
      ['GET', '/api/v1/audit', '/api/v1/audit?limit=abc', undefined],
      ['GET', '/api/v1/audit', `/api/v1/audit?before=${'z'.repeat(100)}`, undefined],
    ] as Array<[string, string, string, unknown]>) {
      const res = await call(m, tpl, path, body);
      expect(res.status, path).toBe(400);
      expect((res.json as { error: { code: string } }).error.code).toBe('bad-request');
    }
  });

  it('widgets: an invalid manifest file is reported with the entry and field, and the old one kept', async () => {
    const w0 = (await call('GET', '/api/v1/console/widgets', '/api/v1/console/widgets'))
      .json as ConsoleWidgets;
    expect(w0.file.ok).toBe(true);
    expect(w0.widgets.map((x) => x.id)).toContain('draw');
    const good = await readFile(w0.manifestPath, 'utf8');
    const broken = JSON.parse(good) as Array<Record<string, unknown>>;
    broken[0] = { ...broken[0], id: 'bad id!' };
    await writeFile(w0.manifestPath, JSON.stringify(broken));
    const w1 = (
      await call('POST', '/api/v1/console/widgets/reload', '/api/v1/console/widgets/reload')
    ).json as ConsoleWidgets;
    expect(w1.file.ok).toBe(false);
    expect(w1.file.error).toMatch(/id/);
    expect(w1.widgets.map((x) => x.id)).toEqual(w0.widgets.map((x) => x.id));
    await writeFile(w0.manifestPath, good);
    const w2 = (
      await call('POST', '/api/v1/console/widgets/reload', '/api/v1/console/widgets/reload')
    ).json as ConsoleWidgets;
    expect(w2.file.ok).toBe(true);
  });

  it('widgets: the live rooms using each widget, from the open widget ids in the participants’ state', async () => {
    type Ack = { ok: boolean; error?: { code: string } };
    const update = (c: { timeout(ms: number): unknown }, state: unknown) =>
      (c.timeout(10_000) as { emitWithAck(e: string, p: unknown): Promise<Ack> }).emitWithAck(
        'update',
        { state },
      );
    const { client: fay } = await t.join('widget-room', 'Fay');
    const { client: gus } = await t.join('widget-room', 'Gus');
    const { client: hal } = await t.join('other-room', 'Hal');
    const rooms = async (id: string) =>
      (
        (await call('GET', '/api/v1/console/widgets', '/api/v1/console/widgets'))
          .json as ConsoleWidgets
      ).widgets.find((x) => x.id === id)?.rooms;
    expect(await rooms('draw')).toEqual([]);
    expect((await update(fay, { widgets: ['draw', 'editor'] })).ok).toBe(true);
    expect((await update(gus, { widgets: ['draw'] })).ok).toBe(true);
    expect((await update(hal, { widgets: ['editor'] })).ok).toBe(true);
    const draw = await rooms('draw');
    expect(draw).toEqual([
      { room: 'widget-room', sessionId: expect.any(String), participants: ['Fay', 'Gus'] },
    ]);
    expect((await rooms('editor'))?.map((r) => [r.room, r.participants])).toEqual([
      ['other-room', ['Hal']],
      ['widget-room', ['Fay']],
    ]);
    // Closed for everyone: the empty list empties the column.
    for (const c of [fay, gus, hal]) expect((await update(c, { widgets: [] })).ok).toBe(true);
    expect(await rooms('draw')).toEqual([]);
    expect(await rooms('editor')).toEqual([]);
    // Hostile lists are refused at the edge and change nothing.
    for (const bad of [['bad id!'], Array.from({ length: 33 }, (_, i) => `w${i}`), 'draw', [7]]) {
      const ack = await update(fay, { widgets: bad });
      expect(ack.ok).toBe(false);
      expect(ack.error?.code).toBe('invalid-event');
    }
    expect(await rooms('draw')).toEqual([]);
    for (const c of [fay, gus, hal]) c.close();
  });

  it('the audit log records admin actions (who, how, where, the room and person), not reads or refused tokens', async () => {
    const { result: dan } = await t.join('audit-room', 'Dan');
    await t.join('audit-room', 'Eve');
    const sid = dan.sessionId;
    const eve = (
      (await t.req('GET', `/api/v1/sessions/${sid}`)).json as {
        participants: Array<{ id: string; name: string }>;
      }
    ).participants.find((p) => p.name === 'Eve')!;
    // A refused token: not an admin action, not logged.
    expect((await t.req('DELETE', `/api/v1/sessions/${sid}`, { token: 'wrong' })).status).toBe(401);
    await call(
      'DELETE',
      '/api/v1/sessions/{id}/participants/{peerId}',
      `/api/v1/sessions/${sid}/participants/${eve.id}`,
    );
    await call('DELETE', '/api/v1/sessions/{id}', `/api/v1/sessions/${sid}`);
    // Refused by the route (already ended): logged with its status.
    await call('DELETE', '/api/v1/sessions/{id}', `/api/v1/sessions/${sid}`);
    await call('POST', '/api/v1/rooms', '/api/v1/rooms', {
      name: 'audited-room',
      password: 'pw-123456',
    });

    const page = (await call('GET', '/api/v1/audit', '/api/v1/audit')).json as AuditPage;
    const mine = page.items.filter(
      (e) => e.action !== 'turn.test' && e.action !== 'widgets.reload',
    );
    expect(mine.map((e) => [e.action, e.status, e.target])).toEqual([
      ['room.create', 201, 'room audited-room'],
      ['session.close', 409, `room audit-room (session ${sid})`],
      ['session.close', 204, `room audit-room (session ${sid})`],
      ['participant.kick', 204, `Eve (${eve.id}) in room audit-room`],
    ]);
    for (const e of page.items) {
      expect(e.actor).toMatch(/^admin token [0-9a-f]{8}$/);
      expect(e.actor).not.toContain(t.token);
      expect(e.via).toBe('api');
      expect(e.from).toBe('127.0.0.1');
      expect(e.node).toBe('local');
    }
    expect(JSON.stringify(page)).not.toContain('pw-123456');

    // Paged by `before`, filtered by action.
    const first = (await call('GET', '/api/v1/audit', '/api/v1/audit?limit=2')).json as AuditPage;
    expect(first.items).toHaveLength(2);
    const next = (
      await call('GET', '/api/v1/audit', `/api/v1/audit?limit=2&before=${first.nextBefore!}`)
    ).json as AuditPage;
    expect(next.items[0]!.id < first.items[1]!.id).toBe(true);
    const closes = (await call('GET', '/api/v1/audit', '/api/v1/audit?action=session.close'))
      .json as AuditPage;
    expect(closes.items).toHaveLength(2);

    // Kept in the data dir, one JSON object a line, oldest first; the export is the same.
    const lines = (await readFile(join(t.dataDir, 'audit', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    const file = lines.map((l) => JSON.parse(l) as AuditEntry);
    expect(file.map((e) => e.id)).toEqual(page.items.map((e) => e.id).reverse());
    const exp = await call('GET', '/api/v1/audit/export', '/api/v1/audit/export');
    expect(exp.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(exp.text.trim().split('\n')).toEqual(lines);
  });

  it('a draining process (SIGTERM) shows as a rolling restart in progress', async () => {
    await consoleModule.drain?.();
    const c = (await call('GET', '/api/v1/console/cluster', '/api/v1/console/cluster'))
      .json as ConsoleCluster;
    expect(c.processes[0]!.state).toBe('draining');
    expect(c.rollingRestart).toEqual({ inProgress: true, running: 0, draining: 1 });
  });
});
