export * from './errors.js';
export * from './signalling/index.js';
export * from './rest/index.js';
export * from './widgets/index.js';
export * from './widgets/manifest.js';
export * from './widgets/media.js';
export * from './language/index.js';
export * from './pcap.js';
