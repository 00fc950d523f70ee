export type { Reloadable } from './signals.js';
export { reloadOnSighup, stopOnSignals, warnWhileInsecure } from './signals.js';
export type { MetricsSource, OpsServer, OpsServerOptions } from './ops-server.js';
export { startOpsServer } from './ops-server.js';
