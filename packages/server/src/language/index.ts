export { createLanguageModule, type LanguageModule, type LanguageModuleOptions } from './module.js';
export { Translator, type Translation, type TranslatorOptions } from './translator.js';
export {
  apertiumApyProvider,
  libreTranslateProvider,
  UnsupportedPair,
  type TranslationProvider,
} from './providers.js';
export {
  CaptionService,
  openAiCompatibleProvider,
  voskProvider,
  AudioRefused,
  type CaptionProvider,
} from './captions.js';
export { parseWav, encodeWav, levelDbfs, monoPcm, type Wav, type WavResult } from './wav.js';
export { RateLimiter, LruCache } from './limits.js';
export { ProviderFailure } from './http.js';
