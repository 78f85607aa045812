/**
 * The call page's side of the language REST API (docs/language.md): what the server offers, the
 * room's opt-ins and agenda, translation and transcription for this peer. Errors come back as
 * `LanguageError` with the catalogue code, so callers can show the original text with a notice.
 */
import type {
  LanguageInfo,
  RoomLanguage,
  TranscribeResponse,
  TranslateResponse,
} from '@tfx/protocol';

export class LanguageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LanguageError';
  }
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { accept: 'application/json', ...init.headers } });
  } catch (err) {
    throw new LanguageError('unavailable', `the server is unreachable: ${(err as Error).message}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new LanguageError('unavailable', `HTTP ${res.status}`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error;
    throw new LanguageError(e?.code ?? 'unavailable', e?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export interface LanguageApiClient {
  info(): Promise<LanguageInfo>;
  room(): Promise<RoomLanguage>;
  translate(texts: readonly string[], from: string, to: string): Promise<TranslateResponse>;
  transcribe(wav: Blob, lang: string): Promise<TranscribeResponse>;
}

export function languageApi(room: {
  readonly name: string;
  readonly peerId: string;
}): LanguageApiClient {
  let info: Promise<LanguageInfo> | null = null;
  let roomCache: { at: number; p: Promise<RoomLanguage> } | null = null;
  return {
    info: () => {
      info ??= call<LanguageInfo>('/api/v1/language').catch((err: unknown) => {
        info = null;
        throw err;
      });
      return info;
    },
    room: () => {
      if (!roomCache || performance.now() - roomCache.at > 10_000)
        roomCache = {
          at: performance.now(),
          p: call<RoomLanguage>(`/api/v1/rooms/${encodeURIComponent(room.name)}/language`),
        };
      return roomCache.p;
    },
    translate: (texts, from, to) =>
      call<TranslateResponse>('/api/v1/language/translate', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room: room.name, peer: room.peerId, texts, from, to }),
      }),
    transcribe: (wav, lang) =>
      call<TranscribeResponse>(
        `/api/v1/language/transcribe?${new URLSearchParams({ room: room.name, peer: room.peerId, lang })}`,
        { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav },
      ),
  };
}

const LANG_KEY = 'tfx.language';

/** The user's language: chosen before (this browser), else the browser's. */
export function storedLanguage(): string {
  let v: string | null = null;
  try {
    v = localStorage.getItem(LANG_KEY);
  } catch {
    /* storage blocked */
  }
  if (v && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(v)) return v;
  return (navigator.language || 'en').split('-', 1)[0] ?? 'en';
}

export function storeLanguage(lang: string): void {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* storage blocked: kept for this page only */
  }
}
