/**
 * URI equality (RFC 3261 §19.1.4), for the places where two URIs must name the same resource
 * (a digest credential's `uri` against the Request-URI, RFC 2617 §3.2.2.5). Pure.
 */
import { canonicalHost } from './host.js';
import { parseUri } from './uri.js';
import type { Params, Uri } from './types.js';

/** Parameters that must agree when either URI has them (§19.1.4). */
const STRICT_PARAMS = ['user', 'ttl', 'method', 'maddr'];

function paramsMatch(a: Params, b: Params): boolean {
  // "any uri-parameter appearing in both URIs must match"
  for (const [name, value] of a) {
    if (!b.has(name)) continue;
    const other = b.get(name);
    if ((value ?? '').toLowerCase() !== (other ?? '').toLowerCase()) return false;
  }
  // "a user, ttl, or method uri-parameter appearing in only one URI never matches [...]; a URI
  // that includes an maddr parameter will not match a URI that contains no maddr parameter"
  for (const name of STRICT_PARAMS) if (a.has(name) !== b.has(name)) return false;
  return true;
}

/**
 * §19.1.4: "SIP and SIPS URIs are compared for equality according to the following rules": same
 * scheme; user and password case-sensitive; host case-insensitive (and as an address); ports
 * equal, "A URI omitting any component with a default value will not match a URI explicitly
 * containing that component with its default value"; parameters as above; headers all equal.
 * Other schemes compare as text, case-insensitively in the scheme only.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind !== 'sip' || b.kind !== 'sip') {
    return a.kind === 'other' && b.kind === 'other' && a.scheme === b.scheme && a.raw === b.raw;
  }
  if (a.scheme !== b.scheme || a.user !== b.user || a.password !== b.password) return false;
  if (canonicalHost(a.host) !== canonicalHost(b.host) || a.port !== b.port) return false;
  if (!paramsMatch(a.params, b.params)) return false;
  if (a.headers.length !== b.headers.length) return false;
  const hb = new Map(b.headers.map(([n, v]) => [n.toLowerCase(), v]));
  return a.headers.every(([n, v]) => hb.get(n.toLowerCase()) === v);
}

/** `uriEquals` on texts; texts that do not parse are equal only when identical. */
export function uriTextEquals(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseUri(a);
  const pb = parseUri(b);
  return pa.ok && pb.ok && uriEquals(pa.value, pb.value);
}
