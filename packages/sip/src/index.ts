export {};
export * from './framing/index.js';
export * from './auth/index.js';
