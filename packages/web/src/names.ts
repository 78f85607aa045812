/** Room names: generated (two words and 8 base-36 characters, ≥ 41 bits of randomness) or typed. */
import { normalizeRoomName } from '@tfx/protocol/core';

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'clever',
  'crisp',
  'eager',
  'gentle',
  'golden',
  'happy',
  'lively',
  'lucky',
  'mellow',
  'misty',
  'noble',
  'quiet',
  'rapid',
  'silver',
  'sunny',
  'swift',
  'witty',
];
const NOUNS = [
  'river',
  'falcon',
  'meadow',
  'harbor',
  'comet',
  'forest',
  'lagoon',
  'canyon',
  'island',
  'summit',
  'breeze',
  'ember',
  'glacier',
  'orchid',
  'pebble',
  'prairie',
  'willow',
  'tiger',
  'otter',
  'maple',
];

function pick<T>(list: readonly T[], n: number): T {
  return list[n % list.length] as T;
}

export function generateRoomName(
  random: (n: number) => Uint32Array = (n) => crypto.getRandomValues(new Uint32Array(n)),
): string {
  const r = random(4);
  const tail = (((r[2] ?? 0) * 2 ** 21 + ((r[3] ?? 0) >>> 11)) % 36 ** 8)
    .toString(36)
    .padStart(8, '0');
  return `${pick(ADJECTIVES, r[0] ?? 0)}-${pick(NOUNS, r[1] ?? 0)}-${tail}`;
}

/** The room name a person typed (spaces become dashes), or undefined when it cannot be one. */
export function roomFromInput(text: string): string | undefined {
  const cleaned = text
    .trim()
    .toLowerCase()
    .replace(/^.*\/r\//, '')
    .replace(/[\s_]+/g, '-')
    .replace(/[^a-z0-9-]/g, '');
  return normalizeRoomName(cleaned);
}

export function roomUrl(room: string, origin = location.origin): string {
  return `${origin}/r/${encodeURIComponent(room)}`;
}

/** Hand-over of a password from the home page to the room page (never in the URL). */
export const passwordKey = (room: string): string => `tfx:pw:${room}`;
