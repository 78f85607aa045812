export * from './errors.js';
export * from './signalling/index.js';
export * from './rest/index.js';
