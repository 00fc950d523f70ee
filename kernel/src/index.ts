// @weftkit/kernel public entry point. Engines import only from here.
export * from './audit/index.js';
export * from './auth/jwt/index.js';
export * from './auth/none/index.js';
export * from './auth/mtls/index.js';
export * from './auth/password/index.js';
export * from './authz/index.js';
export * from './bootstrap/index.js';
export * from './config/index.js';
export * from './crypto/index.js';
export * from './crypto/providers/index.js';
export * from './errors.js';
export * from './identity/index.js';
export type { Logger, LoggerOptions, LogLevel } from './log/logger.js';
export { createLogger, silentLogger } from './log/logger.js';
export * from './runtime/index.js';
export * from './storage/index.js';
export * from './tls/index.js';
