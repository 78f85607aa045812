/**
 * Reloading the SBC's rules of a running `tfx start` (issue #17 items 5 and 7): the real process
 * is spawned with a configuration file; after the file changes, SIGHUP (sent by its PID) swaps
 * the normalization rules and the next call takes the new one; a bad file sent by SIGHUP is
 * refused (the last reload at GET /api/v1/sbc/reload names the rule) and calls keep flowing
 * through the old rules; `tfx sbc reload` does the same over REST and prints the result (exit 0),
 * or the refusal naming the rule (exit 1). A trunk of our own SIP stack (127.0.0.11) records the
 * Request-URI of each call; a PBX (127.0.0.12) places them through the core zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { UserAgentCore } from '@tfx/sip';
import type { SbcReloadState } from '@tfx/protocol';
import {
  runTfx,
  startTfx,
  tempDataDir,
  type TfxProcess,
} from '../../../test/helpers/tfx-process.js';

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

function get(url: string, token: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  what: string,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 30_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tfx start: SIGHUP and tfx sbc reload swap the SBC rules', () => {
  const dataDir = tempDataDir();
  const file = join(dataDir, 'tfx.yaml');
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
  let p: TfxProcess;
  let trunk: UserAgentCore;
  let pbx: UserAgentCore;
  let trunkPort = 0;
  const seen: string[] = [];

  const write = (rules: string[]): void =>
    writeFileSync(
      file,
      [
        `dataDir: ${dataDir}`,
        'media:',
        `  portMin: ${portMin}`,
        `  portMax: ${portMin + 19}`,
        '  workers: 1',
        'sbc:',
        '  zones:',
        '    - name: public',
        '      listen: [udp://127.0.0.20:0]',
        '      media: { address: 127.0.0.20 }',
        '      trusted: true',
        '    - name: core',
        '      listen: [udp://127.0.0.10:0]',
        '      media: { address: 127.0.0.10 }',
        '      trusted: true',
        '      normalize:',
        ...rules.map((r) => `        - ${r}`),
        '  trunks:',
        `    - { name: carrier-a, zone: public, uri: "sip:127.0.0.11:${trunkPort}" }`,
        '  routes:',
        '    - { match: { zone: core }, to: [carrier-a] }',
        '',
      ].join('\n'),
    );

  beforeAll(async () => {
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) => {
        seen.push(inv.request.uriText);
        const s = inv.accept({ body: SDP('127.0.0.11'), contentType: 'application/sdp' });
        setTimeout(() => s.bye(), 50);
      },
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: '127.0.0.11', port: 0 }]);
    trunkPort = tl!.port;
    pbx = new UserAgentCore({ user: 'pbx' });
    await pbx.start([{ transport: 'udp', address: '127.0.0.12', port: 0 }]);
    write(['{ user: ruri, match: "^00", replace: "+" }']);
    p = await startTfx(['--no-sip', '--config', file], { dataDir, timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await p?.stop('SIGKILL');
    await pbx?.close();
    await trunk?.close();
  });

  const token = (): string => readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const reloadState = async (): Promise<SbcReloadState> => {
    const r = await get(`${p.ready.url}/api/v1/sbc/reload`, token());
    expect(r.status).toBe(200);
    return r.body as SbcReloadState;
  };

  async function call(user: string): Promise<string> {
    const core = p.ready.listeners.find((l) => l.name === 'sbc-core-udp')!;
    const before = seen.length;
    let answered = false;
    pbx.call(
      {
        uri: `sip:${user}@127.0.0.10:${core.port}`,
        body: SDP('127.0.0.12'),
        contentType: 'application/sdp',
      },
      { onAccepted: () => (answered = true) },
    );
    await until(() => (answered ? true : undefined), 'the call answered');
    return await until(() => seen[before], 'the trunk got the INVITE');
  }

  it('SIGHUP: the next call takes the changed rule', async () => {
    expect(await call('00442079460000')).toMatch(/^sip:\+442079460000@/);
    write(['{ user: ruri, match: "^00", replace: "011" }']);
    process.kill(p.child.pid!, 'SIGHUP');
    const state = await until(async () => {
      const s = await reloadState();
      return s.last ? s : undefined;
    }, 'the reload');
    expect(state.generation).toBe(2);
    expect(state.last).toMatchObject({ ok: true, source: 'signal', restartNeeded: [] });
    expect(await call('00442079460000')).toMatch(/^sip:011442079460000@/);
  }, 90_000);

  it('SIGHUP with a bad file: refused naming the rule, the process runs on, calls keep the old rules', async () => {
    write([
      '{ user: ruri, match: "^00", replace: "+" }',
      '{ user: ruri, match: "([", replace: "" }',
    ]);
    process.kill(p.child.pid!, 'SIGHUP');
    const state = await until(async () => {
      const s = await reloadState();
      return s.last?.ok === false ? s : undefined;
    }, 'the refusal');
    expect(state.generation).toBe(2);
    expect(state.last?.source).toBe('signal');
    expect(state.last?.message).toMatch(
      /sbc\.zones\[1\]\.normalize\[1\]\.match: invalid regular expression/,
    );
    expect(p.child.exitCode).toBeNull();
    expect(await call('00442079460000')).toMatch(/^sip:011442079460000@/);
    // The refusal is logged with the reason (structured logs on stdout).
    await until(
      () => (/sbc: reload refused; the old rules serve/.test(p.stdout()) ? true : undefined),
      'the refusal in the log',
    );
  }, 90_000);

  it('tfx sbc reload: refused with the rule named (exit 1), then ok (exit 0) and the next call takes it', async () => {
    const bad = await runTfx(['sbc', 'reload', '-c', file, '--url', p.ready.url], {}, 60_000);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(
      /^tfx: reload-refused: invalid configuration: sbc\.zones\[1\]\.normalize\[1\]\.match: invalid regular expression/,
    );
    write([
      '{ user: ruri, match: "^00", replace: "+" }',
      '{ user: ruri, match: "^\\\\+44", replace: "0" }',
    ]);
    const ok = await runTfx(['sbc', 'reload', '-c', file, '--url', p.ready.url], {}, 60_000);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: SBC rules reloaded \(rules generation 3: /);
    expect(await call('00442079460000')).toMatch(/^sip:02079460000@/);
    const state = await reloadState();
    expect(state.last).toMatchObject({ ok: true, source: 'rest', generation: 3 });
  }, 90_000);

  it('tfx sbc reload refuses to talk to a server whose certificate is not the configured one', async () => {
    // Another data dir: another self-signed certificate, so the running server's fails the check.
    const other = tempDataDir();
    writeFileSync(join(other, 'admin-token'), `${token()}\n`);
    const r = await runTfx(
      ['sbc', 'reload', '--url', p.ready.url],
      { TFX_DATA_DIR: other },
      60_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /tfx: unavailable: cannot reach the server at https:\/\/127\.0\.0\.1:\d+: /,
    );
    expect((await reloadState()).last?.generation).toBe(3);
  }, 90_000);

  it('tfx sbc reload --data-dir: the token and certificate from the data directory, no config file', async () => {
    const r = await runTfx(
      ['sbc', 'reload', '--data-dir', dataDir, '--url', p.ready.url],
      {},
      60_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: SBC rules reloaded \(rules generation 4: /);
    const help = await runTfx(['sbc', 'reload', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      'Usage: tfx sbc reload',
      '--config',
      '--data-dir',
      '--url',
      '--token',
      'SIGHUP',
    ])
      expect(help.stdout).toContain(flag);
  }, 90_000);
});
