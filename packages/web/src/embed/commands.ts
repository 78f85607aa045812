/**
 * The call page's side of the embed postMessage contract: commands a host page may send, and the
 * origin rule. Pure (unit tested). The host side is `events.ts`; docs/embed.md has the contract.
 *
 * Host → call: `{ tfx: 'command', command, id? }`; call → host: `{ tfx: 'event', event, data }`.
 */

export const EMBED_COMMANDS = [
  'mute',
  'unmute',
  'mute-video',
  'unmute-video',
  'leave',
  'hangup-all',
] as const;
export type EmbedCommandName = (typeof EMBED_COMMANDS)[number];

export interface EmbedCommand {
  readonly command: EmbedCommandName;
  /** Echoed in the `command-result` event. */
  readonly id?: string;
}

export type EmbedEventName =
  'ready' | 'joined' | 'left' | 'participants' | 'recording' | 'media' | 'command-result';

/** A command from `data`, or undefined when it is anything else (checked field by field). */
export function parseCommand(data: unknown): EmbedCommand | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const d = data as Record<string, unknown>;
  if (d.tfx !== 'command' || typeof d.command !== 'string') return undefined;
  if (!(EMBED_COMMANDS as readonly string[]).includes(d.command)) return undefined;
  const command = d.command as EmbedCommandName;
  if (d.id === undefined) return { command };
  if (typeof d.id !== 'string' || d.id.length > 64) return undefined;
  return { command, id: d.id };
}

/** A serialized origin (`scheme://host[:port]`), or undefined for anything else. */
export function normalizeOrigin(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 256 || raw === 'null') return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    return u.origin === raw.replace(/\/$/, '') ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a page of `origin` may command the call page: its own origin always; otherwise only
 * an origin in `embed.allowedOrigins`, compared exactly (no wildcards, no prefixes).
 */
export function embedOriginAllowed(
  origin: string,
  allowed: readonly string[],
  self: string,
): boolean {
  const o = normalizeOrigin(origin);
  if (!o) return false;
  return o === self || allowed.includes(o);
}
