/** Pure parts of the console module: audit lines and pages, counter deltas, Redis INFO, TURN URLs. */
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '@tfx/protocol';
import {
  AUDITED,
  actorOf,
  auditId,
  deltas,
  pageOf,
  parseAuditLines,
  parseRedisInfo,
  redactRedisUrl,
} from '../../src/console/index.js';
import { parseTurnUrl } from '../../src/turn/index.js';

const entry = (id: string, action = 'session.close'): AuditEntry => ({
  id,
  at: '2030-01-01T00:00:00.000Z',
  actor: 'admin token 01234567',
  via: 'api',
  from: '127.0.0.1',
  action,
  method: 'DELETE',
  path: '/api/v1/sessions/x',
  status: 204,
  node: 'local',
});

describe('audit log', () => {
  it('ids sort by time', () => {
    const a = auditId(1_000);
    const b = auditId(2_000);
    const c = auditId(1_000_000_000_000);
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });

  it('skips a torn or hostile line instead of failing the whole log', () => {
    const text = [
      JSON.stringify(entry('1')),
      '{"id":"2","action":',
      'null',
      '[]',
      '"str"',
      JSON.stringify({ id: 3 }),
      JSON.stringify(entry('4')),
      '',
    ].join('\n');
    expect(parseAuditLines(text).map((e) => e.id)).toEqual(['1', '4']);
  });

  it('pages newest first by `before`, and filters by action', () => {
    const all = ['5', '4', '3', '2', '1'].map((id) =>
      entry(id, id === '3' ? 'participant.kick' : 'session.close'),
    );
    const p1 = pageOf(all, { limit: 2 });
    expect(p1.items.map((e) => e.id)).toEqual(['5', '4']);
    expect(p1.nextBefore).toBe('4');
    const p2 = pageOf(all, { limit: 2, before: p1.nextBefore });
    expect(p2.items.map((e) => e.id)).toEqual(['3', '2']);
    const p3 = pageOf(all, { limit: 2, before: p2.nextBefore });
    expect(p3.items.map((e) => e.id)).toEqual(['1']);
    expect(p3.nextBefore).toBeUndefined();
    expect(pageOf(all, { limit: 10, action: 'participant.kick' }).items.map((e) => e.id)).toEqual([
      '3',
    ]);
  });

  it('names the admin by a fingerprint of the token, never the token', () => {
    const who = actorOf('secret-admin-token-123456');
    expect(who).toMatch(/^admin token [0-9a-f]{8}$/);
    expect(who).not.toContain('secret');
    expect(actorOf('secret-admin-token-123456')).toBe(who);
  });

  it('covers the admin actions the issue names: end room, kick, lift ban, user and port changes', () => {
    const actions = Object.values(AUDITED).map((a) => a.action);
    for (const a of [
      'session.close',
      'participant.kick',
      'sip.ban.lift',
      'sip.user.add',
      'sip.user.password',
      'sip.user.delete',
      'sip.settings.change',
      'sbc.blacklist.add',
      'sbc.blacklist.lift',
    ])
      expect(actions).toContain(a);
  });
});

describe('samples', () => {
  it('counter deltas: increases only, a reset counts from zero, unchanged keys left out', () => {
    const before = new Map([
      ['INVITE', 10],
      ['BYE', 5],
      ['OPTIONS', 7],
    ]);
    const after = new Map([
      ['INVITE', 13],
      ['BYE', 2],
      ['OPTIONS', 7],
      ['REGISTER', 4],
    ]);
    expect(deltas(before, after)).toEqual({ INVITE: 3, BYE: 2, REGISTER: 4 });
  });

  it('Redis: the URL shown without its password; INFO fields parsed', () => {
    expect(redactRedisUrl('redis://user:hunter2@redis.example:6380/2')).toBe(
      'redis://user@redis.example:6380/2',
    );
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url')).toBe('redis://(unparsable)');
    expect(
      parseRedisInfo(
        '# Server\r\nredis_version:7.0.15\r\nused_memory:123\r\n\r\n# x\r\nbad line\r\n',
      ),
    ).toEqual({ redis_version: '7.0.15', used_memory: '123' });
  });
});

describe('TURN URLs (RFC 7065)', () => {
  it.each([
    [
      'turn:127.0.0.1:3478?transport=udp',
      { scheme: 'turn', host: '127.0.0.1', port: 3478, transport: 'udp' },
    ],
    [
      'turn:turn.example.com',
      { scheme: 'turn', host: 'turn.example.com', port: 3478, transport: 'udp' },
    ],
    [
      'turn:turn.example.com:80?transport=tcp',
      { scheme: 'turn', host: 'turn.example.com', port: 80, transport: 'tcp' },
    ],
    [
      'turns:turn.example.com',
      { scheme: 'turns', host: 'turn.example.com', port: 5349, transport: 'tls' },
    ],
    ['turn:[::1]:3479', { scheme: 'turn', host: '::1', port: 3479, transport: 'udp' }],
    [
      'stun:stun.example.com:19302',
      { scheme: 'stun', host: 'stun.example.com', port: 19302, transport: 'udp' },
    ],
  ])('%s', (url, want) => {
    expect(parseTurnUrl(url)).toEqual(want);
  });

  it.each([
    'http://x',
    'turn:',
    'turn:host:0',
    'turn:host:70000',
    'turn:host?transport=sctp',
    'turn:a b',
  ])('refuses %s', (url) => {
    expect(parseTurnUrl(url)).toBeUndefined();
  });
});
