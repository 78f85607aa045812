export {};
export * from './syntax/index.js';
export * from './framing/index.js';
export * from './auth/index.js';
export * from './logger.js';
export * from './transport/index.js';
export * from './transaction/index.js';
export * from './locate/index.js';
