/**
 * bench/media: the built-in engine and rtpengine (userspace) in the same run, relay pinned to
 * core 0 and this load generator to core 1 (taskset), on 127.0.0.1 only.
 *
 *   npm run bench:media [-- --rates 2400,10000,20000,40000 --seconds 5 --setups 3000
 *                          --engines builtin,rtpengine --workers 1 --nice -10 --no-docs
 *                          --profile DIR --sockets 32 --report-only]
 *
 * Per rate: rate/100 G.711 calls (20 ms, 172-byte packets, both directions: 100 packets/s a call)
 * set up through the engine's MediaEngine API; 1 s warm-up, then a window of --seconds in which
 * the relay's CPU (sum of /proc/PID/task/∗/schedstat run time: every thread of the relay process)
 * and the packets relayed are counted; CPU µs per relayed packet and loss (sent − received after a
 * drain). Then setups/s (offer + answer + delete, 16 in flight, at most --setups or 10 s) and
 * memory (VmRSS) and UDP sockets per call with 400 idle calls. Bounded: every rate runs
 * 1 s + --seconds, every process is stopped by PID. Results: stdout, bench/media/results.json,
 * docs/img/media-bench.svg and the "## Media relay" section of docs/benchmarks.md.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, readlinkSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LegProfile, MediaEngine } from '../../packages/media/src/engine/types.js';
import { RtpengineEngine } from '../../packages/media/src/rtpengine/engine.js';
import {
  startRtpengine,
  type RtpengineProcess,
} from '../../packages/media/test/rtpengine/harness.js';
import { writeReport, type BenchResult, type EngineResult } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const opt = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : dflt;
};
const RATES = opt('rates', '2400,10000,20000,40000').split(',').map(Number);
const SECONDS = Number(opt('seconds', '5'));
const SETUPS = Number(opt('setups', '3000'));
const ENGINES = opt('engines', 'builtin,rtpengine').split(',');
const WORKERS = Number(opt('workers', '1'));
// Relay and load generator run at the same raised priority, so other work on a shared machine
// disturbs less (as bench/sip does).
const NICE = Number(opt('nice', '-10'));
/** `--profile DIR`: the built-in host runs with --cpu-prof (a .cpuprofile per thread) into DIR. */
const PROFILE = opt('profile', '');
const IDLE_CALLS = 400;
const SIDES = Number(opt('sockets', '32'));
/**
 * `--generator c|js`: the native generator (rtpgen.c, sendmmsg/recvmmsg, compiled here with cc)
 * or the JavaScript one. Default c when a C compiler is there: the JavaScript generator could not
 * send 20k packets/s on a loaded 2-core machine.
 */
let GENERATOR = opt('generator', 'c');
const ADDR = '127.0.0.1';

const P: LegProfile = {
  mediaAddress: ADDR,
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU time of every thread of `pid`, in µs (schedstat run time, ns). */
function cpuUs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* thread ended */
    }
  }
  return ns / 1000;
}
const rssKb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
function sockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

/** The engine under test and the PID whose CPU is the relay's. */
interface Target {
  readonly name: string;
  readonly pid: number;
  readonly engine: Pick<MediaEngine, 'offer' | 'answer' | 'delete'>;
  stop(): Promise<void>;
}

async function builtinTarget(): Promise<Target> {
  const child: ChildProcess = fork(join(here, 'host.mjs'), ['20000', '27999', String(WORKERS)], {
    execPath: 'taskset',
    execArgv: [
      '-c',
      '0',
      'nice',
      '-n',
      String(NICE),
      process.execPath,
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  let seq = 0;
  await new Promise<void>((res, rej) => {
    child.once('error', rej);
    child.on('message', (m: { ready?: boolean; id?: number; ok?: unknown; err?: string }) => {
      if (m.ready) return res();
      const w = waiting.get(m.id as number);
      waiting.delete(m.id as number);
      if (m.err !== undefined) w?.rej(new Error(m.err));
      else w?.res(m.ok);
    });
  });
  const call =
    (method: string) =>
    (...args: unknown[]): Promise<never> =>
      new Promise((res, rej) => {
        const id = ++seq;
        waiting.set(id, { res: res as (v: unknown) => void, rej });
        child.send({ id, method, args });
      });
  return {
    name: 'builtin',
    pid: child.pid as number,
    engine: { offer: call('offer'), answer: call('answer'), delete: call('delete') },
    async stop() {
      child.disconnect();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    },
  };
}

async function rtpengineTarget(): Promise<{ t: Target; proc: RtpengineProcess }> {
  const proc = await startRtpengine({
    cpus: '0',
    nice: NICE,
    ports: 4 * IDLE_CALLS + 400,
    logLevel: 3,
  });
  const engine = new RtpengineEngine({ instances: [proc.url], pingIntervalMs: 0, timeoutMs: 5000 });
  return {
    proc,
    t: {
      name: 'rtpengine',
      pid: proc.pid,
      engine,
      async stop() {
        await engine.close();
        await proc.stop();
      },
    },
  };
}

const sdp = (port: number, sess: number): string =>
  `v=0\r\no=lg ${sess} 1 IN IP4 ${ADDR}\r\ns=-\r\nc=IN IP4 ${ADDR}\r\nt=0 0\r\n` +
  `m=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;
const mport = (s: string): number => Number(/^m=audio (\d+) /m.exec(s)?.[1]);

let callSeq = 0;
async function setupCall(
  t: Target,
  aPort: number,
  bPort: number,
): Promise<{ id: string; toA: number; toB: number }> {
  const id = `bench-${process.pid}-${++callSeq}`;
  const o = await t.engine.offer({
    callId: id,
    fromTag: 'a',
    sdp: sdp(aPort, callSeq),
    from: P,
    to: P,
  });
  const r = await t.engine.answer({
    callId: id,
    fromTag: 'a',
    toTag: 'b',
    sdp: sdp(bPort, callSeq),
  });
  return { id, toA: mport(r.sdp), toB: mport(o.sdp) };
}

async function openSide(): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 16 << 20, sendBufferSize: 8 << 20 });
  await new Promise<void>((r) => s.bind(0, ADDR, () => r()));
  return s;
}

interface RateResult {
  pps: number;
  calls: number;
  sent: number;
  received: number;
  windowPackets: number;
  cpuUsPerPacket: number;
  lossPct: number;
  relayCpuPct: number;
  /** The rate actually sent in the window (the generator ticks every ms). */
  sentPps: number;
  /** Sends the kernel refused (ENOBUFS/EAGAIN on the generator's side): not the relay's loss. */
  sendErrors: number;
}

/** Sets this session's autogroup nice (sched(7) "The autogroup feature"); returns the undo. */
function raiseAutogroup(nice: number): () => void {
  const path = '/proc/self/autogroup';
  try {
    const before = Number(/nice (-?\d+)/.exec(readFileSync(path, 'utf8'))?.[1] ?? 0);
    writeFileSync(path, String(nice));
    console.log(`session autogroup nice ${before} → ${nice} for the run`);
    const undo = (): void => {
      try {
        writeFileSync(path, String(before));
      } catch {
        /* gone */
      }
    };
    process.once('exit', undo);
    return undo;
  } catch {
    console.log('could not set the session autogroup nice (no autogroup, or not root)');
    return () => {};
  }
}

/** Compiles rtpgen.c (once per run) into the temp folder; undefined without a C compiler. */
function buildRtpgen(): string | undefined {
  const dir = join(tmpdir(), 'tfx-bench-media');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, 'rtpgen');
  try {
    execFileSync('cc', ['-O2', '-o', bin, join(here, 'rtpgen.c')], { stdio: 'inherit' });
    return bin;
  } catch {
    return undefined;
  }
}
let RTPGEN: string | undefined;

/** One rate with the native generator (its protocol: rtpgen.c's header). */
async function runRateNative(t: Target, pps: number): Promise<RateResult> {
  const calls = Math.round(pps / 100);
  // It inherits this process's core (1) and priority.
  const gen = spawn(RTPGEN as string, [String(t.pid), String(SIDES)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: gen.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  const ports = first.split(' ').slice(1).map(Number);
  const As = ports.slice(0, SIDES);
  const Bs = ports.slice(SIDES);
  const legs: { id: string; toA: number; toB: number }[] = [];
  for (let i = 0; i < calls; i++)
    legs.push(await setupCall(t, As[i % SIDES] as number, Bs[i % SIDES] as number));
  gen.stdin!.write(
    `calls ${calls}\n${legs.map((l) => `${l.toA} ${l.toB}`).join('\n')}\nrun ${pps} ${SECONDS} 1000\n`,
  );
  const out = JSON.parse((await lines.next()).value as string) as {
    sent: number;
    received: number;
    sendErrors: number;
    windowSent: number;
    windowReceived: number;
    windowUs: number;
    cpuUs: number;
  };
  await new Promise((r) => (gen.exitCode !== null ? r(null) : gen.once('exit', r)));
  for (const l of legs) await t.engine.delete({ callId: l.id }).catch(() => {});
  const relayed = out.windowSent * Math.min(1, out.received / Math.max(1, out.sent));
  return {
    pps,
    calls,
    sent: out.sent,
    received: out.received,
    windowPackets: out.windowReceived,
    cpuUsPerPacket: relayed > 0 ? out.cpuUs / relayed : NaN,
    lossPct: out.sent ? (100 * Math.max(0, out.sent - out.received)) / out.sent : 0,
    relayCpuPct: (100 * out.cpuUs) / out.windowUs,
    sentPps: out.windowSent / (out.windowUs / 1e6),
    sendErrors: out.sendErrors,
  };
}

async function runRate(t: Target, pps: number): Promise<RateResult> {
  if (GENERATOR === 'c') return runRateNative(t, pps);
  const calls = Math.round(pps / 100);
  // Far ends: SIDES sockets per side, calls spread over them (each socket's receive buffer absorbs
  // the load generator's own stalls on a busy machine; the relay sees one far-end address per leg).
  const As = await Promise.all(Array.from({ length: SIDES }, openSide));
  const Bs = await Promise.all(Array.from({ length: SIDES }, openSide));
  const legs: { id: string; toA: number; toB: number; a: Socket; b: Socket }[] = [];
  for (let i = 0; i < calls; i++) {
    const a = As[i % SIDES] as Socket;
    const b = Bs[i % SIDES] as Socket;
    legs.push({ ...(await setupCall(t, a.address().port, b.address().port)), a, b });
  }
  let received = 0;
  let counting = false;
  let windowPackets = 0;
  const onMsg = (m: Buffer): void => {
    // RTP only: RTCP the relay generates (RFC 5761 §4: PT 64-95 after the marker bit) is not counted.
    const pt = (m[1] ?? 0) & 0x7f;
    if (m.length < 12 || (pt >= 64 && pt <= 95)) return;
    received++;
    if (counting) windowPackets++;
  };
  for (const s of [...As, ...Bs]) s.on('message', onMsg);
  // Streams: one per call and direction, each with its SSRC, seq and ts; sent evenly over time.
  // Each stream writes its own packet buffer (a send completes after the loop that queued it).
  const packet = (): Buffer => {
    const b = Buffer.alloc(172, 0xd5);
    b[0] = 0x80;
    b[1] = 0;
    return b;
  };
  const streams = legs.flatMap((l, i) => [
    { sock: l.a, port: l.toA, ssrc: 0x10000 + 2 * i, seq: 0, ts: 0, pkt: packet() },
    { sock: l.b, port: l.toB, ssrc: 0x10001 + 2 * i, seq: 0, ts: 0, pkt: packet() },
  ]);
  let sent = 0;
  let sendErrors = 0;
  const onSent = (err: Error | null): void => {
    if (err) sendErrors++;
  };
  let next = 0;
  const t0 = performance.now();
  const total = (1 + SECONDS) * 1000;
  let cpu0 = 0;
  let w0 = 0;
  let sent0 = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const el = performance.now() - t0;
      if (!counting && el >= 1000) {
        counting = true;
        cpu0 = cpuUs(t.pid);
        w0 = performance.now();
        sent0 = sent;
      }
      if (el >= total) return done();
      const due = Math.floor((el / 1000) * pps) - sent;
      for (let k = 0; k < due; k++) {
        const s = streams[next] as (typeof streams)[number];
        next = (next + 1) % streams.length;
        s.pkt.writeUInt16BE(s.seq, 2);
        s.pkt.writeUInt32BE(s.ts, 4);
        s.pkt.writeUInt32BE(s.ssrc, 8);
        s.seq = (s.seq + 1) & 0xffff;
        s.ts = (s.ts + 160) >>> 0;
        s.sock.send(s.pkt, s.port, ADDR, onSent);
        sent++;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  const cpu1 = cpuUs(t.pid);
  const wallUs = (performance.now() - w0) * 1000;
  const sentPps = (sent - sent0) / (wallUs / 1e6);
  counting = false;
  // Drain: the generator may read late on a busy machine (what sits unread in its socket buffers
  // when they close is lost without any counter), so wait until nothing more arrives.
  for (let last = -1, waited = 0; received !== last && waited < 15_000; waited += 500) {
    last = received;
    await sleep(500);
  }
  for (const s of [...As, ...Bs]) s.close();
  for (const l of legs) await t.engine.delete({ callId: l.id }).catch(() => {});
  const cpu = cpu1 - cpu0;
  return {
    pps,
    calls,
    sent,
    received,
    windowPackets,
    // Packets relayed in the window: those sent in it, less the run's loss share (what arrived in
    // the window is not used: a late-reading generator would undercount it).
    cpuUsPerPacket: sent - sent0 > 0 ? cpu / ((sent - sent0) * Math.min(1, received / sent)) : NaN,
    lossPct: sent ? (100 * Math.max(0, sent - received)) / sent : 0,
    relayCpuPct: (100 * cpu) / wallUs,
    sentPps,
    sendErrors,
  };
}

async function runSetups(
  t: Target,
): Promise<{ setups: number; perSecond: number; cpuUsPerSetup: number }> {
  const cpu0 = cpuUs(t.pid);
  const t0 = performance.now();
  let done = 0;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < SETUPS && performance.now() - t0 < 10_000) {
      started++;
      const c = await setupCall(t, 40000 + (started % 1000) * 2, 42000 + (started % 1000) * 2);
      await t.engine.delete({ callId: c.id });
      done++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const s = (performance.now() - t0) / 1000;
  return { setups: done, perSecond: done / s, cpuUsPerSetup: (cpuUs(t.pid) - cpu0) / done };
}

async function runIdle(t: Target): Promise<{ kbPerCall: number; socketsPerCall: number }> {
  await sleep(300);
  const rss0 = rssKb(t.pid);
  const s0 = sockets(t.pid);
  const ids: string[] = [];
  for (let i = 0; i < IDLE_CALLS; i++)
    ids.push((await setupCall(t, 44000 + 2 * i, 46000 + 2 * i)).id);
  await sleep(300);
  const r = {
    kbPerCall: (rssKb(t.pid) - rss0) / IDLE_CALLS,
    socketsPerCall: (sockets(t.pid) - s0) / IDLE_CALLS,
  };
  for (const id of ids) await t.engine.delete({ callId: id }).catch(() => {});
  return r;
}

async function main(): Promise<void> {
  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  try {
    execFileSync('renice', ['-n', String(NICE), '-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    console.log(
      `could not renice the load generator to ${NICE} (not root?): running at its own priority`,
    );
  }
  if (GENERATOR === 'c') {
    RTPGEN = buildRtpgen();
    if (!RTPGEN) {
      console.log('no C compiler (cc): the JavaScript load generator runs instead');
      GENERATOR = 'js';
    }
  }
  // With autogroup scheduling (Linux default for desktops and this machine), nice only ranks
  // processes within their session: against other sessions (other engineers' suites) each
  // session's autogroup counts as one. So the bench raises its session's autogroup to NICE for
  // its run and puts it back after (root only; bounded by the run's time).
  const restoreAutogroup = raiseAutogroup(NICE);
  const load0 = loadavg();
  const started = new Date().toISOString();
  const results: EngineResult[] = [];
  for (const name of ENGINES) {
    const t = name === 'builtin' ? await builtinTarget() : (await rtpengineTarget()).t;
    try {
      const rates: RateResult[] = [];
      for (const pps of RATES) {
        const r = await runRate(t, pps);
        rates.push(r);
        console.log(
          `${name.padEnd(9)} ${String(pps).padStart(6)} pps (sent ${r.sentPps.toFixed(0)})  ${r.calls} calls  ${r.cpuUsPerPacket.toFixed(2)} µs/pkt  relay CPU ${r.relayCpuPct.toFixed(0)} %  loss ${r.lossPct.toFixed(3)} % (${r.sent - r.received} of ${r.sent}; ${r.sendErrors} send errors)`,
        );
      }
      const setups = await runSetups(t);
      console.log(
        `${name.padEnd(9)} setups ${setups.perSecond.toFixed(0)}/s (${setups.setups}), ${setups.cpuUsPerSetup.toFixed(0)} µs CPU each`,
      );
      const idle = await runIdle(t);
      console.log(
        `${name.padEnd(9)} ${idle.kbPerCall.toFixed(1)} kB and ${idle.socketsPerCall.toFixed(2)} sockets per call`,
      );
      results.push({ name, rates, setups, idle });
    } finally {
      await t.stop();
    }
  }
  const result: BenchResult = {
    started,
    load: { before: load0, after: loadavg() },
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    seconds: SECONDS,
    workers: WORKERS,
    generator: GENERATOR,
    engines: results,
  };
  const b = results.find((r) => r.name === 'builtin');
  const r = results.find((x) => x.name === 'rtpengine');
  if (b && r) {
    for (const x of b.rates) {
      const y = r.rates.find((q) => q.pps === x.pps);
      if (y)
        console.log(
          `ratio builtin/rtpengine at ${x.pps} pps: ${(x.cpuUsPerPacket / y.cpuUsPerPacket).toFixed(2)}× CPU per packet`,
        );
    }
    console.log(
      `ratio setups/s builtin/rtpengine: ${(b.setups.perSecond / r.setups.perSecond).toFixed(2)}×`,
    );
  }
  restoreAutogroup();
  // A profiled or partial run (--no-docs) leaves the recorded results alone.
  if (PROFILE || process.argv.includes('--no-docs')) return;
  writeFileSync(join(here, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  writeReport(result);
}

if (process.argv.includes('--report-only'))
  writeReport(JSON.parse(readFileSync(join(here, 'results.json'), 'utf8')) as BenchResult);
else await main();
