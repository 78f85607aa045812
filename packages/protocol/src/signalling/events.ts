/**
 * Signalling wire contract, part 2: the typed socket.io event maps (socket.io's
 * `Server<ClientToServerEvents, ServerToClientEvents>` / `Socket<ServerToClientEvents,
 * ClientToServerEvents>` generics), the handshake `auth`, the ack shape and the schema of every
 * client event. See docs/signalling.md for the lifecycle.
 *
 * Every client event is `(payload, ack?)`. The ack, when the client passes one, gets `Ack<T>`:
 * `{ ok: true, ...T }` or `{ ok: false, error: { code, message } }` with a code from the error
 * catalogue. A failed event sent without an ack is reported with `event-error` instead.
 */
import type { z } from 'zod';
import type { ErrorBody, ErrorCode } from '../errors.js';
import {
  joinRequestSchema,
  kickRequestSchema,
  leaveRequestSchema,
  lockRequestSchema,
  messageRequestSchema,
  muteAllRequestSchema,
  presenceRequestSchema,
  signalRequestSchema,
  updateRequestSchema,
  type JoinRequest,
  type JoinResult,
  type KickRequest,
  type Kicked,
  type LeaveRequest,
  type LockRequest,
  type MessageDelivery,
  type MessageRequest,
  type MuteAllRequest,
  type MutedByModerator,
  type PeerId,
  type PeerInfo,
  type PeerLeft,
  type PresenceRequest,
  type PresenceResult,
  type RoomLocked,
  type ServerNotice,
  type SignalDelivery,
  type SignalRequest,
  type UpdateRequest,
} from './schemas.js';
import {
  admitRequestSchema,
  denyRequestSchema,
  lobbyRequestSchema,
  type AdmitRequest,
  type DenyRequest,
  type LobbyDenied,
  type LobbyRequest,
  type LobbyState,
} from './lobby.js';

/** Handshake `auth` of every connection. */
export interface SocketAuth {
  /** `PROTOCOL_VERSION` of the client. */
  protocol: number;
  /** Present to resume a peer after a reconnect (single use; `resumed` brings the next one). */
  resumeToken?: string;
}

/** `err.data` of a `connect_error` refused by the server (version mismatch, resume, limits). */
export interface ConnectErrorData {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type AckFn<T extends object = object> = (result: Ack<T>) => void;

export interface ClientToServerEvents {
  join: (req: JoinRequest, ack: AckFn<JoinResult>) => void;
  leave: (req: LeaveRequest, ack?: AckFn) => void;
  update: (req: UpdateRequest, ack?: AckFn<{ peer: PeerInfo }>) => void;
  signal: (req: SignalRequest, ack?: AckFn) => void;
  message: (req: MessageRequest, ack?: AckFn) => void;
  presence: (req: PresenceRequest, ack: AckFn<PresenceResult>) => void;
  kick: (req: KickRequest, ack?: AckFn) => void;
  lock: (req: LockRequest, ack?: AckFn<{ locked: boolean }>) => void;
  'mute-all': (req: MuteAllRequest, ack?: AckFn) => void;
  lobby: (req: LobbyRequest, ack?: AckFn<{ enabled: boolean }>) => void;
  admit: (req: AdmitRequest, ack?: AckFn) => void;
  deny: (req: DenyRequest, ack?: AckFn) => void;
}

export type ClientEventName = keyof ClientToServerEvents;

/** A failed event that came without an ack (a relay to a peer that is gone, a flood, …). */
export interface EventError {
  readonly event: string;
  readonly error: ErrorBody;
  /** For relays: the addressed peer. */
  readonly to?: PeerId;
}

export interface ServerToClientEvents {
  'peer-joined': (peer: PeerInfo) => void;
  'peer-left': (left: PeerLeft) => void;
  'peer-updated': (peer: PeerInfo) => void;
  signal: (signal: SignalDelivery) => void;
  message: (message: MessageDelivery) => void;
  /** After a successful resume (handshake `auth.resumeToken`): the room as it is now. */
  resumed: (result: JoinResult) => void;
  'muted-by-moderator': (req: MutedByModerator) => void;
  /** This peer was removed; the server disconnects it right after. */
  kicked: (kicked: Kicked) => void;
  'room-locked': (state: RoomLocked) => void;
  /** To moderators: the lobby and its queue, on every change. */
  'lobby-state': (state: LobbyState) => void;
  /** To a joiner waiting in the lobby: a moderator admitted it; the room, as a join ack. */
  admitted: (result: JoinResult) => void;
  /** To a joiner waiting in the lobby: a moderator turned it away. */
  denied: (denied: LobbyDenied) => void;
  'server-notice': (notice: ServerNotice) => void;
  'event-error': (error: EventError) => void;
}

/** The schema of every client event's payload; the server validates with these before any logic. */
export const CLIENT_EVENT_SCHEMAS = {
  join: joinRequestSchema,
  leave: leaveRequestSchema,
  update: updateRequestSchema,
  signal: signalRequestSchema,
  message: messageRequestSchema,
  presence: presenceRequestSchema,
  kick: kickRequestSchema,
  lock: lockRequestSchema,
  'mute-all': muteAllRequestSchema,
  lobby: lobbyRequestSchema,
  admit: admitRequestSchema,
  deny: denyRequestSchema,
} as const satisfies Record<ClientEventName, z.ZodType>;

export const CLIENT_EVENT_NAMES = Object.keys(CLIENT_EVENT_SCHEMAS) as ClientEventName[];

export function isClientEventName(name: unknown): name is ClientEventName {
  return typeof name === 'string' && Object.hasOwn(CLIENT_EVENT_SCHEMAS, name);
}

/** The parsed payload of each client event, as the server's handlers receive it. */
export type ParsedClientEvent<E extends ClientEventName> = z.output<
  (typeof CLIENT_EVENT_SCHEMAS)[E]
>;
