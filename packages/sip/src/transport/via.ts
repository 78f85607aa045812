/**
 * Via handling at the transport edge: stamping `received`/`rport` on requests (RFC 3261 §18.2.1,
 * RFC 3581 §4) and choosing where a response goes (RFC 3261 §18.2.2). Pure functions.
 */
import type { Via } from '../syntax/index.js';
import { canonicalHost, ipFamily, sameHost } from './address.js';
import {
  defaultPort,
  isReliable,
  transportFromVia,
  type ConnectionRef,
  type Endpoint,
  type ReceiveContext,
  type TransportProtocol,
} from './types.js';

/**
 * The new text of the top Via value after stamping, or undefined when nothing changes.
 *
 * RFC 3261 §18.2.1: "When the server transport receives a request over any transport, it MUST
 * examine the value of the "sent-by" parameter in the top Via header field value. If the host
 * portion of the "sent-by" parameter contains a domain name, or if it contains an IP address that
 * differs from the packet source address, the server MUST add a "received" parameter to that Via
 * header field value. This parameter MUST contain the source address from which the packet was
 * received."
 *
 * RFC 3581 §4: "If this Via header field value contains an "rport" parameter with no value, it
 * MUST set the value of the parameter to the source port of the request. [...] In fact, the
 * server MUST insert a "received" parameter containing the source IP address that the request
 * came from, even if it is identical to the value of the "sent-by" component."
 */
export function stampVia(rawValue: string, via: Via, source: Endpoint): string | undefined {
  const sourceHost = canonicalHost(source.address);
  const fillRport = via.rport === null;
  const hostIsName = ipFamily(via.host) === 0;
  const needReceived = fillRport || hostIsName || !sameHost(via.host, sourceHost);
  const params = splitParams(rawValue);
  const head = params.shift() ?? '';
  const out: string[] = [head];
  let receivedDone = false;
  let changed = false;
  for (const param of params) {
    const name = paramName(param);
    if (name === 'received') {
      // A `received` we did not need to add is the client's own claim: drop it, so that
      // responses never follow an address the packet did not come from.
      changed = true;
      continue;
    }
    if (name === 'rport' && fillRport) {
      if (needReceived && !receivedDone) {
        out.push(`received=${sourceHost}`);
        receivedDone = true;
      }
      out.push(`rport=${source.port}`);
      changed = true;
      continue;
    }
    out.push(param);
  }
  if (needReceived && !receivedDone) {
    out.push(`received=${sourceHost}`);
    receivedDone = true;
    changed = true;
  }
  if (!changed) return undefined;
  const text = out.join(';');
  return text === rawValue ? undefined : text;
}

/** Replaces the transport token of a Via value: `SIP/2.0/UDP host` → `SIP/2.0/TCP host`. */
export function setViaTransport(rawValue: string, transport: TransportProtocol): string {
  return rawValue.replace(
    /^(\s*SIP\s*\/\s*2\.0\s*\/\s*)([A-Za-z0-9.!%*_+`'~-]+)/i,
    (_m, prefix: string) => `${prefix}${transport.toUpperCase()}`,
  );
}

/** Splits `a;b=c;d="x;y"` at semicolons outside quoted strings, trimming each part. */
function splitParams(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current.trim());
  return parts;
}

function paramName(param: string): string {
  const eq = param.indexOf('=');
  return (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
}

/** Where a response goes: a live connection, or a transport, address and port to send to. */
export type ResponseDestination =
  | { readonly kind: 'connection'; readonly connection: ConnectionRef }
  | {
      readonly kind: 'address';
      readonly transport: TransportProtocol;
      /** An IP address, or a host name still to resolve (RFC 3263 §5, A/AAAA only here). */
      readonly address: string;
      readonly port: number;
    };

/**
 * RFC 3261 §18.2.2, "Sending Responses", and RFC 3581 §4, applied to the top Via of a response.
 * `ctx` is where the request came from, when known (the server transaction keeps it).
 */
export function responseDestination(via: Via, ctx?: ReceiveContext): ResponseDestination {
  const transport = transportFromVia(via.transport) ?? ctx?.transport ?? 'udp';
  const sentByPort = via.port ?? defaultPort(transport);
  if (isReliable(transport)) {
    // "If the "sent-protocol" is a reliable transport protocol such as TCP or SCTP, or TLS over
    // those, the response MUST be sent using the existing connection to the source of the
    // original request that created the transaction, if that connection is still open."
    if (ctx?.connection && !ctx.connection.closed) {
      return { kind: 'connection', connection: ctx.connection };
    }
    // "If that connection is no longer open, the server SHOULD open a connection to the IP
    // address in the "received" parameter, if present, using the port in the "sent-by" value,
    // or the default port for that transport, if no port is specified."
    return {
      kind: 'address',
      transport,
      address: canonicalHost(via.received ?? via.host),
      port: sentByPort,
    };
  }
  const maddr = via.params.get('maddr');
  if (maddr) {
    // "Otherwise, if the Via header field value contains a "maddr" parameter, the response MUST
    // be forwarded to the address listed there, using the port indicated in "sent-by", or port
    // 5060 if none is present."
    return { kind: 'address', transport, address: canonicalHost(maddr), port: sentByPort };
  }
  if (via.received) {
    // RFC 3581 §4: "there is both a "received" parameter and an "rport" parameter, the response
    // MUST be sent to the IP address listed in the "received" parameter, and the port in the
    // "rport" parameter." RFC 3261: "Otherwise (for unreliable unicast transports), if the top
    // Via has a "received" parameter, the response MUST be sent to the address in the
    // "received" parameter, using the port indicated in the "sent-by" value".
    const port = typeof via.rport === 'number' ? via.rport : sentByPort;
    return { kind: 'address', transport, address: canonicalHost(via.received), port };
  }
  // "Otherwise, if it is not receiver-tagged, the response MUST be sent to the address indicated
  // by the "sent-by" value, using the procedures in Section 5 of [4]."
  return { kind: 'address', transport, address: canonicalHost(via.host), port: sentByPort };
}

/**
 * Rewrites the top Via of serialized message bytes (the first `Via:`/`v:` header line's first
 * value); the body is kept byte for byte. Returns undefined when there is no Via line.
 */
export function rewriteTopVia(
  bytes: Uint8Array,
  edit: (value: string) => string,
): Uint8Array | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const end = buf.indexOf('\r\n\r\n');
  const headEnd = end < 0 ? buf.length : end;
  // latin1 maps every byte to one char and back, so non-ASCII header bytes survive untouched.
  const head = buf.subarray(0, headEnd).toString('latin1');
  const match = /\r\n(?:via|v)[ \t]*:[ \t]*([^\r\n,]*)/i.exec(head);
  if (!match) return undefined;
  const value = match[1] ?? '';
  const valueStart = match.index + match[0].length - value.length;
  const nextHead = head.slice(0, valueStart) + edit(value) + head.slice(valueStart + value.length);
  return Buffer.concat([Buffer.from(nextHead, 'latin1'), buf.subarray(headEnd)]);
}
