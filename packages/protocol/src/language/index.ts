/** The language features' contracts: codes (zod-free, also in `@tfx/protocol/core`) and REST. */
export * from './codes.js';
export * from './rest.js';
