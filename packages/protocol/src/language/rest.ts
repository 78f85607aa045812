/**
 * The REST contract of the language features (docs/language.md): what the call page asks the
 * server for translation and captions, and the room settings (opt-in, agenda) a room creator sets.
 *
 * - `GET /api/v1/language` (public): what this server offers.
 * - `GET /api/v1/rooms/:name/language` (public): the room's opt-in and agenda.
 * - `PUT /api/v1/rooms/:name/language` (admin token): set them.
 * - `POST /api/v1/language/translate`: texts of a peer present in an opted-in room.
 * - `POST /api/v1/language/transcribe?room=&peer=&lang=`: one WAV segment (16-bit PCM) → text.
 */
import { z } from 'zod';
import { LANGUAGE_CODE_PATTERN } from './codes.js';
import { restPeerIdSchema, restRoomNameSchema } from '../rest/schemas.js';

export const languageCodeSchema = z
  .string()
  .max(12)
  .regex(LANGUAGE_CODE_PATTERN, 'expected a language code such as en, es or pt-BR');

export const languagePairSchema = z.strictObject({
  from: languageCodeSchema,
  to: languageCodeSchema,
});
export type LanguagePair = z.infer<typeof languagePairSchema>;

export const languageInfoSchema = z.strictObject({
  translation: z.strictObject({
    provider: z.enum(['none', 'libretranslate', 'apertium-apy']),
    /** Source → target pairs the provider has; empty when off or the provider is unreachable. */
    pairs: z.array(languagePairSchema),
    /** Every language appearing in a pair, sorted. */
    languages: z.array(languageCodeSchema),
    maxTextChars: z.number().int().positive(),
    /** True when every room may translate without opting in. */
    roomsByDefault: z.boolean(),
  }),
  captions: z.strictObject({
    provider: z.enum(['none', 'openai-compatible', 'vosk']),
    maxSegmentBytes: z.number().int().positive(),
    roomsByDefault: z.boolean(),
  }),
});
export type LanguageInfo = z.infer<typeof languageInfoSchema>;

export const ROOM_AGENDA_MAX = 2000;

export const roomLanguageSchema = z.strictObject({
  translation: z
    .boolean()
    .describe('Chat text and caption text of this room may be sent to the translation provider.'),
  captions: z
    .boolean()
    .describe("This room's participants may send their microphone audio to the captions provider."),
  title: z.string().max(120).optional().describe('A short title shown by the introduction widget.'),
  agenda: z
    .string()
    .max(ROOM_AGENDA_MAX)
    .optional()
    .describe('The agenda shown by the introduction widget on joining (plain text).'),
});
export type RoomLanguage = z.infer<typeof roomLanguageSchema>;

export const roomLanguageBodySchema = roomLanguageSchema.partial();
export type RoomLanguageBody = z.infer<typeof roomLanguageBodySchema>;

export const roomLanguageParamsSchema = z.strictObject({ name: restRoomNameSchema });

export const TRANSLATE_TEXTS_MAX = 16;

export const translateBodySchema = z.strictObject({
  room: restRoomNameSchema,
  peer: restPeerIdSchema.describe('The asking peer; it must be in the room now.'),
  texts: z.array(z.string().max(20_000)).min(1).max(TRANSLATE_TEXTS_MAX),
  from: z
    .union([z.literal('auto'), languageCodeSchema])
    .describe('The language of the texts, or auto to detect it.'),
  to: languageCodeSchema,
});
export type TranslateBody = z.infer<typeof translateBodySchema>;

export const translateResponseSchema = z.strictObject({
  translations: z.array(
    z.strictObject({
      text: z.string(),
      /** The source language used (detected when `from` was auto). */
      from: languageCodeSchema,
      /** True when the text is returned as it was (same language after detection). */
      unchanged: z.boolean(),
    }),
  ),
});
export type TranslateResponse = z.infer<typeof translateResponseSchema>;

export const transcribeQuerySchema = z.strictObject({
  room: restRoomNameSchema,
  peer: restPeerIdSchema,
  lang: languageCodeSchema.optional().describe('The spoken language, if known.'),
});
export type TranscribeQuery = z.infer<typeof transcribeQuerySchema>;

export const transcribeResponseSchema = z.strictObject({
  text: z.string().describe('The transcript; empty when the provider heard no words.'),
});
export type TranscribeResponse = z.infer<typeof transcribeResponseSchema>;
