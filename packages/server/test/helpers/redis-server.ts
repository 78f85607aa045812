/**
 * A real redis-server for tests: started on a free loopback port with nothing persisted
 * (`--save '' --appendonly no --bind 127.0.0.1`), stopped (or paused, or restarted) by its PID —
 * never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  pid(): number;
  /** SIGSTOP: Redis keeps its sockets but answers nothing (an unreachable Redis). */
  pause(): void;
  resume(): void;
  /** Kills it and starts a fresh, empty one on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function launch(port: number, extra: string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on ${port}:\n${out}`));
    }, 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(child.pid as number, 'SIGCONT');
  } catch {
    // already gone
  }
  child.kill('SIGKILL');
  await gone;
}

export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port, extra);
  child.removeAllListeners('exit');
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child.pid as number,
    pause: () => process.kill(child.pid as number, 'SIGSTOP'),
    resume: () => process.kill(child.pid as number, 'SIGCONT'),
    async restart(downMs = 500) {
      await kill(child);
      await new Promise((r) => setTimeout(r, downMs));
      child = await launch(port, extra);
      child.removeAllListeners('exit');
    },
    stop: () => kill(child),
  };
}
