export { StreamFramer, FRAMER_DEFAULTS, type FramerOptions, type FrameEvent } from './framer.js';
export { FramingError, type FramingErrorReason } from './errors.js';
