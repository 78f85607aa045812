/**
 * Normalization rules, declared per zone (applied as a call enters, before routing) and per trunk
 * (applied as it leaves toward the trunk), in the order written. Two kinds:
 *
 * - **user rewrites**: a regular expression on the Request-URI user (`ruri`: also the callee's To),
 *   the To user alone (`to`) or the From user (`from`); `replace` may use `$1`… groups. E.164:
 *   `{ user: ruri, match: "^00", replace: "+" }` turns `0044…` into `+44…`;
 *   `{ user: ruri, match: "^0([1-9])", replace: "+44$1" }` makes a UK national number
 *   international (docs/sbc.md has the full example set).
 * - **header rules** on the INVITE the far leg receives: `add` a field (another one when the name
 *   is there), `remove` every field of a name (only those whose value matches `match`, if given),
 *   `set` (one field with this value instead of all of that name, added when absent), `replace`
 *   (a regular expression on each value of the name; the first match is replaced).
 *
 * Pure; rules are compiled (patterns through `compilePattern`: linear time) and a bad one is named
 * (`sbc.zones[1].normalize[3].match: …`).
 */
import { canonicalHeaderName, displayHeaderName } from '@tfx/sip';
import { headerNameProblem, type HeaderPair } from './headers.js';
import { compilePattern } from './pattern.js';

/** Which user a rewrite touches. */
export type UserField = 'ruri' | 'to' | 'from';

/** A user rewrite as configured. */
export interface UserRule {
  readonly user: UserField;
  readonly match: string;
  readonly replace: string;
}

export type HeaderAction = 'add' | 'remove' | 'set' | 'replace';

/** A header rule as configured. */
export interface HeaderRule {
  readonly header: string;
  readonly action: HeaderAction;
  /** `add`, `set`: the value written. */
  readonly value?: string;
  /** `replace`: the pattern on the value; `remove`: only values matching it (default: all). */
  readonly match?: string;
  /** `replace`: the replacement (`$1`… groups). */
  readonly replace?: string;
}

/** One rule as configured. */
export type NormalizeRule = UserRule | HeaderRule;

export interface CompiledUserRule {
  readonly user: UserField;
  readonly re: RegExp;
  readonly replace: string;
}

export interface CompiledHeaderRule {
  /** Canonical key (lower case, long form) and the spelling written. */
  readonly key: string;
  readonly name: string;
  readonly action: HeaderAction;
  readonly value: string;
  readonly re: RegExp | undefined;
  readonly replace: string;
}

/** A rule list, compiled. */
export interface CompiledRules {
  readonly users: readonly CompiledUserRule[];
  readonly headers: readonly CompiledHeaderRule[];
}

export const NO_RULES: CompiledRules = { users: [], headers: [] };

const ACTIONS: readonly HeaderAction[] = ['add', 'remove', 'set', 'replace'];
const USERS: readonly UserField[] = ['ruri', 'to', 'from'];

/** A header value a rule writes: no line break (header injection), at most 1024 characters. */
function valueProblem(v: string): string | undefined {
  if (/[\r\n\0]/.test(v)) return 'a header value cannot hold a line break or NUL';
  if (v.length > 1024) return 'longer than 1024 characters';
  return undefined;
}

/** A rule refused: the key within the rule (`match`, or '' for the rule itself) and why. */
export class RuleProblem extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(problem);
  }
}

function pattern(source: unknown, key: string): RegExp {
  if (typeof source !== 'string') throw new RuleProblem(key, 'a regular expression is needed');
  try {
    return compilePattern(source, key);
  } catch (err) {
    throw new RuleProblem(key, (err as Error).message.slice(key.length + 2));
  }
}

function compileOne(r: NormalizeRule): CompiledUserRule | CompiledHeaderRule {
  const raw = r as unknown as Record<string, unknown>;
  if ('user' in raw && 'header' in raw)
    throw new RuleProblem('', 'a rule rewrites a user or a header, not both');
  if ('user' in raw) {
    const u = r as UserRule;
    if (!USERS.includes(u.user))
      throw new RuleProblem('user', `unknown user "${String(u.user)}" (ruri, to, from)`);
    if (typeof u.replace !== 'string') throw new RuleProblem('replace', 'missing');
    const rp = valueProblem(u.replace);
    if (rp) throw new RuleProblem('replace', rp);
    return { user: u.user, re: pattern(u.match, 'match'), replace: u.replace };
  }
  if (!('header' in raw)) throw new RuleProblem('', 'a rule names user: or header:');
  const h = r as HeaderRule;
  if (typeof h.header !== 'string') throw new RuleProblem('header', 'a header name is needed');
  const problem = headerNameProblem(h.header);
  if (problem) throw new RuleProblem('header', problem);
  if (!ACTIONS.includes(h.action))
    throw new RuleProblem(
      'action',
      `unknown header action "${String(h.action)}" (add, remove, set, replace)`,
    );
  const key = canonicalHeaderName(h.header);
  const needs = (k: 'value' | 'match' | 'replace'): string => {
    const v = h[k];
    if (typeof v !== 'string') throw new RuleProblem(k, `${h.action} needs ${k}`);
    return v;
  };
  const value = h.action === 'add' || h.action === 'set' ? needs('value') : '';
  const vp = valueProblem(value);
  if (vp) throw new RuleProblem('value', vp);
  const replace = h.action === 'replace' ? needs('replace') : '';
  const rp = valueProblem(replace);
  if (rp) throw new RuleProblem('replace', rp);
  const match = h.action === 'replace' ? needs('match') : h.match;
  return {
    key,
    name: h.header.length === 1 ? displayHeaderName(key) : h.header,
    action: h.action,
    value,
    re: match === undefined ? undefined : pattern(match, 'match'),
    replace,
  };
}

/** Why one rule is refused (the key within it and the reason), or undefined. */
export function ruleProblem(r: NormalizeRule): RuleProblem | undefined {
  try {
    compileOne(r);
    return undefined;
  } catch (err) {
    if (err instanceof RuleProblem) return err;
    throw err;
  }
}

/**
 * Compiles the `normalize` rules of `where` (`sbc.zones[1]`); throws a TypeError naming the rule
 * and the key when one is not valid (`sbc.zones[1].normalize[3].match: …`).
 */
export function compileRules(
  rules: readonly NormalizeRule[] | undefined,
  where: string,
): CompiledRules {
  const users: CompiledUserRule[] = [];
  const headers: CompiledHeaderRule[] = [];
  (rules ?? []).forEach((r, i) => {
    let c: CompiledUserRule | CompiledHeaderRule;
    try {
      c = compileOne(r);
    } catch (err) {
      if (!(err instanceof RuleProblem)) throw err;
      const key = `${where}.normalize[${i}]${err.key ? `.${err.key}` : ''}`;
      throw new TypeError(`${key}: ${err.problem}`);
    }
    if ('user' in c) users.push(c);
    else headers.push(c);
  });
  return { users, headers };
}

/** Applies every rewrite of `field` in order (each on the result of the one before). */
export function normalizeUser(
  rules: readonly CompiledUserRule[] | CompiledRules,
  field: UserField,
  user: string | undefined,
): string | undefined {
  if (user === undefined) return undefined;
  const list = 'users' in rules ? rules.users : rules;
  let out = user;
  for (const r of list) if (r.user === field) out = out.replace(r.re, r.replace);
  return out;
}

/** Applies header rules in order to a field list (a new list; the input is not changed). */
export function applyHeaderRules(
  rules: readonly CompiledHeaderRule[] | CompiledRules,
  fields: readonly HeaderPair[],
): HeaderPair[] {
  const list = 'headers' in rules ? rules.headers : rules;
  let out: HeaderPair[] = [...fields];
  for (const r of list) {
    const is = ([n]: HeaderPair): boolean => canonicalHeaderName(n) === r.key;
    switch (r.action) {
      case 'add':
        out.push([r.name, r.value]);
        break;
      case 'remove':
        out = out.filter((f) => !is(f) || (r.re !== undefined && !r.re.test(f[1])));
        break;
      case 'set': {
        const at = out.findIndex(is);
        out = out.filter((f) => !is(f));
        out.splice(at < 0 ? out.length : at, 0, [r.name, r.value]);
        break;
      }
      case 'replace':
        out = out.map((f) => (is(f) ? [f[0], f[1].replace(r.re as RegExp, r.replace)] : f));
        break;
    }
  }
  return out;
}
