export {
  BuiltinEngine,
  createBuiltinEngine,
  type BuiltinEngineOptions,
  type BuiltinEngineCounters,
} from './engine.js';
export { EgressSequencer } from './egress.js';
