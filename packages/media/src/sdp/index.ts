export * from './model.js';
export * from './parse.js';
export * from './serialize.js';
export * from './offer-answer.js';
export * from './rewrite.js';
