/**
 * A CDR carries each leg's media even for a call shorter than the engine's stats interval, and
 * its line is in the file before the BYE is answered (issue #19 item 1; docs/sbc.md "CDRs").
 * Kamailio's order is the reference: `rtpengine_query`/`rtpengine_delete` (a blocking ng round
 * trip), then the BYE is relayed and answered and `acc` writes the record with the final stats.
 *
 * A sipp phone (public zone) plays g711a.pcap (PCMA) through the SBC to a sipp trunk (core zone)
 * that echoes the RTP back (-rtp_echo), and hangs up after 1.5 s — the engine's periodic stats
 * come every 10 s, so none came during the call. The SBC asks the engine for the call's stats at
 * the BYE, then ends the call (the CDR line), then answers the BYE. With the built-in engine and
 * with a real rtpengine-daemon (its ng `query`). Checked: the real CdrStore's file, read the
 * moment the phone's sipp exits (it exits only after the BYE's 200), has the call's line with
 * `media` for both legs (a codec, packets both ways); and when the line was written the SBC had
 * not yet sent the BYE's 200 (its signalling record, in the process). And bounded: an engine
 * that never answers the query delays the 200 by the SBC's timeout only (the line without
 * media), and a shutdown during the wait writes the one line and answers the BYE at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuiltinEngine, RtpengineEngine, type MediaEngine } from '@tfx/media';
import { Sbc, type CdrRecord, type CdrSink } from '@tfx/sbc';
import { startRtpengine, type RtpengineProcess } from '../../../media/test/rtpengine/harness.js';
import { SCENARIOS, freePort, sipp, zone } from '../../../sbc/test/harness.js';
import { CdrStore } from '../../src/store/cdr.js';

// This test's loopback addresses (the other SBC tests use other ones).
const PUBLIC = '127.0.45.40';
const CORE = '127.0.45.41';
const PHONE = '127.0.45.42';
const TRUNK = '127.0.45.43';
/** The engines' periodic stats interval (the default): far longer than the call. */
const STATS_INTERVAL_MS = 10_000;

type EngineMaker = () => Promise<{ engine: MediaEngine; stop(): Promise<void> }>;

const builtin: EngineMaker = async () => {
  const base = 40000 + 2 * Math.floor(Math.random() * 5000);
  const engine = await createBuiltinEngine({
    portMin: base,
    portMax: base + 99,
    workers: 1,
    mediaTimeoutMs: 0,
    statsIntervalMs: STATS_INTERVAL_MS,
  });
  return { engine, stop: () => engine.close() };
};

const rtpengine: EngineMaker = async () => {
  const rtpe: RtpengineProcess = await startRtpengine({
    ports: 40,
    interfaces: { public: PUBLIC, core: CORE },
  });
  const engine = new RtpengineEngine({
    instances: [rtpe.url],
    interfaces: { public: 'public', core: 'core' },
    statsIntervalMs: STATS_INTERVAL_MS,
  });
  return {
    engine,
    async stop() {
      await engine.close();
      await rtpe.stop();
    },
  };
};

/** The store's sink, noting for each record whether the SBC had already answered a BYE of it. */
class Witness implements CdrSink {
  readonly seen: Array<{ readonly record: CdrRecord; readonly byeAnswered: boolean }> = [];
  sbc: Sbc | undefined;
  constructor(readonly store: CdrStore) {}
  write(record: CdrRecord): void {
    this.store.write(record);
    this.seen.push({ record, byeAnswered: byeAnswered(this.sbc, record.callId) });
  }
}

/** Whether the SBC sent a response to a BYE on the leg with this Call-ID (its message tap). */
function byeAnswered(sbc: Sbc | undefined, callId: string | undefined): boolean {
  if (!sbc || callId === undefined) return false;
  return sbc.signals
    .entries([callId])
    .some(
      (e) =>
        e.direction === 'out' &&
        e.message.kind === 'response' &&
        e.message.headers.cseq()?.method === 'BYE',
    );
}

/** The lines of every CDR file in `dir`, parsed. */
function lines(dir: string): CdrRecord[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as CdrRecord);
}

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function untilAsync(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000) {
  const start = Date.now();
  while (!(await ok())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether something listens on UDP `address:port` (our bind fails). */
function udpTaken(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(true));
    s.bind(port, address, () => s.close(() => resolve(false)));
  });
}

interface CallResult {
  /** The CDR file's lines the moment the phone's sipp exited (after the BYE's 200). */
  readonly atExit: CdrRecord[];
  readonly witness: Witness;
  readonly sbc: Sbc;
}

/**
 * One call phone → SBC → trunk, RTP both ways, the phone hanging up after 1.5 s; `onSbc` sees
 * the SBC once it runs. Both sipps must succeed (the phone's BYE answered 200).
 */
async function callOnce(engine: MediaEngine, onSbc?: (sbc: Sbc) => void): Promise<CallResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-cdr-media-'));
  const store = new CdrStore(dir);
  const witness = new Witness(store);
  const trunkPort = await freePort(TRUNK);
  const trunkMedia = await freePort(TRUNK, true);
  const phonePort = await freePort(PHONE);
  const phoneMedia = await freePort(PHONE, true);
  const sbc = new Sbc({
    zones: [zone('public', PUBLIC), zone('core', CORE)],
    trunks: [{ name: 'carrier', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` }],
    routes: [{ match: { zone: 'public' }, to: ['carrier'] }],
    engine,
    timers: { T1: 200, T2: 1600 },
    cdr: witness,
  });
  witness.sbc = sbc;
  try {
    const listeners = await sbc.start();
    onSbc?.(sbc);
    const sbcPort = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')?.port;
    expect(sbcPort).toBeDefined();
    const trunk = sipp(
      [
        '-sf',
        join(SCENARIOS, 'uas-echo.xml'),
        '-i',
        TRUNK,
        '-p',
        String(trunkPort),
        '-mi',
        TRUNK,
        '-mp',
        String(trunkMedia),
        '-rtp_echo',
        '-key',
        'rtcp',
        String(trunkMedia + 1),
        '-m',
        '1',
      ],
      40_000,
    );
    // The trunk listens before the phone calls (a wait on its socket, not on time).
    await untilAsync('the trunk sipp to listen', () => udpTaken(TRUNK, trunkPort));
    const phone = sipp(
      [
        `${PUBLIC}:${sbcPort}`,
        '-sf',
        join(SCENARIOS, 'uac-pcap.xml'),
        '-i',
        PHONE,
        '-p',
        String(phonePort),
        '-mi',
        PHONE,
        '-mp',
        String(phoneMedia),
        '-key',
        'rtcp',
        String(phoneMedia + 1),
        '-key',
        'caller',
        'alice',
        '-s',
        '5551234',
        '-d',
        '1500',
        '-m',
        '1',
      ],
      40_000,
    );
    // The file as it is the moment the phone's sipp exits: it exits only after the BYE's 200.
    await until('the phone sipp to start', () => phone.child !== undefined);
    let atExit: CdrRecord[] | undefined;
    const read = (): void => {
      atExit ??= lines(dir);
    };
    if (phone.child.exitCode !== null) read();
    else phone.child.once('exit', read);
    const a = await phone.done;
    expect(a.code, `phone sipp:\n${a.output}\n${a.trace}`).toBe(0);
    const b = await trunk.done;
    expect(b.code, `trunk sipp:\n${b.output}\n${b.trace}`).toBe(0);
    return { atExit: atExit ?? [], witness, sbc };
  } finally {
    await sbc.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([
  ['builtin', builtin],
  ['rtpengine', rtpengine],
] as const)(
  'a call shorter than the stats interval has its media in the CDR (%s engine)',
  (_n, make) => {
    let engine: MediaEngine;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      const e = await make();
      engine = e.engine;
      stop = e.stop;
    });
    afterAll(async () => {
      await stop?.();
    });

    it('the line on disk when the BYE is answered has both legs: codec, packets in and out', async () => {
      const { atExit, witness, sbc } = await callOnce(engine);
      expect(atExit).toHaveLength(1);
      const line = atExit[0]!;
      expect(line).toMatchObject({ kind: 'sbc', reason: 'caller-bye', final: 200 });
      // Shorter than one stats interval: the media came from the query at the BYE.
      expect(Date.parse(line.end) - Date.parse(line.start)).toBeLessThan(STATS_INTERVAL_MS);
      const media = line.media ?? [];
      expect(media.map((m) => m.leg).sort()).toEqual(['a', 'b']);
      for (const m of media) {
        expect(m.codec, `leg ${m.leg}`).toMatch(/^PCMA/i);
        expect(m.packetsIn, `leg ${m.leg} packets in`).toBeGreaterThan(0);
        expect(m.packetsOut, `leg ${m.leg} packets out`).toBeGreaterThan(0);
      }
      expect(media.find((m) => m.leg === 'a')?.zone).toBe('public');
      expect(media.find((m) => m.leg === 'b')?.zone).toBe('core');
      // Written before the BYE's 200 left the SBC, which did send it afterwards.
      expect(witness.seen.map((s) => [s.record.id, s.byeAnswered])).toEqual([[line.id, false]]);
      expect(byeAnswered(sbc, line.callId)).toBe(true);
    }, 90_000);
  },
);

describe('an engine that does not answer the query (built-in engine, its query never settles)', () => {
  let real: MediaEngine;
  let asked = 0;
  let onQuery: (() => void) | undefined;
  let engine: MediaEngine;
  beforeAll(async () => {
    real = (await builtin()).engine;
    engine = new Proxy(real, {
      get(target, key) {
        if (key === 'query')
          return () => {
            asked++;
            onQuery?.();
            return new Promise(() => undefined);
          };
        const v: unknown = Reflect.get(target, key);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  });
  afterAll(async () => {
    await real?.close();
  });

  it('the BYE is answered after the bounded wait; the line is written first, without media', async () => {
    asked = 0;
    onQuery = undefined;
    const { atExit, witness } = await callOnce(engine);
    expect(asked).toBe(1);
    expect(atExit).toHaveLength(1);
    expect(atExit[0]).toMatchObject({ reason: 'caller-bye', final: 200 });
    expect(atExit[0]!.media).toBeUndefined();
    expect(witness.seen.map((s) => s.byeAnswered)).toEqual([false]);
  }, 90_000);

  it('a shutdown while the BYE waits: one line (shutdown), the BYE answered, the trunk BYEd', async () => {
    asked = 0;
    let sbc: Sbc | undefined;
    onQuery = () => void sbc?.close();
    const r = await callOnce(engine, (s) => (sbc = s));
    expect(asked).toBe(1);
    expect(r.atExit).toHaveLength(1);
    expect(r.atExit[0]).toMatchObject({ reason: 'shutdown', final: 200 });
    expect(r.witness.seen.map((s) => s.byeAnswered)).toEqual([false]);
  }, 90_000);
});
