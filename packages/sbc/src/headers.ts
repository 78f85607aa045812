/**
 * Which header fields cross the SBC, and option tags. Pure.
 *
 * A B2BUA builds each leg's messages itself (topology hiding, docs/sbc.md): by default nothing of
 * the caller's INVITE reaches the far side but the users and the SDP (through the engine). A
 * zone's **header allow-list** names the header fields of INVITEs entering through it that are
 * copied onto the other leg's INVITE; anything not on it (`P-*`, `X-*`, `Diversion`,
 * `History-Info`, `Call-Info`, …) stays behind. The default list holds only fields that carry
 * neither addresses nor versions. Fields each leg builds for itself can never cross, and are not
 * rule targets either (`LEG_HEADERS`); `Server`, `User-Agent` and `Warning` (a version, a host)
 * never cross but rules may write them.
 *
 * **Option tags** (RFC 3261 §19.2, §20.37 Supported, §20.32 Require, §20.29 Proxy-Require): a
 * trunk or zone may list the option tags its far ends support; the tags of other names are removed
 * from the Supported, Require and Proxy-Require of the INVITE sent toward it, so a far side that
 * knows no `timer` is not asked for it (§8.2.2.3: "If a UAS does not understand an option-tag
 * listed in a Require header field, it MUST respond by generating a response with status code
 * 420 (Bad Extension)").
 */
import { canonicalHeaderName, displayHeaderName } from '@tfx/sip';

/** One header field as `[name, value]`. */
export type HeaderPair = readonly [string, string];

/**
 * Fields each leg builds itself (§8.1.1, §12.1, §13.2.1 …): copying one from the other leg would
 * break the dialog or leak the other zone's topology, and a rule that wrote one would too.
 */
export const LEG_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'content-encoding',
  'rseq',
  'rack',
  'session-expires',
  'min-se',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'authentication-info',
  'path',
  'service-route',
  'refer-to',
  'referred-by',
  'replaces',
]);

/** Fields that never cross (a version, a host); a rule may still add or set them. */
export const NEVER_CROSS: ReadonlySet<string> = new Set(['server', 'user-agent', 'warning']);

/** The allow-list of a zone that sets none: fields that carry no address and no version. */
export const DEFAULT_ALLOW_HEADERS: readonly string[] = ['Subject', 'Priority', 'Accept-Language'];

/** §25.1 token characters: a header name. */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Why a header name cannot be a rule target, or undefined. */
export function headerNameProblem(name: string): string | undefined {
  if (!TOKEN.test(name) || name.includes('*')) return `"${name}" is not a header name`;
  if (LEG_HEADERS.has(canonicalHeaderName(name)))
    return `${displayHeaderName(canonicalHeaderName(name))} is built by each leg: rules cannot change it`;
  return undefined;
}

/**
 * Why an allow-list entry is refused, or undefined. An entry is a header name (compact forms
 * too: `s` is Subject) or a prefix ending in `*` (`X-*`); a lone `*` is refused: it would let
 * every field through.
 */
export function allowEntryProblem(entry: string): string | undefined {
  if (entry === '*') return 'a lone * would let every header through: name them, or a prefix (X-*)';
  const prefix = entry.endsWith('*');
  const name = prefix ? entry.slice(0, -1) : entry;
  if (!TOKEN.test(name) || name.includes('*')) return `"${entry}" is not a header name or prefix`;
  const key = canonicalHeaderName(name);
  if (!prefix && (LEG_HEADERS.has(key) || NEVER_CROSS.has(key)))
    return `${displayHeaderName(key)} never crosses (each leg builds its own)`;
  return undefined;
}

/** An allow-list, compiled: exact names (canonical keys) and prefixes. */
export interface AllowList {
  readonly names: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/** Compiles an allow-list; throws a TypeError naming `where[i]` for a bad entry. */
export function compileAllowList(entries: readonly string[], where: string): AllowList {
  const names = new Set<string>();
  const prefixes: string[] = [];
  entries.forEach((e, i) => {
    const problem = allowEntryProblem(e);
    if (problem) throw new TypeError(`${where}[${i}]: ${problem}`);
    if (e.endsWith('*')) prefixes.push(e.slice(0, -1).toLowerCase());
    else names.add(canonicalHeaderName(e));
  });
  return { names, prefixes };
}

/** Whether a field (by canonical key) may cross under this list. */
export function allowed(list: AllowList, key: string): boolean {
  if (LEG_HEADERS.has(key) || NEVER_CROSS.has(key)) return false;
  return list.names.has(key) || list.prefixes.some((p) => key.startsWith(p));
}

/**
 * The fields of `fields` (a received request's, in order) that cross: on the list, written with
 * their usual spelling (`s` → `Subject`).
 */
export function crossing(list: AllowList, fields: Iterable<HeaderPair>): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const [name, value] of fields) {
    const key = canonicalHeaderName(name);
    if (allowed(list, key)) out.push([displayHeaderName(key), value]);
  }
  return out;
}

const TAG_HEADERS = new Set(['supported', 'require', 'proxy-require']);

/** Why an option tag is refused (§25.1: an option-tag is a token), or undefined. */
export function optionTagProblem(tag: string): string | undefined {
  return TOKEN.test(tag) ? undefined : `"${tag}" is not an option tag`;
}

/**
 * Removes from Supported, Require and Proxy-Require every option tag not in `supported`
 * (case-insensitive, §19.2 "compared … case-sensitive" is for the tags we match: tags are
 * registered lower case). A Require or Proxy-Require left empty is dropped; a Supported left
 * empty stays empty (`Supported:` with no tag: "supports none", §20.37's grammar allows it), so
 * the leg does not add its own.
 */
export function stripOptionTags(
  fields: readonly HeaderPair[],
  supported: ReadonlySet<string>,
): { fields: HeaderPair[]; removed: string[] } {
  const removed: string[] = [];
  const out: HeaderPair[] = [];
  let supportedSeen = false;
  let supportedKept = false;
  for (const [name, value] of fields) {
    const key = canonicalHeaderName(name);
    if (!TAG_HEADERS.has(key)) {
      out.push([name, value]);
      continue;
    }
    const tags = value
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const keep = tags.filter((t) => supported.has(t.toLowerCase()));
    for (const t of tags) if (!supported.has(t.toLowerCase())) removed.push(t);
    if (key === 'supported') supportedSeen = true;
    if (keep.length === 0) continue;
    if (key === 'supported') supportedKept = true;
    out.push([name, keep.join(', ')]);
  }
  if (supportedSeen && !supportedKept) out.push(['Supported', '']);
  return { fields: out, removed };
}
