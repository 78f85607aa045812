/**
 * The typed socket.io socket of the signalling connection, in its own file so that the
 * connection (signalling.ts) and the lobby wait (lobby.ts) both use it without importing each
 * other.
 */
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@tfx/protocol';

export type TfxSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
