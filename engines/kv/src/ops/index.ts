export type { GaugeSource } from './metrics.js';
export { KvMetrics } from './metrics.js';
export type { OpsServer, OpsServerOptions } from './ops-server.js';
export { startOpsServer } from './ops-server.js';
