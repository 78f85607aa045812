/**
 * A trunk's codec policy (codec-policy.ts) on a call's media, wired in three places:
 *
 * - the first offer toward each trunk tried (`trunkOffer`): filtered per trunk, since a failover
 *   may go to a trunk with another policy; no codec left → that trunk is skipped, and the last
 *   one answers the caller 488 with `Warning: 305` (RFC 3261 §20.43);
 * - every later SDP toward the trunk (`trunkMedia`): the answer in a late offer's ACK, re-INVITE
 *   offers and answers — filtered by the policy of the trunk leg B is on;
 * - the engine's transcoding (`trunkLegProfile`): when the engine transcodes some allowed codec
 *   (`capabilities.transcode`), leg B's profile asks it to add those to the trunk-side offer
 *   (`LegProfile.codecs.transcode`, rtpengine's `codec-transcode-…`), so a caller without the
 *   trunk's codec is transcoded on the trunk leg instead of refused. The caller's leg is never
 *   filtered: the policy is the trunk's.
 */
import type { LegProfile, MediaEngine } from '@tfx/media';
import type { MediaPath } from './anchor.js';
import { applyCodecPolicy, noPolicy, withCodecPolicy } from './codec-policy.js';
import type { TrunkSpec } from './types.js';

/** Formats that are not codecs (never asked of the transcoder). */
const AUX = /^(telephone-event|cn|red|rtx|ulpfec|flexfec)$/i;

export type TrunkOffer =
  | { readonly ok: true; readonly sdp: string | undefined }
  | { readonly ok: false; readonly reason: string; readonly headers: [string, string][] };

/** The offer toward `trunk` (undefined: a late offer, untouched); `host`: the caller's zone's. */
export function trunkOffer(sdp: string | undefined, trunk: TrunkSpec, host: string): TrunkOffer {
  if (sdp === undefined || noPolicy(trunk.codecs)) return { ok: true, sdp };
  const r = applyCodecPolicy(sdp, trunk.codecs);
  if (r.ok) return { ok: true, sdp: r.sdp };
  return {
    ok: false,
    reason: r.reason,
    // Nothing of the trunk's side (its zone's address, its policy) reaches the caller.
    headers: [['Warning', `305 ${host} "Incompatible media format"`]],
  };
}

/** The call's media path with the policy of the trunk leg B is on (unchanged without any). */
export function trunkMedia(
  engine: MediaEngine,
  trunks: readonly TrunkSpec[],
  trunkOf: (mediaId: string) => TrunkSpec | undefined,
): MediaPath {
  if (trunks.every((t) => noPolicy(t.codecs))) return engine;
  return withCodecPolicy(engine, (id) => {
    const t = trunkOf(id);
    return t && { policy: t.codecs, trunk: t.name };
  });
}

/**
 * Leg B's profile: the allowed codecs of the route's trunks that the engine transcodes are added
 * to `codecs.transcode` (the engine offers them too and converts when the trunk picks one).
 */
export function trunkLegProfile(
  profile: LegProfile,
  trunks: readonly TrunkSpec[],
  engine: MediaEngine,
): LegProfile {
  const can = new Set(engine.capabilities.transcode.map((c) => c.toLowerCase()));
  const add: string[] = [];
  for (const t of trunks)
    for (const c of t.codecs?.allow ?? [])
      if (!AUX.test(c) && can.has(c.toLowerCase()) && !add.some((x) => eq(x, c))) add.push(c);
  if (add.length === 0) return profile;
  const own = profile.codecs?.transcode ?? [];
  return {
    ...profile,
    codecs: {
      ...profile.codecs,
      transcode: [...own, ...add.filter((c) => !own.some((o) => eq(o, c)))],
    },
  };
}

function eq(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
