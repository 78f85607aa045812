export * from './rtp.js';
export * from './rtcp.js';
export * from './quality.js';
export * from './dtmf.js';
