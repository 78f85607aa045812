/**
 * Local recording with MediaRecorder, downloaded as webm: the whole grid (every visible video of
 * the call drawn onto a canvas, every audio track mixed with WebAudio) or one peer (its video,
 * its audio). While anyone records, everyone sees the indicator: the recorder tells each peer
 * `{ t: 'recording', on }` over the signalling relay (`message`), and tells again any peer that
 * joins meanwhile; a peer that leaves stops counting.
 */
import type { Room } from '@tfx/sdk';

export type RecordSource =
  { readonly kind: 'grid' } | { readonly kind: 'peer'; readonly peerId: string };

/** The recording notice carried to peers. */
export interface RecordingNotice {
  readonly t: 'recording';
  readonly on: boolean;
}

export function isRecordingNotice(v: unknown): v is RecordingNotice {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { t?: unknown }).t === 'recording' &&
    typeof (v as { on?: unknown }).on === 'boolean'
  );
}

/** The first webm type this browser records (vp8 + opus preferred: every player takes it). */
export function pickMimeType(isSupported: (t: string) => boolean): string | undefined {
  return ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm'].find((t) =>
    isSupported(t),
  );
}

/** Grid cell rectangles for `n` videos in a `w`×`h` canvas (columns = ceil(sqrt(n))). */
export function gridCells(
  n: number,
  w: number,
  h: number,
): Array<{ x: number; y: number; w: number; h: number }> {
  if (n <= 0) return [];
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const cw = w / cols;
  const ch = h / rows;
  return Array.from({ length: n }, (_, i) => ({
    x: (i % cols) * cw,
    y: Math.floor(i / cols) * ch,
    w: cw,
    h: ch,
  }));
}

/** Draws `video` into the cell, letterboxed (aspect kept). */
function drawFit(
  ctx: CanvasRenderingContext2D,
  video: HTMLVideoElement,
  c: { x: number; y: number; w: number; h: number },
): void {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh) return;
  const s = Math.min(c.w / vw, c.h / vh);
  const dw = vw * s;
  const dh = vh * s;
  ctx.drawImage(video, c.x + (c.w - dw) / 2, c.y + (c.h - dh) / 2, dw, dh);
}

export class CallRecorder {
  #recorder: MediaRecorder | null = null;
  #chunks: Blob[] = [];
  #cleanup: Array<() => void> = [];
  #startedAt = 0;

  constructor(
    private readonly room: Room,
    /** Where the grid's videos are (the call screen's stage). */
    private readonly stage: HTMLElement,
  ) {}

  get recording(): boolean {
    return this.#recorder !== null;
  }

  start(source: RecordSource): void {
    if (this.#recorder) return;
    const mime = pickMimeType((t) => MediaRecorder.isTypeSupported(t));
    const audio = new AudioContext();
    const dest = audio.createMediaStreamDestination();
    const mixed: MediaStreamTrack[] = [];
    const mix = (track: MediaStreamTrack | null | undefined): void => {
      if (!track || track.readyState !== 'live') return;
      audio.createMediaStreamSource(new MediaStream([track])).connect(dest);
      mixed.push(track);
    };
    let video: MediaStreamTrack | undefined;
    if (source.kind === 'peer') {
      const peer = this.room.peers.get(source.peerId);
      video = peer?.tracks.get('screen') ?? peer?.tracks.get('camera');
      mix(peer?.tracks.get('mic'));
      mix(peer?.tracks.get('screen-audio'));
    } else {
      video = this.#gridTrack();
      for (const p of this.room.peers.values()) {
        mix(p.tracks.get('mic'));
        mix(p.tracks.get('screen-audio'));
      }
      mix(this.room.local.audioTrack);
    }
    const tracks = [...(video ? [video] : []), ...dest.stream.getAudioTracks()];
    const rec = new MediaRecorder(new MediaStream(tracks), mime ? { mimeType: mime } : {});
    this.#chunks = [];
    rec.ondataavailable = (e) => {
      if (e.data.size > 0) this.#chunks.push(e.data);
    };
    this.#cleanup.push(() => void audio.close().catch(() => undefined));
    rec.start(1000);
    this.#recorder = rec;
    this.#startedAt = Date.now();
    this.#announce(true);
  }

  /** Stops and resolves with the recording (webm). */
  stop(): Promise<Blob> {
    const rec = this.#recorder;
    if (!rec) return Promise.reject(new Error('not recording'));
    this.#recorder = null;
    this.#announce(false);
    return new Promise((resolve) => {
      rec.onstop = () => {
        for (const c of this.#cleanup.splice(0)) c();
        resolve(new Blob(this.#chunks, { type: rec.mimeType || 'video/webm' }));
        this.#chunks = [];
      };
      rec.stop();
    });
  }

  /** Milliseconds since the recording started (0 when not recording). */
  get elapsedMs(): number {
    return this.#recorder ? Date.now() - this.#startedAt : 0;
  }

  /** Tells a peer that joined while we record. */
  tell(peerId: string): void {
    if (this.#recorder) this.room.signalling.message(peerId, { t: 'recording', on: true });
  }

  destroy(): void {
    if (this.#recorder) {
      this.#recorder.ondataavailable = null;
      this.#recorder.stop();
      this.#recorder = null;
      this.#announce(false);
    }
    for (const c of this.#cleanup.splice(0)) c();
  }

  #announce(on: boolean): void {
    const notice: RecordingNotice = { t: 'recording', on };
    for (const p of this.room.peers.values()) this.room.signalling.message(p.id, notice);
  }

  /** A canvas track with every visible video of the stage, redrawn 15 times a second. */
  #gridTrack(): MediaStreamTrack {
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    const draw = (): void => {
      ctx.fillStyle = '#0b1020';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      const videos = [...this.stage.querySelectorAll('video')].filter(
        (v) => v.videoWidth > 0 && !v.closest('[hidden]'),
      );
      const cells = gridCells(videos.length, canvas.width, canvas.height);
      videos.forEach((v, i) => drawFit(ctx, v, cells[i] as (typeof cells)[number]));
    };
    draw();
    const timer = setInterval(draw, 1000 / 15);
    const track = canvas.captureStream(15).getVideoTracks()[0] as MediaStreamTrack;
    this.#cleanup.push(() => {
      clearInterval(timer);
      track.stop();
    });
    return track;
  }
}

/** Offers a blob as a file download. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
