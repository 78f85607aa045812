/**
 * Restart recovery (issue #17 item 4: "Live calls survive nothing silently"): `tfx start` with
 * SBC zones bridges a call between two sipp instances (a phone in the public zone, a trunk in the
 * core zone); the process is killed (SIGKILL, by its PID: no goodbye of its own) and started again
 * on the same data dir; the new process finds the call in the journal (`<dataDir>/sbc/calls.jsonl`)
 * and ends both legs with BYE. Both sipp sides receive it and answer 200.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTfx, tempDataDir, type TfxProcess } from '../../../test/helpers/tfx-process.js';
import { freePort, header, sipp } from '../../sbc/test/harness.js';

const SCENARIOS = fileURLToPath(new URL('../../sbc/test/scenarios/', import.meta.url));
const running: TfxProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The calls a journal still keeps (puts without a later remove). */
function liveIds(text: string): Set<string> {
  const live = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as { put?: { id: string }; remove?: string };
    if (e.put) live.add(e.put.id);
    if (e.remove) live.delete(e.remove);
  }
  return live;
}

describe('SBC restart recovery', () => {
  it('ends a live call on both legs with BYE after the process was killed and started again', async () => {
    const dataDir = tempDataDir();
    const file = join(dataDir, 'tfx.yaml');
    const publicPort = await freePort('127.0.0.20');
    const corePort = await freePort('127.0.0.10');
    const trunkPort = await freePort('127.0.0.11');
    const phonePort = await freePort('127.0.0.21');
    const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
    writeFileSync(
      file,
      [
        'media:',
        `  portMin: ${portMin}`,
        `  portMax: ${portMin + 19}`,
        '  workers: 1',
        'sbc:',
        '  zones:',
        '    - name: public',
        `      listen: [udp://127.0.0.20:${publicPort}]`,
        '      media: { address: 127.0.0.20 }',
        '      trusted: true',
        '    - name: core',
        `      listen: [udp://127.0.0.10:${corePort}]`,
        '      media: { address: 127.0.0.10 }',
        '      trusted: true',
        '  trunks:',
        `    - { name: carrier-a, zone: core, uri: "sip:127.0.0.11:${trunkPort}" }`,
        '  routes:',
        '    - { match: { zone: public }, to: [carrier-a] }',
        '',
      ].join('\n'),
    );
    const args = ['--no-sip', '--config', file];
    const first = await startTfx(args, { dataDir, timeoutMs: 60_000 });
    running.push(first);

    // The callee (built-in uas: answers, then waits for a BYE) and the caller (waits for a BYE).
    const uas = sipp(
      ['-sn', 'uas', '-i', '127.0.0.11', '-p', String(trunkPort), '-m', '1'],
      120_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const uac = sipp(
      [
        `127.0.0.20:${publicPort}`,
        '-sf',
        `${SCENARIOS}uac-recovery.xml`,
        '-s',
        '1000',
        '-i',
        '127.0.0.21',
        '-p',
        String(phonePort),
        '-m',
        '1',
      ],
      120_000,
    );
    const journal = join(dataDir, 'sbc', 'calls.jsonl');
    const kept = (): string => {
      try {
        return readFileSync(journal, 'utf8');
      } catch {
        return '';
      }
    };
    await until('the call kept in the journal', () => kept().includes('"put"'));

    // SIGKILL by PID: the process ends no call itself.
    expect(await first.stop('SIGKILL')).toBe(null);
    running.splice(running.indexOf(first), 1);

    const second = await startTfx(args, { dataDir, timeoutMs: 60_000 });
    running.push(second);
    const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
    expect(uacRun.code, uacRun.output).toBe(0);
    expect(uasRun.code, uasRun.output).toBe(0);
    const byeA = uacRun.received.find((m) => m.startsWith('BYE '));
    const byeB = uasRun.received.find((m) => m.startsWith('BYE '));
    expect(byeA).toBeDefined();
    expect(byeB).toBeDefined();
    // Each BYE is in its own leg's dialog (the Call-ID each side knows) and from its own zone.
    expect(header(byeA!, 'Call-ID')).toBe(header(uacRun.sent[0]!, 'Call-ID'));
    expect(header(byeA!, 'Via')).toContain('127.0.0.20');
    expect(header(byeB!, 'Via')).toContain('127.0.0.10');
    expect(header(byeB!, 'Call-ID')).not.toBe(header(uacRun.sent[0]!, 'Call-ID'));
    // The journal keeps no call once both BYEs were answered.
    await until('the journal emptied', () => liveIds(kept()).size === 0);
  }, 240_000);
});
