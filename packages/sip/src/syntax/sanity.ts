import type { ParseResult, SipMessage } from './message.js';
export type SanityVerdict =
  | { readonly action: 'accept' }
  | { readonly action: 'reject'; readonly status: number; readonly reason: string }
  | { readonly action: 'drop'; readonly reason: string };
export interface SanityOptions {
  supportedExtensions?: readonly string[];
}
export function checkMessage(_m: ParseResult | SipMessage, _o?: SanityOptions): SanityVerdict {
  return { action: 'accept' };
}
