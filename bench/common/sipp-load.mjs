// Shared parts of the sipp benchmarks (bench/sip, bench/sbc): the server's CPU from /proc, sipp
// runs pinned to a core and bounded in count and time, one measured load step, the search for
// the highest clean rate, processes stopped by their PID only, and the versions of the tools.
import { spawn, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { loadavg, cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The server's core and the load generator's (the same one on a single-core machine). */
export const SERVER_CORE = '0';
export const LOAD_CORE = cpus().length > 1 ? '1' : '0';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => console.log(...a);

/** `--name value` from the command line, else `dflt`. */
export const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
export const flag = (name) => process.argv.includes(`--${name}`);

// --- process tree CPU ------------------------------------------------------------------------

function statOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the comm: [0] state, [1] ppid, … [11] utime, [12] stime, [13] cutime, [14] cstime
    return {
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      reaped: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}

/** CPU µs of the process tree under `pid`: every live member's own time plus reaped children's. */
export function treeCpuUs(pid) {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = statOf(name);
    if (st) all.set(Number(name), st);
  }
  let ticks = 0;
  const stack = [pid];
  const seen = new Set();
  while (stack.length > 0) {
    const p = stack.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    const st = all.get(p);
    if (!st) continue;
    ticks += st.own + st.reaped;
    for (const [child, cst] of all) if (cst.ppid === p) stack.push(child);
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** Waits until the server is idle again (under 5 % of a core over 1 s; at most 45 s). */
export async function settle(server) {
  for (let i = 0; i < 45; i++) {
    const a = treeCpuUs(server.pid);
    await sleep(1000);
    if (treeCpuUs(server.pid) - a < 50_000) return;
  }
}

// --- processes -------------------------------------------------------------------------------

/** A UDP port free on `address` (the kernel's pick, above 10000). */
export async function freePort(address = '127.0.0.1') {
  for (let i = 0; i < 20; i++) {
    const s = createSocket('udp4');
    await new Promise((r) => s.bind(0, address, r));
    const port = s.address().port;
    await new Promise((r) => s.close(() => r()));
    if (port > 10000) return port;
  }
  throw new Error('no free port');
}

export function stopPid(child, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      process.kill(child.pid, signal);
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** Every process started here, stopped by PID if the benchmark is interrupted. */
const started = new Set();
export function track(child) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of started) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    process.exit(130);
  });
}

// --- sipp --------------------------------------------------------------------------------------

/** The counters of sipp's last -trace_stat line. */
function lastStats(stf, names) {
  const lines = readFileSync(stf, 'utf8').trim().split('\n');
  const header = lines[0].split(';');
  const last = lines[lines.length - 1].split(';');
  const out = {};
  for (const name of names) out[name.replace('(C)', '')] = Number(last[header.indexOf(name)] ?? 0);
  return out;
}

/**
 * A sipp starter: each run in a folder of its own under `work`, pinned to `core` at priority
 * `nice`; `done` resolves with the statistics of its last -trace_stat line.
 */
export function sippRunner({ work, nice, core = LOAD_CORE }) {
  let seq = 0;
  return function startSipp(args, timeoutS) {
    const dir = join(work, `sipp-${++seq}`);
    mkdirSync(dir, { recursive: true });
    const stf = join(dir, 'stat.csv');
    const child = spawn(
      'nice',
      [
        '-n',
        nice,
        'taskset',
        '-c',
        core,
        'sipp',
        ...args,
        '-nostdin',
        // sipp's default socket buffers (64 KiB) overflow as soon as it is descheduled a moment.
        '-buff_size',
        '4194304',
        '-trace_stat',
        '-stf',
        stf,
        '-fd',
        '1',
        '-timeout',
        `${timeoutS}s`,
        '-timeout_error',
        '-trace_err',
        '-error_file',
        join(dir, 'errors.log'),
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    track(child);
    let output = '';
    const keep = (c) => (output = (output + c.toString('latin1')).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const done = new Promise((resolve) => {
      const kill = setTimeout(() => stopPid(child, 'SIGKILL'), (timeoutS + 15) * 1000);
      child.on('exit', (code) => {
        clearTimeout(kill);
        let stats;
        try {
          stats = lastStats(stf, [
            'SuccessfulCall(C)',
            'FailedCall(C)',
            'Retransmissions(C)',
            'OutgoingCall(C)',
          ]);
        } catch {
          stats = { SuccessfulCall: 0, FailedCall: 0, Retransmissions: 0, OutgoingCall: 0 };
        }
        resolve({ code, ...stats, output, dir });
      });
    });
    /**
     * Calls (or REGISTERs, OPTIONS) started so far and when sipp counted them (seconds, its own
     * clock), from its last statistics line (-fd 1: one a second).
     */
    const startedSoFar = () => {
      try {
        const lines = readFileSync(stf, 'utf8').trim().split('\n');
        const header = lines[0].split(';');
        const last = lines[lines.length - 1].split(';');
        const calls = Number(last[header.indexOf('OutgoingCall(C)')]);
        // CurrentTime is "date<TAB>time<TAB>epoch seconds".
        const at = Number(String(last[header.indexOf('CurrentTime')]).split('\t')[2]);
        return Number.isFinite(calls) && Number.isFinite(at) ? { calls, at } : undefined;
      } catch {
        return undefined;
      }
    };
    return { child, done, started: startedSoFar };
  };
}

/**
 * Measures one bounded load step that `run` (a sipp run at `rate` per second for `seconds`,
 * `count` operations) is making: the server's CPU over the steady window (from 1 s after the
 * start to 1 s before the planned end), divided by the operations sipp started in it. Clean: no
 * failed operation, every one done, no retransmission and at least 90 % of the rate achieved.
 */
/**
 * The server's CPU per second when idle (µs/s), measured over `seconds`: what a step's tail
 * subtracts.
 */
export async function idleCpuUsPerSecond(server, seconds = 3) {
  const c0 = treeCpuUs(server.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  return (treeCpuUs(server.pid) - c0) / ((performance.now() - t0) / 1000);
}

/**
 * Measures one step (see its callers). With `tailSeconds`, the CPU the server spends after the
 * step's last operation for that long (less `idleUsPerSecond`) is the step's too: on UDP a
 * transaction lingers 32 s after its final response (RFC 3261 Timers J, K, D; RFC 6026 Timer L),
 * and expiring it costs CPU then. Without a tail that cost fell into whichever step came next (or
 * nowhere), so a server keeping transactions looked cheaper per REGISTER and dearer per OPTIONS
 * than it is. The tail is charged per operation of the whole step and reported apart.
 */
export async function measureStep(
  server,
  run,
  { kind, rate, seconds, count, unit = kind, tailSeconds = 0, idleUsPerSecond = 0 },
) {
  const warned = new Map(server.warnings ?? []);
  const window = Math.max(1, seconds - 2);
  await sleep(1000);
  const c0 = treeCpuUs(server.pid);
  const t0 = performance.now();
  const s0 = run.started();
  await sleep(window * 1000);
  const c1 = treeCpuUs(server.pid);
  const t1 = performance.now();
  const s1 = run.started();
  const r = await run.done;
  const elapsed = (t1 - t0) / 1000;
  // Operations in the window: the rate sipp started them at between its statistics lines read
  // at the window's edges (1 s apart: counting the lines' difference alone would miss up to one
  // second's worth), times the window; else the planned rate. sipp that cannot keep up starts
  // fewer, and the step is then not clean.
  const sippRate =
    s0 !== undefined && s1 !== undefined && s1.calls > s0.calls && s1.at > s0.at
      ? (s1.calls - s0.calls) / (s1.at - s0.at)
      : undefined;
  const ops = (sippRate ?? rate) * elapsed;
  const achieved = ops / elapsed;
  let tailUsPerOp = 0;
  if (tailSeconds > 0) {
    const c2 = treeCpuUs(server.pid);
    const t2 = performance.now();
    await sleep(tailSeconds * 1000);
    const tailUs = treeCpuUs(server.pid) - c2 - (idleUsPerSecond * (performance.now() - t2)) / 1000;
    tailUsPerOp = Math.max(0, tailUs) / Math.max(1, r.SuccessfulCall + r.FailedCall);
  }
  const res = {
    kind,
    rate,
    seconds,
    successful: r.SuccessfulCall,
    failed: r.FailedCall,
    retransmissions: r.Retransmissions,
    cpuUsPerOp: (c1 - c0) / ops + tailUsPerOp,
    tailUsPerOp,
    cpuShare: (c1 - c0) / 1e6 / elapsed,
    achieved,
    clean:
      r.code === 0 &&
      r.FailedCall === 0 &&
      r.SuccessfulCall === count &&
      r.Retransmissions === 0 &&
      achieved >= rate * 0.9,
    load: loadavg()[0],
  };
  log(
    `  ${server.label.padEnd(8)} ${unit.padEnd(8)} ${String(rate).padStart(5)}/s × ${seconds}s: ` +
      `${res.successful}/${count} ok, ${res.failed} failed, ${res.retransmissions} retrans, ` +
      `${res.cpuUsPerOp.toFixed(0)} µs/op${tailSeconds > 0 ? ` (tail ${tailUsPerOp.toFixed(0)})` : ''} at ${achieved.toFixed(0)}/s, core ${(res.cpuShare * 100).toFixed(0)} %, load ${res.load.toFixed(1)}` +
      (res.clean ? '' : '  (not clean)'),
  );
  if (r.code !== 0 && res.failed === 0 && res.successful === 0) log(r.output.slice(-800));
  for (const [msg, n] of server.warnings ?? []) {
    const d = n - (warned.get(msg) ?? 0);
    if (d > 0)
      log(
        `      server warned ${d}× ${msg}${server.samples?.has(msg) ? `: ${server.samples.get(msg)}` : ''}`,
      );
  }
  if (!res.clean) {
    // The first reasons sipp gives, to tell overload (retransmissions) from a scenario problem.
    try {
      const reasons = readFileSync(join(r.dir, 'errors.log'), 'utf8')
        .split('\n')
        .filter((l) => /Aborting|unexpected|timeout/i.test(l))
        .map((l) => l.replace(/^.*?: /, '').replace(/'[^']*@[^']*'/g, "'…'"));
      const counts = new Map();
      for (const l of reasons) counts.set(l.slice(0, 100), (counts.get(l.slice(0, 100)) ?? 0) + 1);
      for (const [l, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3))
        log(`      ${n}× ${l}`);
    } catch {
      // no error file
    }
  }
  return res;
}

/**
 * Steps the rate up (`step(rate)` → a measured step) from `start` by `factor` until a step is
 * not clean or the server's core is full, or the bound `max`; returns the highest clean rate.
 */
export async function searchRate(step, start, factor, max) {
  let best = 0;
  for (let rate = start; rate <= max; rate = Math.round(rate * factor)) {
    const r = await step(rate);
    if (!r.clean || r.cpuShare > 0.98) break;
    best = rate;
    if (rate === max) break;
    if (Math.round(rate * factor) > max) rate = Math.round(max / factor);
  }
  return best;
}

// --- facts -----------------------------------------------------------------------------------

export const kamailioVersion = () => {
  try {
    return /kamailio (\S+)/.exec(execFileSync('kamailio', ['-v']).toString())?.[1] ?? '?';
  } catch {
    return '?';
  }
};

export const sippVersion = () => {
  try {
    return (
      /SIPp (v[\d.]+)/.exec(
        execFileSync('sipp', ['-v'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
      )?.[1] ?? '?'
    );
  } catch (e) {
    return /SIPp (v[\d.]+)/.exec(String(e.stdout ?? ''))?.[1] ?? '?';
  }
};

/** The machine and tools a run was measured on; `load0` is the load average at the start. */
export function machineFacts(startedAt, load0) {
  return {
    date: startedAt.toISOString(),
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    node: process.version,
    kamailio: kamailioVersion(),
    sipp: sippVersion(),
    loadBefore: load0.map((l) => l.toFixed(2)).join(' '),
    loadAfter: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}
