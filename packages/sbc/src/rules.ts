/**
 * The SBC's rules as one immutable value: routes, trunks, and per zone and per trunk the
 * normalization rules, the header allow-list and the option tags. Compiled whole from the
 * configuration (every pattern, name and reference checked; the first problem is thrown as a
 * TypeError naming the key: `sbc.zones[1].normalize[3].match: …`), so a reload either swaps in a
 * complete new `RuleSet` or changes nothing. A call keeps the `RuleSet` it started with for its
 * whole life (its failover trunks included); the next INVITE takes the current one. Pure.
 *
 * `legBRequest` computes what the far leg's INVITE carries, in this order:
 *
 *   users:   Request-URI user ── zone `ruri` rules (before routing) ── trunk `ruri` rules
 *            To user ── = that Request-URI user ── zone `to` rules ── trunk `to` rules
 *            From user ── zone `from` rules ── trunk `from` rules
 *   headers: the caller's fields on the caller's zone's allow-list ── zone header rules
 *            ── trunk header rules ── option tags not supported by the trunk (or its zone) removed
 */
import { parseUri } from '@tfx/sip';
import {
  DEFAULT_ALLOW_HEADERS,
  compileAllowList,
  crossing,
  optionTagProblem,
  stripOptionTags,
  type AllowList,
  type HeaderPair,
} from './headers.js';
import { applyHeaderRules, compileRules, normalizeUser, type CompiledRules } from './normalize.js';
import { compileRoutes, type CompiledRoute } from './routing.js';
import type { SbcConfig, TrunkSpec, ZoneSpec } from './types.js';

export interface ZoneRules {
  readonly rules: CompiledRules;
  readonly allow: AllowList;
  /** Option tags the zone's far ends support (undefined: no stripping). */
  readonly optionTags: ReadonlySet<string> | undefined;
}

export interface TrunkRules {
  readonly spec: TrunkSpec;
  readonly rules: CompiledRules;
  readonly optionTags: ReadonlySet<string> | undefined;
}

export interface RuleSet {
  /** 1 for the rules the SBC started with, +1 per successful reload. */
  readonly generation: number;
  readonly routes: readonly CompiledRoute[];
  readonly zones: ReadonlyMap<string, ZoneRules>;
  readonly trunks: ReadonlyMap<string, TrunkRules>;
}

/** Most zones, trunks and routes (a huge file is refused, not half-loaded). */
export const MAX_ZONES = 64;
export const MAX_TRUNKS = 1024;
export const MAX_ROUTES = 1024;
/** Most rules per zone or trunk, allow-list entries and option tags. */
export const MAX_RULES = 64;
export const MAX_ALLOW = 128;
export const MAX_TAGS = 64;

function tagSet(tags: readonly string[] | undefined, where: string): Set<string> | undefined {
  if (tags === undefined) return undefined;
  if (tags.length > MAX_TAGS) throw new TypeError(`${where}: more than ${MAX_TAGS} option tags`);
  tags.forEach((t, i) => {
    const p = optionTagProblem(t);
    if (p) throw new TypeError(`${where}[${i}]: ${p}`);
  });
  return new Set(tags.map((t) => t.toLowerCase()));
}

function cap(list: readonly unknown[] | undefined, max: number, where: string): void {
  if ((list?.length ?? 0) > max) throw new TypeError(`${where}: more than ${max} entries`);
}

/** Compiles and checks everything; throws a TypeError naming the first bad key. */
export function compileRuleSet(cfg: SbcConfig, generation = 1): RuleSet {
  cap(cfg.zones, MAX_ZONES, 'sbc.zones');
  cap(cfg.trunks, MAX_TRUNKS, 'sbc.trunks');
  cap(cfg.routes, MAX_ROUTES, 'sbc.routes');
  const zones = new Map<string, ZoneRules>();
  cfg.zones.forEach((z, i) => {
    const at = `sbc.zones[${i}]`;
    if (zones.has(z.name)) throw new TypeError(`${at}.name: zone ${z.name} named twice`);
    cap(z.normalize, MAX_RULES, `${at}.normalize`);
    cap(z.allowHeaders, MAX_ALLOW, `${at}.allowHeaders`);
    zones.set(z.name, {
      rules: compileRules(z.normalize, at),
      allow: compileAllowList(z.allowHeaders ?? DEFAULT_ALLOW_HEADERS, `${at}.allowHeaders`),
      optionTags: tagSet(z.optionTags, `${at}.optionTags`),
    });
  });
  const trunks = new Map<string, TrunkRules>();
  cfg.trunks.forEach((t, i) => {
    const at = `sbc.trunks[${i}]`;
    if (trunks.has(t.name)) throw new TypeError(`${at}.name: trunk ${t.name} named twice`);
    if (!zones.has(t.zone)) throw new TypeError(`${at}.zone: no zone named ${t.zone}`);
    const u = parseUri(t.uri);
    if (!u.ok || u.value.kind !== 'sip')
      throw new TypeError(`${at}.uri: ${t.uri} is not a SIP URI`);
    cap(t.normalize, MAX_RULES, `${at}.normalize`);
    trunks.set(t.name, {
      spec: t,
      rules: compileRules(t.normalize, at),
      optionTags: tagSet(t.optionTags, `${at}.optionTags`),
    });
  });
  cfg.routes.forEach((r, i) => {
    if (!zones.has(r.match.zone))
      throw new TypeError(`sbc.routes[${i}].match.zone: no zone named ${r.match.zone}`);
  });
  return { generation, routes: compileRoutes(cfg.routes, cfg.trunks), zones, trunks };
}

/** What the far leg's INVITE carries (the order is in this file's header). */
export interface LegBRequest {
  readonly ruriUser: string | undefined;
  readonly toUser: string | undefined;
  readonly fromUser: string | undefined;
  readonly headers: HeaderPair[];
  /** Option tags removed (for the log). */
  readonly strippedTags: readonly string[];
}

export interface LegBInput {
  /** The zone the call came in through. */
  readonly zone: string;
  readonly trunk: TrunkSpec;
  /** The called user after the zone's `ruri` rules (routing saw this one). */
  readonly user: string | undefined;
  /** The caller's From user, as received. */
  readonly fromUser: string | undefined;
  /** The caller's INVITE's header fields, in order. */
  readonly fields: Iterable<HeaderPair>;
  /** The option tags the far leg's dialog layer announces itself (its own Supported). */
  readonly supported: readonly string[];
}

const EMPTY_ZONE: ZoneRules = {
  rules: { users: [], headers: [] },
  allow: { names: new Set(), prefixes: [] },
  optionTags: undefined,
};

export function legBRequest(set: RuleSet, i: LegBInput): LegBRequest {
  const z = set.zones.get(i.zone) ?? EMPTY_ZONE;
  const t = set.trunks.get(i.trunk.name);
  const tRules = t?.rules ?? EMPTY_ZONE.rules;
  const ruriUser = normalizeUser(tRules, 'ruri', i.user);
  const toUser = normalizeUser(tRules, 'to', normalizeUser(z.rules, 'to', ruriUser));
  const fromUser = normalizeUser(tRules, 'from', normalizeUser(z.rules, 'from', i.fromUser));
  let headers = applyHeaderRules(tRules, applyHeaderRules(z.rules, crossing(z.allow, i.fields)));
  let strippedTags: string[] = [];
  const tags = t?.optionTags ?? set.zones.get(i.trunk.zone)?.optionTags;
  if (tags) {
    // The leg's own Supported goes through the filter too (given explicitly, it replaces the
    // one the dialog layer would write).
    const own = /^(supported|k)$/i;
    if (i.supported.length > 0 && !headers.some(([n]) => own.test(n)))
      headers = [['Supported', i.supported.join(', ')], ...headers];
    const r = stripOptionTags(headers, tags);
    headers = r.fields;
    strippedTags = r.removed;
  }
  return { ruriUser, toUser, fromUser, headers, strippedTags };
}

/** The parts of a zone a reload cannot change (its listeners, media, trust, security, limits…). */
function liveParts(z: ZoneSpec): string {
  const { normalize: _n, allowHeaders: _a, optionTags: _o, ...rest } = z;
  return JSON.stringify(rest);
}

/**
 * Checks a new configuration against the running zones: the same zone names (adding or removing
 * a zone needs a restart: refused), and lists the zone settings that differ but only a restart
 * applies (reported, not refused).
 */
export function reloadPlan(
  running: readonly ZoneSpec[],
  next: SbcConfig,
): { restartNeeded: string[] } {
  const live = new Map(running.map((z) => [z.name, z]));
  const names = new Set(next.zones.map((z) => z.name));
  for (const z of running)
    if (!names.has(z.name))
      throw new TypeError(`sbc.zones: zone ${z.name} is missing: removing a zone needs a restart`);
  const restartNeeded: string[] = [];
  next.zones.forEach((z, i) => {
    const old = live.get(z.name);
    if (!old)
      throw new TypeError(
        `sbc.zones[${i}]: zone ${z.name} is not running: adding a zone needs a restart`,
      );
    if (liveParts(old) !== liveParts(z)) restartNeeded.push(`sbc.zones[${i}] (${z.name})`);
  });
  return { restartNeeded };
}
