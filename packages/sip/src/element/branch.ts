/**
 * Branches of a proxy element (RFC 3261 §16.6 step 8) and the loop check that reads them back
 * (§16.3 step 4). Pure: randomness comes from WebCrypto.
 */
import { BRANCH_COOKIE, type SipRequest } from '../syntax/index.js';

function instanceId(): string {
  const b = new Uint8Array(3);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** Process-unique prefix of our branches, so our own Via entries are recognised (§16.3 step 4). */
export const BRANCH_PREFIX = `${BRANCH_COOKIE}tfx${instanceId()}`;
let branchCounter = 0;

/** FNV-1a 32-bit, hex: cheap, stable hash for loop detection (not a security primitive). */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * §16.6 step 8: the branch "SHOULD" carry a hash over the fields a loop would leave unchanged,
 * so that §16.3 step 4 can tell a loop (same hash) from a spiral (changed Request-URI…).
 */
export function loopHash(request: SipRequest): string {
  const h = request.headers;
  return fnv(
    `${request.uriText}|${h.from()?.tag ?? ''}|${h.to()?.tag ?? ''}|${h.callId() ?? ''}|${h.cseq()?.seq ?? ''}|${h.get('proxy-require') ?? ''}`,
  );
}

/** A new branch for a forwarded request: our prefix, the loop hash, a counter. */
export function newBranch(hash: string): string {
  branchCounter = (branchCounter + 1) % 0x7fffffff;
  return `${BRANCH_PREFIX}${hash}.${branchCounter.toString(36)}`;
}

/** §16.11: a stateless proxy derives the branch from the incoming one (ACK for a 2xx). */
export function statelessBranch(request: SipRequest): string {
  const top = request.headers.via()[0];
  return `${BRANCH_PREFIX}${fnv(`${top?.branch ?? ''}|${request.uriText}`)}.s`;
}

/**
 * §8.2.7: a stateless UAS "MUST [...] generate tags in a stateless manner", the same To tag
 * for every retransmission of a request: derived from its top Via branch and Call-ID.
 */
export function statelessTag(request: SipRequest): string {
  const top = request.headers.via()[0];
  return `sl${fnv(`${top?.branch ?? ''}|${request.headers.callId() ?? ''}`)}`;
}

/**
 * §16.3 step 4: "If the request contains a Via header field with a sent-by value that equals
 * a value placed into previous requests by the proxy, the request has been forwarded by this
 * element before. The request has either looped or is legitimately spiraling through the
 * element. To determine if the request has looped, the element MAY perform the branch
 * parameter calculation described in Step 8 of Section 16.6 on this message and compare it to
 * the parameter received in that Via header field. If the parameters match, the request has
 * looped." Our Via entries are recognised by the branch prefix.
 */
export function hasLooped(request: SipRequest): boolean {
  const vias = request.headers.via();
  let hash: string | undefined;
  for (const v of vias) {
    if (!v.branch?.startsWith(BRANCH_PREFIX) || v.branch.endsWith('.s')) continue;
    hash ??= loopHash(request);
    if (v.branch.slice(BRANCH_PREFIX.length, BRANCH_PREFIX.length + 8) === hash) return true;
  }
  return false;
}
