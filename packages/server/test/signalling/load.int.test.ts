/**
 * 10 000 joins to distinct rooms that then go away (half leave on purpose, half lose their
 * transport and time out), while two peers of another room keep exchanging messages. Afterwards
 * the rooms gauge is 0 and the heap after GC is within 20 MB of its baseline.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tfx/protocol';
import { ask, collect, startSignalling, until, type SignallingHarness } from './harness.js';

const JOINS = Number(process.env.TFX_LOAD_JOINS ?? 10_000);
const CONCURRENCY = 64;
const DEADLINE_MS = 50_000;

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

let h: SignallingHarness;
beforeAll(async () => {
  h = await startSignalling({
    'signalling.resumeGraceMs': '200',
    'signalling.connectionsPerIp': '100000',
    'signalling.joinsPerIpPerMinute': '1000000',
    'log.level': 'silent',
  });
});
afterAll(async () => {
  await h.close();
});

interface LoadResult {
  done: number;
  failures: number;
  firstError?: string;
  elapsedMs: number;
}

/** Runs the load generator in a child process (its own core) and returns its result line. */
function runLoad(count: number, prefix: string): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./load-client.mjs', import.meta.url));
  const args = [
    script,
    h.url,
    String(count),
    String(CONCURRENCY),
    String(DEADLINE_MS),
    String(PROTOCOL_VERSION),
    prefix,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: DEADLINE_MS + 10_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as LoadResult);
    });
  });
}

describe('many short-lived rooms', () => {
  it(`after ${JOINS} joins to distinct rooms that then disconnect, no room is left and the heap is back near its baseline, while another room's peers exchanged messages throughout`, async () => {
    // A room that must not notice anything.
    const a = await h.join('steady-room', 'A');
    const b = await h.join('steady-room', 'B');
    const leftAtA = collect(a.client, 'peer-left');
    const atB = collect(b.client, 'message');
    let sent = 0;
    let running = true;
    const chatter = (async () => {
      while (running) {
        const ack = await ask(a.client, 'message', { to: b.result.peerId, data: ++sent });
        if (!ack.ok) throw new Error(`steady message refused: ${ack.error.code}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // Warm up (JIT, pools, first-use allocations), then take the baseline.
    const warm = await runLoad(300, 'warm');
    expect(warm).toMatchObject({ done: 300, failures: 0 });
    await until(async () => (await h.metric('tfx_signalling_rooms')) === 1, 20_000);
    const baseline = await settledHeap();

    const load = await runLoad(JOINS, 'load');
    expect(load.firstError).toBeUndefined();
    expect(load).toMatchObject({ done: JOINS, failures: 0 });
    const elapsed = load.elapsedMs;

    await until(async () => (await h.metric('tfx_signalling_rooms')) === 1, 20_000);
    expect(await h.metric('tfx_signalling_peers')).toBe(2);
    running = false;
    await chatter;
    await until(() => atB.length === sent);

    const after = await settledHeap();
    const grownMb = (after - baseline) / 1_048_576;
    // The figures, for the record (docs/signalling.md).
    process.stdout.write(
      `load: ${JOINS} joins in ${elapsed} ms (${Math.round((JOINS * 1000) / elapsed)}/s); heap ${(baseline / 1_048_576).toFixed(1)} → ${(after / 1_048_576).toFixed(1)} MB (+${grownMb.toFixed(1)} MB); steady room exchanged ${sent} messages\n`,
    );
    expect(grownMb).toBeLessThan(20);
    expect(leftAtA).toEqual([]);
    expect(atB.map((m) => m.data)).toEqual([...Array(sent).keys()].map((k) => k + 1));
    expect(a.client.connected && b.client.connected).toBe(true);
    expect(await h.metric('tfx_signalling_rooms')).toBe(1);
    expect(h.module.server?.stats()).toMatchObject({ rooms: 1, peers: 2, ipKeys: 1 });
    // Once the steady room empties too, nothing is left.
    await ask(a.client, 'leave', {});
    await ask(b.client, 'leave', {});
    await until(async () => (await h.metric('tfx_signalling_rooms')) === 0);
    expect(h.module.server?.stats()).toMatchObject({ rooms: 0, peers: 0 });
  }, 90_000);
});
