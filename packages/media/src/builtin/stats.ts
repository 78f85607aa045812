/**
 * Per-party stats of a call from its sides' worker stats: counters summed over the party's
 * streams, the first stream's jitter/RTT/SSRCs, and the E-model MOS of what the party sent. Pure.
 */
import type { LegProfile, LegStats } from '../engine/types.js';
import type { Direction } from '../sdp/model.js';
import type { CodecPlan } from '../sdp/rewrite.js';
import { emodelMos } from '../rtp/quality.js';
import { mainCodec } from './negotiate.js';
import type { SideStats } from './protocol.js';

export interface StatsStream {
  readonly sideId: number;
  readonly port: number;
  readonly direction: Direction;
  readonly codecs: readonly CodecPlan[];
}

export interface StatsParty {
  readonly tag: string | undefined;
  readonly profile: LegProfile;
  readonly streams: readonly (StatsStream | undefined)[];
}

export function legStats(
  parties: readonly StatsParty[],
  stats: ReadonlyMap<number, SideStats>,
): LegStats[] {
  const legs: LegStats[] = [];
  for (const p of parties) {
    const streams = p.streams.filter((s): s is StatsStream => s !== undefined);
    const first = streams[0];
    if (!first || p.tag === undefined) continue;
    const st = streams.map((s) => stats.get(s.sideId)).filter((s): s is SideStats => !!s);
    const main = st[0];
    const sum = (
      k: 'packetsIn' | 'bytesIn' | 'packetsOut' | 'bytesOut' | 'dropped' | 'packetsLost',
    ) => st.reduce((a, s) => a + s[k], 0);
    const codec = mainCodec(first.codecs);
    legs.push({
      tag: p.tag,
      ...(p.profile.zone ? { zone: p.profile.zone } : {}),
      local: main?.local ?? { address: p.profile.mediaAddress, port: first.port },
      ...(main?.remote ? { remote: main.remote } : {}),
      latched: main?.latched ?? false,
      direction: first.direction,
      ...(codec ? { codec: `${codec.encoding}/${codec.clockRate}` } : {}),
      packetsIn: sum('packetsIn'),
      bytesIn: sum('bytesIn'),
      packetsOut: sum('packetsOut'),
      bytesOut: sum('bytesOut'),
      dropped: sum('dropped'),
      packetsLost: sum('packetsLost'),
      jitterMs: main?.jitterMs ?? 0,
      ...(main?.rttMs !== undefined ? { rttMs: main.rttMs } : {}),
      ...(main && main.packetsIn > 0
        ? {
            mos: emodelMos({
              ...(main.rttMs !== undefined ? { rttMs: main.rttMs } : {}),
              jitterMs: main.jitterMs,
              lossPercent: main.lossPercent,
            }),
          }
        : {}),
      ...(main?.ssrcIn !== undefined ? { ssrcIn: main.ssrcIn } : {}),
      ...(main ? { ssrcOut: main.ssrcOut } : {}),
    });
  }
  return legs;
}
