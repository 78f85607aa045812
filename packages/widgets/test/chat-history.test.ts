/** The chat widgets' shared history (shared/chat.ts): dedupe, time order, the cap, hostile lines. */
import { describe, expect, it } from 'vitest';
import { ChatHistory, isChatLine, type ChatLine } from '../src/shared/chat.js';

const from = { id: 'p1', name: 'Ann' };
const line = (id: string, ts: number): ChatLine => ({ id, from, text: id, ts });

describe('ChatHistory', () => {
  it('keeps each id once, in time order with ties by id, and returns only the new lines', () => {
    const h = new ChatHistory<ChatLine>(10);
    expect(h.add([line('b', 2), line('a', 1)]).map((l) => l.id)).toEqual(['b', 'a']);
    expect(h.add([line('a', 1), line('c', 2)]).map((l) => l.id)).toEqual(['c']);
    expect(h.add([line('a', 1)])).toEqual([]);
    expect(h.lines.map((l) => l.id)).toEqual(['a', 'b', 'c']);
  });

  it('drops the oldest past the limit, tells of each, and accepts a dropped id again', () => {
    const dropped: string[] = [];
    const h = new ChatHistory<ChatLine>(2, (l) => dropped.push(l.id));
    h.add([line('a', 1), line('b', 2), line('c', 3)]);
    expect(h.lines.map((l) => l.id)).toEqual(['b', 'c']);
    expect(dropped).toEqual(['a']);
    h.add([line('a', 4)]);
    expect(h.lines.map((l) => l.id)).toEqual(['c', 'a']);
  });
});

describe('isChatLine (state from another peer)', () => {
  it('accepts a well-formed line', () => {
    expect(isChatLine(line('x', 1), 10)).toBe(true);
  });
  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['no sender', { id: 'x', text: 't', ts: 1 }],
    ['a sender without a name', { id: 'x', text: 't', ts: 1, from: { id: 'p' } }],
    ['an id over 128 characters', { ...line('x', 1), id: 'i'.repeat(129) }],
    ['a text over the limit', { ...line('x', 1), text: 't'.repeat(11) }],
    ['a time that is not a number', { ...line('x', 1), ts: '1' }],
  ])('refuses %s', (_, v) => {
    expect(isChatLine(v, 10)).toBe(false);
  });
});
