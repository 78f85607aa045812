export {
  createSbcModule,
  zonesOf,
  type SbcModule,
  type SbcModuleOptions,
  type SbcUsers,
} from './module.js';
