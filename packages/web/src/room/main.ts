/**
 * The room page (`/r/<room>`): pre-join → call, and a clear screen for every way it can end or
 * fail (room full, wrong password, room expired, version mismatch, left, kicked, connection
 * lost, unsupported browser, invalid room name).
 */
import { TfxClient, TfxSdkError, type LocalMedia, type LeaveReason, type Room } from '@tfx/sdk';
import { h, icon } from '../dom.js';
import { ICONS, type IconName } from '../icons.js';
import { passwordKey } from '../names.js';
import { installDebugHandle } from '../debug.js';
import { parseRoomParams } from './params.js';
import type { CallScreen } from './call-ui.js';
import { startEmbedBridge } from '../embed/bridge.js';
import { claimEarlyMedia } from './early-media.js';
import './screens-mobile.css';
// The service worker is registered on `load` anyway: not a chunk the entry waits for.
void import('../pwa.js');

// Performance marks (read by bench/call): script start, media ready, joined, first remote track.
performance.mark('tfx:script');
const params = parseRoomParams(location.pathname, location.search);
// The camera request boot.ts made while this script loaded (early-media.ts).
const early = claimEarlyMedia(globalThis.navigator?.mediaDevices);
const client = new TfxClient({
  ...(params.relay ? { rtc: { iceTransportPolicy: 'relay' } } : {}),
  ...(early ? { mediaDevices: early.devices } : {}),
});
const log = installDebugHandle(client);
const app = document.getElementById('app') as HTMLElement;
// Inside an iframe of an allowed host page: events out, commands in (docs/embed.md).
const embed = startEmbedBridge();

let media: LocalMedia | null = null;
let displayName = params.name ?? '';
let password: string | undefined;
let view: { destroy(): void } | null = null;

/** Web storage, which a browser may deny to a page in a third-party iframe (an embedded call). */
function safeStorage<T>(use: () => T): T | undefined {
  try {
    return use();
  } catch {
    return undefined;
  }
}

function show(screen: string, el: HTMLElement, title?: string): void {
  view?.destroy();
  view = null;
  log.screens.push(screen);
  app.dataset.screen = screen;
  app.replaceChildren(el);
  document.title = title ? `${title} · TFX` : 'TFX call';
  // Move focus to the new screen's heading or first control, for keyboard and screen readers.
  const target = el.querySelector<HTMLElement>('[autofocus], h1, h2');
  // (A hidden heading cannot take focus; trying would only force a style pass: the call screen
  // hides its "waiting for others" heading when others are there.)
  if (target && !target.closest('[hidden]') && !el.querySelector(':focus')) {
    if (!target.hasAttribute('tabindex') && /^H[12]$/.test(target.tagName))
      target.setAttribute('tabindex', '-1');
    target.focus({ preventScroll: true });
  }
}

function brand(): HTMLElement {
  const logo = h('span', { class: 'logo' });
  logo.innerHTML = ICONS.logo;
  return h(
    'a',
    { href: '/', class: 'brand brand-corner', 'aria-label': 'TFX home' },
    logo,
    h('span', {}, 'TFX'),
  );
}

interface Action {
  readonly label: string;
  readonly icon?: IconName;
  readonly primary?: boolean;
  readonly id: string;
  readonly run: () => void;
}

/** A full-page message with actions. */
function messageScreen(
  screen: string,
  opts: { icon: IconName; title: string; text: string; actions: Action[]; extra?: HTMLElement },
): void {
  const buttons = opts.actions.map((a) => {
    const b = h(
      'button',
      { type: 'button', class: `btn ${a.primary ? 'btn-primary' : 'btn-secondary'}`, id: a.id },
      a.icon ? icon(a.icon) : null,
      h('span', {}, a.label),
    );
    b.addEventListener('click', a.run);
    return b;
  });
  show(
    screen,
    h(
      'div',
      { class: 'screen', id: `screen-${screen}` },
      brand(),
      h(
        'div',
        { class: 'card message-card' },
        h('div', { class: `message-icon message-${screen}` }, icon(opts.icon, 'icon icon-lg')),
        h('h1', {}, opts.title),
        h('p', { class: 'muted' }, opts.text),
        opts.extra ?? null,
        h('div', { class: 'row row-center' }, ...buttons),
      ),
    ),
    opts.title,
  );
}

/** The longest the call screen waits for the first offers to go out before it is drawn, ms. */
const OFFER_WAIT_MAX_MS = 250;
/** Then, with peers present, the longest it waits for the first answer (a remote track), ms. */
const ANSWER_WAIT_MAX_MS = 250;
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const home: Action = { label: 'Start a new call', id: 'go-home', run: () => location.assign('/') };

function passwordScreen(wrong: boolean): void {
  const input = h('input', {
    class: 'input',
    type: 'password',
    id: 'room-password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 128,
    autofocus: true,
    'aria-describedby': 'password-help',
  });
  const form = h(
    'form',
    { class: 'password-form', id: 'password-form' },
    h('label', { class: 'label', for: 'room-password' }, 'Password'),
    input,
    h(
      'p',
      { class: wrong ? 'error-text' : 'muted', id: 'password-help' },
      wrong ? 'That password is not right. Try again.' : 'This room is protected by a password.',
    ),
    h(
      'button',
      { type: 'submit', class: 'btn btn-primary', id: 'submit-password' },
      icon('lock'),
      h('span', {}, 'Join'),
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!input.value) return;
    password = input.value;
    void join();
  });
  messageScreen('wrong-password', {
    icon: 'lock',
    title: 'Password required',
    text: `Enter the password for “${params.room ?? ''}”.`,
    actions: [],
    extra: form,
  });
  input.focus();
}

function errorScreen(err: unknown): void {
  const e =
    err instanceof TfxSdkError
      ? err
      : new TfxSdkError('internal', err instanceof Error ? err.message : String(err));
  const retry: Action = {
    label: 'Try again',
    id: 'retry',
    icon: 'refresh',
    primary: true,
    run: () => void join(),
  };
  switch (e.code) {
    case 'room-full':
      return messageScreen('room-full', {
        icon: 'users',
        title: 'This room is full',
        text: 'The call has reached its maximum number of participants. Try again when someone leaves.',
        actions: [retry, home],
      });
    case 'wrong-password':
      return passwordScreen(password !== undefined);
    case 'room-expired':
      return messageScreen('room-expired', {
        icon: 'alert',
        title: 'This room has expired',
        text: 'The link was only valid for a limited time. Start a new call instead.',
        actions: [{ ...home, primary: true }],
      });
    case 'room-locked':
      return messageScreen('room-locked', {
        icon: 'lock',
        title: 'This room is locked',
        text: 'A moderator locked the room. Ask them to unlock it, then try again.',
        actions: [retry, home],
      });
    case 'lobby-denied':
      return messageScreen('lobby-denied', {
        icon: 'lock',
        title: 'You were not let in',
        text: 'A moderator of this room did not admit you.',
        actions: [home],
      });
    case 'version-mismatch':
      return messageScreen('version-mismatch', {
        icon: 'refresh',
        title: 'TFX was updated',
        text: 'This page is out of date with the server. Reload to get the new version.',
        actions: [
          {
            label: 'Reload',
            id: 'reload',
            icon: 'refresh',
            primary: true,
            run: () => location.reload(),
          },
        ],
      });
    case 'invalid-room-name':
      return messageScreen('invalid-room', {
        icon: 'alert',
        title: 'Not a valid room',
        text: 'Room names are 3–64 letters, digits or dashes.',
        actions: [{ ...home, primary: true }],
      });
    case 'unsupported-browser':
      return messageScreen('unsupported', {
        icon: 'alert',
        title: 'This browser can’t make calls',
        text: `${e.message}. Use a current Chrome, Edge, Firefox or Safari over HTTPS.`,
        actions: [home],
      });
    default:
      return messageScreen('error', {
        icon: 'alert',
        title: 'Could not join the call',
        text: e.message,
        actions: [retry, home],
      });
  }
}

function endedScreen(reason: LeaveReason, error?: TfxSdkError): void {
  const rejoin: Action = {
    label: 'Rejoin',
    id: 'rejoin',
    icon: 'refresh',
    primary: true,
    run: () => void join(),
  };
  switch (reason) {
    case 'kicked':
      return messageScreen('kicked', {
        icon: 'alert',
        title: 'You were removed from the call',
        text: 'A moderator removed you.',
        actions: [home],
      });
    case 'session-closed':
      return messageScreen('closed', {
        icon: 'alert',
        title: 'The call was ended',
        text: 'An administrator closed this session.',
        actions: [rejoin, home],
      });
    case 'lost':
      return messageScreen('lost', {
        icon: 'alert',
        title: 'Connection lost',
        text: error?.message ?? 'The connection to the server could not be restored.',
        actions: [rejoin, home],
      });
    default:
      return messageScreen('left', {
        icon: 'leave',
        title: 'You left the call',
        text: 'Thanks for joining.',
        actions: [rejoin, home],
      });
  }
}

let effectsReady = false;
const effectsPanel = (): Promise<typeof import('../effects/panel.js')> =>
  import('../effects/panel.js');
// The pre-join view and the call screen (call-ui.ts): asked for while the camera opens, so that
// the first script is the SDK and the loading screen (docs/benchmarks.md, "Call").
let callUiLoad: Promise<typeof import('./call-ui.js')> | null = null;
const callUi = (): Promise<typeof import('./call-ui.js')> =>
  (callUiLoad ??= import('./call-ui.js').catch((err: unknown) => {
    callUiLoad = null;
    throw err;
  }));
async function ensureMedia(): Promise<LocalMedia> {
  media ??= await client.createLocalMedia({
    camera: params.camera,
    audioEnabled: params.audio,
    videoEnabled: params.video,
  });
  early?.release();
  // Video effects (docs/effects.md): engines, budget, the remembered choice. Loaded beside the
  // camera, not before it: the call page's first script stays small (docs/benchmarks.md "Call").
  if (!effectsReady) {
    effectsReady = true;
    const m = media;
    void effectsPanel().then(({ setupEffects }) => setupEffects(m, () => displayName));
  }
  return media;
}

async function join(): Promise<void> {
  if (!params.room) return errorScreen(new TfxSdkError('invalid-room-name'));
  show(
    'joining',
    h(
      'div',
      { class: 'screen' },
      brand(),
      h('div', { class: 'spinner', role: 'status', 'aria-label': 'Joining' }),
      h('p', { class: 'muted center' }, 'Joining…'),
    ),
    'Joining',
  );
  let room: Room;
  let ui: typeof import('./call-ui.js');
  try {
    const [m, loaded] = await Promise.all([ensureMedia(), callUi()]);
    ui = loaded;
    room = await client.join(params.room, {
      name: displayName,
      password,
      media: m,
      onLobby: () =>
        show(
          'lobby',
          h(
            'div',
            { class: 'screen lobby-wait', id: 'screen-lobby' },
            brand(),
            h('h1', {}, 'Waiting to be let in'),
            h('div', { class: 'spinner', role: 'status', 'aria-label': 'Waiting' }),
            h('p', { class: 'muted center' }, 'A moderator will admit you shortly.'),
          ),
          'Waiting',
        ),
    });
  } catch (err) {
    return errorScreen(err);
  }
  performance.mark('tfx:joined');
  // The call goes on while the call screen is not built yet: its events wait for it (below).
  const release = room.holdEvents();
  const firstTrack = new Promise<void>((resolve) =>
    room.once('track', () => {
      performance.mark('tfx:track');
      resolve();
    }),
  );
  if (password) safeStorage(() => sessionStorage.removeItem(passwordKey(params.room ?? '')));
  const leaveOnce = { done: false };
  // The call screen is built once the offers to the peers present have gone out, then gets the
  // room's events held since the join (none is missed): built in the join's task it kept the
  // offer waiting behind 20–50 ms of main thread, drawn first behind ~30 ms of style and layout
  // (docs/benchmarks.md, "Call").
  await Promise.race([room.offersSent, delay(OFFER_WAIT_MAX_MS)]);
  if (room.closed) {
    // Left meanwhile (kicked, lost): the held 'left' shows the ended screen.
    room.on('left', ({ reason, error }) => endedScreen(reason, error));
    return release();
  }
  const call: CallScreen = await ui.mountCallScreen(room, {
    name: displayName,
    log,
    embed,
    effects: effectsPanel,
    onLeave: () => {
      leaveOnce.done = true;
    },
  });
  room.on('left', ({ reason, error }) => endedScreen(leaveOnce.done ? 'left' : reason, error));
  release();
  // With peers present, drawn once their answer has been applied (its first remote track) and
  // not while it is on its way: the screen's first style and layout (10–30 ms of main thread)
  // held the answer's delivery back by up to 90 ms in traces, while the connection that follows
  // the answer (ICE, DTLS, the first frame) leaves the main thread free to draw it then
  // (docs/benchmarks.md, "Call").
  if (room.peers.size > 0) await Promise.race([firstTrack, delay(ANSWER_WAIT_MAX_MS)]);
  // Left meanwhile (kicked, lost): the ended screen is up already.
  if (room.closed) return call.destroy();
  show('call', call.el, room.name);
  view = call;
}

async function start(): Promise<void> {
  if (!params.room) {
    early?.release();
    return errorScreen(new TfxSdkError('invalid-room-name'));
  }
  const support = TfxClient.support();
  if (!support.ok) {
    early?.release();
    return errorScreen(
      new TfxSdkError('unsupported-browser', `Missing ${support.missing.join(', ')}`),
    );
  }
  // The camera first: it takes longest to open, and what follows runs meanwhile (the first
  // sessionStorage read and the loading screen cost ~15 ms of main thread, bench/call).
  const opening = ensureMedia();
  // Joining at once: the signalling connection opens while the camera does.
  if (params.autojoin && params.name) client.preconnect();
  void callUi().catch(() => undefined);
  password = safeStorage(() => sessionStorage.getItem(passwordKey(params.room ?? ''))) ?? undefined;
  show(
    'loading',
    h(
      'div',
      { class: 'screen' },
      brand(),
      h('div', { class: 'spinner', role: 'status', 'aria-label': 'Starting camera' }),
    ),
  );
  const m = await opening;
  performance.mark('tfx:media');
  if (params.autojoin && params.name) {
    displayName = params.name;
    return join();
  }
  let renderPrejoin: (typeof import('./call-ui.js'))['renderPrejoin'];
  try {
    ({ renderPrejoin } = await callUi());
  } catch (err) {
    return errorScreen(err);
  }
  const pre = renderPrejoin({
    room: params.room,
    media: m,
    name: params.name,
    onJoin: (name) => {
      displayName = name;
      void join();
    },
  });
  // The effects control beside the preview's buttons (the preview shows the processed video).
  let fx: { destroy(): void } | null = null;
  let preGone = false;
  void effectsPanel().then(({ effectsControl }) => {
    if (preGone) return;
    const control = effectsControl(m);
    fx = control;
    pre.el.querySelector('.preview-controls')?.append(control.el);
    pre.el.querySelector('.preview')?.append(control.chip);
  });
  show('prejoin', h('div', { class: 'screen screen-prejoin' }, brand(), pre.el), 'Join');
  view = {
    destroy: () => {
      preGone = true;
      fx?.destroy();
      pre.destroy();
    },
  };
}

window.addEventListener('pagehide', () => {
  void client.room?.leave();
});

void start();
