/** The REST contract of `/api/v1` (schemas for every request and response). */
export * from './schemas.js';
export * from './sip.js';
export * from './console.js';
export * from './media.js';
export * from './sbc.js';
export * from './sbc-console.js';
export * from './intercept.js';
export * from './gateway.js';
export * from './sbc-admission.js';
