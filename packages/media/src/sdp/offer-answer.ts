/**
 * RFC 3264 offer/answer rules the engines apply to each stream. Pure.
 */
import type { Direction, SdpLine, SdpMedia } from './model.js';

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/**
 * RFC 3264 §6.1: "If a media stream is listed as sendonly in the offer, the answer MUST be marked
 * as recvonly or inactive. If it is listed as recvonly in the offer, the answer MUST be marked as
 * sendonly or inactive. If it is listed as sendrecv, the answer MUST be marked as sendrecv,
 * sendonly, recvonly, or inactive. If it is listed as inactive, the answer MUST be marked as
 * inactive." `wanted` is what the answerer would like (its own hold state).
 */
export function answerDirection(offered: Direction, wanted: Direction = 'sendrecv'): Direction {
  const canSend = offered === 'sendrecv' || offered === 'recvonly';
  const canRecv = offered === 'sendrecv' || offered === 'sendonly';
  const send = canSend && (wanted === 'sendrecv' || wanted === 'sendonly');
  const recv = canRecv && (wanted === 'sendrecv' || wanted === 'recvonly');
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}

/** Whether a party declaring `dir` sends media (so its absence can time out). */
export function sends(dir: Direction): boolean {
  return dir === 'sendrecv' || dir === 'sendonly';
}

/** Whether a party declaring `dir` wants to receive media. */
export function receives(dir: Direction): boolean {
  return dir === 'sendrecv' || dir === 'recvonly';
}

/** Lines with any direction attribute replaced by `dir`. */
export function withDirection(lines: readonly SdpLine[], dir: Direction): SdpLine[] {
  return [
    ...lines.filter((l) => !(l.type === 'a' && DIRECTIONS.has(l.value))),
    { type: 'a', value: dir },
  ];
}

/**
 * RFC 3264 §6: "An offered stream MAY be rejected in the answer by setting the port in the m line
 * to zero." §8.2: the m= line is kept (same position), with at least one format.
 */
export function rejectedMedia(m: SdpMedia): SdpMedia {
  return {
    media: m.media,
    port: 0,
    proto: m.proto,
    formats: m.formats.length > 0 ? [m.formats[0]!] : ['0'],
    lines: [],
  };
}
