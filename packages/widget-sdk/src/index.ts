/**
 * @tfx/widget-sdk — what a TFX widget includes. Served by every TFX deployment as one ES module
 * at `/widget-sdk/v1.js`, and usable from npm with any bundler.
 *
 * ```js
 * // connect comes from /widget-sdk/v1.js (or the npm package)
 * const tfx = await connect();
 * tfx.onMessage((data, from) => show(from.name, data));
 * await tfx.sendMessage({ text: 'hi' });
 * ```
 * See docs/widgets.md.
 */
import {
  ENVELOPE_TAG,
  WIDGET_PROTOCOL_VERSIONS,
  parseHostToWidget,
  type WidgetPeer,
} from '@tfx/protocol/widgets';
import { TfxWidgetError } from './errors.js';
import { TfxWidget, type WidgetPortLike } from './widget.js';

export {
  TfxWidget,
  type SendOptions,
  type MessageHandler,
  type PeersHandler,
  type FrameHandler,
  type ProcessorHandler,
} from './widget.js';
export type {
  OverlayShape,
  VideoProcessorSpec,
  VideoProcessorChain,
  VideoProcessorStep,
} from '@tfx/protocol/widgets';
export { TfxWidgetError, type TfxWidgetErrorCode } from './errors.js';
export {
  AudioApi,
  LanguageApi,
  type LanguageInfo,
  type Caption,
  type PeerLevel,
  type TranslatedText,
} from './language.js';
export type { StateSync, StateSyncOptions, StateSyncStatus } from './state-sync.js';
export type { WidgetPeer };

export const SDK_VERSION = '1.0.0';

export interface ConnectOptions {
  /** Give up after this long without a `welcome`, ms. Default 10000. */
  readonly timeoutMs?: number;
}

/** The window a widget runs in, as far as the handshake needs it (a fake in tests). */
export interface WidgetWindowLike {
  readonly parent: { postMessage(message: unknown, targetOrigin: string): void } | null;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
}

/**
 * The versioned handshake: posts `hello` (the envelope versions this SDK speaks) to the parent
 * window until the host answers `welcome` with a `MessagePort` (or `reject`).
 */
export function connect(options: ConnectOptions = {}): Promise<TfxWidget> {
  return connectIn(window as unknown as WidgetWindowLike, options);
}

/** @internal `connect` with the window given (tests). */
export function connectIn(win: WidgetWindowLike, options: ConnectOptions = {}): Promise<TfxWidget> {
  const parent = win.parent;
  if (!parent || (parent as unknown) === win)
    return Promise.reject(
      new TfxWidgetError('not-in-frame', 'a widget runs inside the TFX call page'),
    );
  return new Promise<TfxWidget>((resolve, reject) => {
    const nonce = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('');
    const hello = {
      tfx: ENVELOPE_TAG,
      v: 1,
      type: 'hello',
      versions: [...WIDGET_PROTOCOL_VERSIONS],
      sdk: SDK_VERSION,
      nonce,
    };
    let tries = 0;
    const finish = (): void => {
      clearInterval(resend);
      clearTimeout(timeout);
      win.removeEventListener('message', onMessage);
    };
    const onMessage = (ev: MessageEvent): void => {
      // Only our parent (the call page) may answer; siblings and children cannot pose as it.
      if (ev.source !== (parent as unknown)) return;
      const m = parseHostToWidget(ev.data);
      if (!m) return;
      if (m.type === 'reject') {
        finish();
        reject(new TfxWidgetError(m.code, m.message));
      } else if (m.type === 'welcome') {
        const port = ev.ports[0];
        if (!port) return;
        finish();
        resolve(new TfxWidget(port as unknown as WidgetPortLike, m));
      }
    };
    win.addEventListener('message', onMessage);
    const send = (): void => {
      tries++;
      parent.postMessage(hello, '*');
    };
    const resend = setInterval(() => {
      if (tries < 40) send();
    }, 250);
    const timeout = setTimeout(() => {
      finish();
      reject(
        new TfxWidgetError(
          'handshake-timeout',
          'the call page did not answer the widget handshake',
        ),
      );
    }, options.timeoutMs ?? 10_000);
    send();
  });
}
