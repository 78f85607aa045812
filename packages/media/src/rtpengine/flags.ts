/**
 * Leg profiles → ng offer/answer keys (rtpengine docs/ng_control_protocol.md, "offer" message).
 * Pure. The same mapping production SBCs use: toward a browser `UDP/TLS/RTP/SAVPF`, `ICE=force`,
 * `DTLS=passive` in offers only (answers follow the offer's a=setup, see `answerKeys`), `SDES-off`, `rtcp-mux-require`, `generate mid`, `no-rtcp-attribute`; toward SIP `RTP/AVP`,
 * `ICE=remove`, `DTLS=off`, `SDES-off`, `rtcp-mux-demux` (jambonz sbc-inbound, the Kamailio recipe).
 */
import type { LegProfile } from '../engine/types.js';
import type { BValue } from './bencode.js';

export interface FlagOptions {
  /** rtpengine logical interface name per zone (`direction`), when the daemon has several. */
  readonly interfaces?: Readonly<Record<string, string>>;
  /** Add `inject DTMF` (needed by `play DTMF`; routes audio through rtpengine's codec engine). */
  readonly injectDtmf?: boolean;
  /** The TOS byte of the call's media (ng `TOS`, DSCP << 2: EF = 184); unset: the daemon's. */
  readonly tos?: number;
}

type Body = Record<string, BValue | undefined>;

function interfaceOf(p: LegProfile, o: FlagOptions): string | undefined {
  return p.zone !== undefined ? o.interfaces?.[p.zone] : undefined;
}

/** Keys shared by offer and answer: how the SDP toward `to` is written and how media is guarded. */
function common(from: LegProfile, to: LegProfile, o: FlagOptions): { body: Body; flags: string[] } {
  const flags: string[] = ['trust-address'];
  const body: Body = {
    // topology hiding: o= and the session c= carry the engine's address, never the party's
    replace: ['origin', 'session-connection'],
  };
  // ICE toward `to`.
  if (to.ice === 'remove') body.ICE = 'remove';
  else body.ICE = 'force';
  // DTLS-SRTP toward `to` (RFC 5763 a=setup): passive = server; active = client; off = none.
  if (to.dtls === 'off') body.DTLS = 'off';
  else if (to.dtls === 'passive') body.DTLS = 'passive';
  else if (to.dtls === 'active') body.DTLS = 'active';
  // SDES toward `to`: only offered when asked for.
  if ((to.sdes ?? 'off') === 'off') body.SDES = ['off'];
  if (to.transport === 'UDP/TLS/RTP/SAVPF') flags.push('generate-mid');
  // RFC 5761 §5.1.3: with rtcp-mux required the `a=rtcp:` line names the RTP port again; rtpengine
  // writes it without an address, which some WebRTC stacks refuse to parse (werift 0.24).
  if (to.rtcpMux === 'require') flags.push('no-rtcp-attribute');
  // Strict latching: rtpengine learns the endpoint from the first packet (`immediate`) and then
  // drops packets from any other source ("strict source"); RTP Bleed, CVE-2017-14114.
  // `off`: media goes to the SDP address only (no learning), and other sources are dropped too.
  flags.push('strict-source');
  // A party's new port (a browser's ICE restart gathers new candidates, so its m= port moves)
  // must not move the engine's ports: rtpengine would otherwise open new ones toward the other
  // party and re-INVITE it needlessly. Latching learns the party's new source anyway.
  flags.push('port-latching');
  const learning = from.latching === 'strict' || to.latching === 'strict' ? 'immediate' : 'off';
  body['endpoint-learning'] = learning;
  flags.push(`endpoint-learning-${learning}`);
  if (o.injectDtmf) flags.push('inject-DTMF');
  if (to.family) body['address family'] = to.family;
  else if (to.mediaAddress.includes(':')) body['address family'] = 'IP6';
  else body['address family'] = 'IP4';
  return { body, flags };
}

/** The ng `offer` keys for an SDP going from `from` to `to`. */
export function offerKeys(from: LegProfile, to: LegProfile, o: FlagOptions = {}): Body {
  const { body, flags } = common(from, to, o);
  if (o.tos !== undefined) body.TOS = o.tos; // docs/sbc.md, "Admission control and QoS"
  body['transport-protocol'] = to.transport;
  if (to.ice === 'lite') body['ICE-lite'] = 'forward';
  body['rtcp-mux'] = [to.rtcpMux];
  if (to.ptime !== undefined) body.ptime = to.ptime;
  const codec: Record<string, string[]> = {};
  if (to.codecs?.offer?.length) {
    codec.strip = ['all'];
    codec.offer = [...to.codecs.offer];
  }
  if (to.codecs?.strip?.length) codec.strip = [...(codec.strip ?? []), ...to.codecs.strip];
  if (to.codecs?.transcode?.length) codec.transcode = [...to.codecs.transcode];
  if (Object.keys(codec).length > 0) body.codec = codec;
  const fi = interfaceOf(from, o);
  const ti = interfaceOf(to, o);
  if (fi !== undefined && ti !== undefined) body.direction = [fi, ti];
  body.flags = flags;
  return body;
}

/** The ng `answer` keys for an answer SDP going from the answerer (`from`) back to the offerer (`to`). */
export function answerKeys(from: LegProfile, to: LegProfile, o: FlagOptions = {}): Body {
  const { body, flags } = common(from, to, o);
  // Answering a DTLS offerer, rtpengine is never told `passive`: while it processes the offer it
  // already runs ICE and sends a ClientHello toward the offerer (its default active role), and
  // Chromium takes a ClientHello that comes before the answer as the peer choosing the client
  // role (RFC 5763 §5: the offerer "MUST … be prepared to receive a client_hello before it
  // receives the answer"); an answer then saying `passive` leaves both sides waiting as servers
  // (seen here with Chromium; rtpengine#2145, #211; its maintainer in #1038: passive "is only
  // meant as a workaround"). Without the key rtpengine answers `active` to `actpass` (what
  // RFC 5763 §5 recommends) and `passive` to `active`: the role follows the offer's a=setup.
  if (body.DTLS === 'passive') delete body.DTLS;
  if (to.rtcpMux === 'require') body['rtcp-mux'] = ['require'];
  body.flags = flags;
  return body;
}

/**
 * RFC 3264 §6: an offer's m-line the offerer's side cannot take is rejected with port 0, never
 * answered `inactive` (sems#132). rtpengine would turn a Polycom-style dual offer (the same media
 * as RTP/SAVP and as RTP/AVP) into two live streams; when the offering side's profile does not
 * terminate SDES, the SAVP line of such a pair is set to port 0 before rtpengine sees it (and so
 * stays rejected through to the answer). Returns the SDP and how many lines were rejected.
 */
export function rejectUnwantedSavp(
  sdp: string,
  from: LegProfile,
): { sdp: string; rejected: number } {
  if (from.sdes === 'terminate' || from.transport !== 'RTP/AVP') return { sdp, rejected: 0 };
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const ms: { i: number; media: string; proto: string }[] = [];
  lines.forEach((l, i) => {
    const m = /^m=(\S+) (\d+)(?:\/\d+)? (\S+) /.exec(l);
    if (m && m[2] !== '0') ms.push({ i, media: m[1] as string, proto: m[3] as string });
  });
  let rejected = 0;
  for (const m of ms) {
    if (m.proto !== 'RTP/SAVP' && m.proto !== 'RTP/SAVPF') continue;
    const plain = ms.some(
      (x) => x.media === m.media && (x.proto === 'RTP/AVP' || x.proto === 'RTP/AVPF'),
    );
    if (!plain) continue;
    lines[m.i] = (lines[m.i] as string).replace(/^(m=\S+ )\d+/, '$10');
    rejected++;
  }
  return { sdp: rejected ? lines.join(eol) : sdp, rejected };
}

/** Transports of m-lines rtpengine relays; others it would pass through with a port of its own. */
export const RTP_TRANSPORTS: ReadonlySet<string> = new Set([
  'RTP/AVP',
  'RTP/AVPF',
  'RTP/SAVP',
  'RTP/SAVPF',
  'UDP/TLS/RTP/SAVP',
  'UDP/TLS/RTP/SAVPF',
]);

/**
 * RFC 3264 §6: a stream the engine cannot relay (TCP/MSRP, UDPTL, an unknown transport) is
 * rejected with port 0 before rtpengine sees it: rtpengine would give it a port of its own and
 * relay nothing. Pure; the line count and order stay (the answer must match the offer's lines).
 */
export function rejectNonRtp(sdp: string): { sdp: string; rejected: number } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  let rejected = 0;
  lines.forEach((l, i) => {
    const m = /^m=\S+ (\d+)(?:\/\d+)? (\S+)/.exec(l);
    if (m && m[1] !== '0' && !RTP_TRANSPORTS.has(m[2] as string)) {
      lines[i] = l.replace(/^(m=\S+ )\d+(?:\/\d+)?/, '$10');
      rejected++;
    }
  });
  return { sdp: rejected ? lines.join(eol) : sdp, rejected };
}

/** The first `a=setup` value of an SDP (RFC 4145 §4), if any. */
export function setupOf(sdp: string): string | undefined {
  return /^a=setup:(\S+?)\r?$/m.exec(sdp)?.[1];
}

/**
 * RFC 8842 §5.5: a subsequent offer that keeps the DTLS association states the role it has, never
 * `actpass` (which lets the answerer flip the roles and forces a new handshake: rtpengine#1249,
 * #2156). rtpengine 10.5 writes `actpass` into every offer toward a DTLS party, so a re-offer
 * toward a party whose role is settled gets that role back here.
 */
export function keepSetup(sdp: string, role: 'active' | 'passive'): string {
  return sdp.replace(/^a=setup:actpass(?=\r?$)/gm, `a=setup:${role}`);
}
