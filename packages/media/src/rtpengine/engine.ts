/**
 * RtpengineEngine: the MediaEngine contract on one or more rtpengine daemons, over the ng protocol.
 * Every method is one or two ng commands (docs/ng_control_protocol.md); leg profiles become ng
 * keys in ./flags.ts, `query` replies become CallStats in ./stats.ts, and the instance set
 * (./instance-set.ts) places each call on one daemon and keeps it there.
 *
 * What rtpengine cannot do and how it is reported (capabilities and `media-unsupported`):
 * - a late offer with no SDP at all (`sdp: null`): rtpengine rewrites SDP, it never invents one;
 * - WAV recording (needs rtpengine's separate recording daemon): PCAP only, with `recording-dir`;
 * - one egress SSRC across an ingress SSRC change: rtpengine forwards each ingress SSRC as its own
 *   stream (passthrough keeps it; with its codec engine each gets its own `ssrc_map_out`).
 * WebRTC legs (test/contract/suite-webrtc.ts runs on both engines): rtpengine does full ICE (an ICE
 * restart is seen from the new ufrag), DTLS-SRTP with the role following `a=setup`, and counts SRTP
 * auth failures in the stream's `errors`; a re-offer toward a party whose DTLS role is settled gets
 * that role instead of rtpengine's `actpass` (RFC 8842 §5.5, `keepSetup`).
 * Events: `dtmf` from the daemons' DTMF log (engine option `dtmfListen`), `media-timeout` from
 * `last packet` in the periodic `query`, `stats` from that `query` and at delete.
 */
import { createSocket, type Socket } from 'node:dgram';
import { TfxError } from '@tfx/protocol';
import type {
  AnswerRequest,
  CallKey,
  CallStats,
  DtmfOptions,
  LegKey,
  LegProfile,
  MediaAddress,
  MediaCapabilities,
  MediaEngine,
  MediaEngineEventName,
  MediaEngineEvents,
  OfferRequest,
  PlayOptions,
  PlaySource,
  RecordOptions,
  RecordResult,
  SdpResult,
} from '../engine/types.js';
import { MediaEventHub } from '../engine/events.js';
import type { BDict, BValue } from './bencode.js';
import { NgError, parseNgUrl } from './ng-client.js';
import { parseDtmfLog } from './dtmf-log.js';
import { RtpengineSet, type RtpengineInstanceConfig } from './instance-set.js';
import {
  RTP_TRANSPORTS,
  answerKeys,
  keepSetup,
  offerKeys,
  rejectNonRtp,
  rejectUnwantedSavp,
  setupOf,
  type FlagOptions,
} from './flags.js';
import { activityOf, callStatsOf } from './stats.js';
import { toneWav } from './tones.js';

export interface RtpengineEngineOptions {
  /** The instances: `udp:HOST:PORT` or `{ url, weight }` (media.rtpengine.urls). */
  readonly instances: readonly (RtpengineInstanceConfig | string)[];
  /** Ping interval for the health check. Default 2000 ms. */
  readonly pingIntervalMs?: number;
  /** Per-command timeout and first retransmission (ng client). Defaults 2000 / 250 ms. */
  readonly timeoutMs?: number;
  readonly retransmitMs?: number;
  /** rtpengine logical interface per zone name (its `interface = name/address` lines). */
  readonly interfaces?: Readonly<Record<string, string>>;
  /**
   * Mark every call for DTMF injection (`inject DTMF`), which `playDtmf` needs. It routes audio
   * through rtpengine's codec engine (more CPU; no kernel forwarding). Default false.
   */
  readonly injectDtmf?: boolean;
  /** The TOS byte of media (DSCP << 2; EF = 184), sent as the ng `TOS` key of each offer. */
  readonly tos?: number;
  /** The daemons run with `recording-dir` (PCAP recording available). Default false. */
  readonly recording?: boolean;
  /**
   * Interval of the periodic `stats` event per call (a `query` to the call's daemon), in ms.
   * Default 10000; 0 = only at delete.
   */
  readonly statsIntervalMs?: number;
  /**
   * `media-timeout` when a party that may send (its SDP direction) sent nothing for this long,
   * checked at each stats poll (`statsIntervalMs`) from rtpengine's `last packet`; 0 = never.
   * Default 60000. Run the daemons with a larger `timeout` (or 0) so TFX decides, not rtpengine.
   */
  readonly mediaTimeoutMs?: number;
  /**
   * Where this engine receives the daemons' DTMF log (`udp:HOST:PORT`; run every daemon with
   * `dtmf-log-dest = HOST:PORT`): each event becomes a `dtmf` event. Unset: no `dtmf` events
   * (`capabilities.detectDtmf` false).
   */
  readonly dtmfListen?: string;
  /** Largest SDP accepted (an ng request is one UDP datagram). Default 60000 bytes. */
  readonly maxSdpBytes?: number;
  /** Most m-lines accepted in one SDP (each costs rtpengine ports). Default 32. */
  readonly maxMedia?: number;
  /** Where listener errors and instance state changes go. */
  readonly log?: (level: 'info' | 'warn' | 'error', obj: object, msg: string) => void;
}

interface CallState {
  readonly profiles: Map<string, LegProfile | undefined>;
  /** The profiles of the last offer: its sender and its receiver (answer defaults). */
  lastOffer?: { fromTag: string; from: LegProfile; to: LegProfile };
  forwardTag?: string;
  /** The engine's DTLS role toward each party once an offer/answer settled it (RFC 5763 §5). */
  readonly dtlsRole: Map<string, 'active' | 'passive'>;
  /** Parties reported as timed out, with the `last packet` they had then (reported once). */
  timedOut?: Map<string, number>;
}

const DIGITS = /^[0-9*#A-Da-d]+$/;

export class RtpengineEngine implements MediaEngine {
  readonly kind = 'rtpengine' as const;
  readonly capabilities: MediaCapabilities;
  readonly set: RtpengineSet;
  private readonly hub: MediaEventHub;
  private readonly calls = new Map<string, CallState>();
  private readonly flagOpts: FlagOptions;
  private readonly maxSdpBytes: number;
  private readonly maxMedia: number;
  private readonly log: NonNullable<RtpengineEngineOptions['log']>;
  private closed = false;
  private readonly statsTimer: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  private readonly mediaTimeoutMs: number;
  private readonly dtmfSocket: Socket | undefined;
  private readonly dtmfReady: Promise<void>;
  /** DTMF log datagrams dropped, by reason (hostile or for calls this engine does not hold). */
  readonly dtmfDropped: Record<string, number> = {};

  constructor(opts: RtpengineEngineOptions) {
    this.log = opts.log ?? (() => {});
    this.hub = new MediaEventHub((err) => this.log('error', { err }, 'media event listener threw'));
    this.flagOpts = {
      interfaces: opts.interfaces,
      injectDtmf: opts.injectDtmf ?? false,
      ...(opts.tos !== undefined && { tos: opts.tos }),
    };
    this.maxSdpBytes = opts.maxSdpBytes ?? 60_000;
    this.maxMedia = opts.maxMedia ?? 32;
    this.set = new RtpengineSet({
      instances: opts.instances,
      pingIntervalMs: opts.pingIntervalMs ?? 2000,
      client: { timeoutMs: opts.timeoutMs ?? 2000, retransmitMs: opts.retransmitMs ?? 250 },
      onStateChange: (url, up, why) => this.instanceChanged(url, up, why),
    });
    this.capabilities = {
      webrtc: true,
      sdes: true,
      transcode: ['PCMU', 'PCMA', 'G722', 'opus'],
      record: opts.recording ? ['pcap'] : [],
      forward: true,
      playMedia: true,
      playDtmf: opts.injectDtmf ?? false,
      detectDtmf: opts.dtmfListen !== undefined,
      // Both measured on 10.5.3.5; why: test/rtpengine/contract.int.test.ts.
      resequence: false,
      remapPayloadTypes: false,
      block: true,
      ipv6: true,
    };
    if (opts.dtmfListen !== undefined) {
      const at = parseNgUrl(opts.dtmfListen);
      const hosts = new Set(
        opts.instances.map((i) => parseNgUrl(typeof i === 'string' ? i : i.url).host),
      );
      const sock = createSocket(at.family === 6 ? 'udp6' : 'udp4');
      sock.on('message', (m, rinfo) => this.onDtmfLog(m, rinfo.address, hosts));
      sock.on('error', (err) => this.log('error', { err }, 'rtpengine DTMF log socket'));
      this.dtmfSocket = sock;
      this.dtmfReady = new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(at.port, at.host, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } else this.dtmfReady = Promise.resolve();
    this.mediaTimeoutMs = opts.mediaTimeoutMs ?? 60_000;
    const every = opts.statsIntervalMs ?? 10_000;
    if (every > 0) {
      this.statsTimer = setInterval(() => void this.pollStats(), every);
      this.statsTimer.unref();
    }
  }

  /** The media timeout, paused while a party may not send (hold, inactive); once per silence. */
  private checkTimeouts(callId: string, call: CallState, reply: BDict): void {
    if (this.mediaTimeoutMs <= 0) return;
    const now = Date.now();
    for (const p of activityOf(reply)) {
      const idleMs = now - p.lastPacketMs;
      if (!p.sends || idleMs < this.mediaTimeoutMs) continue;
      if (call.timedOut?.get(p.tag) === p.lastPacketMs) continue;
      (call.timedOut ??= new Map()).set(p.tag, p.lastPacketMs);
      this.hub.emit('media-timeout', { callId, tag: p.tag, idleMs });
    }
  }

  /** Resolves once the DTMF log socket listens (rejects if it cannot bind). */
  listening(): Promise<void> {
    return this.dtmfReady;
  }

  /** One DTMF log datagram: from a daemon's host, for a call this engine holds, else counted. */
  private onDtmfLog(m: Buffer, from: string, hosts: ReadonlySet<string>): void {
    const dropped = (why: string): void => {
      this.dtmfDropped[why] = (this.dtmfDropped[why] ?? 0) + 1;
    };
    if (!hosts.has(from)) return dropped('wrong-source');
    const r = parseDtmfLog(m);
    if (!r.ok) return dropped(r.reason);
    if (!this.calls.has(r.event.callId)) return dropped('unknown-call');
    this.hub.emit('dtmf', r.event);
  }

  /**
   * The periodic `stats` event: a `query` per live call (8 in flight), one event per call. A poll
   * still running when the next is due is not doubled; a call that vanished meanwhile is skipped.
   */
  private async pollStats(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const ids = [...this.calls.keys()];
      const next = async (): Promise<void> => {
        for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
          if (this.closed) return;
          const reply = await this.command(id, 'query', {}).catch(() => undefined);
          const call = this.calls.get(id);
          if (!reply || !call) continue;
          const stats = callStatsOf(id, reply, call.profiles);
          if (stats.legs.length > 0) this.hub.emit('stats', { stats, final: false });
          this.checkTimeouts(id, call, reply);
        }
      };
      await Promise.all(Array.from({ length: 8 }, next));
    } finally {
      this.polling = false;
    }
  }

  async offer(req: OfferRequest): Promise<SdpResult> {
    this.assertOpen();
    if (req.sdp === null)
      throw new TfxError(
        'media-unsupported',
        'rtpengine cannot make an offer without one: pass the INVITE on without SDP and send the offer in the 200 OK to offer()',
      );
    this.checkSdp(req.sdp);
    this.refuseNonRtp(req.sdp);
    const { sdp, rejected } = rejectUnwantedSavp(rejectNonRtp(req.sdp).sdp, req.from);
    if (rejected === 0) this.refuseUnwantedSavpOnly(sdp, req.from);
    const reply = await this.command(req.callId, 'offer', {
      'from-tag': req.fromTag,
      'to-tag': req.toTag,
      'via-branch': req.viaBranch,
      sdp,
      ...offerKeys(req.from, req.to, this.flagOpts),
    });
    const call = this.callOf(req.callId);
    call.profiles.set(req.fromTag, req.from);
    if (req.toTag !== undefined) call.profiles.set(req.toTag, req.to);
    call.lastOffer = { fromTag: req.fromTag, from: req.from, to: req.to };
    learnRole(call, req.fromTag, setupOf(sdp), true);
    const role = req.toTag !== undefined ? call.dtlsRole.get(req.toTag) : undefined;
    return { sdp: role ? keepSetup(sdpOf(reply), role) : sdpOf(reply) };
  }

  async answer(req: AnswerRequest): Promise<SdpResult> {
    this.assertOpen();
    this.checkSdp(req.sdp);
    const call = this.calls.get(req.callId);
    const last = call?.lastOffer;
    const from = req.from ?? last?.to;
    const to = req.to ?? last?.from;
    if (!from || !to)
      throw new TfxError(
        'media-session-not-found',
        `no offer seen for call ${req.callId}: answer has no profiles`,
      );
    const reply = await this.command(req.callId, 'answer', {
      'from-tag': req.fromTag,
      'to-tag': req.toTag,
      'via-branch': req.viaBranch,
      sdp: req.sdp,
      ...answerKeys(from, to, this.flagOpts),
    });
    call?.profiles.set(req.toTag, from);
    const out = sdpOf(reply);
    if (call) {
      learnRole(call, req.toTag, setupOf(req.sdp), true);
      learnRole(call, req.fromTag, setupOf(out), false);
    }
    return { sdp: out };
  }

  /**
   * Ends the whole call, with or without a tag: rtpengine's `delete` with a from-tag and no
   * to-tag (a BYE) deletes every party of the call. The call's last stats come from a `query`
   * first (the delete reply carries none when the call goes at once).
   */
  async delete(key: CallKey & { readonly tag?: string }): Promise<CallStats> {
    this.assertOpen();
    const stats = await this.query(key);
    await this.command(key.callId, 'delete', {
      'from-tag': key.tag,
      'delete delay': 0,
      flags: ['fatal'],
    });
    this.calls.delete(key.callId);
    this.set.forget(key.callId);
    this.hub.emit('stats', { stats, final: true });
    return stats;
  }

  async query(key: CallKey): Promise<CallStats> {
    this.assertOpen();
    const reply = await this.command(key.callId, 'query', {});
    return callStatsOf(key.callId, reply, this.calls.get(key.callId)?.profiles);
  }

  async list(): Promise<readonly string[]> {
    this.assertOpen();
    const replies = await this.set.broadcast('list', { limit: 1_000_000 });
    const out = new Set<string>();
    for (const r of replies)
      for (const c of Array.isArray(r.calls) ? r.calls : []) if (typeof c === 'string') out.add(c);
    return [...out];
  }

  async playMedia(key: LegKey, src: PlaySource, opts: PlayOptions = {}): Promise<void> {
    this.assertOpen();
    const media: Record<string, BValue> =
      'wav' in src
        ? { file: src.wav }
        : { blob: toneWav(src.tone === 'sine' ? { frequency: src.frequency } : src.tone) };
    // rtpengine plays the file to the participant the selection names (`from-tag`).
    await this.command(key.callId, 'play media', {
      'from-tag': key.tag,
      ...media,
      'repeat-times': opts.repeat === 0 ? 1_000_000 : (opts.repeat ?? 1),
    });
  }

  async stopMedia(key: LegKey): Promise<void> {
    this.assertOpen();
    await this.command(key.callId, 'stop media', { 'from-tag': key.tag });
  }

  async playDtmf(key: LegKey, digits: string, opts: DtmfOptions = {}): Promise<void> {
    this.assertOpen();
    if (!this.capabilities.playDtmf)
      throw new TfxError(
        'media-unsupported',
        'playDtmf on rtpengine needs the engine option injectDtmf',
      );
    if (!DIGITS.test(digits))
      throw new TfxError('bad-request', `"${digits}" holds a character that is not a DTMF digit`);
    // "The selected call participant is the one generating the DTMF event": the other party.
    const other = [...(this.calls.get(key.callId)?.profiles.keys() ?? [])].find(
      (t) => t !== key.tag,
    );
    if (other === undefined)
      throw new TfxError('media-session-not-found', `no other party in call ${key.callId}`);
    for (const d of digits.toUpperCase()) {
      await this.command(key.callId, 'play DTMF', {
        'from-tag': other,
        code: d,
        duration: Math.min(5000, Math.max(100, opts.durationMs ?? 100)),
        volume: opts.volume ?? 10,
        pause: Math.min(5000, Math.max(100, opts.pauseMs ?? 100)),
      });
    }
  }

  async record(
    key: CallKey,
    on: boolean,
    opts: RecordOptions = { format: 'pcap' },
  ): Promise<RecordResult> {
    this.assertOpen();
    if (!this.capabilities.record.includes(opts.format))
      throw new TfxError(
        'media-unsupported',
        opts.format === 'wav'
          ? 'rtpengine writes WAV only through its recording daemon, which TFX does not run: use pcap'
          : 'the rtpengine daemons run without recording-dir (engine option recording)',
      );
    await this.command(key.callId, on ? 'start recording' : 'stop recording', {
      'output-destination': opts.path,
    });
    return opts.path !== undefined ? { path: opts.path } : {};
  }

  /**
   * A copy of both parties' media to `dest` by an rtpengine subscription (`subscribe request` over
   * every party, answered with a recvonly SDP at `dest`: the first party's stream to `dest.port`,
   * the next to `dest.port + 2`); `null` ends it (`unsubscribe`).
   */
  async forward(key: CallKey, dest: MediaAddress | null): Promise<void> {
    this.assertOpen();
    const call = this.callOf(key.callId);
    if (dest === null) {
      if (call.forwardTag === undefined) return;
      await this.command(key.callId, 'unsubscribe', { 'to-tag': call.forwardTag });
      call.forwardTag = undefined;
      return;
    }
    const toTag = call.forwardTag ?? `tfx-forward-${Math.random().toString(36).slice(2, 10)}`;
    const tags = [...call.profiles.keys()];
    const req = await this.command(key.callId, 'subscribe request', {
      'from-tags': tags,
      'to-tag': toTag,
      ...offerKeys(plainProfile(dest.address), plainProfile(dest.address), {}),
    });
    const family = dest.address.includes(':') ? 'IP6' : 'IP4';
    let n = 0;
    const answer = sdpOf(req)
      .split(/\r?\n/)
      .filter(
        (l) =>
          !/^a=(sendonly|recvonly|sendrecv|inactive|rtcp:|ice-|candidate|fingerprint|setup|crypto)/.test(
            l,
          ),
      )
      .map((l) => {
        if (l.startsWith('c=')) return `c=IN ${family} ${dest.address}`;
        if (l.startsWith('o=')) return `o=- 1 1 IN ${family} ${dest.address}`;
        const m = /^m=(\S+) \d+ (.*)$/.exec(l);
        return m ? `m=${m[1]} ${dest.port + 2 * n++} ${m[2]}\r\na=recvonly` : l;
      })
      .join('\r\n');
    await this.command(key.callId, 'subscribe answer', {
      'to-tag': toTag,
      sdp: answer,
      flags: ['allow transcoding'],
    });
    call.forwardTag = toTag;
  }

  async block(key: LegKey, what: 'media' | 'dtmf', on: boolean): Promise<void> {
    this.assertOpen();
    const cmd = `${on ? 'block' : 'unblock'} ${what === 'media' ? 'media' : 'DTMF'}`;
    await this.command(key.callId, cmd, { 'from-tag': key.tag });
  }

  on<E extends MediaEngineEventName>(
    event: E,
    listener: (e: MediaEngineEvents[E]) => void,
  ): () => void {
    return this.hub.on(event, listener);
  }

  /** Deletes the calls this engine placed (best effort), then closes the ng clients. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.dtmfReady.catch(() => {});
    try {
      this.dtmfSocket?.close();
    } catch {
      // not bound
    }
    await Promise.allSettled(
      [...this.set.calls().keys()].map((callId) =>
        this.set.request(callId, 'delete', { 'delete delay': 0 }),
      ),
    );
    this.set.close();
    this.calls.clear();
    this.hub.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new NgError('closed', 'the rtpengine engine is closed');
  }

  private callOf(callId: string): CallState {
    let c = this.calls.get(callId);
    if (!c) this.calls.set(callId, (c = { profiles: new Map(), dtlsRole: new Map() }));
    return c;
  }

  private checkSdp(sdp: string): void {
    if (Buffer.byteLength(sdp) > this.maxSdpBytes)
      throw new TfxError(
        'media-sdp-invalid',
        `SDP of ${Buffer.byteLength(sdp)} bytes is over ${this.maxSdpBytes}`,
      );
    const mLines = sdp.match(/^m=/gm)?.length ?? 0;
    if (mLines > this.maxMedia)
      throw new TfxError(
        'media-sdp-invalid',
        `SDP with ${mLines} m-lines is over ${this.maxMedia} (the built-in engine's limit too)`,
      );
    if (!/^v=0\r?\n/.test(sdp) || !/^m=/m.test(sdp))
      throw new TfxError(
        'media-sdp-invalid',
        'the body is not an SDP with a media line (RFC 4566 §5: v=0 first)',
      );
  }

  /**
   * An offer none of whose live streams is RTP (TCP/MSRP, UDPTL, an unknown transport) is refused:
   * rtpengine would pass such a line through with a port of its own and relay nothing.
   */
  private refuseNonRtp(sdp: string): void {
    const live = [...sdp.matchAll(/^m=\S+ (\d+)(?:\/\d+)? (\S+)/gm)].filter((m) => m[1] !== '0');
    if (live.length > 0 && !live.some((m) => RTP_TRANSPORTS.has(m[2] as string)))
      throw new TfxError(
        'media-not-acceptable',
        `no stream of the offer is RTP (transports: ${[...new Set(live.map((m) => m[2]))].join(', ')})`,
      );
  }

  /** RFC 3264 §6 / sems#132: an offer whose only streams are SDES the side cannot take is refused. */
  private refuseUnwantedSavpOnly(sdp: string, from: LegProfile): void {
    if (from.sdes === 'terminate' || from.transport === 'RTP/SAVP') return;
    const live = [...sdp.matchAll(/^m=\S+ (\d+)(?:\/\d+)? (\S+) /gm)].filter((m) => m[1] !== '0');
    if (live.length > 0 && live.every((m) => m[2] === 'RTP/SAVP'))
      throw new TfxError(
        'media-not-acceptable',
        'the offer has only RTP/SAVP streams and this side does not terminate SDES (profile sdes: terminate)',
      );
  }

  /** One ng command for a call, with rtpengine's refusals mapped onto the catalogue. */
  private async command(
    callId: string,
    command: string,
    body: Record<string, BValue | undefined>,
  ): Promise<BDict> {
    try {
      return await this.set.request(callId, command, body);
    } catch (e) {
      if (e instanceof NgError && e.reason === 'error') {
        const why = String(e.details?.errorReason ?? '');
        if (/sdp|parse/i.test(why))
          throw new TfxError('media-sdp-invalid', e.message, e.details, { cause: e });
      }
      throw e;
    }
  }

  private instanceChanged(url: string, up: boolean, why: string): void {
    this.log(up ? 'info' : 'warn', { url, why }, `rtpengine ${url} is ${up ? 'up' : 'down'}`);
    if (up) return;
    // Its calls' media sockets are gone with it: the SBC ends them (BYE on both legs).
    for (const [callId, inst] of this.set.calls()) {
      if (inst !== url) continue;
      this.set.forget(callId);
      this.calls.delete(callId);
      this.hub.emit('call-failed', {
        callId,
        code: 'media-engine-unavailable',
        message: `rtpengine ${url} went down (${why})`,
      });
    }
  }
}

function sdpOf(reply: BDict): string {
  if (typeof reply.sdp !== 'string')
    throw new NgError('bad-reply', 'rtpengine replied without an SDP');
  return reply.sdp;
}

/**
 * Records the engine's DTLS role toward `tag`: from the party's own `a=setup` (`theirs`: the
 * engine takes the other role) or from the SDP the engine sent it.
 */
function learnRole(call: CallState, tag: string, setup: string | undefined, theirs: boolean): void {
  if (setup !== 'active' && setup !== 'passive') return;
  const other = setup === 'active' ? 'passive' : 'active';
  call.dtlsRole.set(tag, theirs ? other : setup);
}

function plainProfile(address: string): LegProfile {
  return {
    mediaAddress: address,
    transport: 'RTP/AVP',
    ice: 'remove',
    dtls: 'off',
    rtcpMux: 'demux',
    latching: 'off',
    dtmf: 'rfc4733',
  };
}

/** `media.engine: rtpengine`: the factory the server calls. */
export async function createRtpengineEngine(
  opts: RtpengineEngineOptions,
): Promise<RtpengineEngine> {
  const e = new RtpengineEngine(opts);
  try {
    await e.listening();
  } catch (err) {
    await e.close();
    throw new TfxError(
      'listen-failed',
      `rtpengine DTMF log ${opts.dtmfListen}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return e;
}
