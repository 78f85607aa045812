/**
 * The one error catalogue of TFX. Every package raises and reports errors by these codes;
 * REST answers carry `{ error: { code, message } }` with the HTTP status listed here, socket.io
 * acks carry `{ ok: false, error: { code, message } }`, and SIP failures map to the SIP status.
 *
 * Codes are stable: never rename or reuse one. `docs/errors.md` is checked against this file by
 * `test/errors-catalogue.test.ts`; add a row there when you add a code here.
 */
export interface ErrorSpec {
  /** HTTP status used when this error is the answer to a REST request. */
  readonly http: number;
  /** SIP status when this error ends a SIP transaction, if it can. */
  readonly sip?: number;
  /** Whether the same request may succeed if simply retried later. */
  readonly retryable: boolean;
  /** One sentence for operators and developers; also the default message. */
  readonly summary: string;
}

export const ERROR_CATALOGUE = {
  // --- general / foundation ---------------------------------------------------------------
  'bad-request': {
    http: 400,
    sip: 400,
    retryable: false,
    summary: 'The request is malformed or fails its schema.',
  },
  unauthorized: {
    http: 401,
    retryable: false,
    summary: 'Credentials are missing or wrong (admin token, moderator token).',
  },
  forbidden: {
    http: 403,
    sip: 403,
    retryable: false,
    summary: 'The caller is known but not allowed to do this.',
  },
  'not-found': { http: 404, sip: 404, retryable: false, summary: 'No such resource.' },
  conflict: {
    http: 409,
    retryable: false,
    summary: 'The resource already exists or is in a conflicting state.',
  },
  'payload-too-large': {
    http: 413,
    sip: 513,
    retryable: false,
    summary: 'The message or body is larger than the configured limit.',
  },
  'rate-limited': {
    http: 429,
    retryable: true,
    summary: 'Too many requests from this source; slow down.',
  },
  internal: {
    http: 500,
    sip: 500,
    retryable: true,
    summary: 'An unexpected server error; it was logged.',
  },
  unavailable: {
    http: 503,
    sip: 503,
    retryable: true,
    summary: 'A dependency (such as Redis) is unavailable; retry shortly.',
  },
  'shutting-down': {
    http: 503,
    sip: 503,
    retryable: true,
    summary: 'This process is draining for shutdown; reconnect elsewhere.',
  },
  'config-invalid': {
    http: 500,
    retryable: false,
    summary: 'The configuration failed validation; the message names the key and source.',
  },
  'config-unknown-key': {
    http: 500,
    retryable: false,
    summary: 'The configuration has a key the schema does not know.',
  },
  'insecure-http-refused': {
    http: 500,
    retryable: false,
    summary: 'Plain HTTP was asked for on a non-loopback host without a trusted proxy.',
  },
  'listen-failed': {
    http: 500,
    retryable: false,
    summary: 'A listener could not bind its address (in use or not permitted).',
  },
  'reload-refused': {
    http: 422,
    retryable: false,
    summary:
      'A reload of the configuration was refused; the running one keeps serving. The message names the key.',
  },

  // --- signalling -------------------------------------------------------------------------
  'version-mismatch': {
    http: 426,
    retryable: false,
    summary: 'The client speaks an incompatible protocol version; reload the page.',
  },
  'invalid-room-name': {
    http: 400,
    retryable: false,
    summary: 'Room names are 3–64 characters: a–z, 0–9 and "-", not starting with "-".',
  },
  'room-full': { http: 409, retryable: true, summary: 'The room has reached its capacity.' },
  'room-locked': { http: 423, retryable: true, summary: 'A moderator locked the room.' },
  'room-expired': {
    http: 410,
    retryable: false,
    summary: 'The room was created with an expiry that has passed.',
  },
  'wrong-password': {
    http: 401,
    retryable: false,
    summary: 'The room has a password and this one is missing or wrong.',
  },
  'not-in-room': {
    http: 409,
    retryable: false,
    summary: 'The action needs the peer to have joined a room.',
  },
  'already-joined': {
    http: 409,
    retryable: false,
    summary: 'This connection has already joined a room.',
  },
  'peer-unavailable': {
    http: 404,
    retryable: true,
    summary: 'The addressed peer is not in the room or its buffer is full.',
  },
  'invalid-resume-token': {
    http: 401,
    retryable: false,
    summary: 'The resume token is unknown, used, expired or bound elsewhere.',
  },
  'not-moderator': {
    http: 403,
    retryable: false,
    summary: 'Only a moderator (holder of the moderator token) may do this.',
  },
  'waiting-in-lobby': {
    http: 202,
    retryable: true,
    summary: 'The room has a lobby; wait until a moderator admits you.',
  },
  'lobby-denied': {
    http: 403,
    retryable: false,
    summary: 'A moderator did not let you into the room.',
  },
  kicked: { http: 403, retryable: false, summary: 'A moderator removed this peer from the room.' },
  'invalid-event': {
    http: 400,
    retryable: false,
    summary: 'A socket event failed its schema or is unknown; it was dropped and counted.',
  },
  'origin-not-allowed': {
    http: 403,
    retryable: false,
    summary: 'The page origin is not in server.allowedOrigins.',
  },

  // --- SIP ----------------------------------------------------------------------------------
  'sip-parse-error': {
    http: 400,
    sip: 400,
    retryable: false,
    summary: 'A SIP message could not be parsed.',
  },
  'sip-version-unsupported': {
    http: 400,
    sip: 505,
    retryable: false,
    summary: 'The SIP version is not SIP/2.0.',
  },
  'sip-too-large': {
    http: 413,
    sip: 513,
    retryable: false,
    summary: 'The SIP message exceeds the size limit.',
  },
  'sip-loop-detected': {
    http: 400,
    sip: 482,
    retryable: false,
    summary: 'The request looped back through this proxy.',
  },
  'sip-too-many-hops': {
    http: 400,
    sip: 483,
    retryable: false,
    summary: 'Max-Forwards reached zero.',
  },
  'sip-auth-failed': {
    http: 401,
    sip: 403,
    retryable: false,
    summary: 'SIP digest authentication failed.',
  },
  'sip-transport-error': {
    http: 502,
    sip: 503,
    retryable: true,
    summary: 'The SIP message could not be sent on its transport.',
  },
  'sip-transaction-timeout': {
    http: 504,
    sip: 408,
    retryable: true,
    summary: 'A SIP transaction timed out (timer B, F or H).',
  },
  'sip-banned': {
    http: 403,
    sip: 403,
    retryable: false,
    summary: 'The source is banned after repeated failures.',
  },

  // --- media --------------------------------------------------------------------------------
  'media-ports-exhausted': {
    http: 503,
    sip: 503,
    retryable: true,
    summary: 'No free media port is left in the configured range (media.ports).',
  },
  'media-sdp-invalid': {
    http: 400,
    sip: 400,
    retryable: false,
    summary: 'An SDP body could not be parsed or breaks a limit (size, m-lines).',
  },
  'media-not-acceptable': {
    http: 400,
    sip: 488,
    retryable: false,
    summary: 'No media stream of the offer can be accepted (transport, codecs or crypto).',
  },
  'media-session-not-found': {
    http: 404,
    sip: 481,
    retryable: false,
    summary: 'The media engine holds no call (or party) with that Call-ID and tag.',
  },
  'media-engine-unavailable': {
    http: 503,
    sip: 503,
    retryable: true,
    summary: 'No media engine instance is reachable (every rtpengine is down or closed).',
  },
  'media-engine-timeout': {
    http: 504,
    sip: 503,
    retryable: true,
    summary: 'The media engine did not answer a command in time.',
  },
  'media-worker-failed': {
    http: 500,
    sip: 500,
    retryable: true,
    summary: 'A media worker died; its calls were ended and counted.',
  },
  'media-unsupported': {
    http: 501,
    sip: 488,
    retryable: false,
    summary: 'This media engine lacks the asked capability (see its capabilities).',
  },

  // --- widgets ------------------------------------------------------------------------------
  'widget-not-available': {
    http: 404,
    retryable: false,
    summary: 'The widget id is not in the manifest.',
  },
  'widget-message-too-large': {
    http: 413,
    retryable: false,
    summary: 'A widget message exceeds widgets.maxMessageBytes.',
  },
  'widget-origin-blocked': {
    http: 403,
    retryable: false,
    summary: 'The widget tried to load from an origin its manifest does not list.',
  },
  'manifest-invalid': {
    http: 500,
    retryable: false,
    summary: 'widgetmanifest.json failed validation; the message names the entry and field.',
  },

  // --- language: translation and captions --------------------------------------------------
  'language-off': {
    http: 403,
    retryable: false,
    summary:
      'Translation or captions are not configured on this server, or this room has not opted in.',
  },
  'language-unsupported': {
    http: 400,
    retryable: false,
    summary: 'The translation provider has no engine for this language pair.',
  },
  'translation-unavailable': {
    http: 502,
    retryable: true,
    summary:
      'The translation provider failed, timed out or answered garbage; the original text stands.',
  },
  'captions-unavailable': {
    http: 502,
    retryable: true,
    summary:
      'The speech-to-text provider failed, timed out or answered garbage; the segment is dropped.',
  },
  'audio-refused': {
    http: 415,
    retryable: false,
    summary:
      'The audio segment is not 16-bit PCM WAV of 8–48 kHz, is empty or silent, or the provider refused it.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** The body of every error a client sees, on REST and in socket.io acks. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** Extra machine-readable detail (the offending key, a retry-after in ms, …). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

/** An error with a catalogue code. Throw it anywhere; the edges turn it into the right answer. */
export class TfxError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message ?? ERROR_CATALOGUE[code].summary, options);
    this.name = 'TfxError';
    this.code = code;
    this.details = details;
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }

  toBody(): ErrorBody {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}
