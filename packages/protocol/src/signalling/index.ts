/** The signalling protocol (socket.io): version rule, room names, payload schemas, event maps. */
export * from './rules.js';
export * from './schemas.js';
export * from './lobby.js';
export * from './events.js';
