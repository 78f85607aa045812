/**
 * `sbc.trunks[].register` and `sbc.trunks[].codecs` (issue #18 item 1): defaults filled, the
 * password read from `passwordEnv` when the SBC config is made, hostile values refused naming
 * the key.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { sbcConfigOf } from '../../src/sbc/module.js';

function withTrunk(extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-upstream-'));
  const file = join(dir, 'tfx.yaml');
  writeFileSync(
    file,
    `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.0.10:5090], media: { address: 127.0.0.10 }, trusted: true }
  trunks:
    - { name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070", ${extra} }
  routes:
    - { match: { zone: core }, to: [carrier-a] }
`,
  );
  return file;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TfxError) return err.message;
    throw err;
  }
  throw new Error('expected a TfxError');
}

describe('sbc.trunks register and codecs', () => {
  it('fills the registration defaults (600 s, retry 30 s) and hands the SBC the password', () => {
    const c = loadConfig({
      file: withTrunk('register: { user: tfx, password: s3cret, realm: carrier.example }'),
    });
    expect(c.sbc.trunks[0]?.register).toMatchObject({ expiresSeconds: 600, retrySeconds: 30 });
    expect(sbcConfigOf(c).trunks[0]?.register).toEqual({
      user: 'tfx',
      password: 's3cret',
      realm: 'carrier.example',
      expiresSeconds: 600,
      retrySeconds: 30,
    });
    expect(sbcConfigOf(c).trunks[0]?.codecs).toBeUndefined();
  });

  it('reads passwordEnv from the environment when the SBC config is made; unset → an error naming the key', () => {
    const c = loadConfig({
      file: withTrunk('register: { user: tfx, passwordEnv: TFX_TEST_UPSTREAM_PW_43 }'),
    });
    process.env.TFX_TEST_UPSTREAM_PW_43 = 'from-env';
    try {
      expect(sbcConfigOf(c).trunks[0]?.register?.password).toBe('from-env');
    } finally {
      delete process.env.TFX_TEST_UPSTREAM_PW_43;
    }
    expect(messageOf(() => sbcConfigOf(c))).toMatch(
      /sbc\.trunks\.carrier-a\.register\.passwordEnv: the environment variable TFX_TEST_UPSTREAM_PW_43 is not set/,
    );
  });

  it('keeps a codec policy', () => {
    const c = loadConfig({
      file: withTrunk('codecs: { allow: [PCMA, telephone-event, G722], order: [G722] }'),
    });
    expect(sbcConfigOf(c).trunks[0]?.codecs).toEqual({
      allow: ['PCMA', 'telephone-event', 'G722'],
      order: ['G722'],
    });
  });

  it.each([
    ['register: { user: tfx }', /password/],
    [
      'register: { user: tfx, password: a, passwordEnv: B }',
      /exactly one of password and passwordEnv/,
    ],
    ['register: { user: "a@b", password: x }', /register\.user/],
    ['register: { user: tfx, password: x, expiresSeconds: 1 }', /expiresSeconds/],
    ['register: { user: tfx, password: x, retrySeconds: 0 }', /retrySeconds/],
    ['register: { user: tfx, password: x, realm: "a b" }', /realm/],
    ['register: { user: tfx, password: x, passwd: y }', /passwd/],
    ['register: { user: tfx, passwordEnv: "1; rm -rf" }', /passwordEnv/],
    ['codecs: { allow: [] }', /codecs\.allow/],
    ['codecs: { allow: ["PC MA"] }', /codecs\.allow/],
    ['codecs: { allow: [PCMA], order: [PCMU] }', /codecs\.order names only allowed codecs/],
    ['codecs: { allow: [PCMA], strip: [PCMU] }', /strip/],
  ])('refuses %s', (extra, message) => {
    expect(messageOf(() => loadConfig({ file: withTrunk(extra) }))).toMatch(message);
  });
});
