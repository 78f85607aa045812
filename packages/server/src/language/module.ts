/**
 * The language module (`name: 'language'`): translation for multilingual chat and live captions,
 * through providers the operator runs (docs/language.md). Both are off unless configured
 * (`translation.provider`, `captions.provider`) and, because text and audio then leave the
 * peer-to-peer path, usable only in rooms that opted in (`PUT /api/v1/rooms/:name/language`) or
 * when the operator allows every room (`*.roomsByDefault`).
 *
 * Every request a peer makes is checked in order: room opted in (`language-off`) → the peer is in
 * the room now (`forbidden`) → the service's own checks (cap, per-peer rate limit, format) → the
 * provider. The room settings are held by this process (see docs/language.md for clusters).
 */
import { Counter } from 'prom-client';
import { detect as detectOffline } from 'tinyld';
import {
  TfxError,
  errorResponseSchema,
  isLanguageCode,
  languageInfoSchema,
  roomLanguageBodySchema,
  roomLanguageParamsSchema,
  roomLanguageSchema,
  transcribeQuerySchema,
  transcribeResponseSchema,
  translateBodySchema,
  translateResponseSchema,
  type RoomLanguage,
} from '@tfx/protocol';
import type { PlatformContext, PlatformModule } from '../module.js';
import { LruCache } from './limits.js';
import {
  apertiumApyProvider,
  libreTranslateProvider,
  type TranslationProvider,
} from './providers.js';
import { Translator } from './translator.js';
import {
  CaptionService,
  openAiCompatibleProvider,
  voskProvider,
  type CaptionProvider,
} from './captions.js';

export interface LanguageModuleOptions {
  /** The peer ids in a room now (the signalling store's presence). */
  readonly peersIn: () => (room: string) => Promise<readonly string[]>;
  /** Clock (epoch ms); default `Date.now`. */
  readonly now?: () => number;
}

export interface LanguageModule extends PlatformModule {
  readonly translator: Translator | null;
  readonly captions: CaptionService | null;
}

const AUDIO_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'];
const MAX_ROOMS = 10_000;

export function createLanguageModule(options: LanguageModuleOptions): LanguageModule {
  const now = options.now ?? Date.now;
  let translator: Translator | null = null;
  let captions: CaptionService | null = null;
  return {
    name: 'language',
    get translator() {
      return translator;
    },
    get captions() {
      return captions;
    },
    setup(ctx: PlatformContext): void {
      const { app, config } = ctx;
      const log = ctx.logger.child({ component: 'language' });
      const t = config.translation;
      const c = config.captions;

      const translations = new Counter({
        name: 'tfx_translations_total',
        help: 'Texts asked to be translated, by outcome (ok, cached, unchanged, failed, unsupported, limited, too-large).',
        labelNames: ['outcome'] as const,
        registers: [ctx.metrics],
      });
      const segments = new Counter({
        name: 'tfx_caption_segments_total',
        help: 'Audio segments received for captions, by outcome (ok, empty, refused, failed, limited, too-large).',
        labelNames: ['outcome'] as const,
        registers: [ctx.metrics],
      });

      const tp: TranslationProvider | null =
        t.provider === 'none' || !t.url
          ? null
          : (t.provider === 'libretranslate' ? libreTranslateProvider : apertiumApyProvider)({
              url: t.url,
              apiKey: t.apiKey,
              timeoutMs: t.timeoutMs,
            });
      translator = tp
        ? new Translator({
            provider: tp,
            maxTextChars: t.maxTextChars,
            cacheEntries: t.cacheEntries,
            perPeerPerMinute: t.perPeerPerMinute,
            now,
            detect: (text) => {
              const d = detectOffline(text);
              return isLanguageCode(d) ? d : undefined;
            },
            onOutcome: (o) => translations.inc({ outcome: o }),
          })
        : null;
      const cpOpts = { url: c.url ?? '', apiKey: c.apiKey, model: c.model, timeoutMs: c.timeoutMs };
      const cp: CaptionProvider | null =
        c.provider === 'none' || !c.url
          ? null
          : c.provider === 'vosk'
            ? voskProvider(cpOpts)
            : openAiCompatibleProvider(cpOpts);
      captions = cp
        ? new CaptionService({
            provider: cp,
            maxSegmentBytes: c.maxSegmentBytes,
            perPeerPerMinute: c.perPeerPerMinute,
            now,
            onOutcome: (o) => segments.inc({ outcome: o }),
          })
        : null;
      log.info(
        { translation: t.provider, captions: c.provider },
        tp || cp ? 'language providers configured' : 'language features off',
      );

      // Room settings: opt-in and the agenda the introduction widget shows.
      const rooms = new LruCache<RoomLanguage>(MAX_ROOMS);
      const roomSettings = (name: string): RoomLanguage =>
        rooms.get(name) ?? { translation: false, captions: false };
      const allowed = (name: string, kind: 'translation' | 'captions'): boolean =>
        kind === 'translation'
          ? translator !== null && (t.roomsByDefault || roomSettings(name).translation)
          : captions !== null && (c.roomsByDefault || roomSettings(name).captions);
      const checkPeer = async (
        room: string,
        peer: string,
        kind: 'translation' | 'captions',
      ): Promise<void> => {
        if (!allowed(room, kind))
          throw new TfxError(
            'language-off',
            `${kind} is ${kind === 'translation' ? (translator ? 'not opted in by this room' : 'not configured') : captions ? 'not opted in by this room' : 'not configured'}`,
          );
        const ids = await options.peersIn()(room);
        if (!ids.includes(peer)) throw new TfxError('forbidden', 'this peer is not in the room');
      };

      app.get(
        '/api/v1/language',
        {
          schema: {
            summary: 'The translation and captions providers of this server (public)',
            operationId: 'getLanguage',
            tags: ['language'],
            response: { 200: languageInfoSchema },
          },
        },
        async (_req, reply) => {
          reply.header('cache-control', 'no-cache');
          const pairs = translator ? await translator.pairs() : [];
          const languages = [...new Set(pairs.flatMap((p) => [p.from, p.to]))].sort();
          return {
            translation: {
              provider: t.provider,
              pairs,
              languages,
              maxTextChars: t.maxTextChars,
              roomsByDefault: t.roomsByDefault,
            },
            captions: {
              provider: c.provider,
              maxSegmentBytes: c.maxSegmentBytes,
              roomsByDefault: c.roomsByDefault,
            },
          };
        },
      );

      app.get(
        '/api/v1/rooms/:name/language',
        {
          schema: {
            summary: "A room's language settings as they apply now: opt-ins and agenda (public)",
            operationId: 'getRoomLanguage',
            tags: ['language'],
            params: roomLanguageParamsSchema,
            response: { 200: roomLanguageSchema },
          },
        },
        async (req, reply) => {
          reply.header('cache-control', 'no-cache');
          const s = roomSettings(req.params.name);
          return {
            ...s,
            translation: allowed(req.params.name, 'translation'),
            captions: allowed(req.params.name, 'captions'),
          };
        },
      );

      app.put(
        '/api/v1/rooms/:name/language',
        {
          preHandler: ctx.requireAdmin,
          schema: {
            summary: "Set a room's language opt-ins (translation, captions) and agenda",
            operationId: 'setRoomLanguage',
            tags: ['language'],
            security: [{ admin: [] }],
            params: roomLanguageParamsSchema,
            body: roomLanguageBodySchema,
            response: {
              200: roomLanguageSchema,
              400: errorResponseSchema,
              401: errorResponseSchema,
            },
          },
        },
        async (req) => {
          const next = { ...roomSettings(req.params.name), ...req.body };
          rooms.set(req.params.name, next);
          log.info(
            { roomId: req.params.name, translation: next.translation, captions: next.captions },
            'room language settings changed',
          );
          return next;
        },
      );

      app.post(
        '/api/v1/language/translate',
        {
          schema: {
            summary: 'Translate texts for a peer in an opted-in room',
            operationId: 'translate',
            tags: ['language'],
            body: translateBodySchema,
            response: { 200: translateResponseSchema },
          },
        },
        async (req) => {
          const b = req.body;
          await checkPeer(b.room, b.peer, 'translation');
          if (!translator) throw new TfxError('language-off');
          const out = await translator.translate(`${b.room}/${b.peer}`, b.texts, b.from, b.to);
          return { translations: out };
        },
      );

      app.addContentTypeParser(
        AUDIO_TYPES,
        { parseAs: 'buffer', bodyLimit: c.maxSegmentBytes },
        (_req, body, done) => done(null, body),
      );
      app.post(
        '/api/v1/language/transcribe',
        {
          bodyLimit: c.maxSegmentBytes,
          schema: {
            summary: 'Transcribe one audio segment (16-bit PCM WAV) of a peer in an opted-in room',
            operationId: 'transcribe',
            tags: ['language'],
            querystring: transcribeQuerySchema,
            response: { 200: transcribeResponseSchema },
          },
        },
        async (req) => {
          const q = req.query;
          await checkPeer(q.room, q.peer, 'captions');
          if (!captions) throw new TfxError('language-off');
          if (!Buffer.isBuffer(req.body))
            throw new TfxError('audio-refused', 'send the segment as audio/wav');
          const text = await captions.transcribe(`${q.room}/${q.peer}`, req.body, q.lang);
          return { text };
        },
      );
    },
    close(): void {
      /* nothing held open: provider calls are bounded by their timeouts */
    },
  };
}
