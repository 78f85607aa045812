/**
 * The call journal of restart recovery (recovery.ts) in one process: a confirmed call is kept in
 * the store with both legs' dialog state; a new SBC on the same store ends it on both legs with
 * BYE (both sipp sides answer 200) and empties the store; a graceful close() ends its calls itself
 * and leaves nothing for the next start. (The real kill and restart: packages/cli/test/sbc-restart.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEngine } from '@tfx/media';
import type { CallRecord, CallStore } from '../src/index.js';
import { Sbc } from '../src/index.js';
import {
  CORE,
  PHONE,
  PUBLIC,
  SCENARIOS,
  TRUNK,
  builtinEngine,
  freePort,
  header,
  sipp,
  zone,
} from './harness.js';

class MemoryCallStore implements CallStore {
  readonly calls = new Map<string, CallRecord>();
  async put(r: CallRecord): Promise<void> {
    this.calls.set(r.id, structuredClone(r));
  }
  async remove(id: string): Promise<void> {
    this.calls.delete(id);
  }
  async list(): Promise<CallRecord[]> {
    return [...this.calls.values()];
  }
}

let engine: MediaEngine;
beforeAll(async () => {
  engine = await builtinEngine();
});
afterAll(async () => {
  await engine?.close();
});

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An SBC on the store; `ports` (zone → UDP port) binds the ports of a previous one. */
async function sbcOn(
  store: CallStore,
  trunkPort: number,
  ports: Record<string, number> = {},
): Promise<{ sbc: Sbc; port: number; ports: Record<string, number> }> {
  const zones = [zone('public', PUBLIC), zone('core', CORE)].map((z) => ({
    ...z,
    trusted: true,
    listen: [
      { transport: 'udp' as const, address: z.listen[0]!.address, port: ports[z.name] ?? 0 },
    ],
  }));
  const sbc = new Sbc({
    zones,
    trunks: [{ name: 'pbx', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` }],
    routes: [{ match: { zone: 'public' }, to: ['pbx'] }],
    engine,
    callStore: store,
    timers: { T1: 200, T2: 1600 },
  });
  const listeners = await sbc.start();
  const port = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
  const core = listeners.find((l) => l.address === CORE && l.transport === 'udp')!.port;
  return { sbc, port, ports: { public: port, core } };
}

function call(sbcPort: number, trunkPort: number, phonePort: number) {
  const uas = sipp(['-sn', 'uas', '-i', TRUNK, '-p', String(trunkPort), '-m', '1'], 90_000);
  const uac = sipp(
    [
      `${PUBLIC}:${sbcPort}`,
      '-sf',
      `${SCENARIOS}uac-recovery.xml`,
      '-s',
      '1000',
      '-i',
      PHONE,
      '-p',
      String(phonePort),
      '-m',
      '1',
    ],
    90_000,
  );
  return { uas, uac };
}

describe('restart recovery: the call journal', () => {
  it('keeps a confirmed call with both legs, and a new SBC on the same store ends it with BYE on both legs', async () => {
    const store = new MemoryCallStore();
    const trunkPort = await freePort(TRUNK);
    const first = await sbcOn(store, trunkPort);
    const { uas, uac } = call(first.port, trunkPort, await freePort(PHONE));
    await until('the call kept', () => store.calls.size === 1);
    const rec = [...store.calls.values()][0]!;
    expect(rec.legs.map((l) => [l.zone, l.hop.address])).toEqual([
      ['public', PHONE],
      ['core', TRUNK],
    ]);
    // The previous process is gone without a word: its zones close, nothing is sent.
    const kept = structuredClone(rec);
    for (const z of first.sbc.zones.values()) await z.close();
    first.sbc.journal?.close();
    store.calls.set(kept.id, kept);

    // The same ports, as a restarted process binds (sipp answers a request where the call's
    // INVITE came from, not per Via: a new port would not hear the 200s).
    const second = await sbcOn(store, trunkPort, first.ports);
    expect(await second.sbc.recovered).toBe(1);
    const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
    expect(uacRun.code, uacRun.output).toBe(0);
    expect(uasRun.code, uasRun.output).toBe(0);
    const bye = uasRun.received.find((m) => m.startsWith('BYE '));
    expect(header(bye ?? '', 'Reason')).toContain('SBC restarted');
    expect(second.sbc.journal?.counters).toMatchObject({ recovered: 1, byes: 2, answered: 2 });
    expect(store.calls.size).toBe(0);
    await second.sbc.close();
    await first.sbc.close();
  }, 120_000);

  it('keeps the CSeq a re-INVITE moved: the recovery BYE on the callee leg is above the hold re-INVITE (§12.2.1.1)', async () => {
    const store = new MemoryCallStore();
    const trunkPort = await freePort(TRUNK);
    const first = await sbcOn(store, trunkPort);
    const uas = sipp(
      ['-sf', `${SCENARIOS}uas-hold-wait-bye.xml`, '-i', TRUNK, '-p', String(trunkPort), '-m', '1'],
      90_000,
    );
    const uac = sipp(
      [
        `${PUBLIC}:${first.port}`,
        '-sf',
        `${SCENARIOS}uac-hold-wait-bye.xml`,
        '-s',
        '1000',
        '-i',
        PHONE,
        '-p',
        String(await freePort(PHONE)),
        '-m',
        '1',
      ],
      90_000,
    );
    // Confirmed, then the hold re-INVITE moves leg B's CSeq; the sweep writes the record again.
    await until('the call kept', () => store.calls.size === 1);
    const initial = [...store.calls.values()][0]!.legs[1]!.localSeq;
    await until(
      'the re-INVITE kept',
      () => ([...store.calls.values()][0]?.legs[1]?.localSeq ?? Infinity) > initial,
    );
    expect(store.calls.size).toBe(1);
    const kept = structuredClone([...store.calls.values()][0]!);
    for (const z of first.sbc.zones.values()) await z.close();
    first.sbc.journal?.close();
    store.calls.set(kept.id, kept);

    const second = await sbcOn(store, trunkPort, first.ports);
    const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
    expect(uacRun.code, uacRun.output).toBe(0);
    expect(uasRun.code, uasRun.output).toBe(0);
    const seqOf = (m: string | undefined): number =>
      Number(/^(\d+)/.exec(header(m ?? '', 'CSeq') ?? '')?.[1]);
    const invites = uasRun.received.filter((m) => m.startsWith('INVITE '));
    const bye = uasRun.received.find((m) => m.startsWith('BYE '));
    expect(invites.length).toBeGreaterThanOrEqual(2);
    expect(seqOf(bye)).toBeGreaterThan(seqOf(invites[invites.length - 1]));
    expect(second.sbc.journal?.counters.answered).toBe(2);
    await second.sbc.close();
    await first.sbc.close();
  }, 120_000);

  it('a graceful close() ends its calls itself and leaves the store empty', async () => {
    const store = new MemoryCallStore();
    const trunkPort = await freePort(TRUNK);
    const s = await sbcOn(store, trunkPort);
    const { uas, uac } = call(s.port, trunkPort, await freePort(PHONE));
    await until('the call kept', () => store.calls.size === 1);
    await s.sbc.close();
    const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
    expect(uacRun.code, uacRun.output).toBe(0);
    expect(uasRun.code, uasRun.output).toBe(0);
    expect(store.calls.size).toBe(0);
  }, 120_000);
});
