/**
 * Normalization rules: regular-expression rewrites of the users a call carries (the Request-URI
 * user, which is also the callee's To, and the caller's From user), declared per zone (applied as
 * the call enters, before routing) and per trunk (applied as it leaves toward the trunk). E.164:
 * `{ user: ruri, match: "^00", replace: "+" }` turns `0044…` into `+44…`. Pure; rules are checked
 * when compiled and a bad one is named.
 */

/** One rule as configured. `replace` may use `$1`… groups. */
export interface NormalizeRule {
  /** Which user: `ruri` (Request-URI and To) or `from`. */
  readonly user: 'ruri' | 'from';
  readonly match: string;
  readonly replace: string;
}

export interface CompiledRule {
  readonly user: 'ruri' | 'from';
  readonly re: RegExp;
  readonly replace: string;
}

/** Compiles rules; throws a TypeError naming `where[i]` when a pattern is not valid. */
export function compileRules(
  rules: readonly NormalizeRule[] | undefined,
  where: string,
): CompiledRule[] {
  return (rules ?? []).map((r, i) => {
    try {
      return { user: r.user, re: new RegExp(r.match), replace: r.replace };
    } catch (err) {
      throw new TypeError(`${where}.normalize[${i}].match: ${(err as Error).message}`);
    }
  });
}

/** Applies every rule for `field` in order (each on the result of the one before). */
export function normalizeUser(
  rules: readonly CompiledRule[],
  field: 'ruri' | 'from',
  user: string | undefined,
): string | undefined {
  if (user === undefined) return undefined;
  let out = user;
  for (const r of rules) if (r.user === field) out = out.replace(r.re, r.replace);
  return out;
}
