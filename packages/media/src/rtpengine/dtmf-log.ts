/**
 * rtpengine's DTMF log (`dtmf-log-dest = HOST:PORT`): one UDP datagram of JSON per DTMF event it
 * sees in a call's RTP (RFC 4733 telephone-event, also in passthrough), e.g. (10.5.3.5, measured)
 *   {"callid":"c1","source_tag":"a","tags":["a","b"],"type":"DTMF","timestamp":1796574832,
 *    "source_ip":"127.0.0.1","event":7,"duration":100,"volume":10}
 * (`duration` in ms). Pure: a datagram in, a DtmfEvent or the reason it is not one out.
 */
import { digitOf } from '../rtp/dtmf.js';
import type { DtmfEvent } from '../engine/types.js';

/** The largest datagram read as a DTMF log line (rtpengine's are ~200 bytes). */
export const MAX_DTMF_LOG_BYTES = 4096;

export type DtmfLogResult =
  | { readonly ok: true; readonly event: DtmfEvent }
  | { readonly ok: false; readonly reason: 'too-large' | 'not-json' | 'not-dtmf' | 'bad-field' };

export function parseDtmfLog(datagram: Uint8Array): DtmfLogResult {
  if (datagram.length > MAX_DTMF_LOG_BYTES) return { ok: false, reason: 'too-large' };
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(datagram).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not-json' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, reason: 'not-json' };
  const o = v as Record<string, unknown>;
  if (o['type'] !== undefined && o['type'] !== 'DTMF') return { ok: false, reason: 'not-dtmf' };
  const { callid, source_tag: tag, event, duration, volume } = o;
  if (typeof callid !== 'string' || callid.length === 0 || callid.length > 1024)
    return { ok: false, reason: 'bad-field' };
  if (typeof tag !== 'string' || tag.length > 1024) return { ok: false, reason: 'bad-field' };
  // RFC 4733 §3.2: events 0-15 are the DTMF digits 0-9 * # A-D.
  const digit = typeof event === 'number' && Number.isInteger(event) ? digitOf(event) : undefined;
  if (digit === undefined || (event as number) < 0) return { ok: false, reason: 'bad-field' };
  const durationMs = typeof duration === 'number' && duration >= 0 ? Math.min(duration, 60_000) : 0;
  const vol = typeof volume === 'number' && volume >= 0 && volume <= 63 ? volume : 0;
  return { ok: true, event: { callId: callid, tag, digit, durationMs, volume: vol } };
}
