/** Pre-join: camera preview, display name, camera and microphone choice, join muted or not. */
import type { LocalMedia, MediaWarning } from '@tfx/sdk';
import { h, icon } from '../dom.js';

export interface PrejoinOptions {
  readonly room: string;
  readonly media: LocalMedia;
  readonly name: string | undefined;
  readonly onJoin: (name: string) => void;
}

const NAME_KEY = 'tfx:name';

export function warningText(
  ws: readonly MediaWarning[],
  mode: LocalMedia['mode'],
): string | undefined {
  if (ws.length === 0) return undefined;
  const denied = ws.some((w) => w.code === 'permission-denied');
  const inUse = ws.some((w) => w.code === 'device-in-use');
  const then =
    mode === 'receive-only'
      ? 'You can still join to see and hear the others.'
      : mode === 'audio-only'
        ? 'You will join with your microphone only.'
        : mode === 'video-only'
          ? 'You will join with your camera only.'
          : '';
  if (denied)
    return `Camera and microphone access was blocked. ${then} To fix it, allow access in the site settings and reload.`;
  if (inUse) return `Your camera or microphone is in use by another app. ${then}`;
  const noCam = ws.some((w) => w.kind !== 'audio');
  return `${noCam ? 'No camera was found.' : 'No microphone was found.'} ${then}`;
}

export function renderPrejoin(o: PrejoinOptions): { el: HTMLElement; destroy(): void } {
  const media = o.media;
  const preview = h('video', {
    class: 'preview-video mirror',
    playsinline: true,
    autoplay: true,
    muted: true,
    id: 'preview',
  });
  preview.muted = true;
  // An empty stream on an autoplaying <video> would delay the page's load event forever.
  const attach = (): void => {
    const want = media.videoTrack ? media.stream : null;
    if (preview.srcObject !== want) preview.srcObject = want;
  };
  const previewOff = h(
    'div',
    { class: 'preview-off' },
    icon('videoOff', 'icon icon-lg'),
    h('span', {}, 'Camera is off'),
  );

  const micBtn = h('button', { type: 'button', class: 'ctl ctl-round', id: 'prejoin-mic' });
  const camBtn = h('button', { type: 'button', class: 'ctl ctl-round', id: 'prejoin-camera' });
  const sync = (): void => {
    const st = media.state;
    micBtn.replaceChildren(icon(st.audio ? 'mic' : 'micOff'));
    micBtn.setAttribute('aria-label', st.audio ? 'Mute microphone' : 'Unmute microphone');
    micBtn.setAttribute('aria-pressed', String(st.audio));
    micBtn.classList.toggle('ctl-off', !st.audio);
    micBtn.disabled = !media.audioTrack;
    camBtn.replaceChildren(icon(st.video ? 'video' : 'videoOff'));
    camBtn.setAttribute('aria-label', st.video ? 'Turn camera off' : 'Turn camera on');
    camBtn.setAttribute('aria-pressed', String(st.video));
    camBtn.classList.toggle('ctl-off', !st.video);
    previewOff.hidden = st.video;
    attach();
  };
  micBtn.addEventListener('click', () => media.setAudioEnabled(!media.state.audio));
  camBtn.addEventListener(
    'click',
    () => void media.setVideoEnabled(!media.state.video).catch(() => undefined),
  );

  const nameInput = h('input', {
    class: 'input',
    id: 'display-name',
    autocomplete: 'name',
    maxlength: 64,
    required: true,
    placeholder: 'Your name',
  });
  nameInput.value = o.name ?? storedName() ?? '';
  const camSel = h('select', { class: 'input', id: 'prejoin-camera-select' });
  const micSel = h('select', { class: 'input', id: 'prejoin-mic-select' });
  const fillDevices = async (): Promise<void> => {
    const d = await media.devices.listDevices();
    const opts = (
      list: readonly MediaDeviceInfo[],
      cur: string | undefined,
      what: string,
    ): HTMLOptionElement[] =>
      list.length === 0
        ? [h('option', {}, `No ${what} found`)]
        : list.map((x, i) =>
            h(
              'option',
              { value: x.deviceId, selected: x.deviceId === cur },
              x.label || `${what} ${i + 1}`,
            ),
          );
    camSel.replaceChildren(
      ...opts(d.videoinput, media.videoTrack?.getSettings().deviceId, 'camera'),
    );
    micSel.replaceChildren(
      ...opts(d.audioinput, media.audioTrack?.getSettings().deviceId, 'microphone'),
    );
    camSel.disabled = d.videoinput.length === 0;
    micSel.disabled = d.audioinput.length === 0;
  };
  void fillDevices();
  camSel.addEventListener(
    'change',
    () =>
      void media
        .switchDevice('videoinput', camSel.value)
        .then(sync)
        .catch(() => undefined),
  );
  micSel.addEventListener(
    'change',
    () =>
      void media
        .switchDevice('audioinput', micSel.value)
        .then(sync)
        .catch(() => undefined),
  );

  const warn = warningText(media.warnings, media.mode);
  const joinBtn = h(
    'button',
    { type: 'submit', class: 'btn btn-primary btn-lg', id: 'join' },
    h('span', {}, 'Join call'),
    icon('arrow'),
  );
  const form = h(
    'form',
    { class: 'card prejoin-form', id: 'prejoin-form' },
    h('h1', { class: 'prejoin-title' }, 'Ready to join?'),
    h('p', { class: 'muted room-label' }, 'Room ', h('strong', {}, o.room)),
    warn
      ? h(
          'p',
          { class: 'notice', role: 'alert', id: 'media-warning' },
          icon('alert', 'icon icon-sm'),
          h('span', {}, warn),
        )
      : null,
    h('label', { class: 'label', for: 'display-name' }, 'Your name'),
    nameInput,
    h('label', { class: 'label', for: 'prejoin-camera-select' }, 'Camera'),
    camSel,
    h('label', { class: 'label', for: 'prejoin-mic-select' }, 'Microphone'),
    micSel,
    joinBtn,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = nameInput.value.trim();
    if (!name) {
      nameInput.setAttribute('aria-invalid', 'true');
      nameInput.focus();
      return;
    }
    try {
      localStorage.setItem(NAME_KEY, name);
    } catch {
      // denied in a third-party iframe (an embedded call): the name is just not remembered
    }
    joinBtn.disabled = true;
    o.onJoin(name);
  });
  const offs = [media.on('state', sync), media.on('track-changed', sync)];
  sync();
  const el = h(
    'div',
    { class: 'prejoin', id: 'prejoin' },
    h(
      'div',
      { class: 'preview' },
      preview,
      previewOff,
      h('div', { class: 'preview-controls' }, micBtn, camBtn),
    ),
    form,
  );
  queueMicrotask(() => (nameInput.value ? joinBtn : nameInput).focus());
  return {
    el,
    destroy() {
      for (const off of offs) off();
    },
  };
}

/** The remembered display name; storage may be denied in a third-party iframe. */
function storedName(): string | null {
  try {
    return localStorage.getItem(NAME_KEY);
  } catch {
    return null;
  }
}
