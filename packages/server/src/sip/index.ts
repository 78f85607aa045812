export { createSipModule, type SipModule, type SipModuleOptions } from './module.js';
export { SipService, type SipServiceOptions, type Ports } from './service.js';
export { MemoryLocationStore, type Binding, type LocationStore } from './location.js';
export { Registrar, type RegisterInput, type RegisterOutcome } from './registrar.js';
export { readOverrides, writeSipOverrides, OVERRIDES_FILE } from './overrides.js';
