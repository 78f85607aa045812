import { describe, expect, it } from 'vitest';
import { MediaEventHub } from '../src/engine/events.js';

describe('MediaEventHub', () => {
  it('delivers typed events to listeners until they unsubscribe', () => {
    const hub = new MediaEventHub();
    const seen: string[] = [];
    const off = hub.on('dtmf', (e) => seen.push(e.digit));
    hub.emit('dtmf', { callId: 'c', tag: 't', digit: '5', durationMs: 100, volume: 10 });
    off();
    hub.emit('dtmf', { callId: 'c', tag: 't', digit: '6', durationMs: 100, volume: 10 });
    expect(seen).toEqual(['5']);
  });

  it('a listener that throws does not stop the others; its error is reported', () => {
    const errors: unknown[] = [];
    const hub = new MediaEventHub((e) => errors.push(e));
    const seen: number[] = [];
    hub.on('media-timeout', () => {
      throw new Error('boom');
    });
    hub.on('media-timeout', (e) => seen.push(e.idleMs));
    hub.emit('media-timeout', { callId: 'c', tag: 't', idleMs: 5 });
    expect(seen).toEqual([5]);
    expect(errors).toHaveLength(1);
  });
});
