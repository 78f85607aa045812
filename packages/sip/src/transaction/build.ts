/**
 * Messages the transaction layer builds itself: the ACK for a non-2xx final response
 * (§17.1.1.3) and CANCEL (§9.1). The responses it sends on its own (100 Trying, 503 on
 * overflow) come from the syntax layer's `createResponse`. ACK and CANCEL are built as text from
 * the header values of existing messages and parsed back, so they copy those values verbatim.
 */
import { TfxError } from '@tfx/protocol';
import { parseMessage, type SipRequest, type SipResponse } from '../syntax/index.js';

const encoder = new TextEncoder();

function parseBuilt<K extends 'request' | 'response'>(
  lines: string[],
  kind: K,
): K extends 'request' ? SipRequest : SipResponse {
  const text = `${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
  const parsed = parseMessage(encoder.encode(text));
  if (!parsed.ok || parsed.message.kind !== kind) {
    throw new TfxError('internal', `could not build a SIP ${kind}`, {
      reason: parsed.ok ? 'wrong kind' : parsed.error.reason,
    });
  }
  return parsed.message as K extends 'request' ? SipRequest : SipResponse;
}

function required(msg: SipRequest | SipResponse, name: string): string {
  const v = msg.headers.get(name);
  if (v === undefined) throw new TfxError('bad-request', `message has no ${name} header`);
  return v;
}

function topVia(msg: SipRequest | SipResponse): string {
  const v = msg.headers.getAll('via')[0];
  if (v === undefined) throw new TfxError('bad-request', 'message has no Via header');
  return v;
}

function cseqNumber(msg: SipRequest): number {
  const cseq = msg.headers.cseq();
  if (!cseq) throw new TfxError('bad-request', 'message has no valid CSeq');
  return cseq.seq;
}

/**
 * RFC 3261 §17.1.1.3: "The ACK request constructed by the client transaction MUST contain
 * values for the Call-ID, From, and Request-URI that are equal to the values of those header
 * fields in the request passed to the transport by the client transaction (call this the
 * "original request"). The To header field in the ACK MUST equal the To header field in the
 * response being acknowledged, and therefore will usually differ from the To header field in
 * the original request by the addition of the tag parameter. The ACK MUST contain a single Via
 * header field, and this MUST be equal to the top Via header field of the original request.
 * The CSeq header field in the ACK MUST contain the same value for the sequence number as was
 * present in the original request, but the method parameter MUST be equal to "ACK"."
 * "If the INVITE request whose response is being acknowledged had Route header fields, those
 * header fields MUST appear in the ACK."
 */
export function buildAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const lines = [
    `ACK ${invite.uriText} SIP/2.0`,
    `Via: ${topVia(invite)}`,
    'Max-Forwards: 70',
    `From: ${required(invite, 'from')}`,
    `To: ${required(response, 'to')}`,
    `Call-ID: ${required(invite, 'call-id')}`,
    `CSeq: ${cseqNumber(invite)} ACK`,
    ...invite.headers.getAll('route').map((r) => `Route: ${r}`),
  ];
  return parseBuilt(lines, 'request');
}

/**
 * RFC 3261 §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header
 * fields in the CANCEL request MUST be identical to those in the request being cancelled,
 * including tags. A CANCEL constructed by a client MUST have only a single Via header field
 * value matching the top Via value in the request being cancelled." "If the request being
 * cancelled contains a Route header field, the CANCEL request MUST include that Route header
 * field's values."
 */
export function buildCancel(invite: SipRequest): SipRequest {
  if (invite.method !== 'INVITE') throw new TfxError('bad-request', 'only INVITE can be cancelled');
  const lines = [
    `CANCEL ${invite.uriText} SIP/2.0`,
    `Via: ${topVia(invite)}`,
    'Max-Forwards: 70',
    `From: ${required(invite, 'from')}`,
    `To: ${required(invite, 'to')}`,
    `Call-ID: ${required(invite, 'call-id')}`,
    `CSeq: ${cseqNumber(invite)} CANCEL`,
    ...invite.headers.getAll('route').map((r) => `Route: ${r}`),
  ];
  return parseBuilt(lines, 'request');
}
