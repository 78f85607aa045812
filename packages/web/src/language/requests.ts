/**
 * The widget `media.*` requests the audio and language host answers. Its own small module: the
 * call page imports it before the language code (loaded after the call is up) to hold such
 * requests until that host is there, instead of handing them to the effects host.
 */
const OURS = new Set([
  'media.levels.subscribe',
  'media.levels.unsubscribe',
  'media.translate',
  'media.languages',
  'media.language.set',
  'media.captions.subscribe',
  'media.captions.unsubscribe',
]);

export function isLanguageRequest(type: string): boolean {
  return OURS.has(type);
}
