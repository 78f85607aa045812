/** The signalling protocol (socket.io): version rule, room names, payload schemas, event maps. */
export * from './schemas.js';
export * from './events.js';
