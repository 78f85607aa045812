export {};
export * from './framing/index.js';
