/**
 * Starts the real `tfx` command as a child process for tests and reads its ready line.
 * Stops only the process it started, by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReadyLine {
  event: 'ready';
  version: string;
  pid: number;
  url: string;
  listeners: { name: string; protocol: string; address: string; port: number; url?: string }[];
}

export interface TfxProcess {
  readonly child: ChildProcess;
  readonly ready: ReadyLine;
  readonly dataDir: string;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const TFX_BIN = join(process.cwd(), 'packages/cli/bin/tfx.js');

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'tfx-data-'));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tfx ARGS` to completion (for commands that exit). */
export function runTfx(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TFX_BIN, ...args], {
      env: { ...cleanEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tfx ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment without any TFX_ variables of the developer's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TFX_')));
}

/** Starts `tfx start ARGS` and waits for its ready line. */
export function startTfx(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; dataDir?: string; timeoutMs?: number } = {},
): Promise<TfxProcess> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const fullArgs = [
    'start',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-format',
    'json',
    ...args,
  ];
  const child = spawn(process.execPath, [TFX_BIN, ...fullArgs], {
    env: { ...cleanEnv(), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  let isReady = false;
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `tfx did not become ready within ${opts.timeoutMs ?? 20_000} ms\nstdout:\n${out}\nstderr:\n${err}`,
        ),
      );
    }, opts.timeoutMs ?? 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tfx exited with ${code} before ready\nstdout:\n${out}\nstderr:\n${err}`));
    });
    child.stdout?.on('data', () => {
      if (isReady) return;
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"') && l.endsWith('}'));
      if (!line) return;
      isReady = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const ready = JSON.parse(line) as ReadyLine;
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      // stdout and stderr are separate pipes: the banner (stderr), written before the ready line,
      // may still be in flight. Wait for its last line (bounded) so tests can read it.
      const bannerDone = new Promise<void>((res) => {
        const check = (): void => {
          if (err.includes('Stop      ')) {
            child.stderr?.off('data', check);
            clearTimeout(giveUp);
            res();
          }
        };
        const giveUp = setTimeout(() => {
          child.stderr?.off('data', check);
          res();
        }, 5000);
        child.stderr?.on('data', check);
        check();
      });
      void bannerDone.then(() =>
        resolve({
          child,
          ready,
          dataDir,
          stdout: () => out,
          stderr: () => err,
          async stop(signal: NodeJS.Signals = 'SIGTERM') {
            if (child.exitCode !== null) return child.exitCode;
            child.kill(signal);
            const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
            const code = await exited;
            clearTimeout(t);
            return code;
          },
        }),
      );
    });
  });
}
