/**
 * `POST /api/v1/gateway/room-dial-out` on a real platform (signalling + gateway modules, port 0):
 * a room's moderator gets a credential billed to `gateway.roomDialOut`; anyone else gets
 * `not-moderator`; with the option unset everyone gets `forbidden`; a bad body is `bad-request`.
 */
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type JoinResult,
  type RoomDialOutResponse,
  type ServerToClientEvents,
} from '@tfx/protocol';
import { computeHa1, nodeDigestHash } from '@tfx/sip';
import { createLogger, loadConfig, startPlatform, type Platform } from '../../src/index.js';
import { createSignallingModule } from '../../src/signalling/index.js';
import { createGatewayModule, type GatewayModule } from '../../src/gateway/index.js';
import { makeDataDir } from '../api/harness.js';
import { httpRequest } from '../api/http.js';

let platform: Platform | undefined;
let dataDir: string | undefined;
const sockets: Array<{ close(): void }> = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await platform?.close();
  platform = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(roomDialOut?: string): Promise<{ base: string; gateway: GatewayModule }> {
  dataDir = await makeDataDir();
  const config = loadConfig({
    env: {},
    flags: {
      dataDir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'sip.enabled': false,
      'sip.domain': 'tfx.test',
      'admin.token': 'test-admin-token-0123456789',
    },
    overrides: {
      label: 'test',
      values: {
        sip: { users: [{ username: 'acme', password: 'acme-secret-1' }] },
        ...(roomDialOut && { gateway: { roomDialOut } }),
      },
    },
  });
  const signalling = createSignallingModule();
  const gateway = createGatewayModule({
    isModerator: () => (room, token) => signalling.service.store.isModerator(room, token),
  });
  platform = await startPlatform(config, {
    logger: createLogger({
      level: 'warn',
      format: 'json',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    }),
    modules: [signalling, gateway],
    version: 'test',
  });
  return { base: platform.context.publicUrl(), gateway };
}

function join(base: string, room: string, name: string): Promise<JoinResult> {
  const client: Socket<ServerToClientEvents, ClientToServerEvents> = io(base, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    rejectUnauthorized: false,
    auth: { protocol: PROTOCOL_VERSION },
  });
  sockets.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect_error', reject);
    client.once('connect', () =>
      client.emit('join', { room, name }, (ack) =>
        ack.ok ? resolve(ack) : reject(new Error(ack.error.code)),
      ),
    );
  });
}

const post = (base: string, body: unknown) =>
  httpRequest(base, 'POST', '/api/v1/gateway/room-dial-out', { token: '', body });

describe('room dial-out (gateway.roomDialOut)', () => {
  it('gives the room’s moderator a credential billed to the account, which the SBC’s lookup accepts', async () => {
    const { base, gateway } = await start('acme');
    const mod = await join(base, 'dial-room', 'Mod');
    const guest = await join(base, 'dial-room', 'Guest');
    expect(mod.moderatorToken).toBeTruthy();
    expect(guest.moderatorToken).toBeFalsy();

    const r = await post(base, { room: 'dial-room', moderatorToken: mod.moderatorToken });
    expect(r.status).toBe(200);
    const c = r.json as RoomDialOutResponse;
    expect(c).toMatchObject({ account: 'acme', domain: 'tfx.test' });
    expect(c.username).toMatch(/^acme~room~\d+~/);
    expect(Date.parse(c.expiresAt)).toBeGreaterThan(Date.now());
    // What the SBC module's digest lookup does with it (docs/sbc.md, "/sip and the SBC").
    expect(gateway.dialOut?.ha1(c.username, 'tfx.test', 'MD5')).toBe(
      computeHa1(nodeDigestHash, 'MD5', c.username, 'tfx.test', c.password),
    );
    expect(gateway.dialOut?.accountOf(c.username)).toBe('acme');
  });

  it('refuses a token that is not the room’s moderator token (not-moderator), and another room’s', async () => {
    const { base } = await start('acme');
    const mod = await join(base, 'room-a', 'Mod');
    await join(base, 'room-b', 'Other');
    for (const body of [
      { room: 'room-a', moderatorToken: 'guess' },
      { room: 'room-b', moderatorToken: mod.moderatorToken },
      { room: 'no-such-room', moderatorToken: mod.moderatorToken },
    ]) {
      const r = await post(base, body);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ error: { code: 'not-moderator' } });
    }
  });

  it('is off by default: even a moderator gets forbidden', async () => {
    const { base, gateway } = await start();
    expect(gateway.dialOut).toBeUndefined();
    const mod = await join(base, 'dial-room', 'Mod');
    const r = await post(base, { room: 'dial-room', moderatorToken: mod.moderatorToken });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { code: 'forbidden' } });
  });

  it.each([
    ['no body', undefined],
    ['unknown keys', { room: 'r', moderatorToken: 't', account: 'bob' }],
    ['a huge token', { room: 'r', moderatorToken: 'x'.repeat(10_000) }],
    ['wrong types', { room: 5, moderatorToken: ['t'] }],
  ])('refuses %s (bad-request)', async (_what, body) => {
    const { base } = await start('acme');
    const r = await post(base, body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'bad-request' } });
  });
});
