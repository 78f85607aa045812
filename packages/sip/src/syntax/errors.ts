import type { SipParseError, SipParseErrorCode } from './types.js';

export function fail(
  code: SipParseErrorCode,
  reason: string,
  offset?: number,
  header?: string,
): { ok: false; error: SipParseError } {
  const error: { code: SipParseErrorCode; reason: string; offset?: number; header?: string } = {
    code,
    reason,
  };
  if (offset !== undefined) error.offset = offset;
  if (header !== undefined) error.header = header;
  return { ok: false, error };
}

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
