export { createConsoleModule, type ConsoleModule, type ConsoleModuleOptions } from './module.js';
export { AuditLog, parseAuditLines, pageOf, auditId } from './audit.js';
export { ConsoleMonitor, deltas, redactRedisUrl, parseRedisInfo } from './monitor.js';
export { AUDITED, actorOf } from './routes.js';
