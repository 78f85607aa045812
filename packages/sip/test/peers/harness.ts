/**
 * Shared harness of the real-peer tests (not a test file): free ports, sipp runs bounded in
 * count and time, an SDP, the `ws` package as Node's WebSocket for JsSIP and SIP.js, and a
 * cleanup list. Every process is started here and stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';

/** A free UDP (or TCP) port on 127.0.0.1, released before it is returned. */
export async function freePort(kind: 'udp' | 'tcp' = 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An audio SDP offer/answer for 127.0.0.1 (G.711 µ-law); media is not what these tests check. */
export function sdp(version: number, port = 40_000 + 2 * version): string {
  return [
    'v=0',
    `o=- ${version} ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface Peer {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null: killed by a signal). */
  readonly exit: Promise<number | null>;
  /** The last 16 kB of stdout and stderr. */
  output(): string;
  /** Stops it by PID (SIGTERM, then SIGKILL); harmless once exited. */
  stop(): Promise<void>;
}

/** Starts a peer process; it is killed after `limitMs` whatever happens. */
export function startPeer(
  bin: string,
  args: readonly string[],
  opts: { limitMs?: number; cwd?: string; stdin?: boolean } = {},
): Peer {
  let out = '';
  const child = spawn(bin, [...args], {
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  const add = (c: Buffer) => (out = (out + c.toString('latin1')).slice(-16_000));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exit = new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.limitMs ?? 50_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.on('error', (e) => {
      add(Buffer.from(String(e)));
      clearTimeout(kill);
      resolve(-1);
    });
  });
  let exited = false;
  void exit.then(() => (exited = true));
  return {
    child,
    exit,
    output: () => out,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(t);
    },
  };
}

/** sipp, one call (`-m 1`), no keyboard, a 40 s scenario timeout. */
export function runSipp(args: readonly string[]): Peer {
  return startPeer('sipp', [...args, '-m', '1', '-nostdin', '-timeout', '40s'], {
    limitMs: 50_000,
  });
}

/**
 * JsSIP and SIP.js look for a browser's global `WebSocket`; Node 20 has none. The `ws` package's
 * client is API-compatible (onopen, onmessage, binaryType, send, close): install it for the test
 * and restore what was there. Returns the restore function.
 */
export function installNodeWebSocket(): () => void {
  const g = globalThis as { WebSocket?: unknown };
  const saved = g.WebSocket;
  g.WebSocket = WebSocket;
  return () => {
    g.WebSocket = saved;
  };
}

/** Polls until the predicate holds (the machine is shared and slow: generous default). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
