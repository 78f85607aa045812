/**
 * The call page inside an iframe: reports events to the host page and takes its commands over
 * postMessage. The host's origin must be the TFX origin itself or one of `embed.allowedOrigins`
 * (from `GET /api/v1/embed`): commands from any other origin, or from a window that is not our
 * parent, are ignored; events go only to the parent, addressed to its checked origin.
 */
import type { Room } from '@tfx/sdk';
import { Moderator } from '@tfx/sdk';
import {
  embedOriginAllowed,
  normalizeOrigin,
  parseCommand,
  type EmbedEventName,
} from './commands.js';

export interface EmbedBridge {
  emit(event: EmbedEventName, data?: Record<string, unknown>): void;
  attach(room: Room): () => void;
}

async function allowedOrigins(): Promise<string[]> {
  try {
    const r = await fetch('/api/v1/embed', { credentials: 'omit' });
    if (!r.ok) return [];
    const j = (await r.json()) as { allowedOrigins?: unknown };
    return Array.isArray(j.allowedOrigins)
      ? j.allowedOrigins.filter((o): o is string => typeof o === 'string')
      : [];
  } catch {
    return [];
  }
}

/** The parent's origin as the browser reports it (ancestorOrigins), else as the host told us. */
function parentOrigin(): string | undefined {
  const anc = location.ancestorOrigins?.[0];
  if (anc) return normalizeOrigin(anc);
  return normalizeOrigin(new URLSearchParams(location.search).get('parent'));
}

/** Starts the bridge when the page is framed by an allowed origin; otherwise returns null. */
export async function startEmbedBridge(): Promise<EmbedBridge | null> {
  if (window.parent === window) return null;
  const host = parentOrigin();
  const allowed = await allowedOrigins();
  if (!host || !embedOriginAllowed(host, allowed, location.origin)) return null;
  let room: Room | null = null;
  const emit = (event: EmbedEventName, data: Record<string, unknown> = {}): void => {
    window.parent.postMessage({ tfx: 'event', event, data }, host);
  };
  window.addEventListener('message', (ev: MessageEvent) => {
    if (ev.source !== window.parent || !embedOriginAllowed(ev.origin, allowed, location.origin))
      return;
    const cmd = parseCommand(ev.data);
    if (!cmd) return;
    void run(cmd.command).then(
      () => emit('command-result', { command: cmd.command, id: cmd.id, ok: true }),
      (err: unknown) =>
        emit('command-result', {
          command: cmd.command,
          id: cmd.id,
          ok: false,
          error: err instanceof Error ? err.message : String(err),
        }),
    );
  });
  const run = async (command: string): Promise<void> => {
    if (!room || room.closed) throw new Error('not in a call');
    const r = room;
    switch (command) {
      case 'mute':
        return r.setMicEnabled(false);
      case 'unmute':
        return r.setMicEnabled(true);
      case 'mute-video':
        return r.setCameraEnabled(false);
      case 'unmute-video':
        return r.setCameraEnabled(true);
      case 'leave':
        return r.leave();
      case 'hangup-all': {
        const mod = new Moderator(r);
        try {
          for (const p of [...r.peers.values()]) await mod.kick(p.id);
        } finally {
          mod.close();
        }
        return r.leave();
      }
    }
  };
  emit('ready', { origin: location.origin });
  return {
    emit,
    attach(joined) {
      room = joined;
      const count = (): void => emit('participants', { count: joined.peers.size + 1 });
      emit('joined', {
        room: joined.name,
        peerId: joined.peerId,
        moderator: !!joined.moderatorToken,
      });
      count();
      emit('media', { audio: joined.localState.audio, video: joined.localState.video });
      const offs = [
        joined.on('peer-joined', count),
        joined.on('peer-left', count),
        joined.on('local-state', (st) => emit('media', { audio: st.audio, video: st.video })),
        joined.on('left', ({ reason }) => emit('left', { reason })),
      ];
      return () => {
        for (const off of offs) off();
      };
    },
  };
}
