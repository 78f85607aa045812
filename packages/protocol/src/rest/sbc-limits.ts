/**
 * Bounds of the SBC console's contract (rest/sbc-console.ts), zod-free so that the web app can
 * import them from `@tfx/protocol/core`.
 */

/** Most trunks in one statistics sample (the first ones in configuration order that were measured). */
export const SBC_STATS_MAX_TRUNKS = 50;
