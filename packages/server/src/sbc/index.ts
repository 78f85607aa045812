export {
  createSbcModule,
  sbcConfigOf,
  zonesOf,
  type SbcModule,
  type SbcModuleOptions,
  type SbcUsers,
} from './module.js';
export { SbcReloader, registerReloadRoutes, type ReloadSource } from './reload.js';
