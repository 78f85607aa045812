export { BuiltinEngine, createBuiltinEngine, type BuiltinEngineCounters } from './engine.js';
export { EgressSequencer } from './egress.js';
export { CAPABILITIES as BUILTIN_CAPABILITIES, type BuiltinEngineOptions } from './options.js';
