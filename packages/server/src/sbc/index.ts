export { createSbcModule, zonesOf, type SbcModule, type SbcModuleOptions } from './module.js';
