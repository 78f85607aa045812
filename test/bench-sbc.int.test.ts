/**
 * Smoke test of `npm run bench:sbc`: the bench's --quick mode (a handful of calls through the TFX
 * SBC and through Kamailio + topoh, real sipp on both sides) runs to the end with no failed call.
 * It checks that the benchmark works, never its timings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

describe('bench/sbc --quick', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  });

  it('carries every call through the SBC and through Kamailio + topoh', async () => {
    child = spawn(process.execPath, [join(process.cwd(), 'bench/sbc/run.mjs'), '--quick'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child?.once('exit', resolve));
    expect(out).toMatch(/TFX\s+call\s+10\/s × 2s: 20\/20 ok, 0 failed/);
    expect(out).toMatch(/Kamailio call\s+10\/s × 2s: 20\/20 ok, 0 failed/);
    expect(code, out).toBe(0);
  }, 120_000);
});
