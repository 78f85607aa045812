import type { Result, SipUri, Uri } from './message.js';
export function parseUri(_text: string): Result<Uri> {
  return { ok: false, error: { code: 'internal', reason: 'not implemented yet' } };
}
export function formatUri(_uri: Uri): string {
  return '';
}
export type { SipUri };
