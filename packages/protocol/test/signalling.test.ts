import { describe, expect, it } from 'vitest';
import {
  CLIENT_EVENT_SCHEMAS,
  LIMITS,
  MIN_COMPATIBLE_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  isClientEventName,
  isCompatibleProtocol,
  isPlainJson,
  joinRequestSchema,
  messageRequestSchema,
  normalizeRoomName,
  signalRequestSchema,
  updateRequestSchema,
} from '../src/index.js';

describe('room names', () => {
  it.each(['abc', 'a-b', '0ab', 'room-42', 'x'.repeat(64), 'MyRoom'])('accepts %s', (name) => {
    expect(normalizeRoomName(name)).toBe(name.toLowerCase());
  });
  it.each(['ab', '-abc', 'a_b', 'a b', 'é-room', 'x'.repeat(65), '', 'abc\n', 'ab/c'])(
    'refuses %j',
    (name) => {
      expect(normalizeRoomName(name)).toBeUndefined();
    },
  );
  it('refuses non-strings', () => {
    expect(normalizeRoomName(42)).toBeUndefined();
    expect(normalizeRoomName(null)).toBeUndefined();
  });
  it('lowercases the room of a join request before checking it', () => {
    expect(joinRequestSchema.parse({ room: 'Team-A', name: 'Ann' }).room).toBe('team-a');
  });
});

describe('protocol version', () => {
  it('accepts every version from the oldest compatible one to the current one', () => {
    for (let v = MIN_COMPATIBLE_PROTOCOL_VERSION; v <= PROTOCOL_VERSION; v++) {
      expect(isCompatibleProtocol(v)).toBe(true);
    }
  });
  it('refuses newer, older, fractional and non-numeric versions', () => {
    for (const v of [
      PROTOCOL_VERSION + 1,
      MIN_COMPATIBLE_PROTOCOL_VERSION - 1,
      1.5,
      '1',
      null,
      undefined,
    ]) {
      expect(isCompatibleProtocol(v)).toBe(false);
    }
  });
});

describe('event schemas refuse hostile payloads', () => {
  const hostile: unknown[] = [
    undefined,
    null,
    42,
    'join',
    [],
    { room: 123, name: 'a' },
    { room: 'abc', name: '' },
    { room: 'abc', name: 'x'.repeat(LIMITS.nameMax + 1) },
    { room: 'abc', name: 'a', password: 'p'.repeat(LIMITS.passwordMax + 1) },
    { room: 'abc', name: 'a', state: { audio: 'yes', video: true } },
    { room: 'a'.repeat(10_000), name: 'a' },
  ];
  it.each(hostile.map((h) => [JSON.stringify(h) ?? 'undefined', h]))('join refuses %s', (_l, h) => {
    expect(joinRequestSchema.safeParse(h).success).toBe(false);
  });

  it('signal refuses an unknown kind, a wrong sdp type and an oversize sdp', () => {
    expect(signalRequestSchema.safeParse({ to: 'p1', kind: 'bye', data: {} }).success).toBe(false);
    expect(
      signalRequestSchema.safeParse({
        to: 'p1',
        kind: 'offer',
        data: { type: 'answer', sdp: 'v=0' },
      }).success,
    ).toBe(false);
    expect(
      signalRequestSchema.safeParse({
        to: 'p1',
        kind: 'offer',
        data: { type: 'offer', sdp: 'x'.repeat(LIMITS.sdpMax + 1) },
      }).success,
    ).toBe(false);
    expect(
      signalRequestSchema.safeParse({ to: '../x', kind: 'candidate', data: null }).success,
    ).toBe(false);
  });

  it('signal accepts offers, answers, candidates and end-of-candidates', () => {
    const ok = [
      { to: 'p1', kind: 'offer', data: { type: 'offer', sdp: 'v=0' } },
      { to: 'p1', kind: 'answer', data: { type: 'answer', sdp: 'v=0' } },
      {
        to: 'p1',
        kind: 'candidate',
        data: {
          candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      },
      { to: 'p1', kind: 'candidate', data: null },
    ];
    for (const s of ok) expect(signalRequestSchema.safeParse(s).success).toBe(true);
  });

  it('a message carries plain JSON only: no binary, no deep nesting, no class instances', () => {
    expect(
      messageRequestSchema.safeParse({ to: 'p1', data: { text: 'hi', n: [1, 2] } }).success,
    ).toBe(true);
    expect(messageRequestSchema.safeParse({ to: 'p1', data: new Uint8Array(4) }).success).toBe(
      false,
    );
    expect(
      messageRequestSchema.safeParse({ to: 'p1', data: { b: Buffer.from('x') } }).success,
    ).toBe(false);
    expect(messageRequestSchema.safeParse({ to: 'p1' }).success).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < LIMITS.messageDepthMax + 5; i++) deep = [deep];
    expect(messageRequestSchema.safeParse({ to: 'p1', data: deep }).success).toBe(false);
    expect(isPlainJson(Number.NaN)).toBe(false);
  });

  it('strips unknown keys so a client one version ahead is still understood', () => {
    const parsed = joinRequestSchema.parse({
      room: 'abc',
      name: 'a',
      future: 1,
      __proto__: { x: 1 },
    });
    expect(Object.keys(parsed).sort()).toEqual(['name', 'room']);
  });

  it('update needs at least one field', () => {
    expect(updateRequestSchema.safeParse({}).success).toBe(false);
    expect(updateRequestSchema.safeParse({ state: { audio: false } }).success).toBe(true);
  });

  it('knows exactly its client events', () => {
    expect(isClientEventName('join')).toBe(true);
    expect(isClientEventName('constructor')).toBe(false);
    expect(isClientEventName('__proto__')).toBe(false);
    expect(Object.keys(CLIENT_EVENT_SCHEMAS).sort()).toEqual(
      [
        'admit',
        'deny',
        'join',
        'kick',
        'leave',
        'lobby',
        'lock',
        'message',
        'mute-all',
        'presence',
        'signal',
        'update',
      ].sort(),
    );
  });
});
