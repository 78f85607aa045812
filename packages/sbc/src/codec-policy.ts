/**
 * Per-trunk codec policy (docs/sbc.md, "Upstream registration and per-trunk codecs"): the SDP the
 * SBC sends toward a trunk — its offer and its answer — keeps only the codecs the trunk allows,
 * in the trunk's order. Pure: text in, text or a refusal out; the raw lines that are not touched
 * pass byte for byte.
 *
 * RFC 3264 §5.1: "the offerer ... MUST list the formats in order of preference" — `order` puts
 * the preferred first. A media section left with no codec is disabled as §8.2 disables a stream
 * ("port of zero", one format kept: the m-line's grammar needs one); when every RTP section that
 * was active is disabled there is no common codec, and the caller gets 488 (RFC 3261 §21.4.26)
 * with `Warning: 305` (§20.43, "Incompatible media format"). Non-RTP sections (T.38 `udptl`,
 * data channels) are left as they are; `telephone-event`, `CN`, `red`, `rtx`, `ulpfec` and
 * `flexfec` are kept only when allowed and never count as a codec by themselves.
 */
import { TfxError } from '@tfx/protocol';
import type { MediaPath } from './anchor.js';

/** `trunks[].codecs`. Names as in `a=rtpmap` (PCMU, PCMA, G722, opus, telephone-event), any case. */
export interface CodecPolicy {
  /** Codecs that may be sent toward the trunk; every other one is removed. */
  readonly allow: readonly string[];
  /** Preference: these first, in this order; allowed codecs not named keep their place after. */
  readonly order?: readonly string[];
}

export type CodecPolicyResult =
  | { readonly ok: true; readonly sdp: string; readonly removed: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** RFC 3551 §6 static payload types (those a phone may send without an rtpmap). */
const STATIC: Readonly<Record<number, string>> = {
  0: 'pcmu',
  3: 'gsm',
  4: 'g723',
  5: 'dvi4',
  6: 'dvi4',
  7: 'lpc',
  8: 'pcma',
  9: 'g722',
  10: 'l16',
  11: 'l16',
  12: 'qcelp',
  13: 'cn',
  14: 'mpa',
  15: 'g728',
  16: 'dvi4',
  17: 'dvi4',
  18: 'g729',
  25: 'celb',
  26: 'jpeg',
  28: 'nv',
  31: 'h261',
  32: 'mpv',
  33: 'mp2t',
  34: 'h263',
};

/** Formats that carry no media of their own: kept when allowed, never a codec in common. */
const AUXILIARY = new Set(['telephone-event', 'cn', 'red', 'rtx', 'ulpfec', 'flexfec']);

/** Larger SDP is refused (a SIP message is bounded well below this anyway). */
const MAX_SDP = 64 * 1024;

const M_LINE = /^m=(\S+) (\d+)(\/\d+)? (\S+)((?: \S+)*)\s*$/;
const PT_ATTR = /^a=(rtpmap|fmtp|rtcp-fb):(\d{1,3})(?:\s|$)/i;

/** Whether the policy leaves the SDP as it is (no policy, or nothing to filter). */
export function noPolicy(p: CodecPolicy | undefined): p is undefined {
  return p === undefined || p.allow.length === 0;
}

/** Filters `sdp` by `policy` (see the file comment). Never throws. */
export function applyCodecPolicy(sdp: string, policy: CodecPolicy): CodecPolicyResult {
  if (sdp.length > MAX_SDP) return { ok: false, reason: 'SDP too large' };
  const allow = new Set(policy.allow.map(norm));
  const order = (policy.order ?? []).map(norm);
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const trailing = sdp.endsWith(eol);
  const lines = sdp.split(/\r?\n/);
  if (trailing) lines.pop();
  // Sections: [session lines], then each m= with its lines.
  const sections: string[][] = [[]];
  for (const l of lines) {
    if (l.startsWith('m=')) sections.push([l]);
    else (sections[sections.length - 1] as string[]).push(l);
  }
  const out: string[] = [...(sections[0] as string[])];
  const removed = new Set<string>();
  let activeBefore = 0;
  let activeAfter = 0;
  for (const sec of sections.slice(1)) {
    const m = M_LINE.exec(sec[0] as string);
    const [, media, port, count, proto, fmtText] = m ?? [];
    // Not an RTP section, or not one we can read: passed as it is.
    if (!m || !/RTP/i.test(proto as string) || port === '0') {
      out.push(...sec);
      continue;
    }
    activeBefore++;
    const fmts = (fmtText as string).trim().split(' ').filter(Boolean);
    const names = namesOf(sec);
    const nameOf = (pt: string): string => names.get(pt) ?? STATIC[Number(pt)] ?? `pt${pt}`;
    let kept = fmts.filter((pt) => /^\d{1,3}$/.test(pt) && allow.has(nameOf(pt)));
    for (const pt of fmts) if (!kept.includes(pt)) removed.add(nameOf(pt));
    kept = [...new Set(kept)];
    if (order.length > 0) {
      const rank = (pt: string): number => {
        const i = order.indexOf(nameOf(pt));
        return i < 0 ? order.length : i;
      };
      kept = kept
        .map((pt, i) => ({ pt, i }))
        .sort((x, y) => rank(x.pt) - rank(y.pt) || x.i - y.i)
        .map((x) => x.pt);
    }
    const usable = kept.some((pt) => !AUXILIARY.has(nameOf(pt)));
    if (!usable) {
      // §8.2: the stream is disabled (port 0), one format kept for the m-line's grammar.
      const one = kept[0] ?? fmts[0] ?? '0';
      out.push(`m=${media} 0 ${proto} ${one}`);
      out.push(...sec.slice(1).filter((l) => keepAttr(l, new Set([one]))));
      continue;
    }
    activeAfter++;
    out.push(`m=${media} ${port}${count ?? ''} ${proto} ${kept.join(' ')}`);
    const keep = new Set(kept);
    out.push(...sec.slice(1).filter((l) => keepAttr(l, keep)));
  }
  if (activeBefore > 0 && activeAfter === 0)
    return {
      ok: false,
      reason: `no common codec (allowed: ${policy.allow.join(', ') || 'none'})`,
    };
  return { ok: true, sdp: out.join(eol) + (trailing ? eol : ''), removed: [...removed] };
}

/** The SDP for a trunk, or a TfxError `media-not-acceptable` (488) when no codec is left. */
export function sdpForTrunk(sdp: string, policy: CodecPolicy | undefined, trunk: string): string {
  if (noPolicy(policy)) return sdp;
  const r = applyCodecPolicy(sdp, policy);
  if (!r.ok) throw new TfxError('media-not-acceptable', `trunk ${trunk}: ${r.reason}`);
  return r.sdp;
}

/**
 * A call's media path whose SDP toward leg B (tag `b`) is filtered by the policy of the trunk
 * leg B is on at that moment (`policyOf`): offers from A (re-INVITEs) and answers to B's offers
 * (a late offer's ACK, B's re-INVITEs). The first offer is filtered per trunk when it is sent.
 */
export function withCodecPolicy(
  path: MediaPath,
  policyOf: (callId: string) => { policy: CodecPolicy | undefined; trunk: string } | undefined,
): MediaPath {
  const filter = (callId: string, sdp: string): string => {
    const p = policyOf(callId);
    return p ? sdpForTrunk(sdp, p.policy, p.trunk) : sdp;
  };
  return {
    offer: async (r) => {
      const res = await path.offer(r);
      return r.fromTag === 'a' ? { ...res, sdp: filter(r.callId, res.sdp) } : res;
    },
    answer: async (r) => {
      const res = await path.answer(r);
      return r.fromTag === 'b' ? { ...res, sdp: filter(r.callId, res.sdp) } : res;
    },
    delete: (k) => path.delete(k),
    ...(path.query && { query: path.query.bind(path) }),
  };
}

function norm(name: string): string {
  return name.trim().split('/')[0]?.toLowerCase() ?? '';
}

/** Payload type → codec name (lowercase) from the section's rtpmap lines. */
function namesOf(sec: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const l of sec) {
    const m = /^a=rtpmap:(\d{1,3}) +([^/\s]+)/i.exec(l);
    if (m && !names.has(m[1] as string)) names.set(m[1] as string, (m[2] as string).toLowerCase());
  }
  return names;
}

/** An attribute line stays unless it names a payload type that was removed. */
function keepAttr(line: string, kept: ReadonlySet<string>): boolean {
  const m = PT_ATTR.exec(line);
  return !m || kept.has(String(Number(m[2])));
}
