/**
 * What a parsed message remembers of its wire form, outside the public object so that
 * structural comparisons and spreads see only the message fields. Module-level WeakMap:
 * no I/O, no global mutation visible to callers.
 */
import type { SipMessage, Uri } from './message.js';

export interface WireInfo {
  readonly buf: Uint8Array;
  /** [msgStart, startLineEnd) is the start line without CRLF. */
  readonly msgStart: number;
  readonly startLineEnd: number;
  /** Offset just after the body (msgStart..msgEnd is the whole message). */
  readonly msgEnd: number;
  readonly method: string | undefined;
  readonly uri: Uri | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly version: string;
  readonly body: Uint8Array;
  /** Header mutation count at parse time. */
  readonly headerVersion: number;
  /** True when the message had exactly one Content-Length equal to the body length. */
  readonly lengthExact: boolean;
}

export const wire = new WeakMap<SipMessage, WireInfo>();
