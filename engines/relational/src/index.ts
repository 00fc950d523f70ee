// @weftkit/relational public entry point: start the engine in-process (tests, the dev launcher).
export * from './errors.js';
export type { GaugeRead } from './ops/index.js';
export { RelationalMetrics } from './ops/index.js';
export type { RelationalEngine, RelationalEngineOptions } from './server/start-engine.js';
export { startRelationalEngine } from './server/start-engine.js';
export type { WireServerLimits, WireServerOptions, WireServerStats } from './server/wire-server.js';
export { WireServer } from './server/wire-server.js';
export { SERVER_VERSION } from './server/startup-parameters.js';
export type { TenantBackend, TenantManager, TenantManagerOptions, TenantManagerStats, TransactionStatus } from './tenant/index.js';
export { createTenantManager } from './tenant/index.js';
