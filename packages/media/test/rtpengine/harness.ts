/**
 * startRtpengine(): a real Debian rtpengine-daemon for tests and benches, userspace only, with its
 * own config file (never /etc/rtpengine/rtpengine.conf), an ng port and a media port range of its
 * own picked at random (other engineers run tests on this machine at the same time), stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NgClient } from '../../src/rtpengine/ng-client.js';

export interface RtpengineOptions {
  /** Logical interfaces: name → address. Default one unnamed interface on 127.0.0.1. */
  readonly interfaces?: Readonly<Record<string, string>>;
  /** How many media ports to give it (rounded up to even). Default 200. */
  readonly ports?: number;
  /** Write PCAP recordings here (`recording-dir`, method pcap). */
  readonly recordingDir?: string;
  /** Extra `key = value` lines for the config section. */
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
  /** Pin the daemon to these CPUs (taskset -c). */
  readonly cpus?: string;
  /** Run it at this nice value (benches give relay and load generator the same priority). */
  readonly nice?: number;
  /** rtpengine log level (syslog numbers; 6 = info). Default 5. */
  readonly logLevel?: number;
}

export interface RtpengineProcess {
  readonly url: string;
  readonly ngPort: number;
  readonly portMin: number;
  readonly portMax: number;
  readonly pid: number;
  readonly configFile: string;
  readonly dir: string;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** SIGTERM (SIGKILL after 3 s), then removes its folder. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash would (for fail-over tests). */
  kill(): Promise<void>;
}

/** A free UDP port on 127.0.0.1, from the kernel. */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(0, host, () => res());
  });
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** Media ranges handed out in this process, so two daemons of one test never overlap. */
const taken: Array<[number, number]> = [];

function pickRange(count: number): [number, number] {
  // 12000–19999 lies below the kernel's ephemeral range (32768+), where port-0 binds land.
  for (let i = 0; i < 100; i++) {
    const min = 12000 + 2 * Math.floor((Math.random() * (8000 - count)) / 2);
    const max = min + count - 1;
    if (!taken.some(([a, b]) => min <= b && a <= max)) {
      taken.push([min, max]);
      return [min, max];
    }
  }
  throw new Error('no free media port range');
}

export async function startRtpengine(opts: RtpengineOptions = {}): Promise<RtpengineProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-rtpengine-'));
  const ngPort = await freeUdpPort();
  const count = Math.ceil((opts.ports ?? 200) / 2) * 2;
  const [portMin, portMax] = pickRange(count);
  const ifaces = opts.interfaces
    ? Object.entries(opts.interfaces)
        .map(([n, a]) => `${n}/${a}`)
        .join(';')
    : '127.0.0.1';
  const lines: Record<string, string | number | boolean> = {
    table: -1,
    interface: ifaces,
    'listen-ng': `127.0.0.1:${ngPort}`,
    'port-min': portMin,
    'port-max': portMax,
    foreground: true,
    'log-stderr': true,
    'log-level': opts.logLevel ?? 5,
    pidfile: join(dir, 'rtpengine.pid'),
    'delete-delay': 0,
    ...(opts.recordingDir
      ? { 'recording-dir': opts.recordingDir, 'recording-method': 'pcap' }
      : {}),
    ...opts.extra,
  };
  if (opts.recordingDir) mkdirSync(opts.recordingDir, { recursive: true });
  const configFile = join(dir, 'rtpengine.conf');
  writeFileSync(
    configFile,
    '[rtpengine]\n' +
      Object.entries(lines)
        .map(([k, v]) => `${k} = ${String(v)}\n`)
        .join(''),
  );
  const args = [`--config-file=${configFile}`, '--config-section=rtpengine'];
  const child: ChildProcess = opts.cpus
    ? spawn('taskset', ['-c', opts.cpus, 'rtpengine', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn('rtpengine', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    log += d;
    if (log.length > 2_000_000) log = log.slice(-1_000_000);
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `udp:127.0.0.1:${ngPort}`;

  // Wait until it answers ping (it generates a DTLS certificate first).
  const probe = new NgClient(url, { timeoutMs: 500, retransmitMs: 100 });
  const t0 = Date.now();
  try {
    for (;;) {
      if (gone) throw new Error(`rtpengine exited at start:\n${log}`);
      try {
        await probe.ping();
        break;
      } catch (e) {
        if (Date.now() - t0 > 15_000)
          throw new Error(`rtpengine did not answer ping within 15 s: ${String(e)}\n${log}`);
      }
    }
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    probe.close();
  }

  let stopping: Promise<void> | undefined;
  const end = (signal: NodeJS.Signals): Promise<void> => {
    stopping ??= (async () => {
      if (!gone) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return {
    url,
    ngPort,
    portMin,
    portMax,
    pid: child.pid as number,
    configFile,
    dir,
    log: () => log,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}
