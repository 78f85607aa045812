/**
 * Reloading the SBC's rules through the real server (issue #17 items 5 and 7): the platform runs
 * the SBC from a configuration file; `POST /api/v1/sbc/reload` (admin token) reads the file again
 * and the next call takes the new normalization rule; a bad file is refused with 422
 * `reload-refused` whose message names the rule, and calls keep flowing through the rules in
 * force; the last reload and its result are at `GET /api/v1/sbc/reload` and in the metrics; zone
 * settings that only a restart applies are reported, not applied; a huge file is refused. A trunk
 * of our own SIP stack (127.0.0.11) records the Request-URI of each call it gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserAgentCore } from '@tfx/sip';
import { sbcReloadSchema, sbcReloadStateSchema } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { makeDataDir, startTestPlatform, type TestPlatform } from '../api/harness.js';

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

async function until<T>(fn: () => T | undefined, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 20_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The `sbc:` section of the file, with the public zone's rules given as YAML flow mappings. */
function sbcYaml(trunkPort: number, rules: string[], publicListen = 'udp://127.0.0.20:0'): string {
  return [
    'sbc:',
    '  zones:',
    '    - name: public',
    `      listen: [${publicListen}]`,
    '      media: { address: 127.0.0.20 }',
    '      trusted: true',
    '    - name: core',
    '      listen: [udp://127.0.0.10:0]',
    '      media: { address: 127.0.0.10 }',
    '      trusted: true',
    ...(rules.length > 0 ? ['      normalize:', ...rules.map((r) => `        - ${r}`)] : []),
    '  trunks:',
    `    - { name: carrier-a, zone: public, uri: "sip:127.0.0.11:${trunkPort}" }`,
    '  routes:',
    '    - { match: { zone: core }, to: [carrier-a] }',
    '',
  ].join('\n');
}

describe('SBC reload through the server (POST /api/v1/sbc/reload)', () => {
  const media = createMediaModule();
  let file = '';
  let flags: Record<string, string | boolean> = {};
  const sbc = createSbcModule({
    engine: () => media.engine,
    // As `tfx start` does: the same sources again (here the file and the test's flags).
    readConfig: () => loadConfig({ file, env: {}, flags }),
  });
  let t: TestPlatform;
  let trunk: UserAgentCore;
  let trunkPort = 0;
  let pbx: UserAgentCore;
  const seen: string[] = [];
  const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);

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
    const dataDir = await makeDataDir();
    file = join(dataDir, 'tfx.yaml');
    writeFileSync(file, sbcYaml(trunkPort, ['{ user: ruri, match: "^00", replace: "+" }']));
    flags = {
      dataDir,
      'server.host': '127.0.0.1',
      'server.port': '0',
      'sip.enabled': false,
      'admin.token': 'test-admin-token-0123456789',
      'signalling.resumeGraceMs': '50',
      'media.portMin': String(portMin),
      'media.portMax': String(portMin + 99),
      'media.workers': '1',
    };
    // The platform starts from the same sources the module reads again.
    const initial = loadConfig({ file, env: {}, flags });
    t = await startTestPlatform({
      modules: [media, sbc],
      dataDir,
      flags: {
        ...flags,
        'sbc.zones': JSON.stringify(initial.sbc.zones),
        'sbc.trunks': JSON.stringify(initial.sbc.trunks),
        'sbc.routes': JSON.stringify(initial.sbc.routes),
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    await pbx?.close();
    await trunk?.close();
  });

  /** One call from the PBX (core) to `user`; resolves with the Request-URI the trunk saw. */
  async function call(user: string): Promise<string> {
    const core = t.platform.listeners.find((l) => l.name === 'sbc-core-udp')!;
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

  it('starts with generation 1 and no reload; both routes need the admin token and are in the OpenAPI document', async () => {
    const state = await t.req('GET', '/api/v1/sbc/reload');
    expect(state.status).toBe(200);
    expect(sbcReloadStateSchema.parse(state.json)).toEqual({ generation: 1, last: null });
    expect((await t.req('POST', '/api/v1/sbc/reload', { token: 'wrong' })).status).toBe(401);
    expect((await t.req('GET', '/api/v1/sbc/reload', { token: 'wrong' })).status).toBe(401);
    const doc = (await t.req('GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(doc.paths['/api/v1/sbc/reload']?.post?.operationId).toBe('reloadSbc');
    expect(doc.paths['/api/v1/sbc/reload']?.get?.operationId).toBe('getSbcReload');
    expect(await call('00442079460000')).toMatch(/^sip:\+442079460000@127\.0\.0\.11:/);
  });

  it('a changed rule in the file + POST reload: the next call takes the new rule', async () => {
    writeFileSync(file, sbcYaml(trunkPort, ['{ user: ruri, match: "^00", replace: "011" }']));
    const res = await t.req('POST', '/api/v1/sbc/reload');
    expect(res.status).toBe(200);
    const r = sbcReloadSchema.parse(res.json);
    expect(r).toMatchObject({ ok: true, source: 'rest', generation: 2, restartNeeded: [] });
    expect(r.message).toMatch(/^rules generation 2: 1 trunk\(s\), 1 route\(s\), 1 normalization/);
    expect(await call('00442079460000')).toMatch(/^sip:011442079460000@/);
  });

  it('a bad file is refused with a message naming the rule; the old rules keep serving', async () => {
    writeFileSync(
      file,
      sbcYaml(trunkPort, [
        '{ user: ruri, match: "^00", replace: "+" }',
        '{ header: X-Carrier, action: rename, value: x }',
        '{ user: ruri, match: "^(0", replace: "+44" }',
      ]),
    );
    const res = await t.req('POST', '/api/v1/sbc/reload');
    expect(res.status).toBe(422);
    const err = (res.json as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('reload-refused');
    expect(err.message).toContain(
      'sbc.zones[1].normalize[1].action: unknown header action "rename" (add, remove, set, replace)',
    );
    expect(err.message).toMatch(
      /sbc\.zones\[1\]\.normalize\[2\]\.match: invalid regular expression \/\^\(0\/: /,
    );
    expect(err.message).toContain(file);
    const state = sbcReloadStateSchema.parse((await t.req('GET', '/api/v1/sbc/reload')).json);
    expect(state.generation).toBe(2);
    expect(state.last).toMatchObject({ ok: false, source: 'rest', generation: 2 });
    expect(state.last?.message).toBe(err.message);
    // Calls keep flowing through the rules in force (00 → 011).
    expect(await call('00442079460000')).toMatch(/^sip:011442079460000@/);
  });

  it('refuses a catastrophic pattern (backreference) and a file over 4 MiB, naming them', async () => {
    writeFileSync(file, sbcYaml(trunkPort, ['{ user: ruri, match: "^(a+)+\\\\1$", replace: "" }']));
    const bad = await t.req('POST', '/api/v1/sbc/reload');
    expect(bad.status).toBe(422);
    expect((bad.json as { error: { message: string } }).error.message).toMatch(
      /sbc\.zones\[1\]\.normalize\[0\]\.match: .*backreferences and lookaround need backtracking/,
    );
    writeFileSync(file, `${sbcYaml(trunkPort, [])}# ${'x'.repeat(4 * 1024 * 1024)}\n`);
    const huge = await t.req('POST', '/api/v1/sbc/reload');
    expect(huge.status).toBe(422);
    expect((huge.json as { error: { message: string } }).error.message).toMatch(
      /more than the 4194304 a configuration may have/,
    );
    expect(await call('00442079460000')).toMatch(/^sip:011442079460000@/);
  });

  it('applies new rules but reports zone settings only a restart applies; counts reloads in the metrics', async () => {
    writeFileSync(
      file,
      sbcYaml(
        trunkPort,
        ['{ user: ruri, match: "^00", replace: "+" }'],
        'udp://127.0.0.20:0, tcp://127.0.0.20:0',
      ),
    );
    const res = await t.req('POST', '/api/v1/sbc/reload');
    expect(res.status).toBe(200);
    const r = sbcReloadSchema.parse(res.json);
    expect(r).toMatchObject({ ok: true, generation: 3, restartNeeded: ['sbc.zones[0] (public)'] });
    expect(r.message).toContain('not applied until a restart: sbc.zones[0] (public)');
    // The zones did not change: still one UDP listener in the public zone.
    expect(t.platform.listeners.filter((l) => l.name.startsWith('sbc-public'))).toHaveLength(1);
    expect(await call('00442079460000')).toMatch(/^sip:\+442079460000@/);
    const metrics = (await t.req('GET', '/metrics')).text;
    expect(metrics).toMatch(/tfx_sbc_reloads_total\{result="ok"\} 2/);
    expect(metrics).toMatch(/tfx_sbc_reloads_total\{result="refused"\} 3/);
  });
});

describe('SBC reload without zones', () => {
  it('answers 503 unavailable: starting the SBC needs a restart', async () => {
    const sbc = createSbcModule({ engine: () => undefined, readConfig: () => loadConfig({}) });
    const t = await startTestPlatform({ modules: [sbc] });
    try {
      const res = await t.req('POST', '/api/v1/sbc/reload');
      expect(res.status).toBe(503);
      expect((res.json as { error: { code: string } }).error.code).toBe('unavailable');
      expect((await t.req('GET', '/api/v1/sbc/reload')).status).toBe(503);
    } finally {
      await t.close();
    }
  });
});
