/**
 * Language codes of the language features (multilingual chat, captions): TFX speaks BCP 47
 * primary subtags, ISO 639-1 where one exists (`en`, `es`), like LibreTranslate and browsers.
 * Apertium names its pairs in ISO 639-3 (`eng`, `spa`); the table below maps between the two.
 * Pure data and functions, no zod: the call page and widgets import it from `@tfx/protocol/core`.
 */

/** `en`, `es`, `pt-BR`, `zh-Hans`: a 2–3 letter primary subtag and an optional region/script. */
export const LANGUAGE_CODE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

export function isLanguageCode(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 12 && LANGUAGE_CODE_PATTERN.test(v);
}

/** ISO 639-1 → [ISO 639-3, English name] for the languages Apertium, LibreTranslate and Vosk cover. */
const TABLE: Readonly<Record<string, readonly [string, string]>> = {
  af: ['afr', 'Afrikaans'],
  an: ['arg', 'Aragonese'],
  ar: ['ara', 'Arabic'],
  ast: ['ast', 'Asturian'],
  be: ['bel', 'Belarusian'],
  bg: ['bul', 'Bulgarian'],
  br: ['bre', 'Breton'],
  ca: ['cat', 'Catalan'],
  cs: ['ces', 'Czech'],
  cy: ['cym', 'Welsh'],
  da: ['dan', 'Danish'],
  de: ['deu', 'German'],
  el: ['ell', 'Greek'],
  en: ['eng', 'English'],
  eo: ['epo', 'Esperanto'],
  es: ['spa', 'Spanish'],
  et: ['est', 'Estonian'],
  eu: ['eus', 'Basque'],
  fa: ['fas', 'Persian'],
  fi: ['fin', 'Finnish'],
  fr: ['fra', 'French'],
  ga: ['gle', 'Irish'],
  gl: ['glg', 'Galician'],
  he: ['heb', 'Hebrew'],
  hi: ['hin', 'Hindi'],
  hr: ['hrv', 'Croatian'],
  hu: ['hun', 'Hungarian'],
  id: ['ind', 'Indonesian'],
  is: ['isl', 'Icelandic'],
  it: ['ita', 'Italian'],
  ja: ['jpn', 'Japanese'],
  kk: ['kaz', 'Kazakh'],
  ko: ['kor', 'Korean'],
  lt: ['lit', 'Lithuanian'],
  lv: ['lav', 'Latvian'],
  mk: ['mkd', 'Macedonian'],
  ms: ['msa', 'Malay'],
  mt: ['mlt', 'Maltese'],
  nb: ['nob', 'Norwegian Bokmål'],
  nl: ['nld', 'Dutch'],
  nn: ['nno', 'Norwegian Nynorsk'],
  oc: ['oci', 'Occitan'],
  pl: ['pol', 'Polish'],
  pt: ['por', 'Portuguese'],
  ro: ['ron', 'Romanian'],
  ru: ['rus', 'Russian'],
  sh: ['hbs', 'Serbo-Croatian'],
  sk: ['slk', 'Slovak'],
  sl: ['slv', 'Slovenian'],
  sq: ['sqi', 'Albanian'],
  sr: ['srp', 'Serbian'],
  sv: ['swe', 'Swedish'],
  tr: ['tur', 'Turkish'],
  uk: ['ukr', 'Ukrainian'],
  ur: ['urd', 'Urdu'],
  vi: ['vie', 'Vietnamese'],
  zh: ['zho', 'Chinese'],
};

const FROM_639_3: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(TABLE).map(([one, [three]]) => [three, one]),
);

/**
 * An Apertium mode name (`eng`, `spa`, `eng_US`, `hbs_HR`) as TFX's code (`en`, `es`, `en-US`,
 * `sh-HR`); a code without a table entry is kept as it is (lower-cased language part).
 */
export function fromApertiumCode(code: string): string {
  const [lang = '', variant] = code.split('_', 2);
  const base = FROM_639_3[lang.toLowerCase()] ?? lang.toLowerCase();
  return variant ? `${base}-${variant}` : base;
}

/** TFX's code (`en`, `en-US`) as Apertium names it (`eng`, `eng_US`). */
export function toApertiumCode(code: string): string {
  const [lang = '', variant] = code.split('-', 2);
  const base = TABLE[lang]?.[0] ?? lang;
  return variant ? `${base}_${variant}` : base;
}

/** An English name for a code (`es` → `Spanish`, `en-US` → `English (US)`), or the code itself. */
export function languageName(code: string): string {
  const [lang = '', variant] = code.split('-', 2);
  const name = TABLE[lang]?.[1] ?? code;
  return variant && TABLE[lang] ? `${name} (${variant})` : name;
}

/** The primary subtag: `en-US` → `en`. */
export function baseLanguage(code: string): string {
  return code.split('-', 1)[0] ?? code;
}
