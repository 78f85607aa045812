/**
 * What a proxy element writes into a request it forwards (RFC 3261 §16.6): a copy whose headers
 * can change, the new Request-URI, its Via and its Record-Route. Pure.
 */
import {
  SipHeaders,
  formatUri,
  formatVia,
  type SipRequest,
  type TransportProtocol,
  type Uri,
} from '../syntax/index.js';

/** A host and port we are reached at (a transport's sent-by). */
export interface SentBy {
  readonly host: string;
  readonly port: number;
}

/** §16.6 step 1: a copy of a request whose headers can be changed without touching the original. */
export function copyRequest(request: SipRequest): SipRequest {
  return {
    kind: 'request',
    method: request.method,
    uri: request.uri,
    uriText: request.uriText,
    version: request.version,
    headers: new SipHeaders([...request.headers.fields()]),
    body: request.body,
  };
}

/** §16.6 step 2: the copy's Request-URI becomes the target's. */
export function withUri(request: SipRequest, uri: Uri): SipRequest {
  request.uri = uri;
  (request as { uriText: string }).uriText = formatUri(uri);
  return request;
}

/** §16.6 step 4: a `Record-Route` value pointing at us (`lr`), optionally carrying a flow token. */
export function recordRouteValue(
  sentBy: SentBy,
  transport: TransportProtocol,
  flowToken?: string,
): string {
  const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
  const user = flowToken !== undefined ? `${flowToken}@` : '';
  return `<sip:${user}${host}:${sentBy.port};transport=${transport};lr>`;
}

/** §16.6 step 8: the Via a proxy puts on top of a forwarded request (with `rport`, RFC 3581). */
export function viaValue(sentBy: SentBy, transport: TransportProtocol, branch: string): string {
  return formatVia({ transport, host: sentBy.host, port: sentBy.port, branch, rport: true });
}
