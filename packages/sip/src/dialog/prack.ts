/**
 * Reliable provisional responses (RFC 3262): the RSeq and RAck header values and the rules on
 * which side uses them. Pure functions; the dialog layer runs the timers.
 */
import type { SipRequest, SipResponse } from '../syntax/index.js';

/** RFC 3262 §7.1: `RSeq = "RSeq" HCOLON response-num`, response-num = 1*DIGIT (< 2**32). */
export function parseRSeq(message: SipResponse): number | undefined {
  const v = message.headers.get('rseq')?.trim();
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 && n <= 0xffffffff ? n : undefined;
}

export interface RAck {
  readonly rseq: number;
  readonly cseq: number;
  readonly method: string;
}

/** RFC 3262 §7.2: `RAck = "RAck" HCOLON response-num LWS CSeq-num LWS Method`. */
export function parseRAck(request: SipRequest): RAck | undefined {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z!%*_+`'~.-]+)\s*$/.exec(
    request.headers.get('rack') ?? '',
  );
  if (!m) return undefined;
  return { rseq: Number(m[1]), cseq: Number(m[2]), method: (m[3] as string).toUpperCase() };
}

/** Whether an option tag appears in a Supported or Require header of a message. */
export function hasOptionTag(
  message: SipRequest | SipResponse,
  header: 'supported' | 'require',
  tag: string,
): boolean {
  return message.headers.getAll(header).some((t) => t.trim().toLowerCase() === tag.toLowerCase());
}
