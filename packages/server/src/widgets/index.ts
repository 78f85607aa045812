export {
  createWidgetsModule,
  manifestPathFor,
  type WidgetsModule,
  type WidgetsModuleOptions,
} from './module.js';
export { BUILTIN_WIDGETS } from './builtins.js';
export {
  readManifestFile,
  writeManifestFile,
  loadOrSeedManifest,
  addManifestEntry,
  ManifestWatcher,
  type ManifestWatcherOptions,
} from './manifest-store.js';
export { widgetCsp, widgetOrigins, withWidgetOrigins } from './csp.js';
export { resolveWidgetFile, type ResolvedFile } from './static.js';
