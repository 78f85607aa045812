/**
 * What a parsed message remembers of its wire form, outside the public object so that
 * structural comparisons and spreads see only the message fields: held by the message's header
 * collection (a private field), not in a WeakMap keyed by the message — a WeakMap entry per
 * datagram cost the garbage collector ~1 µs each (ephemeron tables; issue #23).
 *
 * Every use checks the message against it (start line, body, header revision), so a copy that
 * shares the header collection (`{ ...msg, uri }`) or a message built around a parsed one's
 * headers reuses received bytes only where they still say what the message says.
 */
import type { WireInfo } from './headers.js';
import type { SipMessage } from './message.js';

export type { WireInfo } from './headers.js';

export const wire = {
  get(msg: SipMessage): WireInfo | undefined {
    return msg.headers.wire;
  },
  set(msg: SipMessage, info: WireInfo): void {
    msg.headers.attachWire(info);
  },
};
