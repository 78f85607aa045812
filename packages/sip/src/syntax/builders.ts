import type { SipRequest, SipResponse } from './message.js';
export const BRANCH_COOKIE = 'z9hG4bK';
export interface CreateRequestOptions {
  method: string;
  uri: string;
}
export interface CreateResponseOptions {
  toTag?: string;
}
export function createRequest(_o: CreateRequestOptions): SipRequest {
  throw new Error('not implemented yet');
}
export function createResponse(_r: SipRequest, _s: number, _reason?: string, _o?: CreateResponseOptions): SipResponse {
  throw new Error('not implemented yet');
}
export function generateBranch(): string {
  return BRANCH_COOKIE;
}
export function generateTag(): string {
  return '';
}
export function generateCallId(): string {
  return '';
}
