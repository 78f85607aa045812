/**
 * The host page's side of the embed contract: events from the call page. Pure (unit tested).
 */

export type HostEventName =
  'ready' | 'joined' | 'left' | 'participants' | 'recording' | 'media' | 'command-result';

export interface HostEvent {
  readonly event: HostEventName;
  readonly data: Readonly<Record<string, unknown>>;
}

const NAMES: readonly string[] = [
  'ready',
  'joined',
  'left',
  'participants',
  'recording',
  'media',
  'command-result',
];

/** An event from `data`, or undefined when it is anything else. */
export function parseEvent(data: unknown): HostEvent | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const d = data as Record<string, unknown>;
  if (d.tfx !== 'event' || typeof d.event !== 'string' || !NAMES.includes(d.event))
    return undefined;
  const payload = d.data ?? {};
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  return { event: d.event as HostEventName, data: payload as Record<string, unknown> };
}
