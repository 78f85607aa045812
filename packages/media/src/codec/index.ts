/**
 * Codecs and transcoding (pure: no sockets, files, threads or timers): G.711, 48 ↔ 8 kHz
 * resampling, Opus (libopus as wasm via opusscript), a sequence-keyed jitter buffer, the
 * Opus ↔ G.711 transcoder and RFC 4733 clock-rate rescaling. docs/media.md, "Codecs and transcoding".
 */
export * from './g711.js';
export * from './resample.js';
export * from './goertzel.js';
export * from './opus.js';
export * from './jitter.js';
export * from './transcoder.js';
export * from './telephone-event.js';
