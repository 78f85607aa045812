import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import {
  configLeaves,
  envName,
  flagName,
  loadConfig,
  isLoopbackHost,
} from '../../src/config/index.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-config-'));
  const file = join(dir, 'tfx.yaml');
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): TfxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TfxError) return err;
    throw err;
  }
  throw new Error('expected a TfxError');
}

describe('configuration names', () => {
  it('maps key a.bC to TFX_A_B_C and --a-b-c', () => {
    expect(envName(['signalling', 'roomCapacity'])).toBe('TFX_SIGNALLING_ROOM_CAPACITY');
    expect(flagName(['signalling', 'roomCapacity'])).toBe('--signalling-room-capacity');
    expect(envName(['dataDir'])).toBe('TFX_DATA_DIR');
    expect(flagName(['admin', 'token'])).toBe('--admin-token');
    expect(envName(['admin', 'token'])).toBe('TFX_ADMIN_TOKEN');
  });

  it('derives every leaf from the schema with a description', () => {
    const leaves = configLeaves();
    expect(leaves.length).toBeGreaterThan(30);
    for (const l of leaves) expect(l.description, l.key).not.toBe('');
    expect(new Set(leaves.map((l) => l.env)).size).toBe(leaves.length);
  });
});

describe('loadConfig', () => {
  it('gives the documented defaults with no file, environment or flags', () => {
    const c = loadConfig({});
    expect(c.server.port).toBe(8443);
    expect(c.dataDir).toBe('./.tfx');
    expect(c.signalling.roomCapacity).toBe(6);
    expect(c.sip.port).toBe(5060);
  });

  it('applies precedence flags > environment > file > defaults', () => {
    const file = yamlFile(
      'server:\n  port: 1111\n  host: 127.0.0.2\nsignalling:\n  roomCapacity: 3\n',
    );
    const c = loadConfig({
      file,
      env: { TFX_SERVER_PORT: '2222', TFX_SIGNALLING_ROOM_CAPACITY: '4' },
      flags: { 'server.port': '3333' },
    });
    expect(c.server.port).toBe(3333); // flag beats env and file
    expect(c.signalling.roomCapacity).toBe(4); // env beats file
    expect(c.server.host).toBe('127.0.0.2'); // file beats default
    expect(c.log.level).toBe('info'); // default
  });

  it('coerces environment strings to numbers, booleans and lists', () => {
    const c = loadConfig({
      env: {
        TFX_METRICS_PUBLIC: 'true',
        TFX_SERVER_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
        TFX_SIP_USERS: '[{"username":"alice","password":"secret-pass"}]',
      },
    });
    expect(c.metrics.public).toBe(true);
    expect(c.server.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect(c.sip.users).toEqual([{ username: 'alice', password: 'secret-pass' }]);
  });

  it('rejects an unknown key in the file, naming the key and the file', () => {
    const file = yamlFile('server:\n  prot: 8443\n');
    const err = errorOf(() => loadConfig({ file }));
    expect(err.code).toBe('config-unknown-key');
    expect(err.message).toContain('server.prot');
    expect(err.message).toContain(file);
  });

  it('rejects an unknown TFX_ environment variable, naming it', () => {
    const err = errorOf(() => loadConfig({ env: { TFX_SERVER_PROT: '1' } }));
    expect(err.code).toBe('config-unknown-key');
    expect(err.message).toContain('TFX_SERVER_PROT');
  });

  it('media: a zone binds one local address, never the wildcard; statsInterval defaults to 10 s', () => {
    expect(loadConfig({}).media.statsInterval).toBe(10);
    for (const address of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0']) {
      const err = errorOf(() =>
        loadConfig({
          file: yamlFile(`media:\n  zones:\n    public:\n      address: "${address}"\n`),
        }),
      );
      expect(err.code).toBe('config-invalid');
      expect(err.message).toMatch(/media\.zones\.public\.address.*wildcard/);
    }
    const ok = loadConfig({
      file: yamlFile('media:\n  zones:\n    public:\n      address: 127.0.0.2\n'),
    });
    expect(ok.media.zones['public']?.address).toBe('127.0.0.2');
  });

  it('rejects a bad value, naming the key and where it came from', () => {
    const fromEnv = errorOf(() => loadConfig({ env: { TFX_SERVER_PORT: '70000' } }));
    expect(fromEnv.code).toBe('config-invalid');
    expect(fromEnv.message).toMatch(/server\.port: .*environment TFX_SERVER_PORT/);

    const fromFlag = errorOf(() => loadConfig({ flags: { 'server.port': 'eighty' } }));
    expect(fromFlag.message).toContain('--server-port');

    const file = yamlFile('signalling:\n  roomCapacity: -1\n');
    const fromFile = errorOf(() => loadConfig({ file }));
    expect(fromFile.message).toMatch(/signalling\.roomCapacity: .*file /);
  });

  it('reports invalid YAML and unreadable files clearly', () => {
    expect(errorOf(() => loadConfig({ file: yamlFile('server: [\n') })).message).toContain(
      'invalid YAML',
    );
    expect(errorOf(() => loadConfig({ file: '/nonexistent/tfx.yaml' })).message).toContain(
      'cannot read config file',
    );
    expect(errorOf(() => loadConfig({ file: yamlFile('- a\n- b\n') })).message).toContain(
      'top level',
    );
  });

  it('refuses plain HTTP on a non-loopback host unless a trusted proxy is configured', () => {
    expect(
      errorOf(() =>
        loadConfig({ flags: { 'server.insecureHttp': true, 'server.host': '0.0.0.0' } }),
      ).code,
    ).toBe('insecure-http-refused');
    expect(
      loadConfig({ flags: { 'server.insecureHttp': true, 'server.host': '127.0.0.1' } }).server
        .insecureHttp,
    ).toBe(true);
    expect(
      loadConfig({
        flags: {
          'server.insecureHttp': true,
          'server.host': '0.0.0.0',
          'server.trustProxy': '10.0.0.1',
        },
      }).server.insecureHttp,
    ).toBe(true);
  });

  it('requires tls.cert and tls.key together', () => {
    expect(errorOf(() => loadConfig({ flags: { 'tls.cert': '/x.pem' } })).message).toContain(
      'together',
    );
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.server)).toBe(true);
    expect(() => {
      (c.server as { port: number }).port = 1;
    }).toThrow();
  });

  it('treats 127.0.0.0/8, ::1 and localhost as loopback and nothing else', () => {
    for (const h of ['127.0.0.1', '127.9.9.9', '::1', 'localhost', '[::1]'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('media.rtpengine.interfaces', () => {
  const base = 'media:\n  engine: rtpengine\n  rtpengine:\n    urls: ["udp:127.0.0.1:2223"]\n';

  it('maps SBC zones to rtpengine interface names (empty by default)', () => {
    expect(loadConfig({}).media.rtpengine.interfaces).toEqual({});
    const file = yamlFile(`${base}    interfaces: { public: pub-1, core: core }\n`);
    expect(loadConfig({ file }).media.rtpengine.interfaces).toEqual({
      public: 'pub-1',
      core: 'core',
    });
  });

  it('refuses a bad zone or interface name with config-invalid', () => {
    for (const bad of [
      '{ Public: pub }',
      '{ public: "a b" }',
      '{ public: "x;core/127.0.0.1" }',
      '{ public: "" }',
      '{ public: 7 }',
      '[pub]',
    ]) {
      const file = yamlFile(`${base}    interfaces: ${bad}\n`);
      const err = errorOf(() => loadConfig({ file }));
      expect(err.code, bad).toBe('config-invalid');
      expect(err.message, bad).toContain('media.rtpengine.interfaces');
    }
  });
});
