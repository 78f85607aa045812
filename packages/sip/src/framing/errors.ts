import { TfxError } from '@tfx/protocol';

/** Why a byte stream could not be framed. Every reason is fatal for its connection. */
export type FramingErrorReason =
  /** No Content-Length header: on a stream the end of the body cannot be found. */
  | 'missing-content-length'
  /** Content-Length negative, non-numeric, too long, or repeated with different values. */
  | 'bad-content-length'
  /** The header section did not end within `maxHeaderBytes`. */
  | 'header-too-large'
  /** Header section plus announced body exceed `maxMessageBytes`. */
  | 'message-too-large'
  /** More than `maxBufferBytes` held while waiting for the rest of a message. */
  | 'buffer-overflow';

const TOO_LARGE: ReadonlySet<FramingErrorReason> = new Set([
  'header-too-large',
  'message-too-large',
  'buffer-overflow',
]);

/**
 * A fatal stream-framing error. Its code is `sip-too-large` for size limits and
 * `sip-parse-error` otherwise; `reason` says exactly what went wrong.
 */
export class FramingError extends TfxError {
  readonly reason: FramingErrorReason;
  readonly fatal = true;

  constructor(reason: FramingErrorReason, message: string) {
    super(TOO_LARGE.has(reason) ? 'sip-too-large' : 'sip-parse-error', message, { reason });
    this.name = 'FramingError';
    this.reason = reason;
  }
}
