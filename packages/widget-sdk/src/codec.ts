/** What a widget sends, as the envelope carries it, and back. */
import type { WidgetData } from '@tfx/protocol/widgets';
import { TfxWidgetError } from './errors.js';

const enc = new TextEncoder();

/** The message's size on the wire, bytes (UTF-8 for JSON). */
export function byteLength(d: WidgetData): number {
  return d.encoding === 'json' ? enc.encode(d.text).length : d.bytes.byteLength;
}

/**
 * Binary data (an `ArrayBuffer` or a typed-array view) travels as bytes, copied so the caller's
 * buffer stays usable; anything else as JSON.
 */
export function encodeData(data: unknown): WidgetData {
  if (data instanceof ArrayBuffer) return { encoding: 'binary', bytes: data.slice(0) };
  if (ArrayBuffer.isView(data)) {
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { encoding: 'binary', bytes: view.slice().buffer };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new TfxWidgetError('bad-request', `message is not JSON-serializable: ${String(err)}`);
  }
  if (text === undefined)
    throw new TfxWidgetError('bad-request', 'message is not JSON-serializable');
  return { encoding: 'json', text };
}

export function decodeData(d: WidgetData): unknown {
  return d.encoding === 'binary' ? d.bytes : (JSON.parse(d.text) as unknown);
}
