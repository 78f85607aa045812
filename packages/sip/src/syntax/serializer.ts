import type { SipMessage } from './message.js';

export function serializeMessage(_msg: SipMessage): Uint8Array {
  return new Uint8Array(0);
}
