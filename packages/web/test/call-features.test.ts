import { describe, expect, it } from 'vitest';
import { sparklinePoints } from '../src/room/sparkline.js';
import { gridCells, isRecordingNotice, pickMimeType } from '../src/room/recording.js';
import { embedOriginAllowed, normalizeOrigin, parseCommand } from '../src/embed/commands.js';
import { parseEvent } from '../src/embed/events.js';

describe('sparklinePoints', () => {
  it('scales the largest value to the top and zero to the bottom, spread over the width', () => {
    expect(sparklinePoints([0, 5, 10], 100, 20)).toBe('0,20 50,10 100,0');
  });

  it('spreads a short series over the slots, so it grows from the left', () => {
    expect(sparklinePoints([1, 1], 90, 10, 4)).toBe('0,0 30,0');
  });

  it('keeps a flat zero series on the bottom edge and treats junk as zero', () => {
    expect(sparklinePoints([0, 0], 10, 8)).toBe('0,8 10,8');
    expect(sparklinePoints([Number.NaN, -3, 4], 20, 4)).toBe('0,4 10,4 20,0');
  });

  it('uses a fixed maximum when it is larger than the data', () => {
    expect(sparklinePoints([5], 10, 10, 1, 10)).toBe('0,5');
  });

  it('is empty for no values or an empty box', () => {
    expect(sparklinePoints([], 10, 10)).toBe('');
    expect(sparklinePoints([1], 0, 10)).toBe('');
  });
});

describe('recording helpers', () => {
  it('lays n videos out in ceil(sqrt(n)) columns', () => {
    expect(gridCells(1, 1280, 720)).toEqual([{ x: 0, y: 0, w: 1280, h: 720 }]);
    expect(gridCells(3, 1280, 720).map((c) => [c.x, c.y])).toEqual([
      [0, 0],
      [640, 0],
      [0, 360],
    ]);
    expect(gridCells(0, 10, 10)).toEqual([]);
  });

  it('prefers vp8 + opus webm', () => {
    expect(pickMimeType(() => true)).toBe('video/webm;codecs=vp8,opus');
    expect(pickMimeType((t) => t === 'video/webm')).toBe('video/webm');
    expect(pickMimeType(() => false)).toBeUndefined();
  });

  it('recognises only well-formed recording notices', () => {
    expect(isRecordingNotice({ t: 'recording', on: true })).toBe(true);
    expect(isRecordingNotice({ t: 'recording', on: 'yes' })).toBe(false);
    expect(isRecordingNotice({ t: 'chat', on: true })).toBe(false);
    expect(isRecordingNotice(null)).toBe(false);
  });
});

describe('embed commands (call page side)', () => {
  it('accepts the known commands, with an optional short id', () => {
    expect(parseCommand({ tfx: 'command', command: 'mute' })).toEqual({ command: 'mute' });
    expect(parseCommand({ tfx: 'command', command: 'hangup-all', id: '7' })).toEqual({
      command: 'hangup-all',
      id: '7',
    });
  });

  it('refuses unknown commands, wrong envelopes and odd ids', () => {
    for (const bad of [
      { tfx: 'command', command: 'format-disk' },
      { tfx: 'event', command: 'mute' },
      { command: 'mute' },
      { tfx: 'command', command: 'mute', id: 7 },
      { tfx: 'command', command: 'mute', id: 'x'.repeat(65) },
      ['mute'],
      'mute',
      null,
      { tfx: 'command', command: 'toString' },
      { tfx: 'command', command: '__proto__' },
    ])
      expect(parseCommand(bad)).toBeUndefined();
  });

  it('allows its own origin and listed origins exactly, nothing else', () => {
    const allowed = ['https://shop.example.com', 'http://127.0.0.1:8080'];
    const self = 'https://tfx.example.com';
    expect(embedOriginAllowed('https://tfx.example.com', allowed, self)).toBe(true);
    expect(embedOriginAllowed('https://shop.example.com', allowed, self)).toBe(true);
    expect(embedOriginAllowed('http://127.0.0.1:8080', allowed, self)).toBe(true);
    for (const o of [
      'http://shop.example.com',
      'https://shop.example.com.evil.io',
      'https://evil.io',
      'http://127.0.0.1:8081',
      'null',
      '',
      'javascript:alert(1)',
      'https://shop.example.com/path',
    ])
      expect(embedOriginAllowed(o, allowed, self), o).toBe(false);
  });

  it('normalises origins and refuses non-origins', () => {
    expect(normalizeOrigin('https://a.example')).toBe('https://a.example');
    expect(normalizeOrigin('https://a.example/')).toBe('https://a.example');
    expect(normalizeOrigin('https://a.example/x')).toBeUndefined();
    expect(normalizeOrigin('file:///etc/passwd')).toBeUndefined();
    expect(normalizeOrigin(42)).toBeUndefined();
  });
});

describe('embed events (host side)', () => {
  it('accepts known events with an object payload (default {})', () => {
    expect(parseEvent({ tfx: 'event', event: 'participants', data: { count: 2 } })).toEqual({
      event: 'participants',
      data: { count: 2 },
    });
    expect(parseEvent({ tfx: 'event', event: 'ready' })).toEqual({ event: 'ready', data: {} });
  });

  it('refuses anything else', () => {
    for (const bad of [
      { tfx: 'event', event: 'pwned', data: {} },
      { tfx: 'event', event: 'joined', data: 'x' },
      { tfx: 'event', event: 'joined', data: [1] },
      { tfx: 'command', event: 'joined' },
      'joined',
      undefined,
    ])
      expect(parseEvent(bad)).toBeUndefined();
  });
});
