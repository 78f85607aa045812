export * from './rtp.js';
export * from './rtcp.js';
export * from './quality.js';
export * from './g711.js';
export * from './dtmf.js';
