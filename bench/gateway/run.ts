/**
 * bench/gateway: the built-in engine and rtpengine (Debian's rtpengine-daemon, userspace, started
 * here) as WebRTC ↔ RTP gateways in the same run. Each call is a werift RTCPeerConnection (the
 * "browser": full ICE, DTLS-SRTP; in this process) ↔ engine ↔ an RTP probe (the "phone", plain
 * RTP), 20 ms audio both ways. Modes:
 *   passthrough — PCMU in the browser and at the phone (SRTP ↔ RTP, no codec work);
 *   transcode   — an Opus-only browser ↔ a PCMU phone (Opus ↔ G.711 in the engine).
 *
 * Per engine and mode: --calls calls set up at once (connect time: offer → engine → answer →
 * ICE + DTLS connected, p50 and p90); memory per call (the engine process's RSS with the calls up
 * less before); then 1 s warm-up and a --seconds window of media in which the engine's CPU is read
 * from /proc (schedstat run time of every thread of its process: the built-in's host process with
 * its media worker, or rtpengine's daemon) — the peers and probes are this process and never
 * count. The built-in's media worker utilisation (event-loop busy share) is reported too. Loss:
 * packets sent in the run against those that arrived at the far ends after a drain.
 * `% of a core per leg` = engine CPU / calls; a leg is one gateway call (browser ↔ phone);
 * `legs per core` = calls / engine CPU share, valid when the loss is 0.
 *
 * The engines run pinned to core 0 and this load generator to core 1 (taskset, when there are
 * two cores), so the generator never takes the engine's core. `--before DIR` adds the built-in
 * engine built from another checkout (DIR/packages/media/dist) and alternates the two
 * (`--rounds`, default 2) in the same run: before/after on the same noisy machine.
 *
 *   npm run bench:gateway [-- --calls 20 --seconds 5 --modes passthrough,transcode
 *                            --engines builtin,rtpengine --before /tmp/x-before --rounds 2
 *                            --profile DIR --write]
 *
 * Bounded: --calls ≤ 60, --seconds ≤ 20, every engine process stopped by PID; 127.0.0.1 in the
 * loopback-only namespace the npm script makes. Results: stdout (a progress line per step),
 * bench/gateway/results.json and, with --write, the "## WebRTC ↔ RTP gateway" section of
 * docs/benchmarks.md (between markers).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LegProfile, MediaEngine } from '../../packages/media/src/engine/types.js';
import { RtpengineEngine } from '../../packages/media/src/rtpengine/engine.js';
import { OpusCodec } from '../../packages/media/src/codec/opus.js';
import { RtpProbe, sleep, toneUlaw } from '../../packages/media/test/contract/probe.js';
import { makeSdp, readSdp } from '../../packages/media/test/contract/sdp.js';
import { startRtpengine } from '../../packages/media/test/rtpengine/harness.js';
import { WebRtcPeer } from '../../packages/media/test/webrtc/peer.js';
import { writeReport, type GatewayResult, type Measure, type Mode } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const opt = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : dflt;
};
const CALLS = Math.max(1, Math.min(60, Number(opt('calls', '20'))));
const SECONDS = Math.max(1, Math.min(20, Number(opt('seconds', '5'))));
const MODES = opt('modes', 'passthrough,transcode').split(',') as Mode[];
const BEFORE = opt('before', '');
const ROUNDS = Math.max(1, Math.min(4, Number(opt('rounds', BEFORE ? '2' : '1'))));
const ENGINES = opt('engines', 'builtin,rtpengine').split(',');
const PROFILE = opt('profile', '');
const ADDR = '127.0.0.1';
const TWO_CORES = cpus().length >= 2;

const WEB: LegProfile = {
  mediaAddress: ADDR,
  transport: 'UDP/TLS/RTP/SAVPF',
  ice: 'lite',
  dtls: 'passive',
  rtcpMux: 'require',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const PHONE: LegProfile = {
  mediaAddress: ADDR,
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};

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
/** CLOCK_MONOTONIC in µs: the clock of V8's .cpuprofile timestamps (to cut out the window). */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);
const rssKb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** The engine under test: its API and the PID whose CPU and memory are the engine's. */
interface Target {
  readonly name: string;
  readonly pid: number;
  readonly engine: Pick<MediaEngine, 'offer' | 'answer' | 'delete'>;
  /** The built-in's media worker utilisation since the last call (undefined for rtpengine). */
  elu?(): Promise<number>;
  /** The engine process's resident memory in kB (the built-in collects its garbage first). */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

async function builtinTarget(name: string, dist: string): Promise<Target> {
  const base = 20000 + 2 * Math.floor(Math.random() * 4000);
  const nodeArgs = [
    '--expose-gc',
    ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE, name)}`] : []),
  ];
  const child: ChildProcess = fork(
    join(here, 'host.mjs'),
    [dist, String(base), String(base + 8 * CALLS + 99)],
    {
      ...(TWO_CORES
        ? { execPath: 'taskset', execArgv: ['-c', '0', process.execPath, ...nodeArgs] }
        : { execArgv: nodeArgs }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const waiting = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  let seq = 0;
  await new Promise<void>((res, rej) => {
    child.once('error', rej);
    child.once('exit', (c) => rej(new Error(`${name} host exited (${String(c)})`)));
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
    name,
    pid: child.pid as number,
    engine: { offer: call('offer'), answer: call('answer'), delete: call('delete') },
    elu: call('elu') as () => Promise<number>,
    rss: call('rss') as () => Promise<number>,
    async stop() {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function rtpengineTarget(): Promise<Target> {
  const proc = await startRtpengine({
    ...(TWO_CORES ? { cpus: '0' } : {}),
    ports: 8 * CALLS + 100,
    logLevel: 3,
  });
  const engine = new RtpengineEngine({ instances: [proc.url], pingIntervalMs: 0, timeoutMs: 5000 });
  return {
    name: 'rtpengine',
    pid: proc.pid,
    engine,
    rss: () => Promise.resolve(rssKb(proc.pid)),
    async stop() {
      await engine.close();
      await proc.stop();
    },
  };
}

// One second of each direction's audio, encoded once (the peers' encoding is not measured).
const opusFrames: Buffer[] = (() => {
  const enc = new OpusCodec();
  const out: Buffer[] = [];
  for (let f = 0; f < 50; f++) {
    const pcm = new Int16Array(960);
    for (let i = 0; i < 960; i++)
      pcm[i] = 8000 * Math.sin((2 * Math.PI * 440 * (f * 960 + i)) / 48000);
    out.push(enc.encode(pcm));
  }
  enc.close();
  return out;
})();
const ulawFrames = Array.from({ length: 50 }, (_, f) => toneUlaw(1000, f * 160, 160));

interface Leg {
  callId: string;
  peer: WebRtcPeer;
  probe: RtpProbe;
  phoneSide: { address: string; port: number };
  seq: number;
  connectMs: number;
  /** Authenticated audio RTP that reached the browser's DTLS transport (any SSRC). */
  heard: number;
}

let callSeq = 0;
async function setUp(t: Target, mode: Mode): Promise<Leg> {
  const t0 = performance.now();
  const callId = `gw-${process.pid}-${++callSeq}`;
  const peer = new WebRtcPeer([mode === 'transcode' ? 'opus' : 'PCMU']);
  const offer = await peer.offer();
  const phone: LegProfile =
    mode === 'transcode' ? { ...PHONE, codecs: { transcode: ['PCMU'] } } : PHONE;
  const toPhone = (await t.engine.offer({ callId, fromTag: 'b', sdp: offer, from: WEB, to: phone }))
    .sdp;
  const probe = await RtpProbe.open(ADDR);
  const m = readSdp(toPhone).mlines[0]!;
  // The phone announces its SSRC (RFC 5576): werift routes received RTP by a=ssrc only (Chromium
  // takes an unsignalled one), and rtpengine passes the phone's SSRC through to the browser.
  const ans = makeSdp(ADDR, [
    { port: probe.port, codecs: { 0: 'PCMU/8000' }, extra: [`a=ssrc:${probe.ssrc} cname:phone`] },
  ]);
  const toBrowser = (await t.engine.answer({ callId, fromTag: 'b', toTag: 'p', sdp: ans })).sdp;
  await peer.accept(mediaConnection(toBrowser));
  await peer.connected(60_000);
  const leg: Leg = {
    callId,
    peer,
    probe,
    phoneSide: { address: m.address, port: m.port },
    seq: 1,
    connectMs: performance.now() - t0,
    heard: 0,
  };
  // Counted below werift's SSRC routing (it drops an SSRC the SDP did not announce, which
  // rtpengine's transcoder sends; Chromium plays it): what a browser would hear.
  const audioPt = mode === 'transcode' ? 111 : 0;
  peer.pc.dtlsTransports[0]!.onRtp.subscribe((rtp) => {
    if (rtp.header.payloadType === audioPt) leg.heard++;
  });
  return leg;
}

/**
 * werift 0.24's SDP parser throws ("exception", ipAddressFromSdp) on an `a=rtcp:` line with a
 * port only, which rtpengine's answers carry (RFC 3605 §2.1 makes the address optional; Chromium
 * takes it): the stand-in browser gets the connection address added to such lines.
 */
function mediaConnection(sdp: string): string {
  const addr = /^c=IN (IP[46]) (\S+)/m.exec(sdp);
  if (!addr) return sdp;
  return sdp.replace(/^a=rtcp:(\d+)(?=\r?$)/gm, `a=rtcp:$1 IN ${addr[1]} ${addr[2]}`);
}

function ulawPacket(l: Leg, i: number): Buffer {
  l.seq = (l.seq + 1) & 0xffff;
  const b = Buffer.allocUnsafe(172);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(l.seq, 2);
  b.writeUInt32BE((i * 160) >>> 0, 4);
  b.writeUInt32BE(l.probe.ssrc, 8);
  ulawFrames[i % 50]!.copy(b, 12);
  return b;
}

/** Audio packets that arrived: at the browsers (PCMU or Opus) and at the phones (PCMU). */
function received(legs: Leg[]): { toBrowser: number; toPhone: number } {
  let toBrowser = 0;
  let toPhone = 0;
  for (const l of legs) {
    toBrowser += l.heard;
    for (const p of l.probe.received) if (p.pt === 0) toPhone++;
  }
  return { toBrowser, toPhone };
}

const pct = (sorted: number[], q: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

async function measure(t: Target, mode: Mode): Promise<Measure> {
  await sleep(300);
  const rss0 = await t.rss();
  const legs: Leg[] = [];
  const failures: string[] = [];
  try {
    // All calls at once (the connect p50 is under that load).
    const r = await Promise.allSettled(Array.from({ length: CALLS }, () => setUp(t, mode)));
    for (const x of r)
      if (x.status === 'fulfilled') legs.push(x.value);
      else failures.push(String((x.reason as Error)?.message ?? x.reason));
    if (legs.length === 0) throw new Error(`no call connected: ${failures[0] ?? '?'}`);
    const connect = legs.map((l) => l.connectMs).sort((a, b) => a - b);
    const pt = mode === 'transcode' ? 111 : 0;
    const sent = { toBrowser: 0, toPhone: 0 };
    const tick = (i: number): void => {
      for (const l of legs) {
        l.peer.send(
          pt,
          mode === 'transcode' ? opusFrames[i % 50]! : ulawFrames[i % 50]!,
          mode === 'transcode' ? 960 : 160,
        );
        l.probe.socket.send(ulawPacket(l, i), l.phoneSide.port, l.phoneSide.address);
        sent.toPhone++;
        sent.toBrowser++;
      }
    };
    let i = 0;
    const start = performance.now();
    let cpu0 = 0;
    let w0 = 0;
    let rss1 = 0;
    let win0 = 0;
    for (;;) {
      const el = performance.now() - start;
      if (el >= (1 + SECONDS) * 1000) break;
      // Every 20 ms tick that is due (a stalled generator catches up, the rate stays).
      for (const due = Math.floor(el / 20) + 1; i < due;) {
        tick(i++);
        if (i === 50) {
          // After the 1 s warm-up the window starts (the ELU mark is not waited for: the
          // generator never stalls on the engine).
          rss1 = await t.rss();
          cpu0 = cpuUs(t.pid);
          w0 = performance.now();
          win0 = monoUs();
          void t.elu?.();
        }
      }
      await sleep(Math.max(1, start + i * 20 - performance.now()));
    }
    const elu = t.elu?.();
    const cpu = cpuUs(t.pid) - cpu0;
    const win1 = monoUs();
    const wallUs = (performance.now() - w0) * 1000;
    const busy = await elu;
    // Drain: wait until nothing more arrives (a late reader on a busy machine is not loss).
    for (let last = -1, waited = 0; waited < 5000; waited += 250) {
      const n = received(legs);
      if (n.toBrowser + n.toPhone === last) break;
      last = n.toBrowser + n.toPhone;
      await sleep(250);
    }
    const got = received(legs);
    // The peers' first packets can go before the engine's SRTP context is up (counted as a
    // drop there, not relayed): the loss is counted over what was sent, both ways.
    const sentAll = sent.toBrowser + sent.toPhone;
    const lost =
      Math.max(0, sent.toPhone - got.toPhone) + Math.max(0, sent.toBrowser - got.toBrowser);
    const share = cpu / wallUs;
    return {
      engine: t.name,
      mode,
      calls: legs.length,
      failed: failures.length,
      ...(failures.length ? { failure: failures[0] } : {}),
      connectP50Ms: pct(connect, 0.5),
      connectP90Ms: pct(connect, 0.9),
      kbPerCall: (rss1 - rss0) / legs.length,
      cpuPct: 100 * share,
      pctPerLeg: (100 * share) / legs.length,
      legsPerCore: share > 0 ? legs.length / share : NaN,
      ...(busy !== undefined
        ? { workerBusyPct: 100 * busy, workerPctPerLeg: (100 * busy) / legs.length }
        : {}),
      sent: sentAll,
      lost,
      lostToPhone: Math.max(0, sent.toPhone - got.toPhone),
      lostToBrowser: Math.max(0, sent.toBrowser - got.toBrowser),
      lossPct: (100 * lost) / Math.max(1, sentAll),
      windowMonoUs: [win0, win1],
    };
  } finally {
    for (const l of legs) {
      await t.engine.delete({ callId: l.callId }).catch(() => {});
      await l.peer.close();
      l.probe.close();
    }
  }
}

async function main(): Promise<void> {
  if (TWO_CORES) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const load0 = loadavg();
  const started = new Date().toISOString();
  const plan: { name: string; dist?: string }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (BEFORE) plan.push({ name: 'builtin-before', dist: resolve(BEFORE, 'packages/media/dist') });
    for (const e of ENGINES)
      plan.push(
        e === 'builtin'
          ? { name: 'builtin', dist: join(root, 'packages/media/dist') }
          : { name: e },
      );
  }
  const results: Measure[] = [];
  const steps = plan.length * MODES.length;
  let step = 0;
  for (const p of plan) {
    const t = p.dist ? await builtinTarget(p.name, p.dist) : await rtpengineTarget();
    try {
      for (const mode of MODES) {
        step++;
        process.stdout.write(`[${step}/${steps}] ${p.name} ${mode}: ${CALLS} calls … `);
        const m = await measure(t, mode);
        results.push(m);
        console.log(
          `connect p50 ${m.connectP50Ms.toFixed(0)} ms, engine ${m.cpuPct.toFixed(1)} % of a core = ${m.pctPerLeg.toFixed(3)} %/leg (${m.legsPerCore.toFixed(0)} legs/core)` +
            (m.workerBusyPct !== undefined ? `, worker ${m.workerBusyPct.toFixed(1)} %` : '') +
            `, ${m.kbPerCall.toFixed(0)} kB/call, loss ${m.lossPct.toFixed(2)} % (${m.lost}/${m.sent}: ${m.lostToPhone} toward the phone, ${m.lostToBrowser} toward the browser)` +
            (m.failed ? `, ${m.failed} calls failed (${m.failure ?? ''})` : ''),
        );
      }
    } finally {
      await t.stop();
    }
  }
  const result: GatewayResult = {
    started,
    load: { before: load0, after: loadavg() },
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    calls: CALLS,
    seconds: SECONDS,
    ...(BEFORE ? { before: BEFORE } : {}),
    results,
  };
  summary(result);
  if (PROFILE) {
    // The windows, for bench/gateway/profile-top.ts to keep only the samples taken in them.
    writeFileSync(join(PROFILE, 'windows.json'), JSON.stringify(result, null, 2) + '\n');
    return;
  }
  writeFileSync(join(here, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  if (process.argv.includes('--write')) writeReport(result);
}

/** Medians (the lower middle) per engine and mode, and the ratios side by side. */
function summary(r: GatewayResult): void {
  const med = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
  };
  for (const mode of MODES) {
    // Measurements without loss when there are any (a lossy one relayed less and ran starved).
    const by = (e: string): Measure[] => {
      const all = r.results.filter((x) => x.engine === e && x.mode === mode);
      const clean = all.filter((x) => x.lossPct < 0.1 && x.failed === 0);
      return clean.length ? clean : all;
    };
    const b = by('builtin');
    const x = by('rtpengine');
    const o = by('builtin-before');
    const f = (m: Measure[], k: keyof Measure): number => med(m.map((q) => q[k] as number));
    if (b.length && x.length)
      console.log(
        `${mode}: built-in / rtpengine: ${(f(b, 'pctPerLeg') / f(x, 'pctPerLeg')).toFixed(2)}× CPU per leg, ${(f(b, 'connectP50Ms') / f(x, 'connectP50Ms')).toFixed(2)}× connect p50, ${(f(b, 'kbPerCall') / f(x, 'kbPerCall')).toFixed(2)}× memory per call`,
      );
    if (b.length && o.length)
      console.log(
        `${mode}: built-in after / before: ${(f(b, 'pctPerLeg') / f(o, 'pctPerLeg')).toFixed(2)}× CPU per leg (${f(o, 'pctPerLeg').toFixed(3)} → ${f(b, 'pctPerLeg').toFixed(3)} % of a core)`,
      );
  }
  console.log(
    `load average ${r.load.before.map((v) => v.toFixed(2)).join(' ')} → ${r.load.after.map((v) => v.toFixed(2)).join(' ')}`,
  );
}

if (process.argv.includes('--report-only'))
  writeReport(JSON.parse(readFileSync(join(here, 'results.json'), 'utf8')) as GatewayResult);
else await main();
process.exit(0);
