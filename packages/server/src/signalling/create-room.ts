/** `POST /api/v1/rooms`: an API room, named or with a generated name (retried on a clash). */
import { TfxError, normalizeRoomName } from '@tfx/protocol';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { generateRoomName } from './room.js';
import type { CreateRoomRequest, CreatedRoom } from './service.js';

export async function createApiRoom(
  h: { readonly store: Store; readonly log: Logger; readonly roomCapacity: number; now(): number },
  request: CreateRoomRequest,
): Promise<CreatedRoom> {
  const capacity = request.capacity ?? h.roomCapacity;
  for (let attempt = 0; ; attempt++) {
    const name = request.name !== undefined ? normalizeRoomName(request.name) : generateRoomName();
    if (name === undefined) throw new TfxError('invalid-room-name');
    try {
      const { room, moderatorToken } = await h.store.createRoom({
        name,
        password: request.password,
        expiresAt: request.expiresAt,
        capacity,
        now: h.now(),
      });
      h.log.info(
        { roomId: name, expiresAt: room.expiresAt, hasPassword: room.hasPassword },
        'room created',
      );
      return room.expiresAt !== undefined
        ? { room: name, moderatorToken, expiresAt: room.expiresAt }
        : { room: name, moderatorToken };
    } catch (err) {
      if (
        request.name !== undefined ||
        attempt >= 3 ||
        !(err instanceof TfxError) ||
        err.code !== 'conflict'
      )
        throw err;
    }
  }
}
