/**
 * The built-in MediaEngine: SDP offer/answer on the main thread, every media packet in worker
 * threads (`worker.ts`) that own the media ports, so the SIP and HTTP event loop never handles a
 * packet. Calls are spread over the workers; a worker that dies ends its calls with a counted
 * `call-failed` event (the SBC sends BYE) and is replaced, and the other workers' calls go on.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP, isIPv6 } from 'node:net';
import { TfxError, isErrorCode } from '@tfx/protocol';
import type {
  AnswerRequest,
  CallKey,
  CallStats,
  DtmfOptions,
  LegKey,
  LegProfile,
  LegStats,
  MediaAddress,
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
import { DEFAULT_SDP_LIMITS, parseSdp, type SdpLimits } from '../sdp/parse.js';
import { serializeSdp } from '../sdp/serialize.js';
import { rewriteForLeg, type CodecPlan, type MediaPlan } from '../sdp/rewrite.js';
import type { Direction, SessionDescription } from '../sdp/model.js';
import { sends, receives } from '../sdp/offer-answer.js';
import {
  acceptStream,
  answeredSubset,
  codecsToward,
  declared,
  isTelephoneEvent,
  mainCodec,
  ptMap,
  withPtsOf,
} from './negotiate.js';
import { legStats } from './stats.js';
import { createDtlsCertificate, type DtlsCertificate } from '../webrtc/dtls-srtp.js';
import {
  webrtcAnswered,
  webrtcLinesToward,
  webrtcOffered,
  type StreamWebRtc,
} from './webrtc-negotiate.js';
import {
  isWebRtc,
  towardBrowser,
  towardPhone,
  transcodeAnswer,
  transcodeFor,
  keepsAnswer,
  withTranscoded,
} from './gateway.js';
import { CAPABILITIES, workerEntry, type BuiltinEngineOptions } from './options.js';
import type {
  SideConfig,
  SideStats,
  WorkerCommand,
  WorkerCounters,
  WorkerEvent,
  WorkerInit,
  WorkerReply,
} from './protocol.js';

interface Stream {
  sideId: number;
  port: number;
  /** The SSRC the engine sends to this party with (announced to browsers, RFC 5576). */
  ssrcOut: number;
  remote: MediaAddress | null;
  rtcpRemote: MediaAddress | null;
  rtcpMux: boolean;
  direction: Direction;
  /** Codecs with this party's payload types (declared by it, or what we offered it). */
  codecs: CodecPlan[];
  /** What this party receives after the answer (the codec it was answered with), if known. */
  receives?: CodecPlan[];
  /** A WebRTC party: our ICE-lite credentials, the DTLS role, what the browser declared. */
  webrtc?: StreamWebRtc;
}

interface Party {
  tag: string | undefined;
  profile: LegProfile;
  streams: (Stream | undefined)[];
  origin: { sessionId: string; version: number };
  /** The last SDP this party sent (a refresh with the same SDP does not reopen latching). */
  lastSdp: string | undefined;
}

interface Pending {
  offerer: 0 | 1;
  accepted: boolean[];
  protos: string[];
  offeredMux: boolean[];
  /** The codecs offered to the answerer per stream (a second answer is checked against them). */
  offered: CodecPlan[][];
}

interface Call {
  readonly callId: string;
  readonly createdAt: number;
  readonly worker: WorkerHandle;
  readonly parties: [Party, Party];
  pending: Pending | undefined;
  /** The offer the last answer answered: a later answer to it (183 then 200) applies again. */
  answered: Pending | undefined;
  lastAnswer: { in: string; out: string } | undefined;
}

interface WorkerHandle {
  readonly index: number;
  worker: Worker;
  alive: boolean;
  readonly calls: Set<string>;
  readonly waiting: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  readonly init: WorkerInit;
}

export interface BuiltinEngineCounters {
  readonly sessions: number;
  readonly workersAlive: number;
  readonly workerFailures: number;
  readonly callsFailed: number;
  readonly packetsRelayed: number;
  readonly bytesRelayed: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly portsInUse: number;
}

export class BuiltinEngine implements MediaEngine {
  readonly kind = 'builtin' as const;
  readonly capabilities = CAPABILITIES;
  readonly #events: MediaEventHub;
  readonly #calls = new Map<string, Call>();
  readonly #workers: WorkerHandle[] = [];
  readonly #opts: Required<Omit<BuiltinEngineOptions, 'log' | 'sdpLimits'>> & {
    sdpLimits: SdpLimits;
  };
  readonly #log: NonNullable<BuiltinEngineOptions['log']>;
  #cert: DtlsCertificate | undefined;
  #nextSide = 1;
  #rid = 1;
  #closed = false;
  #workerFailures = 0;
  #callsFailed = 0;

  private constructor(opts: BuiltinEngineOptions) {
    this.#opts = {
      portMin: opts.portMin ?? 30000,
      portMax: opts.portMax ?? 39999,
      workers: opts.workers ?? Math.max(1, availableParallelism() - 1),
      floodPps: opts.floodPps ?? 2000,
      rtcpIntervalMs: opts.rtcpIntervalMs ?? 5000,
      statsIntervalMs: opts.statsIntervalMs ?? 10_000,
      mediaTimeoutMs: opts.mediaTimeoutMs ?? 60_000,
      recordDir: opts.recordDir ?? tmpdir(),
      commandTimeoutMs: opts.commandTimeoutMs ?? 5000,
      sdpLimits: opts.sdpLimits ?? DEFAULT_SDP_LIMITS,
    };
    this.#log = opts.log ?? (() => {});
    this.#events = new MediaEventHub((err) =>
      this.#log('error', 'media event listener threw', { err: String(err) }),
    );
  }

  static async create(opts: BuiltinEngineOptions = {}): Promise<BuiltinEngine> {
    const e = new BuiltinEngine(opts);
    const { portMin, portMax, workers } = e.#opts;
    if (!(portMin >= 1024 && portMax <= 65535 && portMax - portMin + 1 >= 4 * workers))
      throw new TfxError(
        'config-invalid',
        `media port range ${portMin}-${portMax} must hold at least 4 ports per worker`,
      );
    const slice = Math.floor((portMax - portMin + 1) / workers / 2) * 2;
    // One DTLS certificate for the engine's WebRTC legs (its fingerprint goes into every SDP).
    e.#cert = await createDtlsCertificate();
    for (let i = 0; i < workers; i++) {
      const init: WorkerInit = {
        index: i,
        portMin: portMin + i * slice,
        portMax: i === workers - 1 ? portMax : portMin + (i + 1) * slice - 1,
        floodPps: e.#opts.floodPps,
        rtcpIntervalMs: e.#opts.rtcpIntervalMs,
        statsIntervalMs: e.#opts.statsIntervalMs,
        cname: `tfx-media-${process.pid}-${i}`,
        dtls: e.#cert,
      };
      e.#workers.push(e.#spawn(init));
    }
    // The first answer waits for the worker to load (slow on a busy machine, from sources).
    try {
      await Promise.all(e.#workers.map((w) => e.#rpc(w, { cmd: 'counters' }, 60_000)));
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  #spawn(init: WorkerInit, index = init.index): WorkerHandle {
    const entry = workerEntry(init);
    const worker = new Worker(entry.url, { workerData: entry.data });
    const h: WorkerHandle = {
      index,
      worker,
      alive: true,
      calls: new Set(),
      waiting: new Map(),
      init,
    };
    worker.on('message', (m: WorkerReply | WorkerEvent) => this.#onWorkerMessage(h, m));
    worker.on('error', (err) => this.#onWorkerDeath(h, err));
    worker.on('exit', (code) => this.#onWorkerDeath(h, new Error(`exited with code ${code}`)));
    return h;
  }

  #onWorkerMessage(h: WorkerHandle, m: WorkerReply | WorkerEvent): void {
    if ('rid' in m) {
      const w = h.waiting.get(m.rid);
      if (!w) return;
      h.waiting.delete(m.rid);
      if (m.ok) w.resolve(m.result);
      else
        w.reject(
          new TfxError(isErrorCode(m.error.code) ? m.error.code : 'internal', m.error.message),
        );
      return;
    }
    if (m.event === 'dtmf')
      this.#events.emit('dtmf', {
        callId: m.callId,
        tag: m.tag,
        digit: m.digit,
        durationMs: m.durationMs,
        volume: m.volume,
      });
    else if (m.event === 'timeout')
      this.#events.emit('media-timeout', { callId: m.callId, tag: m.tag, idleMs: m.idleMs });
    else if (m.event === 'stats') this.#onPeriodicStats(h, m.sides);
  }

  /** The worker's periodic stats, one `stats` event per call of that worker (final: false). */
  #onPeriodicStats(h: WorkerHandle, list: readonly SideStats[]): void {
    const byId = new Map<number, SideStats>();
    for (const s of list) byId.set(s.id, s);
    for (const callId of h.calls) {
      const call = this.#calls.get(callId);
      if (!call) continue;
      const legs = this.#legStats(call, byId);
      if (legs.length === 0) continue;
      this.#events.emit('stats', {
        stats: { callId, createdAt: call.createdAt, legs },
        final: false,
      });
    }
  }

  #onWorkerDeath(h: WorkerHandle, err: Error): void {
    if (!h.alive) return;
    h.alive = false;
    for (const w of h.waiting.values())
      w.reject(new TfxError('media-worker-failed', `media worker ${h.index} died: ${err.message}`));
    h.waiting.clear();
    if (this.#closed) return;
    this.#workerFailures++;
    this.#log('error', 'media worker died; its calls end', {
      worker: h.index,
      calls: h.calls.size,
      err: err.message,
    });
    for (const callId of h.calls) {
      this.#calls.delete(callId);
      this.#callsFailed++;
      this.#events.emit('call-failed', {
        callId,
        code: 'media-worker-failed',
        message: `media worker ${h.index} died: ${err.message}`,
      });
    }
    h.calls.clear();
    // Replace the worker on the same port slice; other workers' calls are untouched.
    const i = this.#workers.indexOf(h);
    if (i >= 0) this.#workers[i] = this.#spawn(h.init, h.index);
  }

  #rpc<T = unknown>(
    h: WorkerHandle,
    command: WorkerCommand,
    timeoutMs = this.#opts.commandTimeoutMs,
  ): Promise<T> {
    if (!h.alive)
      return Promise.reject(new TfxError('media-worker-failed', `media worker ${h.index} is gone`));
    const rid = this.#rid++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        h.waiting.delete(rid);
        reject(new TfxError('media-engine-timeout', `media worker ${h.index}: ${command.cmd}`));
      }, timeoutMs);
      h.waiting.set(rid, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      h.worker.postMessage({ rid, command });
    });
  }

  #check(): void {
    if (this.#closed) throw new TfxError('shutting-down', 'the media engine is closed');
  }

  #parse(text: string): SessionDescription {
    const r = parseSdp(text, this.#opts.sdpLimits);
    if (!r.ok)
      throw new TfxError('media-sdp-invalid', `SDP ${r.error.code}: ${r.error.reason}`, {
        ...(r.error.line !== undefined ? { line: r.error.line } : {}),
      });
    return r.sdp;
  }

  #pickWorker(): WorkerHandle {
    let best: WorkerHandle | undefined;
    for (const w of this.#workers)
      if (w.alive && (!best || w.calls.size < best.calls.size)) best = w;
    if (!best) throw new TfxError('media-engine-unavailable', 'no media worker is running');
    return best;
  }

  #call(callId: string): Call {
    const c = this.#calls.get(callId);
    if (!c) throw new TfxError('media-session-not-found', `no media session for call ${callId}`);
    return c;
  }

  async #ensureStream(call: Call, party: Party, i: number): Promise<Stream> {
    const existing = party.streams[i];
    if (existing) return existing;
    const sideId = this.#nextSide++;
    let port: number;
    let ssrc: number;
    try {
      ({ port, ssrc } = await this.#rpc<{ port: number; ssrc: number }>(call.worker, {
        cmd: 'open',
        id: sideId,
        address: party.profile.mediaAddress,
      }));
    } catch (err) {
      // Given up waiting (a command timeout): the worker may still bind the side later; the
      // close makes it release the ports as soon as it has them (worker.ts `open`).
      if (err instanceof TfxError && err.code === 'media-engine-timeout')
        this.#rpc(call.worker, { cmd: 'close', ids: [sideId] }).catch(() => {});
      throw err;
    }
    if (this.#calls.get(call.callId) !== call) {
      // The call was dropped while this side bound (its other side failed, or a delete came):
      // nobody will close it later, so it is closed now.
      this.#rpc(call.worker, { cmd: 'close', ids: [sideId] }).catch(() => {});
      throw new TfxError('media-session-not-found', `call ${call.callId} ended while opening`);
    }
    const s: Stream = {
      sideId,
      port,
      ssrcOut: ssrc,
      remote: null,
      rtcpRemote: null,
      rtcpMux: false,
      direction: 'sendrecv',
      codecs: [],
    };
    party.streams[i] = s;
    return s;
  }

  async #closeStream(call: Call, i: number): Promise<void> {
    const ids: number[] = [];
    for (const p of call.parties) {
      const s = p.streams[i];
      if (s) ids.push(s.sideId);
      p.streams[i] = undefined;
    }
    if (ids.length) await this.#rpc(call.worker, { cmd: 'close', ids });
  }

  /** Tells the worker what every side of the call does now; `relearn` for whose SDP just came. */
  async #push(call: Call, relearn: number | undefined): Promise<void> {
    const n = Math.max(call.parties[0].streams.length, call.parties[1].streams.length);
    const sides: SideConfig[] = [];
    for (let i = 0; i < n; i++) {
      for (const me of [0, 1] as const) {
        const s = call.parties[me].streams[i];
        const o = call.parties[1 - me]!.streams[i];
        if (!s) continue;
        const p = call.parties[me];
        const rx = s.receives ?? s.codecs;
        const te = rx.find(isTelephoneEvent);
        const main = mainCodec(rx);
        const tx = o ? transcodeFor(rx, o.receives ?? o.codecs) : undefined;
        const w = s.webrtc;
        const side: SideConfig = {
          id: s.sideId,
          callId: call.callId,
          tag: p.tag ?? '',
          peer: o ? o.sideId : null,
          remote: s.remote,
          rtcpRemote: s.rtcpRemote,
          relearn: relearn === me,
          latching: p.profile.latching,
          rtcpMux: s.rtcpMux,
          sends: sends(s.direction),
          receives: receives(s.direction),
          ptMap: o ? ptMap(s.codecs, o.codecs) : [],
          telephoneEvent: s.codecs.filter(isTelephoneEvent).map((c) => c.pt),
          ...(p.profile.dtmf === 'info' ? { dtmfInfo: true } : {}),
          outCodec: main
            ? { pt: main.pt, encoding: main.encoding, clockRate: main.clockRate }
            : null,
          outTelephoneEvent: te
            ? { pt: te.pt, encoding: te.encoding, clockRate: te.clockRate }
            : null,
          clockRate: main?.clockRate ?? 8000,
          timeoutMs: this.#opts.mediaTimeoutMs,
          ...(tx ? { transcode: tx } : {}),
          ...(w
            ? {
                webrtc: {
                  localUfrag: w.localUfrag,
                  localPwd: w.localPwd,
                  ...(w.remote ? { remoteUfrag: w.remote.ufrag } : {}),
                  ...(w.role ? { role: w.role } : {}),
                  remoteFingerprints: w.remote?.fingerprints ?? [],
                  ...(w.liteRemote ? { liteRemote: w.liteRemote } : {}),
                },
              }
            : {}),
        };
        sides.push(side);
      }
    }
    // One message per signalling event: the worker applies every side at once.
    await this.#rpc(call.worker, { cmd: 'configure', sides });
  }

  async offer(req: OfferRequest): Promise<SdpResult> {
    this.#check();
    checkMediaAddress(req.from);
    checkMediaAddress(req.to);
    const sdp = this.#parse(req.sdp);
    let call = this.#calls.get(req.callId);
    let created = false;
    if (!call) {
      const worker = this.#pickWorker();
      const party = (tag: string | undefined, profile: LegProfile): Party => ({
        tag,
        profile,
        streams: [],
        origin: { sessionId: String(Math.floor(Math.random() * 2 ** 40)), version: 0 },
        lastSdp: undefined,
      });
      call = {
        callId: req.callId,
        createdAt: Date.now(),
        worker,
        parties: [party(req.fromTag, req.from), party(req.toTag, req.to)],
        pending: undefined,
        answered: undefined,
        lastAnswer: undefined,
      };
      this.#calls.set(req.callId, call);
      worker.calls.add(req.callId);
      created = true;
    }
    try {
      return await this.#offer(call, req, sdp);
    } catch (err) {
      if (created) await this.#drop(call);
      throw err;
    }
  }

  async #offer(call: Call, req: OfferRequest, sdp: SessionDescription): Promise<SdpResult> {
    const [p0, p1] = call.parties;
    let x: 0 | 1;
    if (p0.tag === req.fromTag) x = 0;
    else if (p1.tag === req.fromTag) x = 1;
    else if (p1.tag === undefined && (req.toTag === undefined || req.toTag === p0.tag)) {
      p1.tag = req.fromTag;
      x = 1;
    } else
      throw new TfxError(
        'media-session-not-found',
        `call ${req.callId} has no party with tag ${req.fromTag}`,
      );
    const y = (1 - x) as 0 | 1;
    const X = call.parties[x];
    const Y = call.parties[y];
    if (req.toTag !== undefined && Y.tag === undefined) Y.tag = req.toTag;
    X.profile = req.from;
    Y.profile = req.to;

    const accepted = sdp.media.map((m) => acceptStream(m, X.profile));
    if (!accepted.some((a) => a.ok)) {
      const reasons = accepted.map((a, i) => `m-line ${i + 1}: ${a.ok ? 'ok' : a.reason}`);
      throw new TfxError(
        'media-not-acceptable',
        `no stream of the offer can be relayed (${reasons.join('; ')})`,
      );
    }
    const plans: MediaPlan[] = [];
    const pending: Pending = { offerer: x, accepted: [], protos: [], offeredMux: [], offered: [] };
    for (let i = 0; i < sdp.media.length; i++) {
      const m = sdp.media[i]!;
      pending.protos.push(m.proto);
      if (!accepted[i]!.ok) {
        pending.accepted.push(false);
        pending.offeredMux.push(false);
        if (X.streams[i] || Y.streams[i]) await this.#closeStream(call, i);
        plans.push({
          port: 0,
          rtcpMux: false,
          proto: Y.profile.transport,
          codecs: [],
          direction: 'inactive',
        });
        continue;
      }
      pending.accepted.push(true);
      const d = declared(sdp, m);
      const [xs, ys] = await Promise.all([
        this.#ensureStream(call, X, i),
        this.#ensureStream(call, Y, i),
      ]);
      xs.remote = d.remote;
      xs.rtcpRemote = d.rtcpRemote;
      xs.direction = d.direction;
      xs.codecs = d.codecs;
      xs.receives = undefined;
      if (isWebRtc(X.profile)) webrtcOffered(xs, sdp, i, X.profile);
      const offerMux = (d.rtcpMux || !!xs.webrtc) && X.profile.rtcpMux !== 'demux';
      pending.offeredMux.push(offerMux);
      xs.rtcpMux = offerMux && X.profile.rtcpMux !== 'offer' ? true : offerMux;
      let toward = codecsToward(d.codecs, Y.profile.codecs, ys.codecs);
      if (isWebRtc(Y.profile) && !isWebRtc(X.profile)) toward = towardBrowser(toward, true);
      else if (isWebRtc(X.profile) && !isWebRtc(Y.profile)) toward = towardPhone(toward, true);
      if (Y.profile.codecs?.transcode?.length)
        toward = withTranscoded(toward, Y.profile.codecs.transcode);
      if (toward.length === 0)
        throw new TfxError(
          'media-not-acceptable',
          `no codec of m-line ${i + 1} is allowed toward the other leg`,
        );
      // Until the answer, the other party's PTs are those we offer it.
      ys.codecs = toward;
      pending.offered[i] = toward;
      ys.receives = undefined;
      const webY = isWebRtc(Y.profile);
      const muxToY = webY || Y.profile.rtcpMux === 'require' || Y.profile.rtcpMux === 'offer';
      plans.push({
        port: ys.port,
        ...(webY || Y.profile.rtcpMux === 'require' ? {} : { rtcpPort: ys.port + 1 }),
        rtcpMux: muxToY,
        proto: Y.profile.transport,
        codecs: toward,
        direction: xs.direction,
        ...(Y.profile.ptime ? { ptime: Y.profile.ptime } : {}),
        ...(webY
          ? { transportLines: webrtcLinesToward(ys, i, Y.profile, this.#cert!.fingerprint) }
          : {}),
      });
    }
    call.pending = pending;
    call.answered = undefined;
    call.lastAnswer = undefined;
    // RFC 3264 §8: an offer identical to the last one (a session refresh) changes nothing, so
    // it does not reopen the latching window either.
    const refresh = X.lastSdp === req.sdp;
    X.lastSdp = req.sdp;
    await this.#push(call, refresh ? undefined : x);
    return { sdp: serializeSdp(rewriteForLeg(sdp, this.#legPlan(Y, plans))) };
  }

  #legPlan(p: Party, media: MediaPlan[]) {
    const address = p.profile.advertisedAddress ?? p.profile.mediaAddress;
    p.origin.version++;
    return {
      address,
      family: p.profile.family ?? (isIPv6(address) ? 'IP6' : 'IP4'),
      origin: p.origin,
      media,
      // RFC 8445 §2.5 / RFC 8839 §5.3: the engine is a lite agent toward browsers.
      ...(isWebRtc(p.profile) ? { sessionLines: [{ type: 'a', value: 'ice-lite' }] } : {}),
    } as const;
  }

  async answer(req: AnswerRequest): Promise<SdpResult> {
    this.#check();
    const call = this.#call(req.callId);
    if (call.lastAnswer && call.lastAnswer.in === req.sdp && !call.pending)
      return { sdp: call.lastAnswer.out }; // a retransmitted 200 OK
    // An early answer (183 with SDP) and the final one (200) answer the same offer.
    const pending = call.pending ?? call.answered;
    // A second answer to the same offer (183 with SDP, then the 200): RFC 3264 §4 wants the
    // offerer's answer unchanged, so it keeps the codecs it was told and the engine transcodes.
    const again = call.pending === undefined;
    if (!pending)
      throw new TfxError('conflict', `call ${req.callId} has no offer waiting for an answer`);
    const sdp = this.#parse(req.sdp);
    const x = pending.offerer;
    const y = (1 - x) as 0 | 1;
    const X = call.parties[x];
    const Y = call.parties[y];
    if (Y.tag === undefined) Y.tag = req.toTag === X.tag ? req.fromTag : req.toTag;
    if (req.from) Y.profile = req.from;
    if (req.to) X.profile = req.to;
    if (sdp.media.length !== pending.accepted.length)
      throw new TfxError(
        'media-sdp-invalid',
        `the answer has ${sdp.media.length} m-lines, the offer had ${pending.accepted.length} (RFC 3264 §6)`,
      );
    const plans: MediaPlan[] = [];
    for (let i = 0; i < sdp.media.length; i++) {
      const m = sdp.media[i]!;
      const xs = X.streams[i];
      const ys = Y.streams[i];
      if (!pending.accepted[i] || m.port === 0 || !xs || !ys) {
        if (xs || ys) await this.#closeStream(call, i);
        plans.push({
          port: 0,
          rtcpMux: false,
          proto: pending.protos[i]!,
          codecs: [],
          direction: 'inactive',
        });
        continue;
      }
      const d = declared(sdp, m);
      const chosen = answeredSubset(d.codecs, pending.offered[i] ?? ys.codecs);
      ys.remote = d.remote;
      ys.rtcpRemote = d.rtcpRemote;
      ys.direction = d.direction;
      ys.codecs = chosen.length ? chosen : d.codecs;
      ys.receives = ys.codecs;
      ys.rtcpMux = d.rtcpMux;
      if (isWebRtc(Y.profile)) webrtcAnswered(ys, sdp, i);
      let toX = withPtsOf(ys.codecs, xs.codecs);
      // No common audio codec: the offerer is answered with its own codec and the engine
      // transcodes (Opus ↔ G.711); a common one is passed through.
      if (!mainCodec(toX)) toX = transcodeAnswer(xs.codecs);
      const told = again ? xs.receives : undefined;
      if (told && keepsAnswer(told, toX)) toX = told;
      // A far side that takes DTMF as SIP INFO (profile `dtmf: 'info'`) may answer without
      // telephone-event: the offerer keeps its own, so its RFC 4733 events reach the engine
      // (turned into INFO by the SBC) and INFO from the far side can be played to it as events.
      const teX = xs.codecs.find(isTelephoneEvent);
      if (Y.profile.dtmf === 'info' && teX && !toX.some(isTelephoneEvent) && mainCodec(toX))
        toX = [...toX, teX];
      xs.receives = toX.length ? toX : xs.codecs;
      const webX = isWebRtc(X.profile);
      // X keeps only what it will receive; its map for sending stays its full declared list.
      plans.push({
        port: xs.port,
        ...(pending.offeredMux[i] ? {} : { rtcpPort: xs.port + 1 }),
        rtcpMux: pending.offeredMux[i]!,
        proto: pending.protos[i]!,
        codecs: toX.length ? toX : xs.codecs,
        direction: ys.direction,
        ...(X.profile.ptime ? { ptime: X.profile.ptime } : {}),
        ...(webX
          ? { transportLines: webrtcLinesToward(xs, i, X.profile, this.#cert!.fingerprint) }
          : {}),
      });
      xs.rtcpMux = pending.offeredMux[i]!;
    }
    call.pending = undefined;
    call.answered = pending;
    const refresh = Y.lastSdp === req.sdp;
    Y.lastSdp = req.sdp;
    await this.#push(call, refresh ? undefined : y);
    const out = serializeSdp(rewriteForLeg(sdp, this.#legPlan(X, plans)));
    call.lastAnswer = { in: req.sdp, out };
    return { sdp: out };
  }

  async #sideStats(call: Call): Promise<Map<number, SideStats>> {
    const ids = call.parties.flatMap((p) => p.streams.filter((s) => s).map((s) => s!.sideId));
    const list = await this.#rpc<(SideStats | undefined)[]>(call.worker, { cmd: 'stats', ids });
    const out = new Map<number, SideStats>();
    for (const s of list) if (s) out.set(s.id, s);
    return out;
  }

  #legStats(call: Call, stats: Map<number, SideStats>): LegStats[] {
    return legStats(call.parties, stats);
  }

  async query(key: CallKey): Promise<CallStats> {
    this.#check();
    const call = this.#call(key.callId);
    const stats = await this.#sideStats(call);
    return { callId: call.callId, createdAt: call.createdAt, legs: this.#legStats(call, stats) };
  }

  async delete(key: CallKey & { readonly tag?: string }): Promise<CallStats> {
    this.#check();
    const call = this.#call(key.callId);
    let legs: LegStats[] = [];
    try {
      legs = this.#legStats(call, await this.#sideStats(call));
    } catch {
      // the worker is gone: the call ends without final stats
    }
    await this.#drop(call);
    const stats: CallStats = { callId: call.callId, createdAt: call.createdAt, legs };
    this.#events.emit('stats', { stats, final: true });
    return stats;
  }

  async #drop(call: Call): Promise<void> {
    this.#calls.delete(call.callId);
    call.worker.calls.delete(call.callId);
    const ids = call.parties.flatMap((p) => p.streams.filter((s) => s).map((s) => s!.sideId));
    if (ids.length) await this.#rpc(call.worker, { cmd: 'close', ids }).catch(() => {});
  }

  async list(): Promise<readonly string[]> {
    return [...this.#calls.keys()];
  }

  #party(key: LegKey): { call: Call; party: Party; stream: Stream } {
    const call = this.#call(key.callId);
    const party = call.parties.find((p) => p.tag === key.tag);
    if (!party)
      throw new TfxError('media-session-not-found', `call ${key.callId} has no party ${key.tag}`);
    const stream = party.streams.find((s) => s);
    if (!stream)
      throw new TfxError('media-session-not-found', `party ${key.tag} has no media stream`);
    return { call, party, stream };
  }

  async playMedia(key: LegKey, src: PlaySource, opts: PlayOptions = {}): Promise<void> {
    this.#check();
    const { call, stream } = this.#party(key);
    await this.#rpc(call.worker, {
      cmd: 'play',
      id: stream.sideId,
      source: src,
      repeat: opts.repeat ?? 1,
    });
  }

  async stopMedia(key: LegKey): Promise<void> {
    this.#check();
    const { call, stream } = this.#party(key);
    await this.#rpc(call.worker, { cmd: 'stop-play', id: stream.sideId });
  }

  async playDtmf(key: LegKey, digits: string, opts: DtmfOptions = {}): Promise<void> {
    this.#check();
    if (!/^[0-9*#A-Da-d]{1,64}$/.test(digits))
      throw new TfxError('bad-request', 'DTMF digits are 1-64 of 0-9 * # A-D');
    const { call, stream } = this.#party(key);
    await this.#rpc(call.worker, {
      cmd: 'dtmf',
      id: stream.sideId,
      digits,
      durationMs: Math.min(5000, Math.max(40, opts.durationMs ?? 100)),
      pauseMs: Math.min(5000, Math.max(0, opts.pauseMs ?? 50)),
      volume: Math.min(63, Math.max(0, opts.volume ?? 10)),
    });
  }

  async record(
    key: CallKey,
    on: boolean,
    opts: RecordOptions = { format: 'wav' },
  ): Promise<RecordResult> {
    this.#check();
    const call = this.#call(key.callId);
    const left = call.parties[0].streams.find((s) => s);
    const right = call.parties[1].streams.find((s) => s);
    if (!left || !right) throw new TfxError('media-session-not-found', 'the call has no media yet');
    const safe = call.callId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
    const path =
      opts.path ?? join(this.#opts.recordDir, `tfx-${safe}-${Date.now()}.${opts.format}`);
    await this.#rpc(call.worker, {
      cmd: 'record',
      callId: call.callId,
      left: left.sideId,
      right: right.sideId,
      on,
      format: opts.format,
      path,
    });
    return { path };
  }

  async forward(key: CallKey, dest: MediaAddress | null): Promise<void> {
    this.#check();
    const call = this.#call(key.callId);
    const ids = call.parties.flatMap((p) => p.streams.filter((s) => s).map((s) => s!.sideId));
    await this.#rpc(call.worker, { cmd: 'forward', ids, dest });
  }

  async block(key: LegKey, what: 'media' | 'dtmf', on: boolean): Promise<void> {
    this.#check();
    const { call, party } = this.#party(key);
    for (const s of party.streams)
      if (s) await this.#rpc(call.worker, { cmd: 'block', id: s.sideId, what, on });
  }

  on<E extends MediaEngineEventName>(
    event: E,
    listener: (e: MediaEngineEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** Counters summed over the workers, for metrics and the console. */
  async counters(): Promise<BuiltinEngineCounters> {
    const per = await Promise.all(
      this.#workers
        .filter((w) => w.alive)
        .map((w) => this.#rpc<WorkerCounters>(w, { cmd: 'counters' }).catch(() => undefined)),
    );
    const dropped: Record<string, number> = {};
    let packetsRelayed = 0;
    let bytesRelayed = 0;
    let portsInUse = 0;
    for (const c of per) {
      if (!c) continue;
      packetsRelayed += c.packetsRelayed;
      bytesRelayed += c.bytesRelayed;
      portsInUse += c.portsInUse;
      for (const [k, v] of Object.entries(c.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    }
    return {
      sessions: this.#calls.size,
      workersAlive: this.#workers.filter((w) => w.alive).length,
      workerFailures: this.#workerFailures,
      callsFailed: this.#callsFailed,
      packetsRelayed,
      bytesRelayed,
      dropped,
      portsInUse,
    };
  }

  /** The worker threads (tests end one to prove the others keep running). */
  get workerThreads(): readonly Worker[] {
    return this.#workers.map((w) => w.worker);
  }

  /** Which worker index holds a call (tests). */
  workerOf(callId: string): number | undefined {
    return this.#calls.get(callId)?.worker.index;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.clear();
    await Promise.all(this.#workers.map((w) => w.worker.terminate().catch(() => 0)));
    this.#events.clear();
  }
}

/**
 * Media sockets bind the address the leg's zone names, never the wildcard: a socket on 0.0.0.0 or
 * :: would take media on every interface (and a zone's topology would leak).
 */
function checkMediaAddress(p: LegProfile): void {
  const a = p.mediaAddress;
  const family = isIP(a);
  const wildcard = family === 4 ? a === '0.0.0.0' : family === 6 && /^[0:]+$/.test(a);
  if (family === 0 || wildcard)
    throw new TfxError(
      'config-invalid',
      `media address ${JSON.stringify(a)}${p.zone ? ` of zone ${p.zone}` : ''} must be a local IP address, never the wildcard`,
    );
}

/** `media.engine: builtin`: a started built-in engine. */
export function createBuiltinEngine(opts: BuiltinEngineOptions = {}): Promise<BuiltinEngine> {
  return BuiltinEngine.create(opts);
}
