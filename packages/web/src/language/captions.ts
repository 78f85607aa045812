/**
 * Live captions on the call page (docs/language.md).
 *
 * Sending (opt-in per user, in rooms that opted in): our own microphone → 16 kHz
 * `AudioContext` → frames of 1024 samples → VAD (vad.ts; nothing kept while muted or silent) →
 * a WAV segment → `POST /api/v1/language/transcribe` (the server's provider) → the text, shown
 * here and sent to every peer over the call's data channel (`Room.sendData`).
 * Receiving: each caption is translated into our language when it differs (the server's
 * translation provider) and shown in the captions bar with the speaker's name; the original
 * stays with it. The transcript of the call so far downloads as a text file.
 */
import type { Room } from '@tfx/sdk';
import { baseLanguage } from '@tfx/protocol/core';
import { h } from '../dom.js';
import type { LanguageApiClient } from './api.js';
import { Vad, wavOf } from './vad.js';

export interface CaptionLine {
  readonly peer: string;
  readonly name: string;
  readonly text: string;
  readonly lang: string;
  readonly original?: string;
  readonly at: number;
  /** Why `text` is not in our language (translation failed), if it is not. */
  readonly notice?: string;
}

/** What goes over the data channel. */
interface CaptionWire {
  readonly tfx: 'caption';
  readonly text: string;
  readonly lang: string;
  readonly at: number;
}

function parseWire(v: unknown): CaptionWire | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.tfx !== 'caption' || typeof o.text !== 'string' || typeof o.lang !== 'string') return null;
  if (
    o.text.length === 0 ||
    o.text.length > 1000 ||
    !/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(o.lang)
  )
    return null;
  return {
    tfx: 'caption',
    text: o.text,
    lang: o.lang,
    at: typeof o.at === 'number' ? o.at : Date.now(),
  };
}

const RATE = 16_000;
const FRAME = 1024;

export interface CaptionsOptions {
  readonly room: Room;
  readonly api: LanguageApiClient;
  readonly lang: () => string;
  /** Every line shown (widgets subscribed to captions get them). */
  readonly onLine: (line: CaptionLine) => void;
}

export class Captions {
  readonly el: HTMLElement;
  readonly #o: CaptionsOptions;
  readonly #lines: HTMLElement;
  readonly #status: HTMLElement;
  readonly #transcript: CaptionLine[] = [];
  #ctx: AudioContext | null = null;
  #proc: ScriptProcessorNode | null = null;
  #vad = new Vad();
  #sending = false;
  /** Segments uploaded (tests and the debug handle read it). */
  uploads = 0;
  readonly #off: Array<() => void> = [];

  constructor(o: CaptionsOptions) {
    this.#o = o;
    this.#lines = h('ol', { class: 'captions-lines', 'aria-live': 'polite', id: 'captions-lines' });
    this.#status = h('p', { class: 'captions-status', id: 'captions-status' });
    const download = h(
      'button',
      { type: 'button', class: 'captions-download', id: 'captions-download' },
      'Transcript',
    );
    download.addEventListener('click', () => this.download());
    this.el = h(
      'section',
      { class: 'captions-bar', id: 'captions-bar', 'aria-label': 'Captions', hidden: true },
      this.#lines,
      h('div', { class: 'captions-foot' }, this.#status, download),
    );
    this.#off.push(
      o.room.on('data', ({ from, data }) => {
        const w = parseWire(data);
        if (!w) return;
        const name = o.room.peers.get(from)?.name ?? 'Someone';
        void this.#receive({ peer: from, name, text: w.text, lang: w.lang, at: w.at });
      }),
    );
  }

  get sending(): boolean {
    return this.#sending;
  }

  get transcript(): readonly CaptionLine[] {
    return this.#transcript;
  }

  /** Starts transcribing our microphone (the caller showed that audio leaves P2P). */
  async start(): Promise<void> {
    if (this.#sending) return;
    const track = this.#o.room.local.audioTrack;
    if (!track) throw new Error('no microphone');
    this.#sending = true;
    this.el.hidden = false;
    this.#status.textContent =
      'Captions on: your microphone audio goes to the server’s speech-to-text service (it leaves the peer-to-peer path).';
    const ctx = new AudioContext({ sampleRate: RATE });
    this.#ctx = ctx;
    void ctx.resume().catch(() => undefined);
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    // ScriptProcessorNode: deprecated but everywhere, and needs no worklet module (the CSP).
    const proc = ctx.createScriptProcessor(FRAME, 1, 1);
    const mute = ctx.createGain();
    mute.gain.value = 0;
    src.connect(proc);
    proc.connect(mute);
    mute.connect(ctx.destination);
    proc.onaudioprocess = (ev) => {
      const frame = new Float32Array(ev.inputBuffer.getChannelData(0));
      const muted = !this.#o.room.localState.audio || !track.enabled;
      const seg = this.#vad.push(frame, muted);
      if (seg) void this.#send(seg, ctx.sampleRate);
    };
    this.#proc = proc;
  }

  stop(): void {
    if (!this.#sending) return;
    this.#sending = false;
    if (this.#proc) this.#proc.onaudioprocess = null;
    this.#proc?.disconnect();
    this.#proc = null;
    void this.#ctx?.close().catch(() => undefined);
    this.#ctx = null;
    this.#vad.reset();
    this.#status.textContent = 'Captions off for your microphone.';
  }

  async #send(samples: Float32Array, rate: number): Promise<void> {
    const lang = this.#o.lang();
    this.uploads++;
    let text: string;
    try {
      text = (
        await this.#o.api.transcribe(new Blob([wavOf(samples, rate)], { type: 'audio/wav' }), lang)
      ).text;
    } catch (err) {
      this.#status.textContent = `Captions: ${(err as Error).message}`;
      return;
    }
    if (!text.trim()) return;
    const at = Date.now();
    this.#o.room.sendData({ tfx: 'caption', text, lang, at } satisfies CaptionWire);
    this.#show({ peer: this.#o.room.peerId, name: 'You', text, lang, at });
  }

  async #receive(line: CaptionLine): Promise<void> {
    const mine = this.#o.lang();
    if (baseLanguage(line.lang) === baseLanguage(mine)) return this.#show(line);
    try {
      const [t] = (await this.#o.api.translate([line.text], line.lang, mine)).translations;
      if (t && !t.unchanged) return this.#show({ ...line, text: t.text, original: line.text });
      this.#show(line);
    } catch (err) {
      this.#show({ ...line, notice: `not translated: ${(err as Error).message}` });
    }
  }

  #show(line: CaptionLine): void {
    this.#transcript.push(line);
    if (this.#transcript.length > 5000) this.#transcript.shift();
    this.el.hidden = false;
    const li = h(
      'li',
      {
        class: 'caption',
        'data-peer': line.peer,
        lang: line.original ? this.#o.lang() : line.lang,
      },
      h('strong', { class: 'caption-name' }, `${line.name}: `),
      h('span', { class: 'caption-text' }, line.text),
    );
    if (line.original) li.title = `Original (${line.lang}): ${line.original}`;
    if (line.notice) li.append(h('em', { class: 'caption-notice' }, ` (${line.notice})`));
    this.#lines.append(li);
    while (this.#lines.children.length > 3) this.#lines.firstElementChild?.remove();
    this.#o.onLine(line);
  }

  /** The transcript as text: one line per caption, with time, name, text and the original. */
  transcriptText(): string {
    return this.#transcript
      .map((l) => {
        const t = new Date(l.at).toISOString().slice(11, 19);
        const orig = l.original ? ` [${l.lang}: ${l.original}]` : '';
        return `${t} ${l.name}: ${l.text}${orig}`;
      })
      .join('\n');
  }

  download(): void {
    const url = URL.createObjectURL(
      new Blob([this.transcriptText() + '\n'], { type: 'text/plain' }),
    );
    const a = h('a', { href: url, download: `transcript-${this.#o.room.name}.txt` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Idempotent. */
  close(): void {
    this.stop();
    for (const off of this.#off.splice(0)) off();
    this.el.remove();
  }
}
