export type { GaugeRead } from './metrics.js';
export { RelationalMetrics } from './metrics.js';
export type { OpsServer, OpsServerOptions } from './ops-server.js';
export { startOpsServer } from './ops-server.js';
