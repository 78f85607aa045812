/**
 * Signalling rules without zod (also exported as `@tfx/protocol/core`, which the browser SDK and
 * the web app import so that zod stays out of the call page): the version rule, the limits that
 * are part of the contract, the room name rule and the socket.io path. The zod schemas in
 * `schemas.ts` are built on these.
 */

// --- version ---------------------------------------------------------------------------------

/** The signalling protocol this package describes. Bumped on any change a peer could notice. */
export const PROTOCOL_VERSION = 1;
/**
 * Oldest client protocol a server of this version still serves. A server accepts a client whose
 * `auth.protocol` is in `[MIN_COMPATIBLE_PROTOCOL_VERSION, PROTOCOL_VERSION]`, and a change must
 * keep version N-1 clients working, so a rolling upgrade across adjacent versions never breaks a call.
 * Anything else gets a connect error with `data.code === 'version-mismatch'` (the page should reload).
 */
export const MIN_COMPATIBLE_PROTOCOL_VERSION = 1;

export function isCompatibleProtocol(version: unknown): boolean {
  return (
    typeof version === 'number' &&
    Number.isInteger(version) &&
    version >= MIN_COMPATIBLE_PROTOCOL_VERSION &&
    version <= PROTOCOL_VERSION
  );
}

// --- limits that are part of the contract ----------------------------------------------------

export const LIMITS = {
  /** Display names: 1–64 characters after trimming. */
  nameMax: 64,
  /** Room passwords: 1–128 characters. */
  passwordMax: 128,
  /** Tokens (resume, moderator) are at most this long. */
  tokenMax: 128,
  /** Peer ids are at most this long. */
  peerIdMax: 64,
  /** An SDP blob in an offer or answer. */
  sdpMax: 131_072,
  /** One ICE candidate line. */
  candidateMax: 2048,
  /** Widget ids a peer reports open in its state (ids as in the widget manifest, ≤ 64 chars). */
  openWidgetsMax: 32,
  /** Nesting depth of an application message's `data`. */
  messageDepthMax: 32,
  /** Messages held for a peer that is away within its resume grace period. */
  resumeBufferMessages: 64,
  /** Bytes (JSON length) held for a peer that is away within its resume grace period. */
  resumeBufferBytes: 262_144,
} as const;

// --- rooms -----------------------------------------------------------------------------------

/** A room name after lowercasing: 3–64 characters of a–z, 0–9 and "-", not starting with "-". */
export const ROOM_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{2,63}$/;

/** Lowercases a room name and checks it; returns undefined when it is not a valid room name. */
export function normalizeRoomName(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 64) return undefined;
  const name = raw.toLowerCase();
  return ROOM_NAME_PATTERN.test(name) ? name : undefined;
}

// --- transport ---------------------------------------------------------------------------------

/** The socket.io path on the platform's HTTPS server. */
export const SIGNALLING_PATH = '/socket.io';
