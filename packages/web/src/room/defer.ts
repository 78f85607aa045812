/**
 * Work the call page holds back while a newcomer waits for our answer. Someone who joins sends us
 * an offer right after `peer-joined`, and no media flows until our answer is back with them: a
 * tile (three media elements to style), a toast and list re-renders done first kept that answer
 * waiting behind tens of ms of script, style and layout on the main thread (docs/benchmarks.md,
 * "Call"). They run once the answer has gone out instead.
 */
import type { RemotePeer, Room } from '@tfx/sdk';

/** The longest that work waits for the answer (a newcomer whose offer never comes), ms. */
export const ANSWER_WAIT_MAX_MS = 1000;

/** Settles once our first description to this peer has gone out, or after ANSWER_WAIT_MAX_MS. */
export function afterAnswer(room: Room, peer: RemotePeer): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    room.descriptionSent(peer),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ANSWER_WAIT_MAX_MS))),
  ]).finally(() => clearTimeout(timer));
}
