import { describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import {
  compileRoutes,
  compileRules,
  normalizeUser,
  relayedStatus,
  selectTrunks,
  sipStatusOf,
} from '../src/index.js';

const trunks = [
  { name: 'uk', zone: 'core', uri: 'sip:127.0.0.11:5070' },
  { name: 'any', zone: 'core', uri: 'sip:127.0.0.12:5070' },
  { name: 'phones', zone: 'public', uri: 'sip:127.0.0.21:5060' },
];

describe('SBC routes (pure)', () => {
  const routes = compileRoutes(
    [
      { match: { zone: 'public', user: '^\\+?44' }, to: ['uk', 'any'] },
      { match: { zone: 'public' }, to: ['any'] },
      { match: { zone: 'core' }, to: ['phones'] },
    ],
    trunks,
  );

  it('picks the first route whose zone and user pattern match, with its trunks in order', () => {
    expect(selectTrunks(routes, 'public', '+4420').map((t) => t.name)).toEqual(['uk', 'any']);
    expect(selectTrunks(routes, 'public', '3312').map((t) => t.name)).toEqual(['any']);
    expect(selectTrunks(routes, 'core', undefined).map((t) => t.name)).toEqual(['phones']);
  });

  it('gives no trunk for a zone without a route', () => {
    expect(selectTrunks(routes, 'dmz', '1')).toEqual([]);
  });

  it('names the route and the trunk or pattern that is wrong', () => {
    expect(() => compileRoutes([{ match: { zone: 'public' }, to: ['nope'] }], trunks)).toThrow(
      'sbc.routes[0].to: no trunk named nope',
    );
    expect(() =>
      compileRoutes([{ match: { zone: 'public', user: '(' }, to: ['any'] }], trunks),
    ).toThrow(/sbc\.routes\[0\]\.match\.user/);
  });
});

describe('statuses relayed between legs', () => {
  it("keeps the far side's contacts and challenges on its side (3xx → 480, 401/407 → 403)", () => {
    expect([302, 401, 407, 486, 503, 603, 180, 700].map(relayedStatus)).toEqual([
      480, 403, 403, 486, 503, 603, 500, 500,
    ]);
  });

  it('maps engine errors to the SIP status of the error catalogue', () => {
    expect(sipStatusOf(new TfxError('media-ports-exhausted', 'x'))).toBe(503);
    expect(sipStatusOf(new TfxError('media-not-acceptable', 'x'))).toBe(488);
    expect(sipStatusOf(new TfxError('conflict', 'x'))).toBe(500);
    expect(sipStatusOf(new Error('x'))).toBe(500);
  });
});

describe('normalization rules (pure)', () => {
  it('rewrites the Request-URI user 00 → + and national → international, in order', () => {
    const rules = compileRules(
      [
        { user: 'ruri', match: '^00', replace: '+' },
        { user: 'ruri', match: '^0([1-9])', replace: '+44$1' },
        { user: 'from', match: '^(\\d{4})$', replace: '+4420$1' },
      ],
      'sbc.zones.public',
    );
    expect(normalizeUser(rules, 'ruri', '00442071234567')).toBe('+442071234567');
    expect(normalizeUser(rules, 'ruri', '02071234567')).toBe('+442071234567');
    expect(normalizeUser(rules, 'ruri', '+15551234')).toBe('+15551234');
    expect(normalizeUser(rules, 'from', '1234')).toBe('+44201234');
    expect(normalizeUser(rules, 'ruri', undefined)).toBeUndefined();
  });

  it('names the rule whose pattern is not valid', () => {
    expect(() =>
      compileRules([{ user: 'ruri', match: '([', replace: '' }], 'sbc.trunks.carrier'),
    ).toThrow(/^sbc\.trunks\.carrier\.normalize\[0\]\.match:/);
  });
});
