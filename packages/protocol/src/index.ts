export * from './errors.js';
export * from './signalling/index.js';
