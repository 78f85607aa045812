/**
 * The normalization keys of `sbc.*` (docs/sbc.md, "Normalization"): the documented example rule
 * set is accepted with each zone's allow-list default filled, and every refusal names the rule
 * and its key the way operators read them (`sbc.zones[1].normalize[3].match: …`), with the same
 * reasons @tfx/sbc gives on a reload.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { compileRuleSet } from '@tfx/sbc';
import { loadConfig } from '../../src/config/index.js';
import { sbcConfigOf } from '../../src/sbc/index.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-normalize-'));
  const file = join(dir, 'tfx.yaml');
  writeFileSync(file, text);
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

/** The example of docs/sbc.md ("Normalization"), with `RULE` replaced in the core zone. */
const EXAMPLE = `
sbc:
  zones:
    - name: public
      listen: [udp://127.0.0.20:5080]
      media: { address: 127.0.0.20 }
      allowHeaders: [Subject, Priority, X-Tenant-*]
    - name: core
      listen: [udp://127.0.0.10:5090]
      media: { address: 127.0.0.10 }
      trusted: true
      normalize:
        - { user: ruri, match: "^00", replace: "+" }
        - { user: ruri, match: "^0([1-9])", replace: "+44$1" }
        - { user: from, match: "^0([1-9])", replace: "+44$1" }
        - RULE
        - { header: P-Asserted-Identity, action: remove }
  trunks:
    - name: carrier-a
      zone: public
      uri: "sip:127.0.0.11:5070"
      optionTags: [100rel, timer, replaces]
      normalize:
        - { user: ruri, match: "^\\\\+44", replace: "0" }
        - { user: to, match: "^\\\\+", replace: "00" }
        - { header: X-Carrier-Account, action: set, value: acme-7 }
        - { header: Subject, action: replace, match: "(?i)^urgent", replace: "URGENT" }
  routes:
    - { match: { zone: core }, to: [carrier-a] }
`;

const example = (rule: string): string =>
  EXAMPLE.replace('RULE', rule).replace('"(?i)^urgent"', '"^[Uu]rgent"');

describe('sbc normalization configuration', () => {
  it('accepts the documented example: user rewrites, header rules, allow-lists, option tags', () => {
    const c = loadConfig({
      file: yamlFile(example('{ header: X-Zone, action: add, value: core }')),
    });
    const [pub, core] = c.sbc.zones;
    expect(pub?.allowHeaders).toEqual(['Subject', 'Priority', 'X-Tenant-*']);
    expect(core?.allowHeaders).toEqual(['Subject', 'Priority', 'Accept-Language']);
    expect(core?.optionTags).toBeUndefined();
    expect(core?.normalize[3]).toEqual({ header: 'X-Zone', action: 'add', value: 'core' });
    expect(c.sbc.trunks[0]?.optionTags).toEqual(['100rel', 'timer', 'replaces']);
    // What the server hands the SBC compiles there too (the same checks on both sides).
    const set = compileRuleSet(sbcConfigOf(c));
    expect(set.zones.get('core')?.rules.users).toHaveLength(3);
    expect(set.zones.get('core')?.rules.headers).toHaveLength(2);
    expect(set.trunks.get('carrier-a')?.rules.users).toHaveLength(2);
  });

  it.each([
    [
      'a bad regular expression',
      '{ user: ruri, match: "^(?<n>00", replace: "+" }',
      'sbc.zones[1].normalize[3].match: invalid regular expression',
    ],
    [
      'an unknown header action',
      '{ header: X-A, action: rename, value: b }',
      'sbc.zones[1].normalize[3].action: unknown header action "rename" (add, remove, set, replace)',
    ],
    [
      'an unknown user field',
      '{ user: contact, match: "x", replace: "" }',
      'sbc.zones[1].normalize[3].user: unknown user "contact" (ruri, to, from)',
    ],
    [
      'a header each leg builds',
      '{ header: Via, action: remove }',
      'sbc.zones[1].normalize[3].header: Via is built by each leg: rules cannot change it',
    ],
    [
      'a header rule without its value',
      '{ header: X-A, action: set }',
      'sbc.zones[1].normalize[3].value: set needs value',
    ],
    [
      'a pattern that needs backtracking',
      '{ user: ruri, match: "^(\\\\d)\\\\1", replace: "" }',
      'sbc.zones[1].normalize[3].match: invalid regular expression /^(\\d)\\1/: backreferences and lookaround need backtracking',
    ],
    [
      'a pattern over 256 characters',
      `{ user: ruri, match: "${'a'.repeat(257)}", replace: "" }`,
      'sbc.zones[1].normalize[3].match: longer than 256 characters',
    ],
    [
      'a rule that is neither',
      '{ match: "x", replace: "" }',
      'sbc.zones[1].normalize[3]: a rule names user: or header:',
    ],
    [
      'an unknown key in a rule',
      '{ header: X-A, action: remove, colour: red }',
      '"sbc.zones[1].normalize[3].colour"',
    ],
  ])('refuses %s, naming the rule and its key', (_what, rule, expected) => {
    const msg = messageOf(() => loadConfig({ file: yamlFile(example(rule)) }));
    expect(msg).toContain(expected);
  });

  it('refuses a bad allow-list entry, a bad option tag and too many rules, naming them', () => {
    const none = '{ header: X-A, action: remove }';
    expect(
      messageOf(() =>
        loadConfig({ file: yamlFile(example(none).replace('X-Tenant-*', 'Contact')) }),
      ),
    ).toContain('sbc.zones[0].allowHeaders[2]: Contact never crosses (each leg builds its own)');
    expect(
      messageOf(() => loadConfig({ file: yamlFile(example(none).replace('X-Tenant-*', '"*"')) })),
    ).toContain('sbc.zones[0].allowHeaders[2]: a lone * would let every header through');
    expect(
      messageOf(() =>
        loadConfig({ file: yamlFile(example(none).replace('replaces]', 'rep laces]')) }),
      ),
    ).toContain('sbc.trunks[0].optionTags[2]: "rep laces" is not an option tag');
    const many = Array.from({ length: 65 }, () => none).join('\n        - ');
    expect(messageOf(() => loadConfig({ file: yamlFile(example(many)) }))).toContain(
      'sbc.zones[1].normalize',
    );
  });

  it('refuses a configuration file over 4 MiB before parsing it', () => {
    const file = yamlFile(
      `${example('{ header: X-A, action: remove }')}# ${'x'.repeat(4 << 20)}\n`,
    );
    expect(messageOf(() => loadConfig({ file }))).toMatch(
      /cannot read config file .*: \d+ bytes, more than the 4194304 a configuration may have/,
    );
  });
});
