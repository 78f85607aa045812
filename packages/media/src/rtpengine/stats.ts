/**
 * rtpengine `query` replies → {@link CallStats}. Pure; tolerant of missing keys (a party that has
 * not signalled yet, an inactive stream without a port) and of hostile values (never throws).
 *
 * Where rtpengine keeps what (daemon/call_interfaces.c ng_call_stats, daemon/ssrc.c):
 * - `tags.<tag>.medias[].streams[]`: per party, the engine's socket facing it (`local address`,
 *   `local port`), where media to it goes (`endpoint`), the packets/bytes/errors received from it
 *   (`stats`), the SSRC it sends (`SSRC`), and flags (`confirmed` once the endpoint is learned).
 * - `SSRC.<ssrc>`: filled from RTCP receiver reports. The RR *sender* is the key: its
 *   `average MOS` (MOS ×10, `round-trip time` µs end to end, `jitter` ms, `packet loss` %) and
 *   `cumulative loss` describe the stream it receives, i.e. the other party's stream. So the MOS
 *   of party P's stream is found under the SSRC of the party subscribed to P.
 */
import type { CallStats, LegStats, LegProfile } from '../engine/types.js';
import type { BDict, BValue } from './bencode.js';

const dict = (v: BValue | undefined): BDict | undefined =>
  typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v)
    ? (v as BDict)
    : undefined;
const list = (v: BValue | undefined): readonly BValue[] =>
  Array.isArray(v) ? (v as BValue[]) : [];
const num = (v: BValue | undefined): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: BValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

interface Party {
  tag: string;
  rtp: BDict | undefined;
  media: BDict | undefined;
  subscribers: string[];
}

function partyOf(tag: string, d: BDict): Party {
  const media = dict(list(d.medias)[0]);
  const streams = list(media?.streams).map(dict);
  const rtp = streams.find((s) => list(s?.flags).includes('RTP')) ?? streams[0];
  const subscribers = list(d.subscribers)
    .map((s) => str(dict(s)?.tag))
    .filter((t): t is string => t !== undefined);
  const dialogue = str(d['in dialogue with']);
  if (subscribers.length === 0 && dialogue !== undefined) subscribers.push(dialogue);
  return { tag, rtp, media, subscribers };
}

/**
 * The party's SDP direction from its media flags. rtpengine's flags are the engine's view (measured
 * on 10.5.3.5: a party that offered `sendonly` has `recv`, the one answering `recvonly` has
 * `send`): `recv` = the engine receives from the party = the party sends.
 */
function direction(media: BDict | undefined): LegStats['direction'] {
  const f = list(media?.flags);
  const send = f.includes('recv');
  const recv = f.includes('send');
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}

/** Maps a `query` (or `delete`) reply. `zones` names each tag's zone when the engine knows it. */
export function callStatsOf(
  callId: string,
  reply: BDict,
  zones: ReadonlyMap<string, LegProfile | undefined> = new Map(),
): CallStats {
  const tags = dict(reply.tags) ?? {};
  const parties = Object.entries(tags)
    .filter(([tag]) => tag !== '')
    .map(([tag, v]) => partyOf(tag, dict(v) ?? {}));
  const byTag = new Map(parties.map((p) => [p.tag, p]));
  const ssrcs = dict(reply.SSRC) ?? {};
  const legs = parties.map((p): LegStats => {
    const s = dict(p.rtp?.stats);
    const ep = dict(p.rtp?.endpoint);
    const ssrcIn = num(p.rtp?.SSRC);
    // What this party receives: the packets its peers sent to the engine.
    let packetsOut = 0;
    let bytesOut = 0;
    for (const sub of p.subscribers) {
      const os = dict(byTag.get(sub)?.rtp?.stats);
      packetsOut += num(os?.packets) ?? 0;
      bytesOut += num(os?.bytes) ?? 0;
    }
    // Quality of this party's stream, as its receiver reported it (RTCP RR, see above).
    const receiver = p.subscribers
      .map((t) => num(byTag.get(t)?.rtp?.SSRC))
      .find((x) => x !== undefined);
    const q = receiver !== undefined ? dict(ssrcs[String(receiver)]) : undefined;
    const avg = dict(q?.['average MOS']);
    const mos = num(avg?.MOS);
    const rttUs = num(avg?.['round-trip time']);
    const zone = zones.get(p.tag)?.zone;
    const remote =
      str(ep?.address) !== undefined && num(ep?.port) !== undefined
        ? { address: str(ep?.address) as string, port: num(ep?.port) as number }
        : undefined;
    return {
      tag: p.tag,
      ...(zone !== undefined ? { zone } : {}),
      local: {
        address: str(p.rtp?.['local address']) ?? '',
        port: num(p.rtp?.['local port']) ?? 0,
      },
      ...(remote ? { remote } : {}),
      latched: list(p.rtp?.flags).includes('confirmed'),
      direction: direction(p.media),
      ...(str(p.media?.codec) !== undefined ? { codec: str(p.media?.codec) as string } : {}),
      packetsIn: num(s?.packets) ?? 0,
      bytesIn: num(s?.bytes) ?? 0,
      packetsOut,
      bytesOut,
      dropped: num(s?.errors) ?? 0,
      packetsLost: num(q?.['cumulative loss']) ?? 0,
      jitterMs: num(avg?.jitter) ?? 0,
      ...(rttUs !== undefined && rttUs > 0 ? { rttMs: rttUs / 1000 } : {}),
      ...(mos !== undefined && mos > 0 ? { mos: mos / 10 } : {}),
      ...(ssrcIn !== undefined ? { ssrcIn } : {}),
    };
  });
  const created = num(reply.created) ?? 0;
  const createdUs = num(reply.created_us) ?? 0;
  return { callId, createdAt: created * 1000 + Math.floor(createdUs / 1000), legs };
}

/** When each party last sent (rtpengine's `last packet`, unix s; 0 = never) and if it may send. */
export interface PartyActivity {
  readonly tag: string;
  readonly lastPacketMs: number;
  readonly sends: boolean;
}

/** Per party of a `query` reply: the newest `last packet` over its streams, and its direction. */
export function activityOf(reply: BDict): PartyActivity[] {
  const tags = dict(reply.tags) ?? {};
  const created = (num(reply.created) ?? 0) * 1000;
  return Object.entries(tags)
    .filter(([tag]) => tag !== '')
    .map(([tag, v]) => {
      const media = list(dict(v)?.medias).map(dict);
      let last = 0;
      for (const m of media)
        for (const st of list(m?.streams))
          last = Math.max(last, num(dict(st)?.['last packet']) ?? 0);
      // The engine receives from it (`recv`, the engine's view: see direction()).
      const sends = media.some((m) => list(m?.flags).includes('recv'));
      return { tag, lastPacketMs: last > 0 ? last * 1000 : created, sends };
    });
}
