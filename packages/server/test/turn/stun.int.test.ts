/** The built-in STUN responder as a platform module: a real UDP listener answering Binding requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, loadConfig, startPlatform, type Platform } from '../../src/index.js';
import { createStunModule } from '../../src/turn/stun-responder.js';
import {
  StunAttr,
  StunMethod,
  checkFingerprint,
  decodeXorAddress,
  getAttribute,
} from '@tfx/media/stun';
import { UdpStunClient } from './turn-client.js';

let dir = '';
let platform: Platform;
const stun = createStunModule();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfx-stun-'));
  const config = loadConfig({
    flags: {
      dataDir: dir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'turn.stun.enabled': true,
      'turn.stun.port': '0',
      'sip.enabled': false,
    },
  });
  const logger = createLogger({
    level: 'warn',
    format: 'json',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  platform = await startPlatform(config, { logger, modules: [stun], version: 'test' });
});

afterAll(async () => {
  await platform?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('built-in STUN responder (turn.stun.enabled)', () => {
  it('reports its UDP listener for the banner', () => {
    const l = platform.listeners.find((x) => x.name === 'stun');
    expect(l).toMatchObject({ protocol: 'udp', address: '127.0.0.1', port: stun.address()!.port });
    expect(l?.url).toBe(`stun:127.0.0.1:${stun.address()!.port}`);
  });

  it('answers a Binding request with the client address in XOR-MAPPED-ADDRESS (RFC 5389 §15.2)', async () => {
    const client = await UdpStunClient.open();
    try {
      const res = await client.request(stun.address()!.port, StunMethod.binding, []);
      expect(res.class).toBe('success');
      expect(checkFingerprint(res)).toBe(true);
      const mapped = decodeXorAddress(
        getAttribute(res, StunAttr.xorMappedAddress)!,
        res.transactionId,
      );
      expect(mapped?.address).toBe('127.0.0.1');
      expect(mapped?.port).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it('survives junk datagrams and keeps answering; outcomes are counted in /metrics', async () => {
    const junk = createSocket('udp4');
    const port = stun.address()!.port;
    for (const b of [
      Buffer.alloc(0),
      Buffer.from('hello'),
      Buffer.alloc(1500, 0xff),
      Buffer.alloc(20),
    ]) {
      await new Promise<void>((resolve) => junk.send(b, port, '127.0.0.1', () => resolve()));
    }
    junk.close();
    const client = await UdpStunClient.open();
    try {
      expect((await client.request(port, StunMethod.binding, [])).class).toBe('success');
    } finally {
      client.close();
    }
    const text = await platform.context.metrics.metrics();
    expect(text).toMatch(/tfx_stun_datagrams_total\{outcome="binding"\} [1-9]/);
    expect(text).toMatch(/tfx_stun_datagrams_total\{outcome="dropped-not-stun"\} [1-9]/);
  });
});
