export { buildProgram } from './program.js';
export { runStart, resolveConfig, reportError, webRoot } from './start.js';
export { banner, readyLine } from './banner.js';
export { VERSION } from './version.js';
