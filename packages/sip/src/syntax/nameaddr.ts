import type { NameAddr, Result } from './message.js';
export function parseNameAddr(_text: string): Result<NameAddr> {
  return { ok: false, error: { code: 'internal', reason: 'not implemented yet' } };
}
export function formatNameAddr(_na: NameAddr): string {
  return '';
}
