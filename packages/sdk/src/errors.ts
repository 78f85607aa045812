/**
 * Errors the SDK reports: a code from the protocol's error catalogue (what the server answered)
 * or one of the SDK's own media/connection codes, plus whether retrying may help.
 */
import { ERROR_CATALOGUE, isErrorCode, type ErrorCode } from '@tfx/protocol/core';

/** Codes the SDK raises itself (not from the server). */
export type SdkErrorCode =
  | 'unsupported-browser'
  | 'permission-denied'
  | 'no-device'
  | 'device-in-use'
  | 'screen-share-failed'
  | 'signalling-failed'
  | 'signalling-lost'
  | 'negotiation-failed'
  | 'closed';

export type TfxSdkErrorCode = ErrorCode | SdkErrorCode;

const SDK_RETRYABLE: Record<SdkErrorCode, boolean> = {
  'unsupported-browser': false,
  'permission-denied': false,
  'no-device': false,
  'device-in-use': true,
  'screen-share-failed': true,
  'signalling-failed': true,
  'signalling-lost': true,
  'negotiation-failed': true,
  closed: false,
};

export class TfxSdkError extends Error {
  readonly code: TfxSdkErrorCode;
  readonly retryable: boolean;

  constructor(code: TfxSdkErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? (isErrorCode(code) ? ERROR_CATALOGUE[code].summary : code), options);
    this.name = 'TfxSdkError';
    this.code = code;
    this.retryable = isErrorCode(code) ? ERROR_CATALOGUE[code].retryable : SDK_RETRYABLE[code];
  }
}

/** Wraps anything thrown into a `TfxSdkError`. */
export function toSdkError(err: unknown, fallback: TfxSdkErrorCode): TfxSdkError {
  if (err instanceof TfxSdkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TfxSdkError(fallback, message, { cause: err });
}
