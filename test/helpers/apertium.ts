/**
 * A real Apertium APy (Debian `apertium-apy` + `apertium-eng-spa`) for tests, on a free loopback
 * port. APy 0.11 binds every interface and has no address option, so it is started through a
 * two-line Python shim that makes its Tornado server bind 127.0.0.1 only. Stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface Apertium {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const SHIM = [
  'import sys, tornado.httpserver as h',
  'orig = h.HTTPServer.bind',
  "h.HTTPServer.bind = lambda self, port, address=None, **kw: orig(self, port, address='127.0.0.1', **kw)",
  'from apertium_apy.apy import main',
  "sys.argv = ['apertium-apy'] + sys.argv[1:]",
  'main()',
].join('\n');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Starts APy on the installed pairs (`/usr/share/apertium/modes`) and waits for `/listPairs`. */
export async function startApertium(modes = '/usr/share/apertium/modes'): Promise<Apertium> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    ['-c', SHIM, '-p', String(port), '-j', '1', modes],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 8000) err += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`apertium-apy exited (${child.exitCode}):\n${err}`);
    try {
      const r = await fetch(`${url}/listPairs`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`apertium-apy did not answer on ${url}:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
