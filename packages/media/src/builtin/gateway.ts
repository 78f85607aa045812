/**
 * The WebRTC ↔ RTP gateway's negotiation, pure: which codecs go toward a browser and toward a
 * phone, which codec each side is answered with (passthrough when the two share one, Opus ↔ G.711
 * otherwise), and what a worker side must transcode. docs/media.md, "WebRTC legs".
 */
import type { LegProfile } from '../engine/types.js';
import type { CodecPlan } from '../sdp/rewrite.js';
import type { SideTranscode, CodecRef } from './protocol.js';
import { isTelephoneEvent, mainCodec } from './negotiate.js';

export const WEBRTC_TRANSPORT = 'UDP/TLS/RTP/SAVPF';

/** The codecs the built-in engine transcodes between. */
export const TRANSCODABLE: readonly string[] = ['PCMU', 'PCMA', 'opus'];

export function isWebRtc(p: LegProfile): boolean {
  return p.transport === WEBRTC_TRANSPORT;
}

const OPUS: CodecPlan = {
  pt: 111,
  encoding: 'opus',
  clockRate: 48000,
  channels: 2,
  fmtp: 'minptime=10;useinbandfec=1',
};
const PCMU: CodecPlan = { pt: 0, encoding: 'PCMU', clockRate: 8000 };
const PCMA: CodecPlan = { pt: 8, encoding: 'PCMA', clockRate: 8000 };

const is = (c: CodecPlan, enc: string, rate?: number): boolean =>
  c.encoding.toLowerCase() === enc.toLowerCase() && (rate === undefined || c.clockRate === rate);

function freePt(list: readonly CodecPlan[], want: number): number {
  const used = new Set(list.map((c) => c.pt));
  if (!used.has(want)) return want;
  for (let pt = 96; pt < 128; pt++) if (!used.has(pt)) return pt;
  return -1;
}

function add(list: CodecPlan[], c: CodecPlan): void {
  const pt = freePt(list, c.pt);
  if (pt >= 0) list.push({ ...c, pt });
}

/**
 * Toward a browser: the offer's codecs first (a browser that takes PCMU/PCMA gives passthrough),
 * then Opus (transcoded) and telephone-event/48000 beside an 8 kHz one (RFC 7874 §3: browsers
 * support PCMU, PCMA and Opus; RFC 4733 events at the Opus clock).
 */
export function towardBrowser(list: readonly CodecPlan[], transcode: boolean): CodecPlan[] {
  const out = [...list];
  if (!transcode) return out;
  if (!out.some((c) => is(c, 'opus', 48000))) add(out, OPUS);
  if (
    out.some((c) => isTelephoneEvent(c)) &&
    !out.some((c) => isTelephoneEvent(c) && c.clockRate === 48000)
  )
    add(out, { pt: 110, encoding: 'telephone-event', clockRate: 48000, fmtp: '0-15' });
  return out;
}

/**
 * Toward a plain-RTP phone from a browser's offer: PCMU and PCMA (those the browser offered keep
 * their place, the others are added and transcoded) and telephone-event/8000; Opus and other
 * browser codecs are not offered to phones.
 */
export function towardPhone(list: readonly CodecPlan[], transcode: boolean): CodecPlan[] {
  const out = list.filter(
    (c) =>
      is(c, 'PCMU', 8000) || is(c, 'PCMA', 8000) || (isTelephoneEvent(c) && c.clockRate === 8000),
  );
  if (!transcode) return out;
  if (!out.some((c) => is(c, 'PCMU'))) add(out, PCMU);
  if (!out.some((c) => is(c, 'PCMA'))) add(out, PCMA);
  if (list.some(isTelephoneEvent) && !out.some(isTelephoneEvent))
    add(out, { pt: 101, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' });
  return out;
}

/**
 * A leg profile's `codecs.transcode` (plain legs too): the named codecs the engine transcodes
 * (PCMU, PCMA, Opus) are added to the offer toward that leg when missing, with telephone-event
 * at 8 kHz when the offer carried events at another clock only.
 */
export function withTranscoded(list: readonly CodecPlan[], names: readonly string[]): CodecPlan[] {
  const out = [...list];
  for (const n of names) {
    const c = is(PCMU, n) ? PCMU : is(PCMA, n) ? PCMA : is(OPUS, n) ? OPUS : undefined;
    if (c && !out.some((x) => is(x, c.encoding, c.clockRate))) add(out, c);
  }
  const narrow = out.some((c) => is(c, 'PCMU') || is(c, 'PCMA'));
  if (
    narrow &&
    out.some(isTelephoneEvent) &&
    !out.some((c) => isTelephoneEvent(c) && c.clockRate === 8000)
  )
    add(out, { pt: 101, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' });
  return out;
}

/**
 * What the offerer is answered with when the answerer chose codecs it does not have: its own
 * first transcodable codec (Opus before G.711) and its telephone-event at that codec's clock.
 */
export function transcodeAnswer(offerer: readonly CodecPlan[]): CodecPlan[] {
  const main =
    offerer.find((c) => is(c, 'opus', 48000)) ??
    offerer.find((c) => is(c, 'PCMU', 8000)) ??
    offerer.find((c) => is(c, 'PCMA', 8000));
  if (!main) return [];
  const te = offerer.find((c) => isTelephoneEvent(c) && c.clockRate === main.clockRate);
  return te ? [main, te] : [main];
}

const ref = (c: CodecPlan): CodecRef => ({
  pt: c.pt,
  encoding: c.encoding,
  clockRate: c.clockRate,
});

/**
 * For packets from a side that receives (and so sends, RFC 3264 §5.1 symmetric use) `mine` to a
 * side that receives `peer`: the transcoding, or undefined when it is plain passthrough.
 */
export function transcodeFor(
  mine: readonly CodecPlan[],
  peer: readonly CodecPlan[],
): SideTranscode | undefined {
  const a = mainCodec(mine);
  const b = mainCodec(peer);
  if (!a || !b) return undefined;
  const ta =
    mine.find((c) => isTelephoneEvent(c) && c.clockRate === a.clockRate) ??
    mine.find(isTelephoneEvent);
  const tb =
    peer.find((c) => isTelephoneEvent(c) && c.clockRate === b.clockRate) ??
    peer.find(isTelephoneEvent);
  const codecDiffers = !is(a, b.encoding, b.clockRate);
  const eventDiffers = !!ta && !!tb && ta.clockRate !== tb.clockRate;
  if (!codecDiffers && !eventDiffers) return undefined;
  if (codecDiffers && !(TRANSCODABLE.some((n) => is(a, n)) && TRANSCODABLE.some((n) => is(b, n))))
    return undefined;
  return {
    from: ref(a),
    to: ref(codecDiffers ? b : a),
    ...(ta && tb ? { teFrom: ref(ta), teTo: ref(tb) } : {}),
  };
}

/**
 * Whether the offerer keeps the codecs it was answered with earlier (`told`) instead of `next`:
 * both have a main codec the engine transcodes, and they differ (the same one: nothing to keep).
 */
export function keepsAnswer(told: readonly CodecPlan[], next: readonly CodecPlan[]): boolean {
  const a = mainCodec(told);
  const b = mainCodec(next);
  if (!a || !b || is(a, b.encoding, b.clockRate)) return false;
  return TRANSCODABLE.some((n) => is(a, n)) && TRANSCODABLE.some((n) => is(b, n));
}
