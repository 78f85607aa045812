export { configSchema, type Config, type ConfigInput } from './schema.js';
export { parseListenUrl, type SbcListen } from './sbc.js';
export { DSCP_CLASSES, dscpTos } from './sbc-admission.js';
export { configLeaves, envName, flagName, type ConfigLeaf, type LeafKind } from './leaves.js';
export { renderConfigDocs } from './docs.js';
export { loadConfig, readYamlFile, isLoopbackHost, coerce, type ConfigSources } from './load.js';
