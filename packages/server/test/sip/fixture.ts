/**
 * Vitest fixtures for the SIP integration tests: what a test stands on, set up and torn down by
 * the runner instead of by beforeAll/afterAll pairs and module variables.
 *
 * - `sip` (file-scoped): a real platform with the SIP module on port 0 (harness.ts
 *   `startSipServer`), started when the first test of the file asks for it, closed after the
 *   file's last test.
 * - `sipp` (per test): runs sipp to its end (`await sipp(args)`), or in the background
 *   (`sipp.background(args).done`, a UAS); whatever the test left running is killed after it,
 *   passed or failed, and waited for.
 *
 *   const it = sipTest({ 'sip.rateLimit': '0' });   // flags for this file's server (optional)
 *   it('registers', async ({ sip, sipp }) => {
 *     const r = await sipp(registerArgs(sip, 'carol', 5999));
 *     expect(r.code, r.output).toBe(0);
 *   });
 *
 * harness.ts stays as it was for the tests that start their own servers.
 */
import { test } from 'vitest';
import { sipp as runSipp, startSipServer, type SippResult, type SipTestServer } from './harness.js';

export interface SippRunner {
  (args: readonly string[], timeoutMs?: number): Promise<SippResult>;
  /** Starts sipp without waiting (a UAS): `done` settles when it ends or is killed. */
  background(args: readonly string[], timeoutMs?: number): { done: Promise<SippResult> };
}

export interface SipFixtures {
  sip: SipTestServer;
  sipp: SippRunner;
}

/** A `test`/`it` whose tests get `sip` (this file's server, with `flags`) and `sipp`. */
export function sipTest(flags: Record<string, string | boolean> = {}) {
  return test.extend<SipFixtures>({
    sip: [
      // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern
      async ({}, use: (server: SipTestServer) => Promise<void>) => {
        const server = await startSipServer(flags);
        try {
          await use(server);
        } finally {
          await server.close();
        }
      },
      { scope: 'file' },
    ],
    // eslint-disable-next-line no-empty-pattern -- as above
    sipp: async ({}, use: (run: SippRunner) => Promise<void>) => {
      const abort = new AbortController();
      const running: Promise<SippResult>[] = [];
      const run = (args: readonly string[], timeoutMs?: number): Promise<SippResult> => {
        const p = runSipp(args, timeoutMs, abort.signal);
        running.push(p);
        return p;
      };
      await use(
        Object.assign(run, {
          background: (args: readonly string[], timeoutMs?: number) => ({
            done: run(args, timeoutMs),
          }),
        }),
      );
      abort.abort();
      await Promise.allSettled(running);
    },
  });
}
