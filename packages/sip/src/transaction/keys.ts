/**
 * Transaction matching keys (RFC 3261 §17.1.3, §17.2.3). Pure.
 */
import { BRANCH_COOKIE, type SipRequest, type SipResponse, type Via } from '../syntax/index.js';

/**
 * §17.1.3: a response matches a client transaction "1. If the response has the same value of
 * the branch parameter in the top Via header field as the branch parameter in the top Via
 * header field of the request that created the transaction. 2. If the method parameter in the
 * CSeq header field matches the method of the request that created the transaction."
 * Returns undefined for a message without a top Via branch or a CSeq.
 */
export function clientKey(msg: SipRequest | SipResponse): string | undefined {
  const via = msg.headers.via()[0];
  const cseq = msg.headers.cseq();
  if (!via?.branch || !cseq) return undefined;
  // A CANCEL shares its INVITE's branch; the method keeps the two transactions apart.
  const method = msg.kind === 'request' ? msg.method : cseq.method;
  return `c|${via.branch}|${method}`;
}

function sentBy(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? ''}`;
}

/** RFC 2543 fallback fields that identify the request (To tag excluded, compared apart). */
function legacyIdentity(req: SipRequest, method: string): string | undefined {
  const via = req.headers.via()[0];
  const cseq = req.headers.cseq();
  const callId = req.headers.callId();
  const from = req.headers.from();
  if (!via || !cseq || callId === undefined || !from) return undefined;
  const viaText = `${via.transport}|${sentBy(via)}|${via.branch ?? ''}`;
  return `l|${req.uriText}|${from.tag ?? ''}|${callId}|${cseq.seq}|${method}|${viaText}`;
}

/**
 * The server-transaction key of a request, with the method it matches as (ACK → INVITE).
 *
 * §17.2.3: "If the branch parameter in the top Via header field is present, it begins with
 * the magic cookie "z9hG4bK" [...] the request matches a transaction if: 1. the branch
 * parameter in the request is equal to the one in the top Via header field of the request
 * that created the transaction, and 2. the sent-by value in the top Via of the request is
 * equal to the one in the request that created the transaction, and 3. the method of the
 * request matches the one that created the transaction, except for ACK, where the method of
 * the request that created the transaction is INVITE."
 *
 * Otherwise (RFC 2543 peers): "The INVITE request matches a transaction if the Request-URI,
 * To tag, From tag, Call-ID, CSeq, and top Via header field match those of the INVITE request
 * which created the transaction. [...] The ACK request matches a transaction if the
 * Request-URI, From tag, Call-ID, CSeq number (not the method), and top Via header field match
 * those of the INVITE request which created the transaction, and the To tag of the ACK matches
 * the To tag of the response sent by the server transaction. [...] For all other request
 * methods, a request is matched to a transaction if the Request-URI, To tag, From tag,
 * Call-ID, CSeq (including the method), and top Via header field match those of the request
 * that created the transaction." The To tag is checked by {@link legacyToTagMatches}.
 *
 * `asMethod` overrides the method matched (CANCEL looks up its INVITE, §9.2).
 */
export function serverKey(
  req: SipRequest,
  asMethod?: string,
): { key: string; legacy: boolean } | undefined {
  const via = req.headers.via()[0];
  if (!via) return undefined;
  const method = asMethod ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  if (via.branch?.startsWith(BRANCH_COOKIE)) {
    return { key: `s|${via.branch}|${sentBy(via)}|${method}`, legacy: false };
  }
  const id = legacyIdentity(req, method);
  return id === undefined ? undefined : { key: id, legacy: true };
}

/**
 * RFC 2543 To-tag rule: an ACK carries the To tag of the response the transaction sent; any
 * other request carries the To tag of the request that created the transaction.
 */
export function legacyToTagMatches(
  incoming: SipRequest,
  original: SipRequest,
  lastResponse: SipResponse | undefined,
): boolean {
  const tag = incoming.headers.to()?.tag;
  if (incoming.method === 'ACK') return tag === lastResponse?.headers.to()?.tag;
  // Any other request, CANCEL included (§9.1: its To equals the INVITE's To).
  return tag === original.headers.to()?.tag;
}
