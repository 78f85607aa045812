import type { Params, Result } from './message.js';
export function parseParams(_text: string): Result<Params> {
  return { ok: false, error: { code: 'internal', reason: 'not implemented yet' } };
}
export function formatParams(_p: Params): string {
  return '';
}
