/**
 * Video tiles: one per remote peer (main video = their screen while they share, else their
 * camera; camera as picture-in-picture while sharing), an avatar when the camera is off, name,
 * mute indicator and the connection-quality bars. Audio plays through a separate element so a
 * video switch never interrupts it and the speaker choice (`setSinkId`) applies.
 */
import type { MediaSource, Quality, RemotePeer } from '@tfx/sdk';
import { h, icon, initials } from '../dom.js';

const QUALITY_TEXT: Record<Quality, string> = {
  good: 'Good connection',
  fair: 'Fair connection',
  poor: 'Poor connection',
  lost: 'Connection lost — reconnecting',
  connecting: 'Connecting',
};

function play(el: HTMLMediaElement): void {
  void el.play().catch(() => undefined);
}

function setTrack(el: HTMLMediaElement, track: MediaStreamTrack | undefined): void {
  const current = (el.srcObject as MediaStream | null)?.getTracks()[0];
  if (current === track) return;
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) play(el);
}

/** The raised-hand mark in a tile's corner (hidden while the hand is down). */
function handBadge(label: string): HTMLElement {
  return h(
    'span',
    { class: 'tile-hand', role: 'img', 'aria-label': label, title: label, hidden: true },
    icon('hand', 'icon icon-sm'),
  );
}

export class PeerTile {
  readonly el: HTMLElement;
  /** The camera, always on its own element (a corner picture while the peer presents). */
  readonly video: HTMLVideoElement;
  /** The peer's screen while they present. */
  readonly screen: HTMLVideoElement;
  readonly audio: HTMLAudioElement;
  readonly #name: HTMLElement;
  readonly #avatar: HTMLElement;
  readonly #micOff: HTMLElement;
  readonly #quality: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #hand: HTMLElement;

  constructor(peer: RemotePeer) {
    // Two elements that keep their tracks, instead of one switching srcObject: no re-buffering
    // (and no black frame) when a share starts or stops.
    this.video = h('video', {
      class: 'tile-video tile-camera',
      playsinline: true,
      autoplay: true,
      muted: true,
    });
    this.video.muted = true;
    this.screen = h('video', {
      class: 'tile-video tile-screen',
      playsinline: true,
      autoplay: true,
      muted: true,
    });
    this.screen.muted = true;
    this.audio = h('audio', { autoplay: true });
    this.#avatar = h(
      'div',
      { class: 'avatar', 'aria-hidden': 'true' },
      h('span', {}, initials(peer.name)),
    );
    this.#name = h('span', { class: 'tile-name' }, peer.name);
    this.#micOff = h(
      'span',
      {
        class: 'tile-muted',
        title: 'Microphone off',
        role: 'img',
        'aria-label': 'Microphone off',
        hidden: true,
      },
      icon('micOff', 'icon icon-sm'),
    );
    this.#quality = h(
      'span',
      { class: 'quality', role: 'img' },
      h('i', {}),
      h('i', {}),
      h('i', {}),
    );
    this.#badge = h(
      'span',
      { class: 'tile-badge', hidden: true },
      icon('screen', 'icon icon-sm'),
      'Presenting',
    );
    this.#hand = handBadge('Hand raised');
    this.el = h(
      'article',
      { class: 'tile', 'data-peer': peer.id, tabindex: 0 },
      this.screen,
      this.#avatar,
      this.video,
      this.#badge,
      this.#hand,
      h('div', { class: 'tile-bar' }, this.#micOff, this.#name, this.#quality),
      this.audio,
    );
    this.update(peer);
  }

  /** Re-renders from the peer's current tracks, state and quality. */
  update(peer: RemotePeer): void {
    const screen = peer.tracks.get('screen');
    const camera = peer.tracks.get('camera');
    const sharing = screen !== undefined && screen.readyState === 'live';
    setTrack(this.video, camera);
    setTrack(this.screen, sharing ? screen : undefined);
    setTrack(this.audio, peer.tracks.get('mic'));
    const cameraShown = camera !== undefined && peer.state.video;
    this.el.classList.toggle('no-video', !sharing && !cameraShown);
    this.el.classList.toggle('camera-off', !cameraShown);
    this.el.classList.toggle('sharing', sharing);
    this.el.dataset.source = sharing ? 'screen' : 'camera';
    this.#badge.hidden = !sharing;
    this.#name.textContent = peer.name;
    this.#avatar.firstElementChild!.textContent = initials(peer.name);
    this.#micOff.hidden = peer.state.audio;
    this.#hand.hidden = !peer.state.hand;
    this.el.dataset.hand = peer.state.hand ? 'up' : 'down';
    this.el.dataset.audio = peer.state.audio ? 'on' : 'off';
    this.el.dataset.video = peer.state.video ? 'on' : 'off';
    this.el.setAttribute(
      'aria-label',
      `${peer.name}${peer.state.audio ? '' : ', microphone off'}${sharing ? ', presenting' : ''}${peer.state.hand ? ', hand raised' : ''}`,
    );
    this.setQuality(peer.quality);
  }

  setQuality(q: Quality): void {
    this.el.dataset.quality = q;
    this.#quality.dataset.quality = q;
    this.#quality.title = QUALITY_TEXT[q];
    this.#quality.setAttribute('aria-label', QUALITY_TEXT[q]);
  }

  async setSink(deviceId: string): Promise<void> {
    const a = this.audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    await a.setSinkId?.(deviceId);
  }
}

/** The local self-view (mirrored camera, or our screen while sharing). */
export class SelfTile {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #micOff: HTMLElement;
  readonly #avatar: HTMLElement;
  readonly #hand = handBadge('Your hand is raised');

  constructor(name: string) {
    this.video = h('video', {
      class: 'self-video',
      playsinline: true,
      autoplay: true,
      muted: true,
    });
    this.video.muted = true;
    this.#micOff = h(
      'span',
      { class: 'tile-muted', title: 'Your microphone is off', hidden: true },
      icon('micOff', 'icon icon-sm'),
    );
    this.#avatar = h(
      'div',
      { class: 'avatar avatar-sm', 'aria-hidden': 'true' },
      h('span', {}, initials(name)),
    );
    this.el = h(
      'aside',
      { class: 'self', 'aria-label': 'Your video' },
      this.video,
      this.#avatar,
      this.#hand,
      h('div', { class: 'tile-bar' }, this.#micOff, h('span', { class: 'tile-name' }, 'You')),
    );
  }

  update(
    track: MediaStreamTrack | null,
    state: { audio: boolean; video: boolean; hand?: boolean | undefined },
    source: MediaSource,
  ): void {
    this.#hand.hidden = !state.hand;
    setTrack(this.video, track ?? undefined);
    this.el.classList.toggle('mirror', source === 'camera');
    this.el.classList.toggle('no-video', !track || (source === 'camera' && !state.video));
    this.#micOff.hidden = state.audio;
  }
}
