/**
 * `window.__tfx`: a read-only debug handle for tests and support (documented in docs/sdk.md).
 * It exposes live objects (the SDK client, the room, its peers) and logs of what the UI showed;
 * it is not an API — nothing in the app reads it back.
 */
import type { Quality, Room, TfxClient, RemotePeer } from '@tfx/sdk';

export interface DebugLog {
  /** Every quality change shown in the UI: peer id, quality, time (ms since page load). */
  readonly quality: Array<{ peer: string; quality: Quality; t: number }>;
  /** Peer events seen: joined / left, with the peer id. */
  readonly presence: Array<{ event: 'joined' | 'left'; peer: string; t: number }>;
  /** Screens shown (prejoin, call, room-full, …). */
  readonly screens: string[];
}

export interface TfxDebugHandle {
  readonly client: TfxClient;
  readonly room: Room | null;
  readonly peers: RemotePeer[];
  readonly log: DebugLog;
}

declare global {
  interface Window {
    __tfx?: TfxDebugHandle;
  }
}

export function installDebugHandle(client: TfxClient): DebugLog {
  const log: DebugLog = { quality: [], presence: [], screens: [] };
  const handle: TfxDebugHandle = Object.freeze({
    client,
    get room() {
      return client.room;
    },
    get peers() {
      return client.room ? [...client.room.peers.values()] : [];
    },
    log,
  });
  Object.defineProperty(window, '__tfx', { value: handle, writable: false, configurable: false });
  return log;
}
