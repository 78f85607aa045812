import type { ParseOptions, ParseResult } from './message.js';

export function parseMessage(_bytes: Uint8Array, _opts?: ParseOptions): ParseResult {
  return { ok: false, error: { code: 'internal', reason: 'not implemented yet' } };
}
