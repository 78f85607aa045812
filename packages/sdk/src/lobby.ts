/**
 * Waiting in a room's lobby: after a join answered `waiting-in-lobby`, the same connection gets
 * `admitted` (the join result) or `denied` from the server, or a failed join as `event-error`.
 */
import type { EventError, JoinResult } from '@tfx/protocol';
import { TfxSdkError } from './errors.js';
import type { TfxSocket } from './socket.js';

/** Resolves when a moderator admits us; rejects on `denied`, a failed join or a disconnect. */
export function waitForAdmission(socket: TfxSocket): Promise<JoinResult> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      socket.off('admitted', onAdmitted);
      socket.off('denied', onDenied);
      socket.off('event-error', onError);
      socket.off('disconnect', onGone);
    };
    const onAdmitted = (r: JoinResult): void => {
      done();
      resolve(r);
    };
    const onDenied = (): void => {
      done();
      reject(new TfxSdkError('lobby-denied'));
    };
    const onError = (e: EventError): void => {
      if (e.event !== 'join') return;
      done();
      reject(new TfxSdkError(e.error.code, e.error.message));
    };
    const onGone = (): void => {
      done();
      reject(new TfxSdkError('signalling-lost', 'disconnected while waiting in the lobby'));
    };
    socket.on('admitted', onAdmitted);
    socket.on('denied', onDenied);
    socket.on('event-error', onError);
    socket.on('disconnect', onGone);
  });
}
