export * from './config/index.js';
export { createLogger, REDACT_PATHS, type Logger, type LoggerOptions } from './log.js';
export {
  EXPIRY_WARNING_DAYS,
  inspectCertificate,
  loadOrCreateTls,
  type CertificateReport,
  type TlsIdentity,
} from './tls.js';
export { loadOrCreateAdminToken, tokenMatches, bearer, type AdminToken } from './admin-token.js';
export type { App, ListenerInfo, PlatformContext, PlatformModule } from './module.js';
export { startPlatform, type Platform, type PlatformOptions } from './platform.js';
export * from './turn/index.js';
export * from './store/index.js';
export * from './signalling/index.js';
export {
  createApiModule,
  adminFromSignalling,
  toRestSession,
  type ApiModuleOptions,
  type SessionAdmin,
} from './api/index.js';
export * from './sip/index.js';
export * from './widgets/index.js';
export * from './console/index.js';
export * from './media/index.js';
export * from './language/index.js';
export * from './sbc/index.js';
export * from './gateway/index.js';
