/**
 * Routes: which trunks a call that entered through a zone goes to. Pure: the first route whose
 * zone (and user pattern, if any) matches gives the trunks, in the order they are tried.
 */
import { compilePattern } from './pattern.js';
import type { RouteSpec, TrunkSpec } from './types.js';

export interface CompiledRoute {
  readonly zone: string;
  readonly user: RegExp | undefined;
  readonly trunks: readonly TrunkSpec[];
}

/** Compiles routes against the trunks; throws naming the route when a trunk or pattern is bad. */
export function compileRoutes(
  routes: readonly RouteSpec[],
  trunks: readonly TrunkSpec[],
): CompiledRoute[] {
  const byName = new Map(trunks.map((t) => [t.name, t]));
  return routes.map((r, i) => {
    const user =
      r.match.user === undefined
        ? undefined
        : compilePattern(r.match.user, `sbc.routes[${i}].match.user`);
    const list = r.to.map((name) => {
      const t = byName.get(name);
      if (!t) throw new TypeError(`sbc.routes[${i}].to: no trunk named ${name}`);
      return t;
    });
    return { zone: r.match.zone, user, trunks: list };
  });
}

/** The trunks for a call from `zone` to `user` (empty: no route). */
export function selectTrunks(
  routes: readonly CompiledRoute[],
  zone: string,
  user: string | undefined,
): readonly TrunkSpec[] {
  for (const r of routes) {
    if (r.zone !== zone) continue;
    if (r.user && !r.user.test(user ?? '')) continue;
    return r.trunks;
  }
  return [];
}
