/**
 * Normalization rules (issue #17 item 5), pure: user rewrites (Request-URI, To, From; the E.164
 * example set of docs/sbc.md), header rules (add, remove, set, replace), the header allow-list,
 * option-tag stripping, the whole rule set compiled and checked (every refusal names the rule),
 * the far leg's INVITE computed in the documented order, the reload plan, and patterns that
 * cannot stall the SBC (linear-time engine; backtracking constructs refused; length cap).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALLOW_HEADERS,
  applyHeaderRules,
  compileAllowList,
  compilePattern,
  compileRuleSet,
  compileRules,
  crossing,
  legBRequest,
  nestedQuantifier,
  normalizeUser,
  patternProblem,
  reloadPlan,
  stripOptionTags,
  type HeaderPair,
  type NormalizeRule,
  type SbcConfig,
  type TrunkSpec,
  type ZoneSpec,
} from '../src/index.js';

const zone = (name: string, extra: Partial<ZoneSpec> = {}): ZoneSpec => ({
  name,
  listen: [{ transport: 'udp', address: name === 'core' ? '127.0.0.10' : '127.0.0.20', port: 0 }],
  media: { address: name === 'core' ? '127.0.0.10' : '127.0.0.20' },
  trusted: name === 'core',
  webrtc: false,
  limits: { maxCalls: 0 },
  ...extra,
});

const trunk = (extra: Partial<TrunkSpec> = {}): TrunkSpec => ({
  name: 'carrier',
  zone: 'core',
  uri: 'sip:127.0.0.11:5070',
  ...extra,
});

const config = (z: Partial<ZoneSpec> = {}, t: Partial<TrunkSpec> = {}): SbcConfig => ({
  zones: [zone('public', z), zone('core')],
  trunks: [trunk(t)],
  routes: [{ match: { zone: 'public' }, to: ['carrier'] }],
});

/** The E.164 example set of docs/sbc.md ("Normalization"), for a UK operator. */
const E164: NormalizeRule[] = [
  { user: 'ruri', match: '^00', replace: '+' },
  { user: 'ruri', match: '^0([1-9])', replace: '+44$1' },
  { user: 'from', match: '^00', replace: '+' },
  { user: 'from', match: '^0([1-9])', replace: '+44$1' },
];

describe('user rewrites', () => {
  it('turns 0044… into +44…, 00 into + and a national number into an international one (docs example set)', () => {
    const r = compileRules(E164, 'sbc.zones[0]');
    expect(normalizeUser(r, 'ruri', '00442079460000')).toBe('+442079460000');
    expect(normalizeUser(r, 'ruri', '0015551234567')).toBe('+15551234567');
    expect(normalizeUser(r, 'ruri', '02079460000')).toBe('+442079460000');
    expect(normalizeUser(r, 'ruri', '+33123456789')).toBe('+33123456789');
    expect(normalizeUser(r, 'ruri', 'alice')).toBe('alice');
    expect(normalizeUser(r, 'from', '07700900123')).toBe('+447700900123');
    // Rules of one field do not touch another.
    expect(normalizeUser(r, 'to', '0044')).toBe('0044');
    expect(normalizeUser(r, 'ruri', undefined)).toBeUndefined();
  });

  it('applies the rules of a field in order, each on the result of the one before', () => {
    const r = compileRules(
      [
        { user: 'to', match: '^\\+44', replace: '0' },
        { user: 'to', match: '^0', replace: 'national-0' },
      ],
      'sbc.trunks[0]',
    );
    expect(normalizeUser(r, 'to', '+442079460000')).toBe('national-02079460000');
  });

  it('refuses an unknown user field and a rule naming both a user and a header', () => {
    expect(() =>
      compileRules([{ user: 'contact', match: 'x', replace: '' } as never], 'sbc.zones[0]'),
    ).toThrow('sbc.zones[0].normalize[0].user: unknown user "contact" (ruri, to, from)');
    expect(() =>
      compileRules(
        [{ user: 'ruri', header: 'X-A', match: 'x', replace: '' } as never],
        'sbc.zones[2]',
      ),
    ).toThrow('sbc.zones[2].normalize[0]: a rule rewrites a user or a header, not both');
    expect(() => compileRules([{} as never], 'sbc.zones[0]')).toThrow(
      'sbc.zones[0].normalize[0]: a rule names user: or header:',
    );
  });
});

const fields = (...f: HeaderPair[]): HeaderPair[] => f;

describe('header rules', () => {
  const base = fields(
    ['Subject', 'hello'],
    ['X-Account', '1234'],
    ['X-Account', '5678'],
    ['Priority', 'urgent'],
  );

  it('add appends a field, another one when the name is already there', () => {
    const r = compileRules(
      [
        { header: 'X-Carrier', action: 'add', value: 'a' },
        { header: 'X-Account', action: 'add', value: '9' },
      ],
      'sbc.trunks[0]',
    );
    expect(applyHeaderRules(r, base)).toEqual([...base, ['X-Carrier', 'a'], ['X-Account', '9']]);
  });

  it('remove drops every field of the name (compact forms too), or only the values matching', () => {
    const all = compileRules([{ header: 'x-account', action: 'remove' }], 'z');
    expect(applyHeaderRules(all, base)).toEqual([
      ['Subject', 'hello'],
      ['Priority', 'urgent'],
    ]);
    const some = compileRules([{ header: 'X-Account', action: 'remove', match: '^5' }], 'z');
    expect(applyHeaderRules(some, base)).toEqual([
      ['Subject', 'hello'],
      ['X-Account', '1234'],
      ['Priority', 'urgent'],
    ]);
    // `s` is Subject's compact form (RFC 3261 §7.3.3).
    const compact = compileRules([{ header: 's', action: 'remove' }], 'z');
    expect(applyHeaderRules(compact, fields(['s', 'hi'], ['Subject', 'there']))).toEqual([]);
  });

  it('set writes one field with the value in place of every field of the name, or adds it', () => {
    const r = compileRules([{ header: 'X-Account', action: 'set', value: 'acme' }], 'z');
    expect(applyHeaderRules(r, base)).toEqual([
      ['Subject', 'hello'],
      ['X-Account', 'acme'],
      ['Priority', 'urgent'],
    ]);
    const added = compileRules([{ header: 'X-New', action: 'set', value: '1' }], 'z');
    expect(applyHeaderRules(added, base)).toEqual([...base, ['X-New', '1']]);
    // The compact name is written long.
    const s = compileRules([{ header: 's', action: 'set', value: 'x' }], 'z');
    expect(applyHeaderRules(s, [])).toEqual([['Subject', 'x']]);
  });

  it('replace rewrites each value of the name with a regular expression ($1 groups)', () => {
    const r = compileRules(
      [{ header: 'X-Account', action: 'replace', match: '^(\\d)\\d*$', replace: 'acct-$1' }],
      'z',
    );
    expect(applyHeaderRules(r, base)).toEqual([
      ['Subject', 'hello'],
      ['X-Account', 'acct-1'],
      ['X-Account', 'acct-5'],
      ['Priority', 'urgent'],
    ]);
  });

  it('leaves its input unchanged and runs the rules in order', () => {
    const input = fields(['X-A', '1']);
    const r = compileRules(
      [
        { header: 'X-A', action: 'replace', match: '1', replace: '2' },
        { header: 'X-A', action: 'remove', match: '^1$' },
        { header: 'X-B', action: 'add', value: 'b' },
        { header: 'X-B', action: 'remove' },
      ],
      'z',
    );
    expect(applyHeaderRules(r, input)).toEqual([['X-A', '2']]);
    expect(input).toEqual([['X-A', '1']]);
  });

  it('names the rule and the key of every refusal', () => {
    const bad = (rule: unknown): string => {
      try {
        compileRules(
          [{ user: 'ruri', match: '^00', replace: '+' }, rule as NormalizeRule],
          'sbc.zones[1]',
        );
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(bad({ header: 'X-A', action: 'rename', value: 'b' })).toBe(
      'sbc.zones[1].normalize[1].action: unknown header action "rename" (add, remove, set, replace)',
    );
    expect(bad({ header: 'X-A', action: 'add' })).toBe(
      'sbc.zones[1].normalize[1].value: add needs value',
    );
    expect(bad({ header: 'X-A', action: 'replace', match: 'a' })).toBe(
      'sbc.zones[1].normalize[1].replace: replace needs replace',
    );
    expect(bad({ header: 'Via', action: 'remove' })).toBe(
      'sbc.zones[1].normalize[1].header: Via is built by each leg: rules cannot change it',
    );
    expect(bad({ header: 'i', action: 'set', value: 'x' })).toBe(
      'sbc.zones[1].normalize[1].header: Call-ID is built by each leg: rules cannot change it',
    );
    expect(bad({ header: 'X A', action: 'add', value: 'x' })).toBe(
      'sbc.zones[1].normalize[1].header: "X A" is not a header name',
    );
    expect(bad({ header: 'X-A', action: 'add', value: 'a\r\nVia: SIP/2.0/UDP evil' })).toBe(
      'sbc.zones[1].normalize[1].value: a header value cannot hold a line break or NUL',
    );
    expect(bad({ header: 'X-A', action: 'replace', match: '(', replace: '' })).toMatch(
      /^sbc\.zones\[1\]\.normalize\[1\]\.match: invalid regular expression \/\(\/: /,
    );
    expect(bad({ header: 'X-A', action: 'add', value: 'x'.repeat(1025) })).toBe(
      'sbc.zones[1].normalize[1].value: longer than 1024 characters',
    );
    // Rules may write Server or User-Agent (an operator's choice), unlike the allow-list.
    expect(bad({ header: 'User-Agent', action: 'set', value: 'Acme SBC' })).toBe('accepted');
  });
});

describe('the header allow-list', () => {
  const received = fields(
    ['Via', 'SIP/2.0/UDP 127.0.0.21:5060;branch=z9hG4bK1'],
    ['From', '<sip:alice@127.0.0.21>;tag=1'],
    ['s', 'compact subject'],
    ['Priority', 'emergency'],
    ['P-Asserted-Identity', '<sip:alice@127.0.0.21>'],
    ['P-Charging-Vector', 'icid-value=1'],
    ['X-Tenant', 'blue'],
    ['User-Agent', 'Phone/1.2.3'],
    ['Diversion', '<sip:bob@10.1.2.3>'],
    ['Accept-Language', 'en'],
  );

  it('by default lets only Subject, Priority and Accept-Language cross (no P-*, X-*, no version)', () => {
    expect(DEFAULT_ALLOW_HEADERS).toEqual(['Subject', 'Priority', 'Accept-Language']);
    const list = compileAllowList(DEFAULT_ALLOW_HEADERS, 'sbc.zones[0].allowHeaders');
    expect(crossing(list, received)).toEqual([
      ['Subject', 'compact subject'],
      ['Priority', 'emergency'],
      ['Accept-Language', 'en'],
    ]);
  });

  it('takes names and prefixes (X-*); an empty list lets nothing cross', () => {
    const list = compileAllowList(['x-*', 'P-Asserted-Identity'], 'w');
    expect(crossing(list, received)).toEqual([
      ['P-Asserted-Identity', '<sip:alice@127.0.0.21>'],
      ['X-Tenant', 'blue'],
    ]);
    expect(crossing(compileAllowList([], 'w'), received)).toEqual([]);
    // A P-* prefix lets the P- fields through, but never a field each leg builds.
    expect(crossing(compileAllowList(['P-*', 'V*'], 'w'), received).map(([n]) => n)).toEqual([
      'P-Asserted-Identity',
      'P-Charging-Vector',
    ]);
  });

  it('refuses a lone *, fields each leg builds and fields that never cross, naming the entry', () => {
    expect(() => compileAllowList(['Subject', '*'], 'sbc.zones[1].allowHeaders')).toThrow(
      'sbc.zones[1].allowHeaders[1]: a lone * would let every header through',
    );
    expect(() => compileAllowList(['Contact'], 'sbc.zones[0].allowHeaders')).toThrow(
      'sbc.zones[0].allowHeaders[0]: Contact never crosses (each leg builds its own)',
    );
    expect(() => compileAllowList(['User-Agent'], 'a')).toThrow('User-Agent never crosses');
    expect(() => compileAllowList(['Server'], 'a')).toThrow('Server never crosses');
    expect(() => compileAllowList(['X A'], 'a')).toThrow('"X A" is not a header name or prefix');
  });
});

describe('option tags', () => {
  it('strips from Supported, Require and Proxy-Require the tags the far side does not support', () => {
    const r = stripOptionTags(
      fields(
        ['Supported', '100rel, timer, path, gruu'],
        ['Require', 'timer'],
        ['Proxy-Require', 'sec-agree'],
        ['Subject', 'timer'],
      ),
      new Set(['100rel', 'timer']),
    );
    expect(r.fields).toEqual([
      ['Supported', '100rel, timer'],
      ['Require', 'timer'],
      ['Subject', 'timer'],
    ]);
    expect(r.removed).toEqual(['path', 'gruu', 'sec-agree']);
  });

  it('keeps an emptied Supported as an empty field (supports none), drops an emptied Require', () => {
    const r = stripOptionTags(fields(['k', '100rel'], ['Require', '100rel']), new Set());
    expect(r.fields).toEqual([['Supported', '']]);
  });

  it('compares tags case-insensitively', () => {
    expect(stripOptionTags(fields(['Supported', 'Timer']), new Set(['timer'])).fields).toEqual([
      ['Supported', 'Timer'],
    ]);
  });
});

describe('the rule set', () => {
  it('compiles a configuration and names the first bad key', () => {
    const ok = compileRuleSet(config({ normalize: E164 }));
    expect(ok.generation).toBe(1);
    expect([...ok.zones.keys()]).toEqual(['public', 'core']);
    const cases: Array<[SbcConfig, string]> = [
      [
        {
          ...config(),
          zones: [
            zone('public'),
            zone('core', {
              normalize: [...E164.slice(0, 3), { user: 'ruri', match: '^(?<n>00', replace: '+' }],
            }),
          ],
        },
        'sbc.zones[1].normalize[3].match: invalid regular expression',
      ],
      [
        config({}, { optionTags: ['100rel', 'ti mer'] }),
        'sbc.trunks[0].optionTags[1]: "ti mer" is not an option tag',
      ],
      [config({ allowHeaders: ['Via'] }), 'sbc.zones[0].allowHeaders[0]: Via never crosses'],
      [
        { ...config(), trunks: [trunk({ zone: 'edge' })] },
        'sbc.trunks[0].zone: no zone named edge',
      ],
      [
        { ...config(), trunks: [trunk({ uri: 'tel:+44' })] },
        'sbc.trunks[0].uri: tel:+44 is not a SIP URI',
      ],
      [
        { ...config(), trunks: [trunk(), trunk()] },
        'sbc.trunks[1].name: trunk carrier named twice',
      ],
      [
        { ...config(), routes: [{ match: { zone: 'public' }, to: ['nope'] }] },
        'sbc.routes[0].to: no trunk named nope',
      ],
      [
        { ...config(), routes: [{ match: { zone: 'edge' }, to: ['carrier'] }] },
        'sbc.routes[0].match.zone: no zone named edge',
      ],
      [
        { ...config(), routes: [{ match: { zone: 'public', user: '(a+)+\\1' }, to: ['carrier'] }] },
        'sbc.routes[0].match.user: invalid regular expression',
      ],
      [
        config({ normalize: Array.from({ length: 65 }, () => E164[0] as NormalizeRule) }),
        'sbc.zones[0].normalize: more than 64 entries',
      ],
      [
        { ...config(), trunks: Array.from({ length: 1025 }, (_, i) => trunk({ name: `t${i}` })) },
        'sbc.trunks: more than 1024 entries',
      ],
    ];
    for (const [cfg, message] of cases) expect(() => compileRuleSet(cfg)).toThrow(message);
  });

  it('computes the far leg’s users and headers in the documented order', () => {
    const set = compileRuleSet(
      config(
        {
          normalize: [
            ...E164,
            { header: 'X-Zone', action: 'add', value: 'public' },
            { header: 'Subject', action: 'replace', match: 'secret', replace: '***' },
          ],
          allowHeaders: ['Subject', 'X-*'],
        },
        {
          normalize: [
            { user: 'to', match: '^\\+44', replace: '0' },
            { header: 'X-Internal', action: 'remove' },
            { header: 'X-Carrier-Account', action: 'set', value: 'acme-7' },
          ],
          optionTags: ['100rel'],
        },
      ),
    );
    const out = legBRequest(set, {
      zone: 'public',
      trunk: trunk(),
      user: normalizeUser(set.zones.get('public')?.rules ?? [], 'ruri', '00442079460000'),
      fromUser: '07700900123',
      fields: fields(
        ['Via', 'SIP/2.0/UDP 127.0.0.21'],
        ['Subject', 'my secret call'],
        ['X-Internal', 'x'],
        ['P-Asserted-Identity', '<sip:a@127.0.0.21>'],
        ['Require', '100rel'],
      ),
      supported: ['100rel', 'timer'],
    });
    expect(out.ruriUser).toBe('+442079460000');
    expect(out.toUser).toBe('02079460000');
    expect(out.fromUser).toBe('+447700900123');
    expect(out.headers).toEqual([
      ['Supported', '100rel'],
      ['Subject', 'my *** call'],
      ['X-Zone', 'public'],
      ['X-Carrier-Account', 'acme-7'],
    ]);
    expect(out.strippedTags).toEqual(['timer']);
  });

  it('leaves the leg’s own Supported alone when neither the trunk nor its zone lists option tags', () => {
    const set = compileRuleSet(config());
    const out = legBRequest(set, {
      zone: 'public',
      trunk: trunk(),
      user: '1',
      fromUser: undefined,
      fields: [],
      supported: ['100rel'],
    });
    expect(out.headers).toEqual([]);
    // The trunk's zone's list applies when the trunk has none.
    const zoned = compileRuleSet({
      ...config(),
      zones: [zone('public'), zone('core', { optionTags: [] })],
    });
    const z = legBRequest(zoned, {
      ...{
        zone: 'public',
        trunk: trunk(),
        user: '1',
        fromUser: undefined,
        fields: [],
        supported: ['100rel'],
      },
    });
    expect(z.headers).toEqual([['Supported', '']]);
  });
});

describe('the reload plan', () => {
  const running = [zone('public'), zone('core')];

  it('accepts new rules and lists zone settings that only a restart applies', () => {
    expect(
      reloadPlan(running, config({ normalize: E164, allowHeaders: [], optionTags: [] })),
    ).toEqual({
      restartNeeded: [],
    });
    const moved = reloadPlan(running, {
      ...config(),
      zones: [zone('public', { limits: { maxCalls: 3 } }), zone('core')],
    });
    expect(moved.restartNeeded).toEqual(['sbc.zones[0] (public)']);
  });

  it('refuses adding or removing a zone', () => {
    expect(() => reloadPlan(running, { ...config(), zones: [zone('public')] })).toThrow(
      'sbc.zones: zone core is missing: removing a zone needs a restart',
    );
    expect(() => reloadPlan(running, { ...config(), zones: [...running, zone('edge')] })).toThrow(
      'sbc.zones[2]: zone edge is not running: adding a zone needs a restart',
    );
  });
});

describe('patterns cannot stall the SBC', () => {
  it('matches a catastrophic pattern in linear time (the test would hang on a backtracking engine)', () => {
    const re = compilePattern('^(a+)+$', 'where');
    expect(re.test(`${'a'.repeat(50_000)}b`)).toBe(false);
    const alt = compilePattern('^(a|aa)*c', 'where');
    expect(alt.test('a'.repeat(50_000))).toBe(false);
    expect('00442079460000'.replace(compilePattern('^00', 'w'), '+')).toBe('+442079460000');
  });

  it('refuses backreferences, lookaround and patterns over 256 characters, saying why', () => {
    expect(patternProblem('(a)\\1')).toMatch(/backreferences and lookaround need backtracking/);
    expect(patternProblem('^0(?=[1-9])')).toMatch(/backreferences and lookaround/);
    expect(patternProblem('(?<=x)y')).toMatch(/backreferences and lookaround/);
    expect(patternProblem('a'.repeat(257))).toBe('longer than 256 characters');
    expect(patternProblem('^\\+44(\\d{10})$')).toBeUndefined();
    expect(() => compilePattern('[', 'sbc.routes[0].match.user')).toThrow(
      /^sbc\.routes\[0\]\.match\.user: invalid regular expression \/\[\/: /,
    );
  });

  it('has a fallback check for runtimes without the linear engine: nested quantifiers', () => {
    expect(nestedQuantifier('^(a+)+$')).toBe(true);
    expect(nestedQuantifier('(x(a*))*')).toBe(true);
    expect(nestedQuantifier('(\\d+){2,}')).toBe(true);
    expect(nestedQuantifier('^00(\\d+)$')).toBe(false);
    expect(nestedQuantifier('^([+*])?\\d+$')).toBe(false);
    expect(nestedQuantifier('(ab)+')).toBe(false);
    expect(nestedQuantifier('(a+)?')).toBe(false);
  });
});
