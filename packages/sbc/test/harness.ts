/**
 * Test harness of the SBC: real sipp peers on their own loopback addresses (each run keeps its
 * `-trace_msg` file), an RTP watcher on tshark that reports every source address sending to a
 * media port, free ports picked at random (other engineers run tests at the same time), and the
 * byte scan of topology hiding.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBuiltinEngine, type MediaEngine } from '@tfx/media';
import { Sbc, type CdrSink, type RouteSpec, type TrunkSpec, type ZoneSpec } from '../src/index.js';

export const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

export const PUBLIC = '127.0.0.20';
export const CORE = '127.0.0.10';
export const PHONE = '127.0.0.21';
export const TRUNK = '127.0.0.11';
export const PBX = '127.0.0.12';

export const zone = (name: string, address: string): ZoneSpec => ({
  name,
  listen: [
    { transport: 'udp', address, port: 0 },
    { transport: 'tcp', address, port: 0 },
  ],
  media: { address },
  trusted: name === 'core',
  webrtc: false,
  limits: { maxCalls: 0 },
});

export interface Rig {
  readonly sbc: Sbc;
  /** The SBC's port per zone and transport. */
  port(zone: 'public' | 'core', transport: 'udp' | 'tcp'): number;
  close(): Promise<void>;
}

export async function startSbc(
  engine: MediaEngine,
  trunks: readonly TrunkSpec[],
  routes: readonly RouteSpec[],
  zones: readonly ZoneSpec[] = [zone('public', PUBLIC), zone('core', CORE)],
  extra: { readonly cdr?: CdrSink } = {},
): Promise<Rig> {
  const sbc = new Sbc({
    ...extra,
    zones,
    trunks,
    routes,
    engine,
    timers: { T1: 200, T2: 1600 },
  });
  const listeners = await sbc.start();
  return {
    sbc,
    port(z, transport) {
      const address = z === 'public' ? PUBLIC : CORE;
      const l = listeners.find((x) => x.address === address && x.transport === transport);
      if (!l) throw new Error(`no ${transport} listener in ${z}`);
      return l.port;
    },
    close: () => sbc.close(),
  };
}

/** The built-in engine on a random port range, one worker, no media timeout. */
export async function builtinEngine(): Promise<MediaEngine> {
  const base = 40000 + 2 * Math.floor(Math.random() * 5000);
  return createBuiltinEngine({ portMin: base, portMax: base + 199, workers: 1, mediaTimeoutMs: 0 });
}

/**
 * A port free for both UDP and TCP on `address`, from a random pick in 20000–29999, on a multiple
 * of 4. With `pair`, ports p..p+3 are all free: sipp's media port `-mp p` binds p and p + 2 (its
 * video echo) besides our RTCP key p + 1, so a pair check of p and p + 1 alone let one sipp's
 * video port land on another's media port, and that sipp exit at start. Blocks of 4 on multiples
 * of 4 never overlap.
 */
export async function freePort(
  address: string,
  pair = false,
  count = pair ? 4 : 1,
): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + 4 * Math.floor(Math.random() * 2500);
    const ports = Array.from({ length: count }, (_, k) => port + k);
    if ((await Promise.all(ports.map((p) => portFree(address, p)))).every(Boolean)) return port;
  }
  throw new Error(`no free port on ${address}`);
}

async function portFree(address: string, port: number): Promise<boolean> {
  const udp = await new Promise<boolean>((res) => {
    const s = createSocket('udp4');
    s.once('error', () => res(false));
    s.bind(port, address, () => s.close(() => res(true)));
  });
  if (!udp) return false;
  return new Promise<boolean>((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, address, () => srv.close(() => res(true)));
  });
}

export interface SippRun {
  /** Exit code: 0 = every call succeeded. */
  readonly code: number | null;
  readonly output: string;
  /** The -trace_msg log: every message sipp sent and received. */
  readonly trace: string;
  /** Only what sipp received (each message's text). */
  readonly received: string[];
  readonly sent: string[];
}

export interface SippHandle {
  readonly done: Promise<SippRun>;
  readonly child: ChildProcess;
}

/** Runs sipp with `-trace_msg` in a folder of its own; bounded by -timeout and a kill. */
export function sipp(args: readonly string[], timeoutMs = 60_000): SippHandle {
  const dirP = mkdtemp(join(tmpdir(), 'sbc-sipp-'));
  let child!: ChildProcess;
  const started = dirP.then((dir) => {
    const msgFile = join(dir, 'messages.log');
    child = spawn(
      'sipp',
      [
        ...args,
        '-nostdin',
        '-trace_msg',
        '-message_file',
        msgFile,
        '-timeout',
        `${Math.ceil(timeoutMs / 1000)}s`,
        '-timeout_error',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return { dir, msgFile };
  });
  const done = started.then(async ({ msgFile }) => {
    let output = '';
    const add = (c: Buffer): void => {
      output = (output + c.toString('latin1')).slice(-20_000);
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    const trace = await readFile(msgFile, 'latin1').catch(() => '');
    const { received, sent } = splitTrace(trace);
    return { code, output, trace, received, sent };
  });
  return {
    done,
    get child() {
      return child;
    },
  };
}

/**
 * sipp's -trace_msg log: blocks that start with a dashed line and a timestamp, then
 * "UDP message received [N] bytes :" or "UDP message sent (N bytes):", then the message.
 */
export function splitTrace(trace: string): { received: string[]; sent: string[] } {
  const received: string[] = [];
  const sent: string[] = [];
  for (const block of trace.split(/^-{10,}.*$/m)) {
    const m = /^\s*(?:UDP|TCP|TLS)\s+message\s+(received|sent)[^\n]*\n/m.exec(block);
    if (!m) continue;
    const text = block.slice((m.index ?? 0) + m[0].length).replace(/^\s*\n/, '');
    (m[1] === 'received' ? received : sent).push(text);
  }
  return { received, sent };
}

/** A header's value in one message (first occurrence, case-insensitive, compact forms aside). */
export function header(message: string, name: string): string | undefined {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im');
  return re.exec(message)?.[1]?.trim();
}

export function tagOf(value: string | undefined): string | undefined {
  return value ? /;\s*tag=([^;\s>]+)/i.exec(value)?.[1] : undefined;
}

/**
 * The byte scan: every occurrence of a forbidden token in what one side received. Numbers (ports)
 * match only as whole numbers, so `5080` is not found inside `15080`.
 */
export function scan(
  received: readonly string[],
  forbidden: Readonly<Record<string, string>>,
): string[] {
  const hits: string[] = [];
  received.forEach((msg, i) => {
    for (const [what, token] of Object.entries(forbidden)) {
      if (token === '') continue;
      const esc = token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const re = /^\d+$/.test(token) ? new RegExp(`(?<!\\d)${esc}(?!\\d)`) : new RegExp(esc, 'i');
      const m = re.exec(msg);
      if (m) {
        const line = msg.slice(0, m.index).split('\n').length;
        hits.push(
          `message ${i + 1}, line ${line}: ${what} (${token}): ${msg.split('\n')[line - 1]?.trim()}`,
        );
      }
    }
  });
  return hits;
}

/** What tshark saw arrive at one UDP port: source address:port → packets. */
export interface RtpWatch {
  readonly sources: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * Watches every UDP packet to `address:port` on the loopback interface with tshark (a real
 * capture, outside our process) and counts them by source. Resolves once tshark captures.
 */
export async function watchRtp(address: string, ports: readonly number[]): Promise<RtpWatch> {
  const filter = `udp and dst host ${address} and (${ports.map((p) => `dst port ${p}`).join(' or ')})`;
  const child = spawn(
    'tshark',
    ['-i', 'lo', '-n', '-l', '-f', filter, '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const sources = new Map<string, number>();
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString('latin1');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      const [ip, port] = l.trim().split('\t');
      if (!ip) continue;
      const k = `${ip}:${port ?? ''}`;
      sources.set(k, (sources.get(k) ?? 0) + 1);
    }
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tshark did not start: ${err}`)), 30_000);
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('latin1');
      if (/Capturing on/.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`tshark exited (${code}): ${err}`));
    });
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    sources,
    async stop() {
      // Let the last packets through the pipe before stopping.
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

/**
 * Polls `fn` until it holds; on timeout the error names `what` and, when given, `state()` (what
 * the test saw at that moment: the SBC's calls, say), so a CI failure says more than "timed out".
 */
export function waitFor(
  fn: () => boolean,
  what: string,
  ms = 30_000,
  state?: () => unknown,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (fn()) return resolve();
      if (Date.now() - t0 > ms) {
        const seen = state ? `; state: ${JSON.stringify(state())}` : '';
        return reject(new Error(`timed out waiting for ${what}${seen}`));
      }
      setTimeout(tick, 50);
    };
    tick();
  });
}

export interface TrunkSipp {
  /** The trunk's SIP port on its address. */
  readonly port: number;
  readonly run: Promise<SippRun>;
  /** Ends the trunk early (SIGTERM unless told). */
  stop(signal?: NodeJS.Signals): void;
}

/**
 * Whether a socket of this host holds `address:port` (UDP bound, or TCP listening), read from
 * /proc/net without touching the port: a probe that binds the port itself could take it at the
 * moment sipp binds, and make that sipp exit.
 */
export function portHeld(address: string, port: number, transport: 'udp' | 'tcp' = 'udp'): boolean {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  const [a, b, c, d] = address.split('.').map(Number);
  const local = `${hex(d!, 2)}${hex(c!, 2)}${hex(b!, 2)}${hex(a!, 2)}:${hex(port, 4)}`;
  const wildcard = `00000000:${hex(port, 4)}`;
  try {
    for (const line of readFileSync(`/proc/net/${transport}`, 'latin1').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] !== local && f[1] !== wildcard) continue;
      if (transport === 'udp' || f[3] === '0A') return true; // 0A: TCP LISTEN
    }
  } catch {
    return false;
  }
  return false;
}

export interface UasSipp {
  readonly port: number;
  readonly media: number;
  readonly handle: SippHandle;
}

/**
 * Starts a sipp that waits for calls on `address` (a trunk, a callee): picks its SIP port and a
 * media block, starts it with `args(port, media)`, and resolves once sipp holds its SIP port. A
 * sipp that exits first (a port taken between our check and its start) is started again on
 * other ports, up to three times; the error says what each attempt printed. (A fixed half-second
 * sleep instead let a sipp that never started leave the SBC's INVITE unanswered until Timer B.)
 */
export async function startUas(
  address: string,
  args: (port: number, media: number) => readonly string[],
  opts: { transport?: 'udp' | 'tcp'; timeoutMs?: number } = {},
): Promise<UasSipp> {
  const outputs: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort(address);
    const media = await freePort(address, true);
    const handle = sipp(args(port, media), opts.timeoutMs ?? 120_000);
    let exited = false;
    void handle.done.then((r) => {
      exited = true;
      outputs.push(
        `attempt ${attempt} (port ${port}, media ${media}) exited ${r.code}: ${r.output}`,
      );
    });
    const t0 = Date.now();
    while (!exited && Date.now() - t0 < 15_000) {
      if (portHeld(address, port, opts.transport ?? 'udp')) return { port, media, handle };
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!exited) {
      handle.child.kill('SIGKILL');
      await handle.done;
      outputs.push(`attempt ${attempt}: sipp did not bind ${address}:${port} within 15 s`);
    }
  }
  throw new Error(`the sipp on ${address} did not start:\n${outputs.join('\n')}`);
}

/**
 * The arguments of a sipp callee on `address` that runs `scenarioPath` once over `sippT` (`u1`,
 * `t1`) and echoes the media it gets (`-rtp_echo`), for startUas.
 */
export const echoCalleeArgs =
  (scenarioPath: string, address: string, sippT: string) =>
  (port: number, media: number): string[] => [
    '-sf',
    scenarioPath,
    '-i',
    address,
    '-p',
    String(port),
    '-mi',
    address,
    '-mp',
    String(media),
    '-rtp_echo',
    '-key',
    'rtcp',
    String(media + 1),
    '-t',
    sippT,
    '-m',
    '1',
  ];

/**
 * A sipp trunk on `address` running `scenario` (default uas-echo.xml: answers, waits for BYE) for
 * `calls` calls, its trace kept; resolves once it holds its port (startUas).
 */
export async function trunkSipp(
  address: string,
  scenario = 'uas-echo.xml',
  calls = 1,
): Promise<TrunkSipp> {
  const { port, handle } = await startUas(address, (port, media) => [
    '-sf',
    join(SCENARIOS, scenario),
    '-i',
    address,
    '-p',
    String(port),
    '-mi',
    address,
    '-mp',
    String(media),
    '-key',
    'rtcp',
    String(media + 1),
    '-m',
    String(calls),
  ]);
  return { port, run: handle.done, stop: (signal = 'SIGTERM') => handle.child.kill(signal) };
}

/**
 * One call from a sipp phone on `phone` to `user` at `target` (host:port) with `scenario`, its trace
 * kept; `extra` arguments go before `-m 1`.
 */
export async function phoneSipp(
  phone: string,
  target: string,
  scenario: string,
  user: string,
  extra: readonly string[] = [],
): Promise<SippRun> {
  const port = await freePort(phone);
  const media = await freePort(phone, true);
  return sipp(
    [
      target,
      '-sf',
      join(SCENARIOS, scenario),
      '-i',
      phone,
      '-p',
      String(port),
      '-mi',
      phone,
      '-mp',
      String(media),
      '-s',
      user,
      ...extra,
      '-m',
      '1',
    ],
    90_000,
  ).done;
}
