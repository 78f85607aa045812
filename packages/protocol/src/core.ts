/**
 * The zod-free part of the contracts (`@tfx/protocol/core`): the error catalogue and the
 * signalling rules (version, limits, room names, socket.io path). The browser SDK and the web app
 * import runtime values from here, and only types from the package root, so that the call page
 * ships without zod (the root's modules build zod schemas when they load, which a bundler cannot
 * drop). The root re-exports all of this; nothing here is declared twice.
 */
export * from './errors.js';
export * from './signalling/rules.js';
export * from './language/codes.js';
export * from './rest/sbc-limits.js';
